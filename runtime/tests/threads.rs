//! Real threads through the process-global runtime: `begin_check` /
//! `end_check`, the raw `api`, std threads (fork and join edges come from
//! the runtime's `pthread_create` / `pthread_join` interposition) and std
//! locks annotated with `api::acquire` / `api::release`.
//!
//! Only fork, join and the annotations create happens-before here: std's
//! channels and barriers used to *sequence* threads are invisible to the
//! runtime, so two accesses from different workers are unordered by
//! construction, whatever the OS schedule. Every expectation below is
//! therefore deterministic.
//!
//! Tests in this binary run in parallel, each in its own check context and
//! on its own heap memory, whose history is reset first (as an allocator
//! hook would).

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use racedet_runtime::report::model::RaceReport;
use racedet_runtime::site::Site;
use racedet_runtime::{api, begin_check, current_thread_id, end_check};

/// Heap memory for one test, its shadow history cleared.
struct Arena {
    mem: Box<[u64]>,
}

impl Arena {
    fn new(words: usize) -> Arena {
        let a = Arena {
            mem: vec![0u64; words].into_boxed_slice(),
        };
        api::reset_range(a.base(), words * 8);
        a
    }

    fn base(&self) -> usize {
        self.mem.as_ptr() as usize
    }

    fn word(&self, i: usize) -> usize {
        assert!(i < self.mem.len());
        self.base() + i * 8
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        api::reset_range(self.base(), self.mem.len() * 8);
    }
}

/// Runs `f` inside a check scope and returns the races it produced.
fn check(f: impl FnOnce()) -> Vec<RaceReport> {
    let ctx = begin_check();
    f();
    end_check(ctx)
}

fn lines(r: &RaceReport) -> BTreeSet<u32> {
    [&r.current, &r.previous]
        .iter()
        .map(|a| a.site.as_ref().and_then(|f| f.line).expect("site known"))
        .collect()
}

