//! RwLock: write unlock → any later lock; read unlock → next write lock;
//! readers never order each other; failed `try_*` give no edge.

mod sync_util;

use racedet::cell::RaceCell;
use racedet::sync::{RwLock, TryLockError};
use sync_util::{Gate, assert_clean, assert_races};

#[test]
fn writer_then_reader_is_clean() {
    assert_clean(|| {
        let l = RwLock::new(());
        let x = RaceCell::new(0);
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                let _w = l.write().unwrap();
                x.set(1);
                drop(_w);
                go.open();
            });
            go.wait();
            let _r = l.read().unwrap();
            assert_eq!(x.get(), 1);
        });
    });
}

#[test]
fn write_after_the_write_unlock_races() {
    assert_races(1, || {
        let l = RwLock::new(());
        let x = RaceCell::new(0);
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                drop(l.write().unwrap());
                x.set(1);
                go.open();
            });
            go.wait();
            let _r = l.read().unwrap();
            let _ = x.get();
        });
    });
}

/// Reader 1 writes X before taking its read lock; reader 2 takes the read
/// lock after reader 1 released it. A lock that ordered readers would hide
/// this race.
#[test]
fn two_readers_do_not_order_each_other() {
    assert_races(1, || {
        let l = RwLock::new(());
        let x = RaceCell::new(0);
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                drop(l.read().unwrap());
                go.open();
            });
            go.wait();
            let _r = l.read().unwrap();
            let _ = x.get();
        });
    });
}

/// Twin: the same with a write lock in the second thread: read unlock →
/// write lock is an edge.
#[test]
fn reader_then_writer_is_clean() {
    assert_clean(|| {
        let l = RwLock::new(());
        let x = RaceCell::new(0);
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                drop(l.read().unwrap());
                go.open();
            });
            go.wait();
            let _w = l.write().unwrap();
            assert_eq!(x.get(), 1);
        });
    });
}

/// A `try_write` that fails against a reader gives no edge from it.
#[test]
fn failed_try_write_gives_no_edge() {
    assert_races(1, || {
        let l = RwLock::new(());
        let x = RaceCell::new(0);
        let (held, done) = (Gate::new(), Gate::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                let r = l.read().unwrap();
                held.open();
                done.wait();
                drop(r);
            });
            held.wait();
            assert!(matches!(l.try_write(), Err(TryLockError::WouldBlock)));
            let _ = x.get();
            done.open();
        });
    });
}

/// Twin of the above with a successful `try_write` after the reader left.
#[test]
fn successful_try_write_after_reader_is_clean() {
    assert_clean(|| {
        let l = RwLock::new(());
        let x = RaceCell::new(0);
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                drop(l.read().unwrap());
                go.open();
            });
            go.wait();
            let _w = l.try_write().expect("no reader left");
            assert_eq!(x.get(), 1);
        });
    });
}

#[test]
fn failed_try_read_gives_no_edge() {
    assert_races(1, || {
        let l = RwLock::new(());
        let x = RaceCell::new(0);
        let (held, done) = (Gate::new(), Gate::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                let w = l.write().unwrap();
                x.set(1);
                held.open();
                done.wait();
                drop(w);
            });
            held.wait();
            assert!(matches!(l.try_read(), Err(TryLockError::WouldBlock)));
            let _ = x.get();
            done.open();
        });
    });
}

#[test]
fn poisoning_matches_std() {
    let l = std::sync::Arc::new(RwLock::new(1));
    let l2 = std::sync::Arc::clone(&l);
    let r = std::thread::spawn(move || {
        let _w = l2.write().unwrap();
        panic!("poison it");
    })
    .join();
    assert!(r.is_err());
    assert!(l.is_poisoned());
    assert_eq!(*l.read().unwrap_err().into_inner(), 1);
    *l.write().unwrap_err().into_inner() = 2;
    l.clear_poison();
    assert_eq!(*l.read().unwrap(), 2);
    // A read guard held while panicking does not poison (as std).
    let l3 = std::sync::Arc::clone(&l);
    let _ = std::thread::spawn(move || {
        let _r = l3.read().unwrap();
        panic!("no poison");
    })
    .join();
    assert!(!l.is_poisoned());
    let l = std::sync::Arc::try_unwrap(l).unwrap();
    assert_eq!(l.into_inner().unwrap(), 2);
}

#[test]
fn api_matches_std() {
    let l: RwLock<i32> = RwLock::default();
    *l.write().unwrap() = 3;
    assert_eq!(format!("{l:?}"), "RwLock { data: 3, poisoned: false, .. }");
    let w = l.write().unwrap();
    assert_eq!(format!("{w:?} {w}"), "3 3");
    drop(w);
    static GLOBAL: RwLock<u8> = RwLock::new(0);
    *GLOBAL.write().unwrap() += 1;
    assert_eq!(*GLOBAL.read().unwrap(), 1);
    let mut l = RwLock::from(5);
    *l.get_mut().unwrap() += 1;
    assert_eq!(*l.try_read().unwrap(), 6);
}

/// A reader that joined the lock's read-unlock entry, then learnt a
/// writer's data through the lock itself, keeps the lock-free read unlock:
/// its later section must still be ordered before the next writer.
#[test]
fn reader_sections_after_a_writer_reach_the_next_writer() {
    assert_clean(|| {
        let l = RwLock::new(());
        let (x, y) = (RaceCell::new(0), RaceCell::new(0));
        let (to_w1, to_r, to_w2) = (Gate::new(), Gate::new(), Gate::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                drop(l.read().unwrap());
                drop(l.read().unwrap());
                to_w1.open();
                to_r.wait();
                let r = l.read().unwrap();
                assert_eq!(x.get(), 1);
                let _ = y.get();
                drop(r);
                to_w2.open();
            });
            s.spawn(|| {
                to_w1.wait();
                let w = l.write().unwrap();
                x.set(1);
                drop(w);
                to_r.open();
            });
            to_w2.wait();
            let _w = l.write().unwrap();
            x.set(2);
            y.set(2);
        });
    });
}

/// What a reader learnt outside the lock (here through a mutex) after
/// joining its entry must be published by its next read unlock, even when
/// that read lock also acquired a writer's clock.
#[test]
fn what_a_reader_learnt_elsewhere_reaches_the_next_writer() {
    use racedet::sync::Mutex;
    for locked in [true, false] {
        let run = || {
            let l = RwLock::new(());
            let m = Mutex::new(());
            let q = RaceCell::new(0);
            let gates: [Gate; 5] = std::array::from_fn(|_| Gate::new());
            let [to_z, to_r1, to_w1, to_r2, to_w2] = &gates;
            std::thread::scope(|s| {
                s.spawn(|| {
                    drop(l.read().unwrap());
                    drop(l.read().unwrap()); // the entry is joined
                    to_z.open();
                    to_r1.wait();
                    drop(m.lock().unwrap()); // learns z's write of q
                    to_w1.open();
                    to_r2.wait();
                    drop(l.read().unwrap()); // also acquires w1's clock
                    to_w2.open();
                });
                s.spawn(|| {
                    to_z.wait();
                    let g = m.lock().unwrap();
                    q.set(1);
                    drop(g);
                    to_r1.open();
                });
                s.spawn(|| {
                    to_w1.wait();
                    drop(l.write().unwrap()); // never heard of q
                    to_r2.open();
                });
                to_w2.wait();
                if locked {
                    let _w = l.write().unwrap();
                    q.set(2);
                } else {
                    q.set(2);
                }
            });
        };
        if locked {
            assert_clean(run);
        } else {
            assert_races(1, run);
        }
    }
}
