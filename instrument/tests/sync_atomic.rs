//! Atomics: release → acquire that reads from it (sequences, fences);
//! relaxed accesses order nothing.

mod sync_util;

use racedet::cell::RaceCell;
use racedet::sync::atomic::{
    AtomicBool, AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicPtr, AtomicU8,
    AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering, compiler_fence, fence,
};
use sync_util::{Gate, assert_clean, assert_races};

use Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};

/// Publishes X through `flag`: the writer stores with `store`, the reader
/// loads with `load` after the store (forced by an uninstrumented gate).
fn publish(store: Ordering, load: Ordering) {
    let (x, flag) = (RaceCell::new(0), AtomicBool::new(false));
    let go = Gate::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            x.set(1);
            flag.store(true, store);
            go.open();
        });
        go.wait();
        assert!(flag.load(load));
        let _ = x.get();
    });
}

#[test]
fn release_acquire_publishes() {
    assert_clean(|| publish(Release, Acquire));
    assert_clean(|| publish(SeqCst, SeqCst));
}

#[test]
fn relaxed_store_does_not_publish() {
    assert_races(1, || publish(Relaxed, Acquire));
}

#[test]
fn relaxed_load_does_not_acquire() {
    assert_races(1, || publish(Release, Relaxed));
}

/// `fence(Release)` + relaxed store, relaxed load + `fence(Acquire)`.
#[test]
fn fences_pair_with_relaxed_accesses() {
    assert_clean(|| {
        let (x, flag) = (RaceCell::new(0), AtomicU32::new(0));
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                fence(Release);
                flag.store(1, Relaxed);
                go.open();
            });
            go.wait();
            assert_eq!(flag.load(Relaxed), 1);
            fence(Acquire);
            assert_eq!(x.get(), 1);
        });
    });
}

/// Twin: the write comes after the release fence, so it is not published.
#[test]
fn write_after_release_fence_races() {
    assert_races(1, || {
        let (x, flag) = (RaceCell::new(0), AtomicU32::new(0));
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                fence(Release);
                x.set(1);
                flag.store(1, Relaxed);
                go.open();
            });
            go.wait();
            assert_eq!(flag.load(Relaxed), 1);
            fence(Acquire);
            let _ = x.get();
        });
    });
}

/// A release store heads a release sequence that a relaxed `fetch_add` by
/// another thread continues: an acquire load reading the RMW's value
/// synchronises with the original store. A plain store in its place ends
/// the sequence.
fn release_sequence(continue_with_rmw: bool) {
    let (x, flag) = (RaceCell::new(0), AtomicUsize::new(0));
    let (stored, bumped) = (Gate::new(), Gate::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            x.set(1);
            flag.store(1, Release);
            stored.open();
        });
        s.spawn(|| {
            stored.wait();
            if continue_with_rmw {
                flag.fetch_add(1, Relaxed);
            } else {
                flag.store(2, Relaxed);
            }
            bumped.open();
        });
        bumped.wait();
        assert_eq!(flag.load(Acquire), 2);
        let _ = x.get();
    });
}

#[test]
fn fetch_add_continues_the_release_sequence() {
    assert_clean(|| release_sequence(true));
}

#[test]
fn relaxed_store_breaks_the_release_sequence() {
    assert_races(1, || release_sequence(false));
}

/// A failed compare-exchange is a load with the failure ordering: Relaxed
/// does not acquire, Acquire does.
fn failed_cas(failure: Ordering) {
    let (x, flag) = (RaceCell::new(0), AtomicI32::new(0));
    let go = Gate::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            x.set(1);
            flag.store(1, Release);
            go.open();
        });
        go.wait();
        assert_eq!(flag.compare_exchange(0, 5, AcqRel, failure), Err(1));
        let _ = x.get();
    });
}

#[test]
fn failed_cas_with_acquire_failure_ordering_acquires() {
    assert_clean(|| failed_cas(Acquire));
}

#[test]
fn failed_cas_with_relaxed_failure_ordering_does_not() {
    assert_races(1, || failed_cas(Relaxed));
}

/// A successful CAS and `fetch_update` acquire what they read.
#[test]
fn successful_rmw_acquires() {
    assert_clean(|| {
        let (x, y, flag) = (RaceCell::new(0), RaceCell::new(0), AtomicI64::new(0));
        let (one, two) = (Gate::new(), Gate::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                flag.store(1, Release);
                one.open();
                two.wait();
            });
            one.wait();
            assert_eq!(flag.compare_exchange(1, 2, AcqRel, Relaxed), Ok(1));
            assert_eq!(x.get(), 1);
            y.set(1);
            two.open();
        });
        assert_eq!(flag.fetch_update(SeqCst, SeqCst, |v| Some(v + 1)), Ok(2));
        assert_eq!(y.get(), 1);
    });
}

