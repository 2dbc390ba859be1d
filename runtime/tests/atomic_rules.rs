//! One test per atomic ordering and fence case of `atomic.rs` (the C++20
//! model as far as happens-before goes), on the engine's instance-level
//! types. Each case comes as a pair: the edge-creating case stays clean and
//! its twin without the edge is reported.

mod rules;

use std::sync::atomic::Ordering::{self, AcqRel, Acquire, Relaxed, Release, SeqCst};

use racedet_runtime::atomic;
use racedet_runtime::shadow::{AccessKind, ShadowWord};
use racedet_runtime::thread::ThreadState;
use rules::*;

use AccessKind::{AtomicLoad, AtomicRmw, AtomicStore};

// ---------------------------------------------------------------------------
// Atomics and fences (atomic.rs)
// ---------------------------------------------------------------------------

/// Message passing: `a` writes data, then `publish`; `b` does `observe`,
/// then reads the data. Returns whether b's read races.
fn message(
    publish: impl FnOnce(&AtomicLoc, &mut ThreadState),
    observe: impl FnOnce(&AtomicLoc, &mut ThreadState),
) -> bool {
    let mut w = World::new();
    let (mut a, mut b) = (w.thread(), w.thread());
    let (data, flag) = (ShadowWord::new(), AtomicLoc::default());
    assert!(!wr(&data, &a));
    publish(&flag, &mut a);
    observe(&flag, &mut b);
    rd(&data, &b)
}

#[test]
fn relaxed_creates_no_edge() {
    assert!(message(
        |f, a| f.store(a, Relaxed),
        |f, b| f.load(b, Relaxed)
    ));
    assert!(message(
        |f, a| f.store(a, Release),
        |f, b| f.load(b, Relaxed)
    ));
    assert!(message(
        |f, a| f.store(a, Relaxed),
        |f, b| f.load(b, Acquire)
    ));
    assert!(message(|f, a| f.rmw(a, Relaxed), |f, b| f.rmw(b, Relaxed)));
}

#[test]
fn release_acquire_edge() {
    assert!(!message(
        |f, a| f.store(a, Release),
        |f, b| f.load(b, Acquire)
    ));
    assert!(!message(|f, a| f.rmw(a, Release), |f, b| f.rmw(b, Acquire)));
    // Twin: the data written after the release store is not published.
    let mut w = World::new();
    let (mut a, mut b) = (w.thread(), w.thread());
    let (data, flag) = (ShadowWord::new(), AtomicLoc::default());
    flag.store(&mut a, Release);
    assert!(!wr(&data, &a));
    flag.load(&mut b, Acquire);
    assert!(rd(&data, &b));
}

#[test]
fn acqrel_rmw_both_acquires_and_releases() {
    // a publishes x; b's AcqRel RMW acquires it and publishes y; c acquires
    // both through b's RMW.
    let run = |b_order: Ordering| {
        let mut w = World::new();
        let (mut a, mut b, mut c) = (w.thread(), w.thread(), w.thread());
        let (x, y, flag) = (ShadowWord::new(), ShadowWord::new(), AtomicLoc::default());
        assert!(!wr(&x, &a));
        flag.store(&mut a, Release);
        assert!(!wr(&y, &b));
        flag.rmw(&mut b, b_order);
        flag.load(&mut c, Acquire);
        (rd(&x, &c), rd(&y, &c))
    };
    assert_eq!(run(AcqRel), (false, false));
    assert_eq!(run(SeqCst), (false, false));
    // An Acquire-only RMW still continues a's release sequence but does not
    // publish b's own write.
    assert_eq!(run(Acquire), (false, true));
    // A Release-only RMW publishes b's write and continues a's sequence.
    assert_eq!(run(Release), (false, false));
    assert_eq!(run(Relaxed), (false, true));
}

