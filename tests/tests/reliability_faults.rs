//! Faults: children that race and exit without flushing, a panic while a
//! racedet `Mutex` is held, `process::exit` from a worker, threads still
//! running at exit, signals while reports are written, and a host whose
//! threads race again while reports are being printed. Every subprocess runs
//! under a watchdog: a deadlock fails the test instead of hanging CI.
//!
//! `racedet run` printing the report of a target killed by SIGKILL right
//! after its first race is covered by `cli/tests/cli/run.rs::report_survives_sigkill`.

mod reliability_common;

use std::time::Duration;

use racedet::cell::RaceCell;
use racedet::sync::{Arc, Mutex, TryLockError};
use reliability_common::*;

const LIMIT: Duration = Duration::from_secs(120);

#[test]
fn forked_and_executed_children_leave_their_reports() {
    let kept = tempfile::tempdir().unwrap();
    let kept_s = kept.path().to_str().unwrap();
    let out = output_within(
        &mut racedet(&[
            "run",
            "--keep-reports",
            kept_s,
            "--",
            target_exe(),
            "fork-exec",
        ]),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(66), "{}", text(&out.stderr));
    // The CLI gathers them all: the parent's race and the exec'd child's
    // first race are one race found by two processes.
    let summary = text(&out.stdout);
    assert!(summary.contains("racedet: 2 data races"), "{summary}");
    assert!(summary.contains("in 3 processes"), "{summary}");
    // The parent, the exec'd child and the forked child: one file each.
    let files = report_files(kept.path());
    assert_eq!(files.len(), 3, "{files:?}");
    let mut unflushed = 0;
    for f in &files {
        let recs = records(f);
        assert!(!of_type(&recs, "race").is_empty(), "{f:?} has no race");
        let exited = of_type(&recs, "process")
            .iter()
            .any(|r| r["event"] == "exit");
        // The two children end with `_exit`: no exit record, but every
        // race they wrote is there.
        unflushed += usize::from(!exited);
    }
    assert_eq!(unflushed, 2);
}

/// What a thread observes about a mutex poisoned by a panicking holder.
#[derive(Debug, PartialEq)]
struct PoisonView {
    poisoned: bool,
    lock_is_err: bool,
    value_after_panic: u32,
    try_lock_poisoned: bool,
    cleared: bool,
    into_inner_is_err: bool,
}

macro_rules! poison_view {
    ($mutex:ty) => {{
        let m: std::sync::Arc<$mutex> = std::sync::Arc::new(<$mutex>::new(1));
        let m2 = m.clone();
        let r = std::thread::spawn(move || {
            let mut g = m2.lock().unwrap();
            *g = 2;
            panic!("panic while holding the lock (expected by the test)");
        })
        .join();
        assert!(r.is_err());
        let poisoned = m.is_poisoned();
        let lock = m.lock();
        let lock_is_err = lock.is_err();
        let value_after_panic = *lock.unwrap_or_else(|e| e.into_inner());
        let try_lock_poisoned = matches!(m.try_lock(), Err(TryLockError::Poisoned(_)));
        m.clear_poison();
        let cleared = !m.is_poisoned() && m.lock().is_ok();
        // Poison again, then take the value out.
        let m3 = m.clone();
        let _ = std::thread::spawn(move || {
            let _g = m3.lock().unwrap();
            panic!("second panic (expected by the test)");
        })
        .join();
        let into_inner_is_err = std::sync::Arc::try_unwrap(m)
            .ok()
            .unwrap()
            .into_inner()
            .is_err();
        PoisonView {
            poisoned,
            lock_is_err,
            value_after_panic,
            try_lock_poisoned,
            cleared,
            into_inner_is_err,
        }
    }};
}

