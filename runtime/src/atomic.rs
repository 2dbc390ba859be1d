//! Atomic operations and fences per the C++20 / Rust memory model, as far as
//! happens-before is concerned (the same model as Miri's `data_race.rs`).
//!
//! Each atomic location has a [`SyncVar`](crate::sync::SyncVar) whose clock is what a load that
//! *reads from* the latest store may acquire:
//!
//! * a store with Release/AcqRel/SeqCst sets it to the storing thread's
//!   clock; a Relaxed store sets it to the clock of the thread's last
//!   `fence(Release)` (empty if none). Either way a store *replaces* it: a
//!   store by any thread ends earlier release sequences (C++20 [intro.races]);
//! * a read-modify-write *joins* into it instead, so it continues the release
//!   sequence it reads from;
//! * a load with Acquire/AcqRel/SeqCst joins it into the thread's clock; a
//!   Relaxed load joins it into the thread's *fence-acquire* clock, which a
//!   later `fence(Acquire)` takes;
//! * `fence(Release)` snapshots the thread's clock for later relaxed stores;
//!   `fence(AcqRel)` and `fence(SeqCst)` do both halves. SeqCst adds no
//!   happens-before edge beyond AcqRel (the total order S constrains values,
//!   not happens-before), so it is modelled as AcqRel, as TSan does.
//!
//! The model assumes each load reads from the latest store in modification
//! order, which is what real hardware mostly shows; a load that reads an
//! older value is not modelled (neither TSan nor this detector explore that).

pub use std::sync::atomic::Ordering;

use crate::clock::VectorClock;
use crate::shadow::AccessKind;
use crate::thread::ThreadState;

fn is_acquire(o: Ordering) -> bool {
    matches!(o, Ordering::Acquire | Ordering::AcqRel | Ordering::SeqCst)
}

fn is_release(o: Ordering) -> bool {
    matches!(o, Ordering::Release | Ordering::AcqRel | Ordering::SeqCst)
}

/// Happens-before effect of an atomic load (or the load half of a failed
/// CAS) on the location's release clock `loc`.
pub fn load(loc: &VectorClock, thr: &mut ThreadState, order: Ordering) {
    if is_acquire(order) {
        thr.acquire(loc);
    } else {
        thr.fence_acquire.join(loc);
    }
}

/// Happens-before effect of an atomic store.
pub fn store(loc: &mut VectorClock, thr: &mut ThreadState, order: Ordering) {
    if is_release(order) {
        thr.release_store(loc);
    } else {
        loc.clone_from(&thr.fence_release);
    }
}

/// Happens-before effect of a successful read-modify-write.
pub fn rmw(loc: &mut VectorClock, thr: &mut ThreadState, order: Ordering) {
    load(loc, thr, order);
    rmw_publish(loc, thr, order);
}

/// The store half of a read-modify-write: it continues the release sequence
/// it read from, so it joins into `loc` instead of replacing it.
fn rmw_publish(loc: &mut VectorClock, thr: &mut ThreadState, order: Ordering) {
    if is_release(order) {
        thr.release(loc);
    } else {
        loc.join(&thr.fence_release);
    }
}

/// Happens-before effect of `fence(order)`.
pub fn fence(thr: &mut ThreadState, order: Ordering) {
    if is_acquire(order) {
        let acquired = std::mem::take(&mut thr.fence_acquire);
        thr.acquire(&acquired);
        thr.fence_acquire = acquired;
    }
    if is_release(order) {
        thr.release_fence();
    }
}

/// Report-hint bookkeeping, no happens-before effect: a Relaxed load (or
/// RMW) remembers the epoch of the store it read from in the thread's
/// `relaxed_seen` clock, and a store records its own epoch in `last_store`.
/// When a later race's earlier access is covered by `relaxed_seen`, an
/// Acquire load and a Release store would have ordered the pair: the report
/// says "published through a Relaxed atomic". Call with the thread's epoch
/// from *before* the operation.
pub fn note_relaxed(
    last_store: &mut Option<crate::clock::Epoch>,
    thr: &mut ThreadState,
    kind: AccessKind,
    order: Ordering,
    epoch_before: crate::clock::Epoch,
) {
    if matches!(kind, AccessKind::AtomicLoad | AccessKind::AtomicRmw)
        && !is_acquire(order)
        && let Some(s) = *last_store
        && thr.relaxed_seen.get(s.slot) < s.clock
    {
        thr.relaxed_seen.set(s.slot, s.clock);
    }
    if matches!(kind, AccessKind::AtomicStore | AccessKind::AtomicRmw) {
        *last_store = Some(epoch_before);
    }
}

/// Applies the effect of an atomic access of `kind` to `loc`.
pub fn apply(loc: &mut VectorClock, thr: &mut ThreadState, kind: AccessKind, order: Ordering) {
    before_access(loc, thr, kind, order);
    after_access(loc, thr, kind, order);
}

/// The half of an atomic operation's effect that precedes its shadow access:
/// reading from the latest store (loads, failed CASes, RMWs).
///
/// C++20 places an operation's acquire before it and its release after it.
/// A shadow access for the operation belongs between the two halves: what
/// preceded the store a load reads from happens-before the load itself (so
/// a plain write before a release store does not race with the acquire load
/// that reads it), and a store's release publishes the store itself.
pub fn before_access(loc: &VectorClock, thr: &mut ThreadState, kind: AccessKind, order: Ordering) {
    match kind {
        AccessKind::AtomicLoad | AccessKind::AtomicRmw => load(loc, thr, order),
        AccessKind::AtomicStore => {}
        AccessKind::Read | AccessKind::Write => unreachable!("not an atomic access"),
    }
}

/// The half that follows the shadow access: publishing (stores, RMWs).
pub fn after_access(
    loc: &mut VectorClock,
    thr: &mut ThreadState,
    kind: AccessKind,
    order: Ordering,
) {
    match kind {
        AccessKind::AtomicStore => store(loc, thr, order),
        AccessKind::AtomicRmw => rmw_publish(loc, thr, order),
        AccessKind::AtomicLoad => {}
        AccessKind::Read | AccessKind::Write => unreachable!("not an atomic access"),
    }
}
