//! The full text of race reports, as users read them: snapshot tests (insta)
//! of each report section, with what varies between runs redacted
//! (addresses, thread numbers, OS thread ids). Each scenario is forced into
//! one order (an uninstrumented spin gate orders the threads in time without
//! creating a happens-before edge), so the "current" and "previous" sides are
//! stable. Update with `cargo insta review`; never edit a `.snap` by hand.

use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};

use racedet::cell::RaceCell;
use racedet::collections::RaceMap;
use racedet::runtime::report::model::RaceReport;
use racedet::runtime::report::text::{TextOptions, render};
use racedet::sync::atomic::{AtomicBool as RdAtomicBool, Ordering};
use racedet::sync::{Arc, Mutex, RwLock};
use racedet::thread;

/// A one-shot gate on a plain std atomic: orders two threads in time and is
/// invisible to racedet (no happens-before edge).
#[derive(Default)]
struct Gate(AtomicBool);

impl Gate {
    fn open(&self) {
        self.0.store(true, StdOrdering::SeqCst);
    }
    fn wait(&self) {
        while !self.0.load(StdOrdering::SeqCst) {
            std::thread::yield_now();
        }
    }
}

fn redact(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '0' && chars.peek() == Some(&'x') {
            chars.next();
            while chars.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                chars.next();
            }
            out.push_str("0xADDR");
        } else if c == 'T'
            && chars.peek().is_some_and(|c| c.is_ascii_digit())
            && !out.ends_with(|c: char| c.is_alphanumeric())
        {
            while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                chars.next();
            }
            out.push_str("T#");
        } else {
            out.push(c);
        }
    }
    // The test thread itself is created by libtest; its creation stack is
    // captured only if another test had detection on at that moment.
    let out = out.replace(
        " created by thread T# at:\n  #0 report_text::main  tests/tests/report_text.rs:1:0\n",
        ": creation site unknown\n",
    );
    let out = out.replace("(finished,", "(running,"); // a thread's state races the report
    let mut res = String::new();
    for (i, part) in out.split("tid=").enumerate() {
        if i == 0 {
            res.push_str(part);
        } else {
            res.push_str("tid=#");
            res.push_str(part.trim_start_matches(|c: char| c.is_ascii_digit()));
        }
    }
    res
}

fn only_report(f: impl FnOnce()) -> RaceReport {
    let err = racedet::check(f).expect_err("the scenario must race");
    let mut reports = err.into_reports();
    assert_eq!(reports.len(), 1, "one distinct race expected: {reports:#?}");
    reports.remove(0)
}

fn text(r: &RaceReport) -> String {
    redact(&render(r, &TextOptions::default()))
}

#[inline(never)]
fn add_user(users: &RaceMap<String, u32>, name: &str, id: u32) {
    users.insert(name.to_string(), id);
}

#[inline(never)]
fn lookup(users: &RaceMap<String, u32>, name: &str) -> Option<u32> {
    users.get(name)
}

#[test]
fn unsynchronised_map_read_and_write() {
    let r = only_report(|| {
        let users = Arc::new(RaceMap::named("users"));
        let gate = Arc::new(Gate::default());
        let reader = {
            let (users, gate) = (Arc::clone(&users), Arc::clone(&gate));
            thread::Builder::new()
                .name("reader".into())
                .spawn(move || {
                    let _ = lookup(&users, "ann");
                    gate.open();
                })
                .unwrap()
        };
        gate.wait();
        add_user(&users, "ann", 1);
        reader.join().unwrap();
    });
    // Both sides: exact sites, stacks with the business functions, object.
    assert_eq!(r.current.kind, "write");
    assert_eq!(r.previous.kind, "read");
    assert_eq!(r.object.kind, "RaceMap");
    assert_eq!(r.object.name.as_deref(), Some("users"));
    assert!(r.current.stack.iter().any(|f| {
        f.function
            .as_deref()
            .is_some_and(|n| n.ends_with("add_user"))
    }));
    assert!(
        r.previous
            .stack
            .iter()
            .any(|f| f.function.as_deref().is_some_and(|n| n.ends_with("lookup")))
    );
    assert!(r.hint.as_deref().unwrap().contains("#no-lock"));
    let reader = r
        .threads
        .iter()
        .find(|t| t.name.as_deref() == Some("reader"))
        .expect("reader thread");
    assert!(reader.created_at.is_some(), "creation site of the reader");
    insta::assert_snapshot!(text(&r));
}

