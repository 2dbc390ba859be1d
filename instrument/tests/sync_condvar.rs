//! Condvar: edges only through the mutex.

mod sync_util;

use std::time::Duration;

use racedet::cell::RaceCell;
use racedet::sync::{Condvar, Mutex};
use sync_util::{Gate, assert_clean, assert_races};

/// Producer writes X, then sets the flag under the lock and notifies; the
/// consumer waits for the flag and reads X: ordered by the mutex.
#[test]
fn wait_while_orders_after_the_notifier() {
    assert_clean(|| {
        let (m, cv) = (Mutex::new(false), Condvar::new());
        let x = RaceCell::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                *m.lock().unwrap() = true;
                cv.notify_one();
            });
            let g = cv.wait_while(m.lock().unwrap(), |ready| !*ready).unwrap();
            assert!(*g);
            assert_eq!(x.get(), 1);
        });
    });
}

/// Same with the explicit `wait` loop.
#[test]
fn wait_loop_orders_after_the_notifier() {
    assert_clean(|| {
        let (m, cv) = (Mutex::new(false), Condvar::new());
        let x = RaceCell::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                *m.lock().unwrap() = true;
                cv.notify_all();
            });
            let mut g = m.lock().unwrap();
            while !*g {
                g = cv.wait(g).unwrap();
            }
            drop(g);
            assert_eq!(x.get(), 1);
        });
    });
}

/// Twin: the producer writes X after unlocking and notifying; waking up
/// (notify) must not order it.
#[test]
fn write_after_notify_races() {
    assert_races(1, || {
        let (m, cv) = (Mutex::new(0), Condvar::new());
        let x = RaceCell::new(0);
        let written = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                *m.lock().unwrap() = 1;
                cv.notify_one();
                x.set(1);
                written.open();
            });
            let g = cv.wait_while(m.lock().unwrap(), |v| *v == 0).unwrap();
            drop(g);
            written.wait();
            let _ = x.get();
        });
    });
}

/// The condition of `wait_while` runs under the re-acquired clock: a
/// protected counter updated by another thread is read without a report.
#[test]
fn condition_reads_protected_data_cleanly() {
    assert_clean(|| {
        let (m, cv) = (Mutex::new(()), Condvar::new());
        let counter = RaceCell::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    let _g = m.lock().unwrap();
                    counter.update(|c| *c += 1);
                    cv.notify_all();
                });
            }
            let g = cv
                .wait_while(m.lock().unwrap(), |_| counter.get() < 3)
                .unwrap();
            drop(g);
        });
    });
}

#[test]
fn timeouts() {
    let (m, cv) = (Mutex::new(0), Condvar::new());
    let (g, r) = cv
        .wait_timeout(m.lock().unwrap(), Duration::from_millis(1))
        .unwrap();
    assert!(r.timed_out() || *g == 0);
    let (g, r) = cv
        .wait_timeout_while(g, Duration::from_millis(1), |v| *v == 0)
        .unwrap();
    assert!(r.timed_out());
    let (_g, r) = cv
        .wait_timeout_while(g, Duration::from_secs(10), |_| false)
        .unwrap();
    assert!(!r.timed_out());
}

#[test]
fn poisoned_mutex_is_reported_on_wake_up() {
    let pair = std::sync::Arc::new((Mutex::new(false), Condvar::new()));
    let p = std::sync::Arc::clone(&pair);
    let h = std::thread::spawn(move || {
        let mut g = p.0.lock().unwrap();
        *g = true;
        p.1.notify_one();
        panic!("poison it");
    });
    let g = pair.0.lock().unwrap_or_else(|e| e.into_inner());
    let r = pair.1.wait_while(g, |ready| !*ready);
    assert!(h.join().is_err());
    // Either the wait saw the flag before the panic (no wait at all) or it
    // woke up after the poisoning.
    let g = r.unwrap_or_else(|e| e.into_inner());
    assert!(*g);
    drop(g);
    assert!(pair.0.is_poisoned());
}
