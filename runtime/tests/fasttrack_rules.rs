//! One test per happens-before rule of the engine, on its instance-level
//! types (no process-global runtime): the FastTrack access rules (Flanagan &
//! Freund, PLDI 2009, Fig. 2 names), every atomic ordering and fence case of
//! `atomic.rs`, fork/join, locks and rwlocks (`sync.rs`), and slot reuse
//! (`thread.rs`). Each rule comes as a pair: the ordered case stays clean and
//! its unordered twin is reported.

use std::sync::atomic::Ordering::{self, AcqRel, Acquire, Relaxed, Release, SeqCst};

use racedet_runtime::atomic;
use racedet_runtime::shadow::{Access, AccessKind, History, ShadowWord, VarState};
use racedet_runtime::site::Site;
use racedet_runtime::sync::SyncVar;
use racedet_runtime::thread::{Registry, ThreadId, ThreadState};

use AccessKind::{AtomicLoad, AtomicRmw, AtomicStore, Read, Write};

/// Threads of one detector instance. Threads made by [`World::thread`] are
/// forked from a main thread that makes no accesses, so they are unordered
/// with each other until the test orders them.
struct World {
    reg: Registry,
    main: ThreadState,
}

impl World {
    fn new() -> World {
        let mut reg = Registry::new();
        let main = reg.register_root(Some("main".into()), 0);
        World { reg, main }
    }

    fn thread(&mut self) -> ThreadState {
        let token = self.reg.fork(&mut self.main, Site::UNKNOWN, 0);
        self.reg.start(token, None, 0)
    }

    fn spawn_from(&mut self, parent: &mut ThreadState) -> ThreadState {
        let token = self.reg.fork(parent, Site::UNKNOWN, 0);
        self.reg.start(token, None, 0)
    }

    fn finish(&mut self, t: ThreadState) -> ThreadId {
        let id = t.id;
        self.reg.finish(t);
        id
    }

    fn join(&mut self, joiner: &mut ThreadState, child: ThreadId) {
        assert!(self.reg.join(joiner, child), "join of a finished thread");
    }
}

/// `true` if the access of all 8 bytes of `w` by `t` races.
fn on(w: &ShadowWord, t: &ThreadState, kind: AccessKind) -> bool {
    w.access(&t.accessor(), kind, 0xFF, 8, Site::UNKNOWN)
        .is_some()
}

fn rd(w: &ShadowWord, t: &ThreadState) -> bool {
    on(w, t, Read)
}

fn wr(w: &ShadowWord, t: &ThreadState) -> bool {
    on(w, t, Write)
}

/// `from` releases into a fresh sync var and `to` acquires it: `to` is
/// ordered after everything `from` did so far.
fn sync(from: &mut ThreadState, to: &mut ThreadState) {
    let v = SyncVar::new();
    v.release(from);
    v.acquire(to);
}

/// An atomic location: its release clock and its shadow word, composed as
/// `api::atomic_op` does (acquire half, shadow access, release half).
#[derive(Default)]
struct AtomicLoc {
    var: SyncVar,
    word: ShadowWord,
}

impl AtomicLoc {
    fn op(&self, t: &mut ThreadState, kind: AccessKind, order: Ordering) -> bool {
        self.var.locked(|loc| {
            atomic::before_access(loc, t, kind, order);
            let raced = on(&self.word, t, kind);
            atomic::after_access(loc, t, kind, order);
            raced
        })
    }

    fn load(&self, t: &mut ThreadState, order: Ordering) {
        assert!(
            !self.op(t, AtomicLoad, order),
            "atomics never race with atomics"
        );
    }

    /// A failed compare-exchange: a load with the failure ordering.
    fn cas_failed(&self, t: &mut ThreadState, failure: Ordering) {
        self.load(t, failure);
    }

    fn store(&self, t: &mut ThreadState, order: Ordering) {
        assert!(!self.op(t, AtomicStore, order));
    }

    fn rmw(&self, t: &mut ThreadState, order: Ordering) {
        assert!(!self.op(t, AtomicRmw, order));
    }
}

/// A recorded access of `t`, for rules checked on a bare `VarState`.
fn access_of(t: &ThreadState) -> Access {
    Access {
        site: Site::UNKNOWN,
        clock: t.clock.get(t.slot),
        slot: t.slot,
        size: 8,
        locks: t.accessor().locks,
    }
}

fn apply(s: &mut VarState, t: &ThreadState, kind: AccessKind) -> bool {
    s.access(kind, access_of(t), &t.clock).is_some()
}