#[test]
fn write_under_a_read_lock() {
    let r = only_report(|| {
        let map = Arc::new(RwLock::new(RaceMap::named("sessions")));
        let gate = Arc::new(Gate::default());
        let t = {
            let (map, gate) = (Arc::clone(&map), Arc::clone(&gate));
            thread::spawn(move || {
                map.read().unwrap().insert(1u32, "a"); // insert under read()
                gate.open();
            })
        };
        gate.wait();
        map.read().unwrap().insert(2u32, "b");
        t.join().unwrap();
    });
    assert!(
        r.hint
            .as_deref()
            .unwrap()
            .contains("#write-under-read-lock"),
        "{:?}",
        r.hint
    );
    assert_eq!(r.current.locks_held.len(), 1);
    assert_eq!(r.current.locks_held[0].kind, "read lock");
    assert_eq!(
        r.previous.locks_held.len(),
        1,
        "the earlier access's locks are known too"
    );
    insta::assert_snapshot!(text(&r));
}

#[test]
fn publication_through_a_relaxed_flag() {
    let r = only_report(|| {
        let config = Arc::new(RaceCell::named("config", 0u32));
        let ready = Arc::new(RdAtomicBool::new(false));
        let t = {
            let (config, ready) = (Arc::clone(&config), Arc::clone(&ready));
            thread::spawn(move || {
                config.set(42);
                ready.store(true, Ordering::Relaxed);
            })
        };
        while !ready.load(Ordering::Relaxed) {
            std::hint::spin_loop();
        }
        let _ = config.get();
        t.join().unwrap();
    });
    assert!(
        r.hint.as_deref().unwrap().contains("#relaxed-publication"),
        "{:?}",
        r.hint
    );
    insta::assert_snapshot!(text(&r));
}

#[test]
fn thread_never_joined() {
    let r = only_report(|| {
        let log = Arc::new(RaceCell::named("log", Vec::<u32>::new()));
        let done = Arc::new(Gate::default());
        {
            let (log, done) = (Arc::clone(&log), Arc::clone(&done));
            // Detached: its handle is dropped, nobody joins it.
            drop(thread::spawn(move || {
                log.update(|v| v.push(1));
                done.open();
            }));
        }
        done.wait();
        // Let the detached thread finish before looking.
        std::thread::sleep(std::time::Duration::from_millis(50));
        let _ = log.get();
    });
    assert!(
        r.hint.as_deref().unwrap().contains("#join-threads"),
        "{:?}",
        r.hint
    );
    // Its state depends on scheduling (not asserted); it must be listed.
    assert!(
        r.threads.iter().any(|t| t.id == r.previous.thread),
        "{:?}",
        r.threads
    );
}

#[test]
fn locks_held_by_one_side_only() {
    let r = only_report(|| {
        let cell = Arc::new(RaceCell::named("total", 0u64));
        let mu = Arc::new(Mutex::new(()));
        let gate = Arc::new(Gate::default());
        let t = {
            let (cell, mu, gate) = (Arc::clone(&cell), Arc::clone(&mu), Arc::clone(&gate));
            thread::spawn(move || {
                let _g = mu.lock().unwrap();
                cell.update(|v| *v += 1);
                drop(_g);
                gate.open();
            })
        };
        gate.wait();
        cell.update(|v| *v += 1);
        t.join().unwrap();
    });
    assert!(r.current.locks_held.is_empty());
    assert_eq!(r.previous.locks_held.len(), 1);
    assert_eq!(r.previous.locks_held[0].kind, "write lock");
    assert!(
        r.hint.as_deref().unwrap().contains("#one-side-locked"),
        "{:?}",
        r.hint
    );
    insta::assert_snapshot!(text(&r));
}

