//! One test per happens-before rule of the engine, on its instance-level
//! types (no process-global runtime): the FastTrack access rules (Flanagan &
//! Freund, PLDI 2009, Fig. 2 names), fork/join, locks and rwlocks
//! (`sync.rs`), slot reuse (`thread.rs`) and resets (`table.rs`); atomics
//! and fences are in `atomic_rules.rs`. Each rule comes as a pair: the
//! ordered case stays clean and its unordered twin is reported.

mod rules;

use racedet_runtime::shadow::{AccessKind, ShadowWord, VarState};
use racedet_runtime::site::Site;
use racedet_runtime::sync::SyncVar;
use racedet_runtime::thread::ThreadState;
use rules::*;

use AccessKind::{Read, Write};

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
        s.read.one().is_some_and(|r| r.slot == b.slot),
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
    assert!(s.write.one().is_some_and(|e| e.slot == b.slot));
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
    assert!(s.write.one().is_some_and(|e| e.slot == c.slot));
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
// Lock shortcuts (sync.rs): a lock's clock remembers the thread clock version
// it was last published from, and a republish from the same version writes
// only the publisher's own entry. Each shortcut keeps its edge and adds none.
// ---------------------------------------------------------------------------

#[test]
fn relock_by_the_last_releaser_still_publishes_its_new_epoch() {
    let mut w = World::new();
    let (mut a, mut b) = (w.thread(), w.thread());
    let (m, x, y) = (SyncVar::new(), ShadowWord::new(), ShadowWord::new());
    m.lock_acquired(&mut a);
    m.unlock(&mut a);
    m.lock_acquired(&mut a);
    assert!(!wr(&x, &a));
    m.unlock(&mut a); // only `a`'s own entry changes
    assert!(!wr(&y, &a), "after the unlock");
    m.lock_acquired(&mut b);
    assert!(!wr(&x, &b), "the second critical section is published");
    assert!(rd(&y, &b), "what followed the unlock is not");
    m.unlock(&mut b);
}

#[test]
fn unlock_after_acquiring_elsewhere_publishes_what_was_acquired() {
    let mut w = World::new();
    let (mut a, mut b, mut c) = (w.thread(), w.thread(), w.thread());
    let (m, n) = (SyncVar::new(), SyncVar::new());
    let (x, z) = (ShadowWord::new(), ShadowWord::new());
    m.lock_acquired(&mut a);
    m.unlock(&mut a);
    assert!(!wr(&x, &c));
    n.lock_acquired(&mut c);
    n.unlock(&mut c);
    assert!(!wr(&z, &c), "after c's unlock");
    n.lock_acquired(&mut a); // `a` learns of c's write
    n.unlock(&mut a);
    m.lock_acquired(&mut a);
    m.unlock(&mut a); // must publish c's entry too
    m.lock_acquired(&mut b);
    assert!(!wr(&x, &b), "c -> n -> a -> m -> b");
    assert!(rd(&z, &b), "c's later write is not ordered");
}

#[test]
fn new_owner_of_a_reused_slot_publishes_its_whole_clock() {
    let mut w = World::new();
    let mut early = w.thread();
    let mut old = w.thread();
    let (m, x, y) = (SyncVar::new(), ShadowWord::new(), ShadowWord::new());
    m.lock_acquired(&mut old);
    m.unlock(&mut old);
    let old_slot = old.slot;
    let id = w.finish(old);
    let mut main = std::mem::replace(&mut w.main, w.reg.register_root(None, 0));
    w.join(&mut main, id);
    assert!(!wr(&x, &main));
    let mut reuser = w.spawn_from(&mut main);
    assert_eq!(reuser.slot, old_slot, "the joined thread's slot is reused");
    assert!(!wr(&y, &main), "after the fork");
    // Same slot, and neither thread acquired anything new: only the thread
    // identity tells that `m` holds the old owner's clock, not this one's.
    m.lock_acquired(&mut reuser);
    m.unlock(&mut reuser);
    m.lock_acquired(&mut early);
    assert!(!wr(&x, &early), "main -> fork -> reuser -> m -> early");
    assert!(rd(&y, &early), "main's write after the fork is not ordered");
}

#[test]
fn read_unlock_again_publishes_the_new_epoch_to_writers() {
    let mut w = World::new();
    let (mut a, mut b) = (w.thread(), w.thread());
    let (l, x, y) = (SyncVar::new(), ShadowWord::new(), ShadowWord::new());
    l.read_lock_acquired(&mut a);
    l.read_unlock(&mut a);
    l.read_lock_acquired(&mut a);
    assert!(!rd(&x, &a));
    l.read_unlock(&mut a); // only `a`'s own entry changes
    assert!(!rd(&y, &a), "after the read unlock");
    l.lock_acquired(&mut b);
    assert!(!wr(&x, &b), "the writer is after the second read section");
    assert!(wr(&y, &b), "not after what followed it");
    l.unlock(&mut b);
}