fn slots(h: &History) -> Vec<u16> {
    let mut v: Vec<u16> = h.accesses().iter().map(|a| a.slot.0).collect();
    v.sort_unstable();
    v
}

// ---------------------------------------------------------------------------
// FastTrack access rules
// ---------------------------------------------------------------------------

#[test]
fn read_same_epoch() {
    let mut w = World::new();
    let (a, b) = (w.thread(), w.thread());
    let mut s = VarState::default();
    apply(&mut s, &a, Read);
    assert!(!apply(&mut s, &a, Read));
    assert_eq!(slots(&s.read), [a.slot.0], "one entry per epoch, not two");

    let x = ShadowWord::new();
    assert!(!rd(&x, &a));
    assert!(!rd(&x, &a), "a repeated read in the same epoch is clean");
    // Twin: an unordered write between the two reads invalidates the
    // same-epoch shortcut: the repeated read is judged again and races.
    assert!(wr(&x, &b));
    assert!(rd(&x, &a));
}

#[test]
fn read_exclusive() {
    let mut w = World::new();
    let (mut a, mut b, mut c) = (w.thread(), w.thread(), w.thread());
    let mut s = VarState::default();
    apply(&mut s, &a, Read);
    sync(&mut a, &mut b);
    assert!(!apply(&mut s, &b, Read));
    assert!(
        matches!(s.read, History::One(r) if r.slot == b.slot),
        "an ordered read replaces the previous one: {:?}",
        s.read
    );
    // A writer ordered after b is ordered after a too: clean.
    let mut clean = s.clone();
    sync(&mut b, &mut c);
    assert!(!apply(&mut clean, &c, Write));
    // Twin: a writer ordered after a only races with b's read.
    let mut d = w.thread();
    sync(&mut a, &mut d);
    assert!(apply(&mut s, &d, Write));
}

#[test]
fn read_shared_upgrade() {
    let mut w = World::new();
    let (mut a, mut b, mut c, mut d) = (w.thread(), w.thread(), w.thread(), w.thread());
    let mut s = VarState::default();
    apply(&mut s, &a, Read);
    assert!(!apply(&mut s, &b, Read), "reads never race with reads");
    assert_eq!(
        slots(&s.read),
        [a.slot.0, b.slot.0],
        "unordered reads are both kept"
    );
    // A writer ordered after both readers is clean ...
    let mut clean = s.clone();
    sync(&mut a, &mut c);
    sync(&mut b, &mut c);
    assert!(!apply(&mut clean, &c, Write));
    // ... its twin, ordered after a only, races with b's read.
    sync(&mut a, &mut d);
    assert!(apply(&mut s, &d, Write));
}

#[test]
fn read_shared_same_epoch() {
    let mut w = World::new();
    let (mut a, mut b, mut c) = (w.thread(), w.thread(), w.thread());
    let x = ShadowWord::new();
    let mut s = VarState::default();
    for _ in 0..2 {
        // Reads of a and b interleave; each repeats in its own epoch.
        assert!(!rd(&x, &a) && !rd(&x, &b));
        apply(&mut s, &a, Read);
        apply(&mut s, &b, Read);
    }
    assert_eq!(slots(&s.read), [a.slot.0, b.slot.0], "one entry per reader");
    // b reads again in a new epoch, after a release: the entry moves on.
    sync(&mut b, &mut c);
    assert!(!rd(&x, &b));
    apply(&mut s, &b, Read);
    sync(&mut a, &mut c);
    // c saw a's reads and b's *first* epoch only: b's later read races.
    assert!(wr(&x, &c));
    assert!(apply(&mut s, &c, Write));
    // Clean twin: a writer ordered after both epochs of b.
    let mut d = w.thread();
    let mut fresh = VarState::default();
    apply(&mut fresh, &a, Read);
    apply(&mut fresh, &b, Read);
    sync(&mut a, &mut d);
    sync(&mut b, &mut d);
    assert!(!apply(&mut fresh, &d, Write));
}

#[test]
fn write_same_epoch() {
    let mut w = World::new();
    let (a, b) = (w.thread(), w.thread());
    let x = ShadowWord::new();
    assert!(!wr(&x, &a));
    assert!(!wr(&x, &a), "a repeated write in the same epoch is clean");
    assert!(!rd(&x, &a), "so is a read of one's own write");
    let mut s = VarState::default();
    apply(&mut s, &a, Write);
    apply(&mut s, &a, Write);
    assert_eq!(slots(&s.write), [a.slot.0]);
    // Twin: an unordered read in between; a's next write races with it.
    assert!(rd(&x, &b));
    assert!(wr(&x, &a));
}