#[test]
fn acqrel_rmw_reads_what_it_acquires() {
    // b reads x after an AcqRel RMW that read a's release: clean; after a
    // Release-only RMW it acquired nothing: race.
    let run = |order: Ordering| {
        let mut w = World::new();
        let (mut a, mut b) = (w.thread(), w.thread());
        let (x, flag) = (ShadowWord::new(), AtomicLoc::default());
        assert!(!wr(&x, &a));
        flag.store(&mut a, Release);
        flag.rmw(&mut b, order);
        rd(&x, &b)
    };
    assert!(!run(AcqRel));
    assert!(run(Release));
}

#[test]
fn seqcst_is_acquire_and_release() {
    assert!(!message(
        |f, a| f.store(a, SeqCst),
        |f, b| f.load(b, SeqCst)
    ));
    assert!(!message(|f, a| f.rmw(a, SeqCst), |f, b| f.load(b, SeqCst)));
    // SeqCst adds no edge between a relaxed store and a SeqCst load.
    assert!(message(
        |f, a| f.store(a, Relaxed),
        |f, b| f.load(b, SeqCst)
    ));
    // SeqCst fences are both halves of a fence.
    assert!(!message(
        |f, a| {
            atomic::fence(a, SeqCst);
            f.store(a, Relaxed)
        },
        |f, b| {
            f.load(b, Relaxed);
            atomic::fence(b, SeqCst)
        },
    ));
}

#[test]
fn release_sequence_continued_by_relaxed_rmw_of_another_thread() {
    let run = |middle: AccessKind| {
        let mut w = World::new();
        let (mut a, mut m, mut b) = (w.thread(), w.thread(), w.thread());
        let (x, flag) = (ShadowWord::new(), AtomicLoc::default());
        assert!(!wr(&x, &a));
        flag.store(&mut a, Release);
        // Another thread modifies the flag with a Relaxed operation; b then
        // reads the value m wrote.
        assert!(!flag.op(&mut m, middle, Relaxed));
        flag.load(&mut b, Acquire);
        rd(&x, &b)
    };
    assert!(!run(AtomicRmw), "an RMW continues a's release sequence");
    assert!(run(AtomicStore), "a plain store ends it");
}

#[test]
fn release_sequence_cut_by_relaxed_store() {
    // The same thread's later relaxed store also ends the sequence (C++20).
    let mut w = World::new();
    let (mut a, mut b) = (w.thread(), w.thread());
    let (x, flag) = (ShadowWord::new(), AtomicLoc::default());
    assert!(!wr(&x, &a));
    flag.store(&mut a, Release);
    flag.store(&mut a, Relaxed);
    flag.load(&mut b, Acquire);
    assert!(rd(&x, &b));
    // Clean twin: a Release store after the relaxed one publishes again.
    flag.store(&mut a, Release);
    let mut c = w.thread();
    flag.load(&mut c, Acquire);
    assert!(!rd(&x, &c));
}

#[test]
fn fence_release_to_fence_acquire() {
    let fenced = |fa: bool, fb: bool| {
        message(
            |f, a| {
                if fa {
                    atomic::fence(a, Release);
                }
                f.store(a, Relaxed)
            },
            |f, b| {
                f.load(b, Relaxed);
                if fb {
                    atomic::fence(b, Acquire);
                }
            },
        )
    };
    assert!(
        !fenced(true, true),
        "fence(Release); store ~> load; fence(Acquire)"
    );
    assert!(fenced(false, true), "no release fence: no edge");
    assert!(fenced(true, false), "no acquire fence: no edge");
    // AcqRel fences do both halves.
    assert!(!message(
        |f, a| {
            atomic::fence(a, AcqRel);
            f.store(a, Relaxed)
        },
        |f, b| {
            f.load(b, Relaxed);
            atomic::fence(b, AcqRel)
        },
    ));
}

