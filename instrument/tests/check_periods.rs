//! Detection is on while any `racedet::check` runs, in the whole process:
//! `cargo test` runs tests on parallel threads, so one test's check also
//! records what another test does outside its own. The edges made while no
//! check ran are not seen, so history recorded before them must not be
//! held against what comes after: a later check would report a race that
//! never was (the false positive this file pins down), while a race inside
//! one stretch of detection is still found.
//!
//! One test per scenario would let the harness run them side by side, and
//! each needs detection to go off in the middle; so they take turns.

use std::sync::Mutex;
use std::sync::mpsc;

use racedet::cell::RaceCell;

static TURN: Mutex<()> = Mutex::new(());

/// Runs `f` while a check scope on another thread keeps detection on.
/// `f` itself runs outside any check: its races are not collected, only
/// its history is recorded.
fn while_another_check_runs(f: impl FnOnce()) {
    let (opened_tx, opened_rx) = mpsc::channel();
    let (close_tx, close_rx) = mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        racedet::check(|| {
            opened_tx.send(()).unwrap();
            close_rx.recv().unwrap();
        })
        .is_ok()
    });
    opened_rx.recv().unwrap();
    f();
    close_tx.send(()).unwrap();
    assert!(holder.join().unwrap(), "the holder's own check is clean");
}

#[test]
fn a_join_made_while_detection_was_off_orders_what_came_before() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let cell = &RaceCell::new(0);
    std::thread::scope(|s| {
        let (wrote_tx, wrote_rx) = mpsc::channel();
        let mut writer = None;
        while_another_check_runs(|| {
            writer = Some(s.spawn(move || {
                cell.set(1);
                wrote_tx.send(()).unwrap();
            }));
            // Recorded with detection on; `std::sync::mpsc` is not a
            // racedet primitive, so this wait orders nothing.
            wrote_rx.recv().unwrap();
        });
        // Detection is off again: this join is the only edge, unseen.
        writer.unwrap().join().unwrap();
    });
    racedet::check(|| cell.set(2)).expect("the join ordered the earlier write");
    assert_eq!(cell.get(), 2);
}

#[test]
fn a_race_inside_one_stretch_of_detection_is_still_found() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let cell = &RaceCell::new(0);
    let (wrote_tx, wrote_rx) = mpsc::channel();
    let err = racedet::check(|| {
        std::thread::scope(|s| {
            s.spawn(move || {
                cell.set(1);
                wrote_tx.send(()).unwrap();
            });
            wrote_rx.recv().unwrap();
            // Unordered with the spawned thread's write: the channel is not
            // a racedet primitive.
            cell.set(2);
        })
    })
    .expect_err("two unordered writes");
    assert_eq!(err.len(), 1, "{err}");
}

#[test]
fn a_lock_handoff_made_while_detection_was_off_orders_what_came_before() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let cell: &'static RaceCell<i32> = Box::leak(Box::new(RaceCell::new(0)));
    let lock: &'static racedet::sync::Mutex<bool> =
        Box::leak(Box::new(racedet::sync::Mutex::new(false)));
    let (wrote_tx, wrote_rx) = mpsc::channel();
    let (off_tx, off_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let mut writer = None;
    while_another_check_runs(|| {
        writer = Some(std::thread::spawn(move || {
            cell.set(1);
            wrote_tx.send(()).unwrap();
            off_rx.recv().unwrap();
            // Detection is off: this release is not seen.
            *lock.lock().unwrap() = true;
            done_tx.send(()).unwrap();
        }));
        wrote_rx.recv().unwrap();
    });
    off_tx.send(()).unwrap();
    done_rx.recv().unwrap();
    // Neither is this acquire; it orders the write before what follows.
    assert!(*lock.lock().unwrap());
    let r = racedet::check(|| cell.set(2));
    writer.unwrap().join().unwrap();
    r.expect("the lock ordered the earlier write");
}

/// A thread writes `cell` in one stretch of detection (another test's
/// check), then, in the next (this thread's check), runs `first` and
/// writes again, unordered with a write by this thread: the race of that
/// stretch must be found. Returns the check's races.
fn race_in_the_next_stretch(first: impl FnOnce() + Send + 'static) -> racedet::RaceError {
    let cell: &'static RaceCell<i32> = Box::leak(Box::new(RaceCell::new(0)));
    let (wrote_tx, wrote_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let mut writer = None;
    while_another_check_runs(|| {
        writer = Some(std::thread::spawn(move || {
            cell.set(1);
            wrote_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            first();
            // The next stretch: this write is new, not history.
            cell.set(3);
            wrote_tx.send(()).unwrap();
        }));
        wrote_rx.recv().unwrap();
    });
    let r = racedet::check(|| {
        go_tx.send(()).unwrap();
        wrote_rx.recv().unwrap();
        // Unordered with the write just made: the channel is not a racedet
        // primitive.
        cell.set(2);
    });
    writer.unwrap().join().unwrap();
    r.expect_err("two unordered writes in one stretch")
}

#[test]
fn a_thread_from_an_earlier_stretch_still_races_in_the_next() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let err = race_in_the_next_stretch(|| {});
    assert_eq!(err.len(), 1, "{err}");
}

#[test]
fn lock_operations_before_the_first_access_of_a_stretch_still_leave_it_checked() {
    // Lock operations do not enter the period (only recorded accesses
    // do): a thread from the previous stretch that locks and unlocks
    // first, then writes, still has that write checked as new.
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let lock: &'static racedet::sync::Mutex<()> =
        Box::leak(Box::new(racedet::sync::Mutex::new(())));
    let err = race_in_the_next_stretch(move || drop(lock.lock().unwrap()));
    assert_eq!(err.len(), 1, "{err}");
}