#[test]
fn disjoint_words_never_race() {
    const THREADS: usize = 64;
    let reports = check(|| {
        let arena = Arena::new(THREADS);
        let words: Vec<usize> = (0..THREADS).map(|i| arena.word(i)).collect();
        let handles: Vec<_> = words
            .into_iter()
            .map(|w| {
                thread::spawn(move || {
                    for i in 0..200 {
                        api::write(w, 8, Site::caller());
                        api::read(w + (i % 8), 1, Site::caller());
                        api::write(w + 4, 4, Site::caller());
                        // A release into a private address starts a new
                        // epoch, so every round takes the slow path.
                        api::release(w);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    assert!(reports.is_empty(), "{reports:#?}");
}

/// `threads` workers read and write four shared words, overlapping at
/// several sizes, each round inside a std mutex; `annotate` tells the
/// runtime about the mutex.
fn shared_words_under_mutex(threads: usize, annotate: bool) -> Vec<RaceReport> {
    check(|| {
        let arena = Arena::new(4);
        let (base, lock) = (arena.base(), Arc::new(Mutex::new(())));
        let lock_addr = Arc::as_ptr(&lock) as usize;
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let lock = Arc::clone(&lock);
                thread::spawn(move || {
                    for i in 0..100 {
                        let _g = lock.lock().unwrap();
                        if annotate {
                            api::acquire(lock_addr);
                        }
                        api::read(base + 8 * (i % 4), 8, Site::caller());
                        api::write(base + (t + i) % 28, 4, Site::caller());
                        api::write(base + 6, 4, Site::caller());
                        api::read_range(base, 32, Site::caller());
                        if annotate {
                            api::release(lock_addr);
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    })
}

#[test]
fn overlapping_words_under_annotated_lock_are_clean() {
    let reports = shared_words_under_mutex(8, true);
    assert!(reports.is_empty(), "{reports:#?}");
}

#[test]
fn overlapping_words_under_unannotated_lock_race() {
    // The same workload: without the annotations the runtime cannot see the
    // mutex, so the workers are unordered.
    let reports = shared_words_under_mutex(8, false);
    assert!(!reports.is_empty());
}

/// A distinct call site per worker (one source line each).
fn site_of(worker: usize) -> Site {
    match worker {
        0 => Site::caller(),
        1 => Site::caller(),
        2 => Site::caller(),
        3 => Site::caller(),
        4 => Site::caller(),
        _ => Site::caller(),
    }
}

#[test]
fn every_unprotected_pair_is_reported() {
    // Worker pair (i, j) shares one word and nothing else: i writes it, j
    // writes or reads it. Each word sees exactly two unordered accesses, so
    // it yields exactly one report, naming the pair's two sites, whichever
    // worker runs first.
    const WORKERS: usize = 6;
    let pairs: Vec<(usize, usize)> = (0..WORKERS)
        .flat_map(|i| (i + 1..WORKERS).map(move |j| (i, j)))
        .collect();
    let arena = Arena::new(pairs.len());
    let word_of = |p: usize| arena.word(p);
    let reports = check(|| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|me| {
                let mine: Vec<(usize, bool)> = pairs
                    .iter()
                    .enumerate()
                    .filter(|(_, (i, j))| *i == me || *j == me)
                    .map(|(p, &(i, j))| (word_of(p), me == i || (i + j) % 2 == 0))
                    .collect();
                thread::spawn(move || {
                    for (w, write) in mine {
                        if write {
                            api::write(w, 8, site_of(me));
                        } else {
                            api::read(w, 8, site_of(me));
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    assert!(reports.iter().all(|r| r.occurrences == 1), "{reports:#?}");
    let line = |w: usize| site_of(w).location().unwrap().line();
    let mut got: Vec<(u64, BTreeSet<u32>)> =
        reports.iter().map(|r| (r.current.addr, lines(r))).collect();
    got.sort();
    let mut want: Vec<(u64, BTreeSet<u32>)> = pairs
        .iter()
        .enumerate()
        .map(|(p, &(i, j))| (word_of(p) as u64, BTreeSet::from([line(i), line(j)])))
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn no_shadow_update_is_lost() {
    // 64 workers each write their own byte of 8 shared words, many times,
    // concurrently. Afterwards the joining thread is ordered after all of
    // them (clean), while a thread started before them is ordered after
    // none: each of its byte reads must race with exactly that byte's
    // writer — a lost update would show as a missing or wrong report.
    const WORKERS: usize = 64;
    let arena = Arena::new(WORKERS / 8);
    let base = arena.base();
    let (go, wait) = mpsc::channel::<()>();
    let mut writers = Vec::new();
    let mut late_reads = Vec::new();
    let main_reports = check(|| {
        let late = thread::spawn(move || {
            // Sequenced after the workers by a std channel: no edge.
            wait.recv().unwrap();
            (0..WORKERS)
                .map(|b| {
                    // One check per read: `end_check` merges reports with
                    // the same pair of sites, and these all share theirs.
                    let ctx = begin_check();
                    api::read(base + b, 1, Site::caller());
                    let r = end_check(ctx);
                    (b, r.iter().map(|r| r.previous.thread).collect::<Vec<_>>())
                })
                .collect::<Vec<_>>()
        });
        let handles: Vec<_> = (0..WORKERS)
            .map(|b| {
                thread::spawn(move || {
                    for _ in 0..50 {
                        api::write(base + b, 1, Site::caller());
                        api::release(base + b);
                    }
                    current_thread_id().unwrap().0
                })
            })
            .collect();
        writers = handles.into_iter().map(|h| h.join().unwrap()).collect();
        // The joining thread's reads are ordered after every worker.
        api::read_range(base, WORKERS, Site::caller());
        for b in 0..WORKERS {
            api::read(base + b, 1, Site::caller());
        }
        go.send(()).unwrap();
        late_reads = late.join().unwrap();
    });
    assert!(main_reports.is_empty(), "{main_reports:#?}");
    let want: Vec<(usize, Vec<u64>)> = writers.iter().map(|&w| vec![w]).enumerate().collect();
    assert_eq!(late_reads, want);
}

#[test]
fn raw_atomics_release_acquire() {
    // a writes the data and the flag's own bytes, then release-stores the
    // flag; b, sequenced after it by a std channel only, loads the flag.
    let run = |load_order: Ordering| {
        let arena = Arena::new(2);
        let (data, flag) = (arena.word(0), arena.word(1));
        let (tx, rx) = mpsc::channel::<()>();
        check(|| {
            let a = thread::spawn(move || {
                api::write(data, 8, Site::caller());
                api::write(flag, 8, Site::caller());
                api::atomic_store(flag, 8, Ordering::Release, Site::caller());
                tx.send(()).unwrap();
            });
            let b = thread::spawn(move || {
                rx.recv().unwrap();
                api::atomic_load(flag, 8, load_order, Site::caller());
                api::read(data, 8, Site::caller());
            });
            a.join().unwrap();
            b.join().unwrap();
        })
    };
    let clean = run(Ordering::Acquire);
    assert!(clean.is_empty(), "{clean:#?}");
    // Relaxed: the load races with the plain write of the flag, the read
    // with the write of the data.
    let racy = run(Ordering::Relaxed);
    let kinds: BTreeSet<(&str, &str)> = racy
        .iter()
        .map(|r| (r.current.kind.as_str(), r.previous.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([("atomic read", "write"), ("read", "write")])
    );
}

/// An inner check returns the races of its own scope; races after it ends go
/// to the enclosing check again, not to process-wide reporting.
#[test]
fn nested_checks_restore_the_outer_context() {
    let outer = racedet_runtime::begin_check();
    let inner = racedet_runtime::begin_check();
    assert!(racedet_runtime::end_check(inner).is_empty());
    let x = Box::new(0u64);
    let addr = &*x as *const u64 as usize;
    let h = std::thread::spawn(move || api::write(addr, 8, Site::caller()));
    api::read(addr, 8, Site::caller());
    h.join().unwrap();
    let races = racedet_runtime::end_check(outer);
    assert_eq!(
        races.len(),
        1,
        "the race after the inner check belongs to the outer one"
    );
}
