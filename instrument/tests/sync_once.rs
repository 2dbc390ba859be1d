//! Once, OnceLock, LazyLock: initialisation → every observer.

mod sync_util;

use std::sync::atomic::{AtomicUsize, Ordering};

use racedet::cell::RaceCell;
use racedet::sync::{LazyLock, Once, OnceLock};
use sync_util::{Gate, assert_clean, assert_races};

/// `init` runs `first` on a new thread, waits for it (uninstrumented), then
/// runs `second` here.
fn one_after_other(first: impl FnOnce() + Send, second: impl FnOnce()) {
    let go = Gate::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            first();
            go.open();
        });
        go.wait();
        second();
    });
}

#[test]
fn once_closure_writes_are_seen_by_later_callers() {
    assert_clean(|| {
        let (once, x) = (Once::new(), RaceCell::new(0));
        one_after_other(
            || once.call_once(|| x.set(1)),
            || {
                once.call_once(|| unreachable!());
                assert_eq!(x.get(), 1);
            },
        );
    });
}

#[test]
fn once_is_completed_and_wait_acquire() {
    assert_clean(|| {
        let (once, x, y) = (Once::new(), RaceCell::new(0), RaceCell::new(0));
        one_after_other(
            || {
                once.call_once(|| {
                    x.set(1);
                    y.set(1);
                })
            },
            || {
                assert!(once.is_completed());
                assert_eq!(x.get(), 1);
                once.wait();
                assert_eq!(y.get(), 1);
            },
        );
    });
}

/// Twin: the write comes after `call_once` returned.
#[test]
fn write_after_call_once_races() {
    assert_races(1, || {
        let (once, x) = (Once::new(), RaceCell::new(0));
        one_after_other(
            || {
                once.call_once(|| ());
                x.set(1);
            },
            || {
                once.call_once(|| ());
                let _ = x.get();
            },
        );
    });
}

#[test]
fn poisoned_once_publishes_to_call_once_force() {
    assert_clean(|| {
        let (once, x) = (Once::new(), RaceCell::new(0));
        one_after_other(
            || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    once.call_once(|| {
                        x.set(1);
                        panic!("poison it");
                    })
                }));
                assert!(r.is_err());
            },
            || {
                once.call_once_force(|state| {
                    assert!(state.is_poisoned());
                    assert_eq!(x.get(), 1);
                });
                assert!(once.is_completed());
            },
        );
    });
}

#[test]
fn once_lock_get_or_init_and_set_publish() {
    assert_clean(|| {
        let (a, b) = (OnceLock::new(), OnceLock::new());
        let (x, y) = (RaceCell::new(0), RaceCell::new(0));
        one_after_other(
            || {
                a.get_or_init(|| {
                    x.set(1);
                    1
                });
                y.set(1);
                b.set(2).unwrap();
            },
            || {
                assert_eq!(a.get(), Some(&1));
                assert_eq!(x.get(), 1);
                assert_eq!(b.wait(), &2);
                assert_eq!(y.get(), 1);
            },
        );
    });
}

/// std's `OnceLock` initialises inside `Once::call_once_force`: a panicking
/// initialiser poisons the inner `Once` (a release) and the next one runs
/// after observing that (an acquire), so a retry is ordered after the
/// failed attempt's writes.
#[test]
fn panicking_once_lock_initialiser_is_ordered_before_the_retry() {
    assert_clean(|| {
        let (cell, x) = (OnceLock::new(), RaceCell::new(0));
        one_after_other(
            || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    cell.get_or_init(|| {
                        x.set(1);
                        panic!("first attempt fails")
                    })
                }));
                assert!(r.is_err());
            },
            || assert_eq!(*cell.get_or_init(|| x.get() + 1), 2),
        );
    });
}

/// Twin: a write after the failed attempt returned is not ordered before
/// the retry.
#[test]
fn write_after_a_failed_once_lock_initialiser_races() {
    assert_races(1, || {
        let (cell, x) = (OnceLock::new(), RaceCell::new(0));
        one_after_other(
            || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    cell.get_or_init(|| -> i32 { panic!("first attempt fails") })
                }));
                assert!(r.is_err());
                x.set(1);
            },
            || assert_eq!(*cell.get_or_init(|| x.get() + 1), 2),
        );
    });
}