#[test]
fn fence_release_publishes_only_what_precedes_it() {
    let mut w = World::new();
    let (mut a, mut b) = (w.thread(), w.thread());
    let (x, y, flag) = (ShadowWord::new(), ShadowWord::new(), AtomicLoc::default());
    assert!(!wr(&x, &a));
    atomic::fence(&mut a, Release);
    assert!(!wr(&y, &a));
    flag.store(&mut a, Relaxed);
    flag.load(&mut b, Relaxed);
    atomic::fence(&mut b, Acquire);
    assert!(!rd(&x, &b), "written before the fence");
    assert!(rd(&y, &b), "written after the fence");
}

#[test]
fn fence_release_then_relaxed_store_to_acquire_load() {
    assert!(!message(
        |f, a| {
            atomic::fence(a, Release);
            f.store(a, Relaxed)
        },
        |f, b| f.load(b, Acquire),
    ));
    // And a relaxed RMW after the fence publishes it too.
    assert!(!message(
        |f, a| {
            atomic::fence(a, Release);
            f.rmw(a, Relaxed)
        },
        |f, b| f.load(b, Acquire),
    ));
}

#[test]
fn release_store_to_relaxed_load_then_fence_acquire() {
    assert!(!message(
        |f, a| f.store(a, Release),
        |f, b| {
            f.load(b, Relaxed);
            atomic::fence(b, Acquire)
        },
    ));
}

#[test]
fn relaxed_load_without_fence_has_no_edge() {
    assert!(message(
        |f, a| f.store(a, Release),
        |f, b| f.load(b, Relaxed)
    ));
    // The fence must come after the load: one before it takes nothing.
    assert!(message(
        |f, a| f.store(a, Release),
        |f, b| {
            atomic::fence(b, Acquire);
            f.load(b, Relaxed)
        },
    ));
}

#[test]
fn failed_cas_is_a_load_with_the_failure_ordering() {
    assert!(!message(
        |f, a| f.store(a, Release),
        |f, b| f.cas_failed(b, Acquire)
    ));
    assert!(message(
        |f, a| f.store(a, Release),
        |f, b| f.cas_failed(b, Relaxed)
    ));
    // A failed CAS publishes nothing: it is not a store.
    let mut w = World::new();
    let (mut a, mut b, mut c) = (w.thread(), w.thread(), w.thread());
    let (x, flag) = (ShadowWord::new(), AtomicLoc::default());
    assert!(!wr(&x, &b));
    flag.cas_failed(&mut b, SeqCst);
    flag.store(&mut a, Relaxed);
    flag.load(&mut c, Acquire);
    assert!(rd(&x, &c));
}

#[test]
fn plain_access_before_release_store_does_not_race_with_acquiring_atomic() {
    // The acquire ends at the atomic access itself: a's plain write of the
    // location happens-before b's acquire load and acquire RMW of it.
    for kind in [AtomicLoad, AtomicRmw] {
        let mut w = World::new();
        let (mut a, mut b) = (w.thread(), w.thread());
        let flag = AtomicLoc::default();
        assert!(!wr(&flag.word, &a));
        flag.store(&mut a, Release);
        assert!(!flag.op(&mut b, kind, Acquire), "{kind:?}");
        // Twin: a relaxed observer is not ordered after the plain write.
        let mut c = w.thread();
        assert!(flag.op(&mut c, kind, Relaxed), "{kind:?}");
    }
}

#[test]
fn plain_accesses_race_with_atomics() {
    let mut w = World::new();
    let (mut a, b, mut c) = (w.thread(), w.thread(), w.thread());
    let flag = AtomicLoc::default();
    flag.store(&mut a, Relaxed);
    assert!(rd(&flag.word, &b), "plain read vs atomic store");
    let flag2 = AtomicLoc::default();
    assert!(!rd(&flag2.word, &b));
    assert!(
        !flag2.op(&mut c, AtomicLoad, Relaxed),
        "atomic load vs plain read: no race"
    );
    assert!(
        flag2.op(&mut c, AtomicStore, Relaxed),
        "atomic store vs plain read"
    );
}
