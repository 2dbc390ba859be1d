//! Mutex: unlock → lock is an edge; a failed `try_lock` is not; poisoning
//! behaves as std's.

mod sync_util;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc as StdArc;

use racedet::cell::RaceCell;
use racedet::sync::{Arc, Mutex, TryLockError};
use racedet::thread;
use sync_util::{Gate, assert_clean, assert_races};

#[test]
fn increments_under_the_lock_are_clean() {
    assert_clean(|| {
        let shared = Arc::new((Mutex::new(()), RaceCell::new(0u32)));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    for _ in 0..10 {
                        let _g = shared.0.lock().unwrap();
                        shared.1.update(|v| *v += 1);
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(shared.1.get(), 40);
    });
}

/// A writes under the lock, B locks afterwards and reads: ordered.
#[test]
fn write_inside_the_lock_is_seen_by_the_next_locker() {
    assert_clean(|| {
        let m = Mutex::new(());
        let x = RaceCell::new(0);
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                let _g = m.lock().unwrap();
                x.set(1);
                drop(_g);
                go.open();
            });
            go.wait();
            let _g = m.lock().unwrap();
            assert_eq!(x.get(), 1);
        });
    });
}

/// Twin: A writes after its unlock, so B's lock does not order the write.
#[test]
fn write_after_the_unlock_races() {
    assert_races(1, || {
        let m = Mutex::new(());
        let x = RaceCell::new(0);
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                drop(m.lock().unwrap());
                x.set(1);
                go.open();
            });
            go.wait();
            let _g = m.lock().unwrap();
            assert_eq!(x.get(), 1);
        });
    });
}

/// A failed `try_lock` creates no edge: B reads while A still holds the
/// lock after writing (A's unlock comes later and B never locks).
#[test]
fn failed_try_lock_gives_no_edge() {
    assert_races(1, || {
        let m = Mutex::new(());
        let x = RaceCell::new(0);
        let locked = Gate::new();
        let done = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                let g = m.lock().unwrap();
                x.set(1);
                locked.open();
                done.wait();
                drop(g);
            });
            locked.wait();
            assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
            let _ = x.get();
            done.open();
        });
    });
}

/// Twin: a successful `try_lock` after the unlock is an edge.
#[test]
fn successful_try_lock_is_an_edge() {
    assert_clean(|| {
        let m = Mutex::new(());
        let x = RaceCell::new(0);
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                let _g = m.lock().unwrap();
                x.set(1);
                drop(_g);
                go.open();
            });
            go.wait();
            let _g = m.try_lock().expect("unlocked");
            assert_eq!(x.get(), 1);
        });
    });
}

/// A thread panicking with the lock held poisons it, as std's; the
/// poisoned lock still carries the edge and `into_inner` gives the guard.
#[test]
fn panic_while_locked_poisons_and_still_orders() {
    assert_clean(|| {
        let m = StdArc::new(Mutex::new(5));
        let x = StdArc::new(RaceCell::new(0));
        let go = StdArc::new(Gate::new());
        let h = {
            let (m, x, go) = (StdArc::clone(&m), StdArc::clone(&x), StdArc::clone(&go));
            std::thread::spawn(move || {
                let r = catch_unwind(AssertUnwindSafe(|| {
                    let mut g = m.lock().unwrap();
                    *g += 1;
                    x.set(1);
                    panic!("poison it");
                }));
                assert!(r.is_err());
                go.open();
            })
        };
        go.wait();
        assert!(m.is_poisoned());
        let g = m.lock().expect_err("poisoned").into_inner();
        assert_eq!(*g, 6);
        assert_eq!(x.get(), 1);
        drop(g);
        match m.try_lock() {
            Err(TryLockError::Poisoned(e)) => assert_eq!(*e.into_inner(), 6),
            other => panic!("expected Poisoned, got {other:?}"),
        }
        m.clear_poison();
        assert!(!m.is_poisoned());
        assert_eq!(*m.lock().unwrap(), 6);
        h.join().unwrap();
    });
}

#[test]
fn into_inner_and_get_mut_report_poison() {
    let m = StdArc::new(Mutex::new(vec![1]));
    let m2 = StdArc::clone(&m);
    let r = std::thread::spawn(move || {
        let _g = m2.lock().unwrap();
        panic!("poison it");
    })
    .join();
    assert!(r.is_err());
    let mut m = StdArc::try_unwrap(m).unwrap();
    assert_eq!(m.get_mut().unwrap_err().into_inner(), &mut vec![1]);
    assert_eq!(m.into_inner().unwrap_err().into_inner(), vec![1]);
}

#[test]
fn api_matches_std() {
    let m: Mutex<i32> = Mutex::default();
    *m.lock().unwrap() += 2;
    assert_eq!(format!("{m:?}"), "Mutex { data: 2, poisoned: false, .. }");
    let g = m.lock().unwrap();
    assert_eq!(format!("{g:?} {g}"), "2 2");
    assert_eq!(
        format!("{m:?}"),
        "Mutex { data: <locked>, poisoned: false, .. }"
    );
    drop(g);
    static GLOBAL: Mutex<Vec<u8>> = Mutex::new(Vec::new());
    GLOBAL.lock().unwrap().push(1);
    let unsized_mutex: &Mutex<[u8]> = &Mutex::new([1, 2, 3]);
    assert_eq!(unsized_mutex.lock().unwrap().len(), 3);
    assert_eq!(Mutex::from(3).into_inner().unwrap(), 3);
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Mutex<u8>>();
    fn unwind_safe<T: std::panic::RefUnwindSafe + std::panic::UnwindSafe>() {}
    unwind_safe::<Mutex<u8>>();
}