#[test]
fn write_exclusive() {
    let mut w = World::new();
    let (mut a, mut b, c) = (w.thread(), w.thread(), w.thread());
    let x = ShadowWord::new();
    let mut s = VarState::default();
    assert!(!wr(&x, &a));
    apply(&mut s, &a, Write);
    sync(&mut a, &mut b);
    assert!(!wr(&x, &b), "ordered write after write");
    assert!(!apply(&mut s, &b, Write));
    assert!(matches!(s.write, History::One(e) if e.slot == b.slot));
    // Twin: c is ordered after neither.
    assert!(wr(&x, &c));
}

#[test]
fn write_shared_after_read_shared() {
    let mut w = World::new();
    let (mut a, mut b, mut c, mut d) = (w.thread(), w.thread(), w.thread(), w.thread());
    let (x, y) = (ShadowWord::new(), ShadowWord::new());
    let mut s = VarState::default();
    for word in [&x, &y] {
        assert!(!rd(word, &a) && !rd(word, &b));
    }
    apply(&mut s, &a, Read);
    apply(&mut s, &b, Read);
    sync(&mut a, &mut c);
    sync(&mut b, &mut c);
    assert!(!wr(&x, &c), "a writer ordered after every reader is clean");
    assert!(!apply(&mut s, &c, Write));
    assert!(s.read.is_empty(), "ordered reads are dropped by the write");
    assert!(matches!(s.write, History::One(e) if e.slot == c.slot));
    // Twin: ordered after a only.
    sync(&mut a, &mut d);
    assert!(wr(&y, &d));
}

#[test]
fn write_write_race() {
    let mut w = World::new();
    let (mut a, mut b, c) = (w.thread(), w.thread(), w.thread());
    let (x, y) = (ShadowWord::new(), ShadowWord::new());
    assert!(!wr(&x, &a) && !wr(&y, &a));
    assert!(wr(&x, &c), "unordered writes race");
    sync(&mut a, &mut b);
    assert!(!wr(&y, &b), "ordered writes do not");
}

#[test]
fn read_write_race() {
    let mut w = World::new();
    let (mut a, mut b, c) = (w.thread(), w.thread(), w.thread());
    let (x, y) = (ShadowWord::new(), ShadowWord::new());
    assert!(!rd(&x, &a) && !rd(&y, &a));
    assert!(wr(&x, &c), "a write unordered with an earlier read races");
    sync(&mut a, &mut b);
    assert!(!wr(&y, &b));
}

#[test]
fn write_read_race() {
    let mut w = World::new();
    let (mut a, mut b, c) = (w.thread(), w.thread(), w.thread());
    let (x, y) = (ShadowWord::new(), ShadowWord::new());
    assert!(!wr(&x, &a) && !wr(&y, &a));
    assert!(rd(&x, &c), "a read unordered with an earlier write races");
    sync(&mut a, &mut b);
    assert!(!rd(&y, &b));
}

#[test]
fn byte_granularity() {
    let mut w = World::new();
    let (a, b) = (w.thread(), w.thread());
    let x = ShadowWord::new();
    let acc = |t: &ThreadState, kind, mask, size| {
        x.access(&t.accessor(), kind, mask, size, Site::UNKNOWN)
            .is_some()
    };
    assert!(!acc(&a, Write, 0x0F, 4));
    assert!(
        !acc(&b, Write, 0xF0, 4),
        "disjoint bytes of one word never race"
    );
    assert!(acc(&b, Read, 0x08, 1), "an overlapping byte does");
}

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

// ---------------------------------------------------------------------------
// Threads and locks
// ---------------------------------------------------------------------------

#[test]
fn fork_orders_parent_before_child() {
    let mut w = World::new();
    let mut p = w.thread();
    let (x, y) = (ShadowWord::new(), ShadowWord::new());
    assert!(!wr(&x, &p));
    let child = w.spawn_from(&mut p);
    assert!(!wr(&y, &p), "parent's write after the fork");
    assert!(!rd(&x, &child), "written before the fork");
    assert!(rd(&y, &child), "written after the fork");
}

#[test]
fn join_orders_child_before_joiner() {
    let mut w = World::new();
    let (mut p, other) = (w.thread(), w.thread());
    let child = w.spawn_from(&mut p);
    let (x, y) = (ShadowWord::new(), ShadowWord::new());
    assert!(!wr(&x, &child) && !wr(&y, &child));
    let id = w.finish(child);
    assert!(rd(&y, &other), "a thread that did not join is not ordered");
    w.join(&mut p, id);
    assert!(!wr(&x, &p), "the joiner is");
}