#[test]
fn read_unlock_after_acquiring_elsewhere_publishes_what_was_acquired() {
    let mut w = World::new();
    let (mut a, mut b, mut c) = (w.thread(), w.thread(), w.thread());
    let (l, n) = (SyncVar::new(), SyncVar::new());
    let (x, z) = (ShadowWord::new(), ShadowWord::new());
    l.read_lock_acquired(&mut a);
    l.read_unlock(&mut a);
    assert!(!wr(&x, &c));
    n.lock_acquired(&mut c);
    n.unlock(&mut c);
    assert!(!wr(&z, &c), "after c's unlock");
    n.lock_acquired(&mut a);
    n.unlock(&mut a);
    l.read_lock_acquired(&mut a);
    l.read_unlock(&mut a); // must publish c's entry too
    l.lock_acquired(&mut b);
    assert!(!wr(&x, &b), "c -> n -> a -> l -> b");
    assert!(rd(&z, &b), "c's later write is not ordered");
}

#[test]
fn writer_skips_joining_only_its_own_read_unlocks() {
    let mut w = World::new();
    let (mut a, mut b, mut c) = (w.thread(), w.thread(), w.thread());
    let (l, x, y) = (SyncVar::new(), ShadowWord::new(), ShadowWord::new());
    // Another reader's unlock must reach the writer ...
    l.read_lock_acquired(&mut a);
    l.read_unlock(&mut a);
    l.read_lock_acquired(&mut b);
    assert!(!rd(&x, &b));
    l.read_unlock(&mut b);
    l.lock_acquired(&mut a);
    assert!(!wr(&x, &a), "b's read section is before a's write lock");
    l.unlock(&mut a);
    // ... and a writer's own read section reaches the next writer through
    // the writer's unlock; a section after that unlock does not.
    l.read_lock_acquired(&mut a);
    assert!(!rd(&y, &a));
    l.read_unlock(&mut a);
    l.lock_acquired(&mut a);
    l.unlock(&mut a);
    assert!(!wr(&x, &a), "after a's unlock");
    l.lock_acquired(&mut c);
    assert!(!wr(&y, &c), "a's read section, through a's write section");
    assert!(rd(&x, &c), "a's write after its unlock is not ordered");
    l.unlock(&mut c);
}

#[test]
fn read_lock_by_the_last_writer_adds_no_edge_from_readers() {
    let mut w = World::new();
    let (mut a, mut b) = (w.thread(), w.thread());
    let (l, x) = (SyncVar::new(), ShadowWord::new());
    l.lock_acquired(&mut a);
    l.unlock(&mut a);
    l.read_lock_acquired(&mut b);
    assert!(!wr(&x, &b), "a (sloppy) write under a read lock");
    l.read_unlock(&mut b);
    l.read_lock_acquired(&mut a); // skips the join: a stored the clock
    assert!(rd(&x, &a), "readers do not order each other");
    l.read_unlock(&mut a);
}

#[test]
fn lock_free_read_lock_acquires_the_writer_only() {
    let mut w = World::new();
    let (mut a, mut b, mut c) = (w.thread(), w.thread(), w.thread());
    let (l, x, y) = (SyncVar::new(), ShadowWord::new(), ShadowWord::new());
    // The threads take turns on this one OS thread, so each call below runs
    // as if under the matching side of a real lock.
    // SAFETY: nothing else touches `l` until the matching unlock.
    unsafe { l.lock_acquired_exclusive(&mut a) };
    assert!(!wr(&x, &a));
    // SAFETY: as above, before the (modelled) real unlock.
    unsafe { l.unlock_exclusive(&mut a) };
    // SAFETY: only readers use `l` until every read unlock below.
    unsafe { l.read_lock_acquired_shared(&mut b) };
    assert!(!rd(&x, &b), "the reader is after the writer");
    assert!(!wr(&y, &b), "a (sloppy) write under a read lock");
    l.read_unlock(&mut b);
    // SAFETY: as above.
    unsafe { l.read_lock_acquired_shared(&mut c) };
    assert!(!rd(&x, &c), "so is a second reader");
    assert!(rd(&y, &c), "which is not after the first");
    l.read_unlock(&mut c);
    // SAFETY: as above; `a` stored L, so this skips the join.
    unsafe { l.read_lock_acquired_shared(&mut a) };
    assert!(rd(&y, &a), "nor is the last writer, reading again");
    l.read_unlock(&mut a);
}