#[test]
fn poisoning_is_exactly_std_and_detection_goes_on() {
    let std_view = poison_view!(std::sync::Mutex<u32>);
    let racedet_view =
        racedet::check(|| poison_view!(Mutex<u32>)).expect("no race in the poison scenario");
    assert_eq!(racedet_view, std_view);

    // Clean twin: the panicking holder's writes happen-before the next lock
    // (the guard unlocks during unwinding, creating the edge).
    let clean = racedet::check(|| {
        let cell = Arc::new(RaceCell::new(0u32));
        let m = Arc::new(Mutex::new(()));
        let (c, m2) = (cell.clone(), m.clone());
        let _ = std::thread::spawn(move || {
            let _g = m2.lock().unwrap();
            c.set(1);
            panic!("holder panics (expected by the test)");
        });
        // Not joined: only the poisoned mutex orders the two accesses.
        loop {
            match m.lock() {
                Err(p) => {
                    drop(p.into_inner());
                    break;
                }
                Ok(g) => drop(g),
            }
            std::thread::yield_now();
        }
        let _g = m.lock().unwrap_or_else(|e| e.into_inner());
        cell.get()
    });
    assert_eq!(clean.expect("ordered by the poisoned mutex"), 1);

    // Racy twin after the panics: detection still works in other threads.
    let racy = racedet::check(|| {
        let cell = Arc::new(RaceCell::new(0u32));
        let hs: Vec<_> = (0..2)
            .map(|i| {
                let c = cell.clone();
                std::thread::spawn(move || c.set(i))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    });
    assert_eq!(racy.expect_err("race after a poisoning panic").len(), 1);
}

#[test]
fn exit_from_a_worker_keeps_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = output_within(
        target(&["exit-from-worker"]).env("RACEDET_OPTIONS", options(dir.path(), "")),
        LIMIT,
    );
    // `process::exit(3)` wins: the race exit code replaces only a 0.
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let files = report_files(dir.path());
    assert_eq!(files.len(), 1);
    let recs = records(&files[0]);
    assert!(!of_type(&recs, "race").is_empty());
    assert!(
        of_type(&recs, "process")
            .iter()
            .any(|r| r["event"] == "exit")
    );
}

#[test]
fn threads_running_at_exit_do_not_stop_it() {
    let kept = tempfile::tempdir().unwrap();
    let kept_s = kept.path().to_str().unwrap();
    let out = output_within(
        &mut racedet(&[
            "run",
            "--keep-reports",
            kept_s,
            "--",
            target_exe(),
            "running-at-exit",
        ]),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(66), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("WARNING: DATA RACE"));
    let recs = records(&report_files(kept.path())[0]);
    assert!(!of_type(&recs, "race").is_empty());
    assert!(
        of_type(&recs, "process")
            .iter()
            .any(|r| r["event"] == "exit")
    );
}

/// SIGUSR1 (handler installed without SA_RESTART) hammered at a process
/// that is writing reports: every line is whole, every race is counted.
#[test]
fn signals_during_report_writing_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = target(&["flood", "60", "usr1"]);
    // The first signals can arrive before the child installs its handler,
    // and SIGUSR1's default action kills: start the child with SIGUSR1
    // ignored (kept across exec) until its handler replaces that.
    // SAFETY: `signal` is async-signal-safe; nothing else runs in the hook.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::signal(libc::SIGUSR1, libc::SIG_IGN);
            Ok(())
        });
    }
    let child = cmd
        .env("RACEDET_OPTIONS", options(dir.path(), ""))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let sender = std::thread::spawn(move || {
        let mut sent = 0u32;
        while !s.load(std::sync::atomic::Ordering::Relaxed) {
            // SAFETY: signals our own child; a stale pid after it exited is
            // not reused while we have not waited for it (zombie).
            unsafe { libc::kill(pid, libc::SIGUSR1) };
            sent += 1;
            std::thread::sleep(Duration::from_micros(200));
        }
        sent
    });
    let out = wait_within(child, LIMIT);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = sender.join().unwrap();
    assert_eq!(out.status.code(), Some(66), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let done = stdout
        .lines()
        .find(|l| l.starts_with("done"))
        .expect("done line");
    let races: u64 = done
        .split_whitespace()
        .find_map(|w| w.strip_prefix("races="))
        .unwrap()
        .parse()
        .unwrap();
    // `records` panics on any damaged line.
    let recs = records(&report_files(dir.path())[0]);
    assert_eq!(of_type(&recs, "race").len() as u64, races);
    assert!(races > 1);
    eprintln!("{sent} SIGUSR1 sent; {done}");
}

/// SIGKILL at an arbitrary point while reports are being written: the
/// reader keeps every whole line and names a torn last line.
#[test]
fn kill_while_writing_reports_keeps_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = target(&["flood", "100000"])
        .env("RACEDET_OPTIONS", options(dir.path(), ""))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for "ready" (a report was written), then kill mid-stream.
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "ready");
    child.kill().unwrap();
    child.wait().unwrap();
    let file = &report_files(dir.path())[0];
    let body = std::fs::read_to_string(file).unwrap();
    let whole: Vec<&str> = body
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
        .collect();
    let bad = body.lines().count() - whole.len();
    assert!(bad <= 1, "more than one damaged line");
    let races = whole
        .iter()
        .filter(|l| l.contains("\"type\":\"race\""))
        .count();
    assert!(races >= 1);
    let out = output_within(
        &mut racedet(&["report", "--format", "json", dir.path().to_str().unwrap()]),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(66), "{}", text(&out.stderr));
    let shown = text(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"signature\""))
        .count();
    assert!(shown >= races.min(1), "{}", text(&out.stdout));
    if bad == 1 {
        assert!(
            text(&out.stderr).contains("skipped"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// Threads race continuously on several cells while the runtime prints
/// reports to standard error, and printer threads race *inside*
/// `eprintln!` (holding std's stderr lock). Must finish: the runtime never
/// waits on a lock racing user threads can hold.
#[test]
fn racing_while_reports_print_never_deadlocks() {
    let out = output_within(target(&["print-race", "40"]).env("RACEDET", "1"), LIMIT);
    assert_eq!(
        out.status.code(),
        Some(66),
        "{}",
        tail(&text(&out.stderr), 2000)
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("WARNING: DATA RACE"));
    assert!(text(&out.stdout).starts_with("done races="));
}