#[test]
fn mutex_orders_critical_sections() {
    let mut w = World::new();
    let (mut a, mut b, c) = (w.thread(), w.thread(), w.thread());
    let (m, x) = (SyncVar::new(), ShadowWord::new());
    m.lock_acquired(&mut a);
    assert!(!wr(&x, &a));
    m.unlock(&mut a);
    m.lock_acquired(&mut b);
    assert!(!wr(&x, &b), "ordered by the lock");
    m.unlock(&mut b);
    assert!(wr(&x, &c), "twin: an unlocked write races");
}

#[test]
fn rwlock_readers_do_not_order_each_other() {
    let mut w = World::new();
    let (mut a, mut b) = (w.thread(), w.thread());
    let (l, x) = (SyncVar::new(), ShadowWord::new());
    l.read_lock_acquired(&mut a);
    assert!(!wr(&x, &a), "a (sloppy) write under a read lock");
    l.read_unlock(&mut a);
    l.read_lock_acquired(&mut b);
    assert!(rd(&x, &b), "another reader is not ordered after it");
    l.read_unlock(&mut b);
}

#[test]
fn rwlock_writer_orders_readers() {
    let mut w = World::new();
    let (mut a, mut b, mut c, mut d) = (w.thread(), w.thread(), w.thread(), w.thread());
    let (l, x) = (SyncVar::new(), ShadowWord::new());
    l.lock_acquired(&mut a);
    assert!(!wr(&x, &a));
    l.unlock(&mut a);
    for r in [&mut b, &mut c] {
        l.read_lock_acquired(r);
        assert!(!rd(&x, r), "readers after the writer");
    }
    l.read_unlock(&mut b);
    l.read_unlock(&mut c);
    l.lock_acquired(&mut d);
    assert!(!wr(&x, &d), "a writer after every reader");
    l.unlock(&mut d);
    // Twin: a writer that skips the lock races with the readers' reads.
    let e = w.thread();
    let y = ShadowWord::new();
    assert!(!rd(&y, &b));
    assert!(wr(&y, &e));
}

// ---------------------------------------------------------------------------
// Slot reuse (thread.rs)
// ---------------------------------------------------------------------------

#[test]
fn slot_reuse_does_not_hide_a_race() {
    let mut w = World::new();
    let mut live = w.thread();
    let mut old = w.thread();
    let (x, y, z) = (ShadowWord::new(), ShadowWord::new(), ShadowWord::new());
    assert!(!wr(&x, &old));
    // `live` hears of `old`'s history up to here.
    sync(&mut old, &mut live);
    let old_slot = old.slot;
    let id = w.finish(old);
    let mut main = std::mem::replace(&mut w.main, w.reg.register_root(None, 0));
    w.join(&mut main, id);
    let reuser = w.spawn_from(&mut main);
    assert_eq!(reuser.slot, old_slot, "the joined thread's slot is reused");
    // The new owner is ordered after the old one ...
    assert!(!wr(&x, &reuser));
    // ... but not after `live`, nor `live` after it, although `live` covers
    // the slot's earlier epochs.
    assert!(!wr(&y, &live));
    assert!(rd(&y, &reuser), "reuser vs live thread");
    assert!(!wr(&z, &reuser));
    assert!(rd(&z, &live), "live thread vs reuser");
}

// ---------------------------------------------------------------------------
// Resets (table.rs)
// ---------------------------------------------------------------------------

#[test]
fn reset_range_forgets_exactly_the_words_it_touches() {
    let mut w = World::new();
    let (a, b) = (w.thread(), w.thread());
    let table = racedet_runtime::shadow::ShadowTable::new();
    let base = 0x7f00_0020_0000usize;
    let acc = |t: &ThreadState, addr: usize, kind| {
        table
            .word(addr)
            .access(&t.accessor(), kind, 0xFF, 8, Site::UNKNOWN)
            .is_some()
    };
    for i in 0..4 {
        assert!(!acc(&a, base + 8 * i, Write));
    }
    // Words 1 and 2 are freed (a range that covers part of each: the
    // caller owns whole words); an empty range frees nothing.
    table.reset_range(base + 12, 6);
    table.reset_range(base + 3, 0);
    assert!(!acc(&b, base + 8, Write), "reset: no history left");
    assert!(!acc(&b, base + 16, Write), "reset: no history left");
    assert!(acc(&b, base, Read), "outside the range: history kept");
    assert!(acc(&b, base + 24, Read), "outside the range: history kept");
}