/// The read side of `l` as racedet's `RwLock` drives it: lock-free read
/// lock and read unlock. The threads take turns on this one OS thread, so
/// each call runs as if under the matching side of a real lock.
fn read_section(l: &SyncVar, t: &mut ThreadState, body: impl FnOnce(&mut ThreadState)) {
    // SAFETY: only readers use `l` until the matching unlock below.
    let held = unsafe { l.read_lock_acquired_shared(t) };
    body(t);
    // SAFETY: as above, before the (modelled) real unlock.
    unsafe { l.read_unlock_shared(held, t) };
}

/// The write side of `l`, as racedet's `RwLock` drives it.
fn write_section(l: &SyncVar, t: &mut ThreadState, body: impl FnOnce(&mut ThreadState)) {
    // SAFETY: nothing else touches `l` until the matching unlock.
    unsafe { l.lock_acquired_exclusive(t) };
    body(t);
    // SAFETY: as above.
    unsafe { l.write_unlock_exclusive(t) };
}

#[test]
fn lock_free_read_unlock_publishes_the_new_epoch_to_writers() {
    let mut w = World::new();
    let (mut a, mut b) = (w.thread(), w.thread());
    let (l, x, y) = (SyncVar::new(), ShadowWord::new(), ShadowWord::new());
    read_section(&l, &mut a, |_| {}); // claims a's entry
    read_section(&l, &mut a, |a| assert!(!rd(&x, a))); // own time only
    read_section(&l, &mut a, |a| assert!(!rd(&x, a)));
    assert!(!rd(&y, &a), "after the read unlock");
    write_section(&l, &mut b, |b| {
        assert!(!wr(&x, b), "the writer is after the last read section");
        assert!(wr(&y, b), "not after what followed it");
    });
}

#[test]
fn lock_free_read_unlocks_of_several_readers_all_reach_the_writer() {
    let mut w = World::new();
    let (mut a, mut b, mut c) = (w.thread(), w.thread(), w.thread());
    let (l, x, y, z) = (
        SyncVar::new(),
        ShadowWord::new(),
        ShadowWord::new(),
        ShadowWord::new(),
    );
    read_section(&l, &mut a, |_| {});
    read_section(&l, &mut b, |_| {});
    read_section(&l, &mut a, |a| assert!(!rd(&x, a)));
    read_section(&l, &mut b, |b| assert!(!rd(&y, b)));
    assert!(!rd(&z, &b), "after b's read unlock");
    write_section(&l, &mut c, |c| {
        assert!(!wr(&x, c), "a's lock-free read unlock reaches the writer");
        assert!(!wr(&y, c), "so does b's");
        assert!(wr(&z, c), "not what b did after it");
    });
}

#[test]
fn lock_free_read_unlock_after_acquiring_elsewhere_publishes_what_was_acquired() {
    let mut w = World::new();
    let (mut a, mut b, mut c) = (w.thread(), w.thread(), w.thread());
    let (l, n) = (SyncVar::new(), SyncVar::new());
    let (x, z) = (ShadowWord::new(), ShadowWord::new());
    read_section(&l, &mut a, |_| {});
    assert!(!wr(&x, &c));
    n.lock_acquired(&mut c);
    n.unlock(&mut c);
    assert!(!wr(&z, &c), "after c's unlock");
    n.lock_acquired(&mut a);
    n.unlock(&mut a);
    read_section(&l, &mut a, |_| {}); // a's version changed: the whole clock
    write_section(&l, &mut b, |b| {
        assert!(!wr(&x, b), "c -> n -> a -> l -> b");
        assert!(rd(&z, b), "c's later write is not ordered");
    });
}

#[test]
fn a_writer_takes_the_lock_free_entries_and_they_stay_joined() {
    let mut w = World::new();
    let (mut a, mut b, mut c) = (w.thread(), w.thread(), w.thread());
    let (l, x, y) = (SyncVar::new(), ShadowWord::new(), ShadowWord::new());
    read_section(&l, &mut a, |_| {});
    read_section(&l, &mut a, |_| {});
    // `a` writes: it is the only reader so far, so it joins nothing; its
    // entry is unclaimed but stays joined (a learnt nothing new).
    write_section(&l, &mut a, |_| {});
    read_section(&l, &mut a, |a| assert!(!rd(&x, a))); // lock-free, claims again
    read_section(&l, &mut b, |_| {});
    read_section(&l, &mut a, |a| assert!(!rd(&y, a))); // lock-free again
    write_section(&l, &mut c, |c| {
        assert!(!wr(&x, c), "a's section after its own write lock");
        assert!(!wr(&y, c), "and its lock-free one after that");
    });
    // A section that starts after c's write lock is not before it.
    let (p, q) = (ShadowWord::new(), ShadowWord::new());
    read_section(&l, &mut a, |a| assert!(!rd(&p, a)));
    read_section(&l, &mut b, |b| assert!(!wr(&q, b)));
    assert!(rd(&q, &a), "readers do not order each other");
}

