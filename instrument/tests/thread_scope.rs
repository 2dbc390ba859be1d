//! `racedet::thread::scope`: every scoped thread → the code after the scope.

mod sync_util;

use racedet::cell::RaceCell;
use racedet::thread;
use sync_util::{Gate, assert_clean, assert_races};

/// Scoped threads that are never joined explicitly are still ordered
/// before the code after `scope` (std's scope does not `pthread_join` them).
#[test]
fn unjoined_scoped_threads_happen_before_the_scope_end() {
    assert_clean(|| {
        let cells: Vec<_> = (0..3).map(|_| RaceCell::new(0)).collect();
        let r = thread::scope(|s| {
            for c in &cells {
                s.spawn(move || c.set(1));
            }
            7
        });
        assert_eq!(r, 7);
        assert_eq!(cells.iter().map(RaceCell::get).sum::<i32>(), 3);
    });
}

/// The scope's edge also covers threads spawned by scoped threads and
/// through `Builder::spawn_scoped`.
#[test]
fn nested_and_builder_spawns_are_covered() {
    assert_clean(|| {
        let (x, y) = (RaceCell::new(0), RaceCell::new(0));
        thread::scope(|s| {
            s.spawn(|| {
                s.spawn(|| x.set(1));
            });
            thread::Builder::new()
                .name("b".into())
                .spawn_scoped(s, || y.set(1))
                .unwrap();
        });
        assert_eq!(x.get() + y.get(), 2);
    });
}

/// Twin: two scoped threads write the same cell unordered.
#[test]
fn scoped_threads_do_not_order_each_other() {
    assert_races(1, || {
        let x = RaceCell::new(0);
        let written = Gate::new();
        thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                written.open();
            });
            s.spawn(|| {
                written.wait();
                x.set(2);
            });
        });
    });
}

/// Twin: a thread spawned inside the scope but not scoped (and not joined)
/// is not covered by the scope's end.
#[test]
fn unscoped_thread_started_in_a_scope_is_not_covered() {
    assert_races(1, || {
        let x = std::sync::Arc::new(RaceCell::new(0));
        let (tx, rx) = std::sync::mpsc::channel();
        thread::scope(|_| {
            let x = std::sync::Arc::clone(&x);
            let _detached = thread::spawn(move || {
                x.set(1);
                tx.send(()).unwrap();
            });
        });
        rx.recv().unwrap();
        let _ = x.get();
    });
}

/// Explicit joins and panics behave as std's.
#[test]
fn join_and_panics_match_std() {
    let v = thread::scope(|s| {
        let h = s.spawn(|| 40);
        assert!(h.thread().name().is_none());
        h.join().unwrap() + 2
    });
    assert_eq!(v, 42);
    let r = std::panic::catch_unwind(|| {
        thread::scope(|s| {
            s.spawn(|| panic!("scoped panic"));
        })
    });
    assert!(
        r.is_err(),
        "a panicked unjoined scoped thread makes scope panic"
    );
}

/// A scoped thread that panics after writing is still ordered before
/// whoever catches the scope's panic.
#[test]
fn panicking_scoped_thread_is_covered() {
    assert_clean(|| {
        let x = RaceCell::new(0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            thread::scope(|s| {
                s.spawn(|| {
                    x.set(1);
                    panic!("after the write");
                });
            })
        }));
        assert!(r.is_err());
        assert_eq!(x.get(), 1);
    });
}

/// Writes a borrowed cell when dropped.
struct SetsOnDrop<'a>(&'a RaceCell<i32>);

impl Drop for SetsOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set(1);
    }
}

/// The result of a scoped thread that nobody joins is dropped before the
/// scope ends: std drops it and only then counts the thread out ("dropping
/// it might still use things it borrowed from 'scope"). Here the handle is
/// dropped first, so the result is dropped on the scoped thread itself,
/// after its closure returned.
#[test]
fn unjoined_result_is_dropped_before_the_scope_end() {
    assert_clean(|| {
        let x = RaceCell::new(0);
        let go = Gate::new();
        thread::scope(|s| {
            let h = s.spawn(|| {
                go.wait();
                SetsOnDrop(&x)
            });
            drop(h);
            go.open();
        });
        assert_eq!(x.get(), 1);
    });
}

/// Twin: a joined result is dropped by the joiner; a scoped thread that
/// reads the cell without being ordered after that drop races with it.
#[test]
fn joined_result_drop_is_not_covered_for_other_threads() {
    assert_races(1, || {
        let x = RaceCell::new(0);
        let dropped = Gate::new();
        thread::scope(|s| {
            s.spawn(|| {
                dropped.wait();
                let _ = x.get();
            });
            drop(s.spawn(|| SetsOnDrop(&x)).join().unwrap());
            dropped.open();
        });
    });
}
