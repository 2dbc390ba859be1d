//! Helpers for the sync and thread tests: run a program under
//! `racedet::check` and count its races.
//!
//! Racy twins are forced into one order with an *uninstrumented* signal
//! ([`Gate`]): it orders wall-clock time but creates no happens-before edge,
//! so a missing edge is reported every time, not only when the accesses
//! happen to overlap.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `f` under `racedet::check`; panics if any race was reported.
#[track_caller]
pub fn assert_clean(f: impl FnOnce()) {
    if let Err(e) = racedet::check(f) {
        panic!("expected no race, got:\n{e}");
    }
}

/// Runs `f` under `racedet::check`; panics unless exactly `n` races were
/// reported.
#[track_caller]
pub fn assert_races(n: usize, f: impl FnOnce()) {
    match racedet::check(f) {
        Ok(()) => panic!("expected {n} race(s), got none"),
        Err(e) => assert_eq!(e.len(), n, "expected {n} race(s), got:\n{e}"),
    }
}

/// A one-way, uninstrumented "go" signal between threads: a std atomic
/// counter polled with `yield_now`. Not a channel: std's channels block with
/// `thread::park`, which would eat the park token the park/unpark tests hand
/// over.
pub struct Gate {
    opened: AtomicUsize,
    passed: AtomicUsize,
}

impl Gate {
    pub fn new() -> Gate {
        Gate {
            opened: AtomicUsize::new(0),
            passed: AtomicUsize::new(0),
        }
    }

    /// Lets one `wait` through.
    pub fn open(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
    }

    /// Blocks until `open` was called (once per `wait`).
    pub fn wait(&self) {
        loop {
            let passed = self.passed.load(Ordering::Relaxed);
            if passed < self.opened.load(Ordering::Relaxed)
                && self
                    .passed
                    .compare_exchange(passed, passed + 1, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
            std::thread::yield_now();
        }
    }
}