#[test]
fn invalid_orderings_panic_like_std_and_leave_the_atomic_usable() {
    // Detection on: the panics must happen outside the clock's lock.
    racedet::check(|| {
        let a = AtomicU8::new(1);
        // Through `black_box`: std's lint rejects a literal invalid ordering.
        let (release, acq_rel) = std::hint::black_box((Release, AcqRel));
        let e = std::panic::catch_unwind(|| a.load(release)).unwrap_err();
        let std_e = std::panic::catch_unwind(|| std::sync::atomic::AtomicU8::new(1).load(release))
            .unwrap_err();
        assert_eq!(e.downcast_ref::<&str>(), std_e.downcast_ref::<&str>());
        assert!(std::panic::catch_unwind(|| a.store(2, Acquire)).is_err());
        assert!(std::panic::catch_unwind(|| a.compare_exchange(1, 2, SeqCst, acq_rel)).is_err());
        a.store(3, SeqCst);
        assert_eq!(a.load(SeqCst), 3);
    })
    .unwrap();
}

/// The same operation on racedet's and std's atomic gives the same result.
macro_rules! same {
    ($a:ident, $s:ident, $op:ident($($arg:expr),*)) => {
        assert_eq!($a.$op($($arg),*), $s.$op($($arg),*), stringify!($op));
    };
}

macro_rules! int_api {
    ($($t:ident $std:ident),*) => {$({
        let a = $t::new(5);
        let s = std::sync::atomic::$std::new(5);
        same!(a, s, fetch_add(3, SeqCst));
        same!(a, s, fetch_sub(1, AcqRel));
        same!(a, s, fetch_and(6, Release));
        same!(a, s, fetch_nand(3, Relaxed));
        same!(a, s, fetch_or(8, Acquire));
        same!(a, s, fetch_xor(5, SeqCst));
        same!(a, s, fetch_max(100, SeqCst));
        same!(a, s, fetch_min(7, SeqCst));
        same!(a, s, swap(9, SeqCst));
        same!(a, s, compare_exchange(9, 1, SeqCst, Relaxed));
        same!(a, s, compare_exchange(9, 1, SeqCst, Relaxed));
        same!(a, s, fetch_update(SeqCst, Acquire, |v| Some(v + 1)));
        same!(a, s, try_update(SeqCst, Acquire, |_| None));
        same!(a, s, update(SeqCst, Acquire, |v| v + 1));
        same!(a, s, load(SeqCst));
        let mut w = a.compare_exchange_weak(3, 4, SeqCst, SeqCst);
        while let Err(3) = w {
            w = a.compare_exchange_weak(3, 4, SeqCst, SeqCst);
        }
        assert_eq!(format!("{a:?}"), format!("{:?}", a.load(Relaxed)));
        let mut m = $t::from(1);
        *m.get_mut() += 1;
        assert_eq!(unsafe { *m.as_ptr() }, 2);
        assert_eq!(m.into_inner(), 2);
        assert_eq!($t::default().load(Relaxed), 0);
        static S: $t = $t::new(0);
        S.fetch_add(1, Relaxed);
    })*};
}

#[test]
fn integer_api_matches_std() {
    int_api!(
        AtomicU8 AtomicU8, AtomicU16 AtomicU16, AtomicU32 AtomicU32, AtomicU64 AtomicU64,
        AtomicUsize AtomicUsize, AtomicI8 AtomicI8, AtomicI16 AtomicI16, AtomicI32 AtomicI32,
        AtomicI64 AtomicI64, AtomicIsize AtomicIsize
    );
}

#[test]
fn bool_and_ptr_api_match_std() {
    let b = AtomicBool::default();
    assert!(!b.fetch_or(true, SeqCst));
    assert!(b.fetch_and(true, SeqCst));
    assert!(b.fetch_xor(true, SeqCst));
    assert!(!b.fetch_nand(true, SeqCst));
    assert!(b.fetch_not(SeqCst));
    assert!(!b.load(SeqCst));
    assert_eq!(format!("{b:?}"), "false");

    let mut arr = [1u32, 2, 3];
    let p = AtomicPtr::new(arr.as_mut_ptr());
    let base = p.fetch_ptr_add(2, AcqRel);
    assert_eq!(unsafe { *p.load(Acquire) }, 3);
    p.fetch_byte_sub(4, AcqRel);
    assert_eq!(p.fetch_ptr_sub(1, AcqRel), base.wrapping_add(1));
    assert_eq!(p.swap(std::ptr::null_mut(), SeqCst), base);
    assert!(AtomicPtr::<u8>::default().load(Relaxed).is_null());
    assert_eq!(format!("{:p}", AtomicPtr::new(base)), format!("{base:p}"));
    compiler_fence(SeqCst);
    fn send_sync<T: Send + Sync + std::panic::RefUnwindSafe>() {}
    send_sync::<AtomicPtr<std::cell::Cell<u8>>>();
    send_sync::<AtomicBool>();
}

