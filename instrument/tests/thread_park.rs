//! park/unpark: everything before `unpark` → after the `park` that takes
//! the token.

mod sync_util;

use racedet::cell::RaceCell;
use racedet::thread;
use sync_util::{Gate, assert_clean, assert_races};

/// The child writes X, then unparks the parent, which parks (taking the
/// token) only after the unpark happened (forced by a gate): clean.
#[test]
fn writes_before_unpark_are_seen_after_park() {
    assert_clean(|| {
        let x = RaceCell::new(0);
        let me = thread::current();
        let unparked = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                me.unpark();
                unparked.open();
            });
            unparked.wait();
            thread::park();
            assert_eq!(x.get(), 1);
        });
    });
}

/// Twin: the write comes after the unpark.
#[test]
fn writes_after_unpark_race() {
    assert_races(1, || {
        let x = RaceCell::new(0);
        let me = thread::current();
        let written = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                me.unpark();
                x.set(1);
                written.open();
            });
            written.wait();
            thread::park();
            let _ = x.get();
        });
    });
}

/// Through `JoinHandle::thread()`: the parent unparks a child spawned
/// with `racedet::thread::spawn`.
#[test]
fn unpark_through_a_join_handle() {
    assert_clean(|| {
        let x = std::sync::Arc::new(RaceCell::new(0));
        let unparked = std::sync::Arc::new(Gate::new());
        let h = {
            let (x, unparked) = (x.clone(), unparked.clone());
            thread::spawn(move || {
                unparked.wait();
                thread::park_timeout(std::time::Duration::from_secs(60));
                x.get()
            })
        };
        x.set(5);
        h.thread().unpark();
        unparked.open();
        assert_eq!(h.join().unwrap(), 5);
    });
}

/// Parking without an unpark creates no edge.
#[test]
fn park_timeout_without_unpark_orders_nothing() {
    assert_races(1, || {
        let x = RaceCell::new(0);
        let written = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                written.open();
            });
            written.wait();
            thread::park_timeout(std::time::Duration::from_millis(1));
            let _ = x.get();
        });
    });
}