#[test]
fn what_a_reader_learnt_from_writers_reaches_later_writers_through_the_lock() {
    let mut w = World::new();
    let (mut a, mut b, mut c) = (w.thread(), w.thread(), w.thread());
    let (l, x, y) = (SyncVar::new(), ShadowWord::new(), ShadowWord::new());
    read_section(&l, &mut a, |_| {});
    read_section(&l, &mut a, |_| {}); // a's entry is joined
    write_section(&l, &mut b, |b| assert!(!wr(&x, b)));
    // a learns b's write from `L_m` alone, so its entry stays joined and
    // these unlocks publish only a's own time.
    read_section(&l, &mut a, |a| assert!(!rd(&x, a), "after b's unlock"));
    read_section(&l, &mut a, |a| assert!(!rd(&y, a)));
    write_section(&l, &mut c, |c| {
        assert!(!wr(&x, c), "b's write and a's read, both before c's lock");
        assert!(!wr(&y, c), "a's last section");
    });
    // Twin: a thread that never took the lock is ordered with none of it.
    let d = w.thread();
    assert!(rd(&y, &d));
}

#[test]
fn what_a_reader_learnt_elsewhere_is_published_even_after_a_writer() {
    let mut w = World::new();
    let (mut a, mut b, mut c, mut z) = (w.thread(), w.thread(), w.thread(), w.thread());
    let (l, x) = (SyncVar::new(), ShadowWord::new());
    read_section(&l, &mut a, |_| {});
    read_section(&l, &mut a, |_| {}); // a's entry is joined
    assert!(!wr(&x, &z));
    sync(&mut z, &mut a); // a learns z's write outside the lock
    write_section(&l, &mut b, |_| {});
    // a's read lock now also acquires b's `L_m`, but its entry was joined
    // before it heard of z: this unlock must publish z's write too.
    read_section(&l, &mut a, |_| {});
    write_section(&l, &mut c, |c| {
        assert!(!wr(&x, c), "z -> a -> a's read unlock -> c");
    });
    // Twin: without a's section in between, c's write would race.
    let (y, mut z2, mut c2) = (ShadowWord::new(), w.thread(), w.thread());
    assert!(!wr(&y, &z2));
    sync(&mut z2, &mut a);
    write_section(&l, &mut c2, |c2| {
        assert!(wr(&y, c2), "a has not unlocked since")
    });
}

#[test]
fn a_writers_next_read_unlock_relies_on_what_its_write_unlock_stored() {
    let mut w = World::new();
    let (mut a, mut c, mut z) = (w.thread(), w.thread(), w.thread());
    let (l, x, y) = (SyncVar::new(), ShadowWord::new(), ShadowWord::new());
    read_section(&l, &mut a, |_| {});
    read_section(&l, &mut a, |_| {}); // a's entry is joined
    assert!(!wr(&x, &z));
    sync(&mut z, &mut a);
    // a's write unlock stores its whole clock, z's write included, in
    // `L_m`; its next read unlock publishes only its own time.
    write_section(&l, &mut a, |_| {});
    read_section(&l, &mut a, |a| assert!(!rd(&y, a)));
    write_section(&l, &mut c, |c| {
        assert!(!wr(&x, c), "z -> a -> L_m -> c");
        assert!(!wr(&y, c), "a's read section after its write");
    });
    // Twin: a thread ordered with none of it.
    let d = w.thread();
    assert!(wr(&y, &d));
}

#[test]
fn lock_free_read_unlock_by_a_reused_slot_keeps_both_owners_sections() {
    let mut w = World::new();
    let mut writer = w.thread();
    let mut old = w.thread();
    let (l, x, y) = (SyncVar::new(), ShadowWord::new(), ShadowWord::new());
    read_section(&l, &mut old, |_| {});
    read_section(&l, &mut old, |old| assert!(!rd(&x, old)));
    let old_slot = old.slot;
    let id = w.finish(old);
    let mut main = std::mem::replace(&mut w.main, w.reg.register_root(None, 0));
    w.join(&mut main, id);
    let mut reuser = w.spawn_from(&mut main);
    assert_eq!(reuser.slot, old_slot, "the joined thread's slot is reused");
    read_section(&l, &mut reuser, |_| {}); // another thread: the slow path
    read_section(&l, &mut reuser, |r| assert!(!rd(&y, r)));
    write_section(&l, &mut writer, |wtr| {
        assert!(!wr(&x, wtr), "the old owner's last section");
        assert!(!wr(&y, wtr), "the new owner's last section");
    });
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