/// C++20 dropped same-thread stores from release sequences: a Relaxed store
/// by the thread that made the release store ends the sequence too, so an
/// acquire load reading it does not synchronise with the release store.
#[test]
fn same_thread_relaxed_store_breaks_the_release_sequence() {
    assert_races(1, || {
        let (x, flag) = (RaceCell::new(0), AtomicUsize::new(0));
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                flag.store(1, Release);
                flag.store(2, Relaxed);
                go.open();
            });
            go.wait();
            assert_eq!(flag.load(Acquire), 2);
            let _ = x.get();
        });
    });
}

/// `fence(Release)` before a relaxed RMW publishes like a release RMW; an
/// AcqRel RMW in the middle of a chain passes on both its own and what it
/// acquired.
#[test]
fn release_fence_with_rmw_and_acq_rel_chains_publish() {
    assert_clean(|| {
        let (x, y, flag) = (RaceCell::new(0), RaceCell::new(0), AtomicUsize::new(0));
        let (first, second) = (Gate::new(), Gate::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                fence(Release);
                flag.fetch_add(1, Relaxed);
                first.open();
            });
            s.spawn(|| {
                first.wait();
                y.set(1);
                assert_eq!(flag.fetch_add(1, AcqRel), 1);
                second.open();
            });
            second.wait();
            assert_eq!(flag.load(Acquire), 2);
            assert_eq!(x.get() + y.get(), 2);
        });
    });
}

/// Twin: a relaxed RMW without the fence publishes nothing of its own (it
/// only continues a release sequence, and here there is none).
#[test]
fn relaxed_rmw_without_a_fence_does_not_publish() {
    assert_races(1, || {
        let (x, flag) = (RaceCell::new(0), AtomicUsize::new(0));
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                flag.fetch_add(1, Relaxed);
                go.open();
            });
            go.wait();
            assert_eq!(flag.load(Acquire), 1);
            let _ = x.get();
        });
    });
}

/// `fence(Acquire)` takes what every earlier relaxed load read, not only the
/// last one; a relaxed load after the fence is not covered by it.
#[test]
fn acquire_fence_covers_earlier_relaxed_loads_only() {
    let run = |load_before_fence: bool| {
        let (x, a, b) = (
            RaceCell::new(0),
            AtomicBool::new(false),
            AtomicBool::new(false),
        );
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                a.store(true, Release);
                b.store(true, Release);
                go.open();
            });
            go.wait();
            if load_before_fence {
                assert!(a.load(Relaxed));
                assert!(b.load(Relaxed));
                fence(Acquire);
            } else {
                fence(Acquire);
                assert!(a.load(Relaxed));
                assert!(b.load(Relaxed));
            }
            let _ = x.get();
        });
    };
    assert_clean(|| run(true));
    assert_races(1, || run(false));
}

/// std's `Debug` for an atomic (and `Pointer` for `AtomicPtr`) is a Relaxed
/// load, which a later `fence(Acquire)` turns into a synchronising read
/// like any other.
#[derive(Clone, Copy)]
enum Format {
    Nothing,
    Debug,
    Pointer,
}

fn formatting_then_acquire_fence(format: Format) {
    let (x, flag) = (RaceCell::new(0), AtomicBool::new(false));
    let mut y = 0u8;
    let p = AtomicPtr::new(std::ptr::null_mut::<u8>());
    let go = Gate::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            x.set(1);
            flag.store(true, Release);
            p.store(&raw mut y, Release);
            go.open();
        });
        go.wait();
        match format {
            Format::Nothing => {}
            Format::Debug => assert_eq!(format!("{flag:?}"), "true"),
            Format::Pointer => {
                assert_ne!(format!("{p:p}"), format!("{:p}", std::ptr::null::<u8>()))
            }
        }
        fence(Acquire);
        let _ = x.get();
    });
}

#[test]
fn formatting_an_atomic_is_a_relaxed_load() {
    assert_clean(|| formatting_then_acquire_fence(Format::Debug));
    assert_clean(|| formatting_then_acquire_fence(Format::Pointer));
    assert_races(1, || formatting_then_acquire_fence(Format::Nothing));
}
