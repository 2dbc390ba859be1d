//! Helpers for the sync and thread tests: run a program under
//! `racedet::check` and count its races.
//!
//! Racy twins are forced into one order with *uninstrumented* std channels
//! (`step`): they order wall-clock time but create no happens-before edge,
//! so a missing edge is reported every time, not only when the accesses
//! happen to overlap.
#![allow(dead_code)]

use std::sync::mpsc;

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

/// A one-way, uninstrumented "go" signal between threads (a std channel
/// behind a std mutex, so `&Gate` can be shared by scoped threads).
pub struct Gate {
    tx: mpsc::Sender<()>,
    rx: std::sync::Mutex<mpsc::Receiver<()>>,
}

impl Gate {
    pub fn new() -> Gate {
        let (tx, rx) = mpsc::channel();
        Gate {
            tx,
            rx: std::sync::Mutex::new(rx),
        }
    }

    /// Lets one `wait` through.
    pub fn open(&self) {
        self.tx.send(()).unwrap();
    }

    /// Blocks until `open` was called.
    pub fn wait(&self) {
        self.rx.lock().unwrap().recv().unwrap();
    }
}