#[test]
fn raw_memory_race_names_the_address_and_size() {
    let r = only_report(|| {
        let buf = Box::new([0u64; 4]);
        let p = buf.as_ptr() as usize;
        let gate = Arc::new(Gate::default());
        let t = {
            let gate = Arc::clone(&gate);
            thread::spawn(move || {
                racedet::annotate::write((p + 8) as *const u64, 8);
                gate.open();
            })
        };
        gate.wait();
        racedet::annotate::read((p + 12) as *const u32, 4);
        t.join().unwrap();
        drop(buf);
    });
    assert_eq!(r.object.kind, "memory");
    assert_eq!(r.current.size, 4);
    assert!(r.hint.is_none(), "hints are for racedet objects");
    insta::assert_snapshot!(text(&r));
}

#[test]
fn repeated_race_is_one_report_with_a_count() {
    let err = racedet::check(|| {
        let cell = Arc::new(RaceCell::named("counter", 0u64));
        let t = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || {
                for _ in 0..100 {
                    cell.update(|v| *v += 1);
                }
            })
        };
        for _ in 0..100 {
            cell.update(|v| *v += 1);
        }
        t.join().unwrap();
    })
    .expect_err("racy");
    assert_eq!(err.len(), 1, "one distinct race");
    assert!(err.reports()[0].occurrences >= 1);
}

#[test]
fn path_prefix_is_stripped_and_colors_are_optional() {
    let r = only_report(|| {
        let cell = Arc::new(RaceCell::new(0u8));
        let t = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || cell.set(1))
        };
        t.join().unwrap();
        // Joined: ordered. Now race with a second, unjoined-yet thread.
        let gate = Arc::new(Gate::default());
        let t2 = {
            let (cell, gate) = (Arc::clone(&cell), Arc::clone(&gate));
            thread::spawn(move || {
                cell.set(2);
                gate.open();
            })
        };
        gate.wait();
        cell.set(3);
        t2.join().unwrap();
    });
    let site = r.current.site.as_ref().unwrap().file.clone().unwrap();
    let prefix = site.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap();
    let plain = render(
        &r,
        &TextOptions {
            strip_path_prefix: prefix.clone(),
            ..Default::default()
        },
    );
    assert!(
        !plain.contains(&prefix),
        "prefix {prefix} still shown:\n{plain}"
    );
    assert!(!plain.contains('\x1b'));
    let colored = render(
        &r,
        &TextOptions {
            color: true,
            ..Default::default()
        },
    );
    assert!(colored.contains("\x1b[1;31mWARNING: DATA RACE"));
}

#[test]
fn annotated_range_is_named_with_its_creation_site() {
    let r = only_report(|| {
        let ring = Box::new([0u8; 64]);
        let p = ring.as_ptr() as usize;
        racedet::annotate::name(ring.as_ptr(), 64, "ring buffer");
        let gate = Arc::new(Gate::default());
        let t = {
            let gate = Arc::clone(&gate);
            thread::spawn(move || {
                racedet::annotate::write((p + 16) as *const u8, 8);
                gate.open();
            })
        };
        gate.wait();
        racedet::annotate::read((p + 20) as *const u8, 2);
        t.join().unwrap();
        racedet::annotate::reset(ring.as_ptr(), 64);
        drop(ring);
    });
    assert_eq!(r.object.kind, "annotated range");
    assert_eq!(r.object.name.as_deref(), Some("ring buffer"));
    assert_eq!(r.object.size, 64);
    let created = r.object.created_at.as_ref().expect("creation site");
    assert!(created.file.as_deref().unwrap().ends_with("report_text.rs"));
    let text = render(&r, &TextOptions::default());
    assert!(text.contains("annotated range \"ring buffer\""), "{text}");
    assert!(
        text.contains("Location: annotated range \"ring buffer\""),
        "{text}"
    );
}