/// Twin: a write after `set` is not published by it.
#[test]
fn write_after_once_lock_set_races() {
    assert_races(1, || {
        let (cell, x) = (OnceLock::new(), RaceCell::new(0));
        one_after_other(
            || {
                cell.set(1).unwrap();
                x.set(1);
            },
            || {
                assert_eq!(cell.get(), Some(&1));
                let _ = x.get();
            },
        );
    });
}

#[test]
fn once_lock_api_matches_std() {
    let mut c: OnceLock<String> = OnceLock::default();
    assert_eq!(format!("{c:?}"), "OnceLock(<uninit>)");
    assert_eq!(c.set("a".into()), Ok(()));
    assert_eq!(c.set("b".into()), Err("b".into()));
    assert_eq!(format!("{c:?}"), "OnceLock(\"a\")");
    assert_eq!(c.clone(), c);
    c.get_mut().unwrap().push('!');
    assert_eq!(c.take().as_deref(), Some("a!"));
    assert_eq!(c.get(), None);
    assert_eq!(OnceLock::from(3).into_inner(), Some(3));
}

static LAZY_X: LazyLock<RaceCell<u32>> = LazyLock::new(|| RaceCell::new(0));

#[test]
fn lazy_lock_initialiser_is_seen_by_every_user() {
    assert_clean(|| {
        let x = RaceCell::new(0);
        let lazy = LazyLock::new(|| {
            x.set(7);
            7
        });
        one_after_other(
            || assert_eq!(*lazy, 7),
            || {
                assert_eq!(*lazy, 7);
                assert_eq!(x.get(), 7);
            },
        );
    });
}

/// Twin: accesses outside the initialiser are not ordered by `force`.
#[test]
fn write_after_lazy_force_races() {
    assert_races(1, || {
        one_after_other(
            || {
                LazyLock::force(&LAZY_X);
                LAZY_X.set(1);
            },
            || {
                let _ = LAZY_X.get();
            },
        );
    });
}

#[test]
fn lazy_lock_api_and_poisoning_match_std() {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let mut lazy: LazyLock<Vec<u8>> = LazyLock::new(|| {
        CALLS.fetch_add(1, Ordering::Relaxed);
        vec![1]
    });
    assert_eq!(format!("{lazy:?}"), "LazyLock(<uninit>)");
    assert_eq!(LazyLock::get(&lazy), None);
    lazy.push(2);
    assert_eq!(&*lazy, &[1, 2]);
    assert_eq!(LazyLock::get_mut(&mut lazy).map(|v| v.len()), Some(2));
    assert_eq!(CALLS.load(Ordering::Relaxed), 1);
    let d: LazyLock<u8> = LazyLock::default();
    assert_eq!(*d, 0);

    let bad: LazyLock<u8> = LazyLock::new(|| panic!("init failed"));
    let first = std::panic::catch_unwind(|| *bad).unwrap_err();
    assert_eq!(first.downcast_ref::<&str>(), Some(&"init failed"));
    let again = std::panic::catch_unwind(|| *bad).unwrap_err();
    let msg = again.downcast_ref::<String>().map(String::as_str);
    assert_eq!(msg, Some("LazyLock instance has previously been poisoned"));
}

/// A caller that arrives while the initialiser is still running blocks in
/// std and returns after it: it is ordered after the initialiser too. Each
/// initialiser waits until the other caller has been let in (which may or
/// may not be blocked yet; either way it returns only after completion).
#[test]
fn callers_blocked_during_initialisation_are_ordered_after_it() {
    assert_clean(|| {
        let (entered, waiting) = (Gate::new(), Gate::new());
        let hold = || {
            entered.open();
            waiting.wait();
        };
        let let_in = || {
            entered.wait();
            waiting.open();
        };
        let (once, cell) = (Once::new(), OnceLock::new());
        let (x, y, z) = (RaceCell::new(0), RaceCell::new(0), RaceCell::new(0));
        let lazy = LazyLock::new(|| {
            hold();
            z.set(3);
            3
        });
        std::thread::scope(|s| {
            s.spawn(|| {
                once.call_once(|| {
                    hold();
                    x.set(1);
                });
                cell.get_or_init(|| {
                    hold();
                    y.set(2);
                });
                assert_eq!(*lazy, 3);
            });
            let_in();
            once.call_once(|| unreachable!());
            assert_eq!(x.get(), 1);
            let_in();
            cell.wait();
            assert_eq!(y.get(), 2);
            let_in();
            assert_eq!(*lazy, 3);
            assert_eq!(z.get(), 3);
        });
    });
}
