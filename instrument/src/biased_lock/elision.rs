//! Lock elision: a `RaceMap` read by a thread that holds the racedet lock
//! every writer of the map holds exclusively skips the map's own lock.
//!
//! Once a map's bias is revoked for good (`mod.rs`), every call takes the
//! internal `parking_lot` lock: two atomic read-modify-writes on a line
//! every caller writes. A map shared behind the program's `RwLock` already
//! has its writers excluded from its readers by that lock, so under
//! contention those atomics only move a cache line between cores. Eliding
//! them took `map_rwlock` at 4 threads on 2 cores from 291 to 222 ns per
//! operation with detection on, and from 181 to 162 ns with it off
//! (`docs/performance.md`).
//!
//! **Protocol.** The lock names one racedet lock `E` in `state`, *claimed*
//! by a write made while holding a racedet lock exclusively (the innermost
//! such lock, per `sync/held.rs`). A claim is made only by a writer that
//! excludes every other writer: under the internal lock, or by the bias.
//! Then:
//! - A reader that holds `E` in any mode (per `sync/held.rs`, which never
//!   names a lock that is not held) *announces* the map in its thread's
//!   cell, a plain store, issues a compiler fence and re-reads `state`; if
//!   it still names `E`, it reads without the internal lock, as a shared
//!   reader (the detector's `Object::read_shared`).
//! - A writer that holds `E` exclusively takes the internal lock as usual:
//!   no eliding reader can be inside, since each holds `E`.
//! - Any other writer *revokes* before it takes the internal lock: it marks
//!   `state` revoking, calls `membarrier` (every running thread executes a
//!   full barrier), waits until no thread's cell announces the map, and
//!   settles `state` on unclaimed, so that a lock that moved since its
//!   claim can be claimed again at its new address (on [`OFF`] for good
//!   after [`MAX_REVOCATIONS`]). It is the asymmetric Dekker
//!   handshake of the bias (`mod.rs`): either the reader's re-read sees the
//!   revocation (and it takes the internal lock), or the revoker sees its
//!   announcement (and waits). The reader's release store of its cell and
//!   the revoker's acquire load order the read before the write.
//! - A writer checks `state` again once it holds the internal lock: one
//!   that found no claim, then was overtaken by a claim and by readers
//!   eliding under it, lets go and starts over.
//!
//! A reader that releases any racedet lock while it reads elided (user
//! code runs inside a read: `Hash`, `Eq`, the closures of `get_with` and
//! `for_each`) first takes the internal lock's shared side, while it still
//! holds `E`, and keeps it until the read ends. No writer can be waiting
//! for that side then: those holding `E` are kept out by the reader's hold
//! of it, and the others wait for its announcement before touching the
//! internal lock. A write from inside the thread's own eliding read of the
//! map panics, as a write inside a biased read does (it would alias the
//! read's borrow).
//!
//! Nested reads of the same map ride on the outer announcement; a read of
//! another map inside an eliding read takes its internal lock. Threads
//! record the locks they hold only from the first revocation of a map's
//! bias on, so a program whose maps each stay with one thread pays one
//! load and a branch per lock operation.

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering, compiler_fence};

use parking_lot::RawRwLock;
use parking_lot::lock_api::RawRwLock as _;

use super::{REVOCATION_LIMIT, REVOCATIONS, backoff, bias_available, heavy_barrier, reentrant};
use crate::sync::held;

/// No lock claimed yet.
const UNCLAIMED: usize = 0;
/// Elision is over for this lock (or was never possible).
pub(super) const OFF: usize = 1;
/// A writer is draining the eliding readers.
const REVOKING: usize = 2;
/// `state` values from here on are the address of the claimed lock.
const FIRST_LOCK: usize = 8;
/// Revocations after which elision is off for good. A claimed lock that
/// moved (a `RwLock` filled, then moved into an `Arc`) no longer has the
/// claimed address, so its next writer revokes; the lock may then be
/// claimed again at its new place. A map whose writers keep changing
/// locks pays a `membarrier` per revocation, so only this many.
const MAX_REVOCATIONS: u32 = 3;

/// How a read entered.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(super) enum Entered {
    /// Announced by this read, which clears the announcement at its end.
    Elided,
    /// Inside an eliding read of the same map on this thread.
    Nested,
    /// Elision does not apply: take the internal lock.
    No,
}

/// A lock's elision state: [`UNCLAIMED`], [`OFF`], [`REVOKING`] or the
/// claimed lock's address.
pub(super) struct Elision {
    state: AtomicUsize,
    /// Revocations so far; only the thread that set `REVOKING` writes it.
    revocations: AtomicU32,
}

impl Elision {
    /// Elision for a new lock, if this process can revoke it (it needs
    /// `membarrier`, and has not revoked too often).
    pub(super) fn new(wanted: bool) -> Elision {
        let possible =
            wanted && bias_available() && REVOCATIONS.load(Ordering::Relaxed) < REVOCATION_LIMIT;
        Elision {
            state: AtomicUsize::new(if possible { UNCLAIMED } else { OFF }),
            revocations: AtomicU32::new(0),
        }
    }

    /// Tries to enter a read of the lock whose internal lock is `lock`
    /// without taking it (see the module docs).
    #[inline]
    pub(super) fn enter_read(&self, lock: &RawRwLock) -> Entered {
        let e = self.state.load(Ordering::Relaxed);
        if e < FIRST_LOCK || held::holds(e).is_none() {
            return Entered::No;
        }
        let me = self.id();
        READING.with(|r| {
            let now = r.map.get();
            if now == me {
                return Entered::Nested;
            }
            if !now.is_null() {
                return Entered::No;
            }
            let Some(cell) = r.cell() else {
                return Entered::No;
            };
            cell.map.store(me, Ordering::Relaxed);
            // The store must not sink below the re-read; the revoker's
            // membarrier supplies the hardware half of the fence.
            compiler_fence(Ordering::SeqCst);
            if self.state.load(Ordering::Relaxed) != e {
                cell.map.store(ptr::null_mut(), Ordering::Release);
                return Entered::No;
            }
            r.map.set(me);
            r.active.set(ptr::from_ref(lock));
            Entered::Elided
        })
    }

    /// Ends an [`Entered::Elided`] read of the lock whose internal lock is
    /// `lock`.
    #[inline]
    pub(super) fn leave_read(&self, lock: &RawRwLock) {
        READING.with(|r| {
            if r.active.replace(ptr::null()).is_null() {
                // SAFETY: `lock_released` took the shared side for this
                // read (and cleared `active` to say so); it is released
                // once, here.
                unsafe { lock.unlock_shared() };
            }
            r.map.set(ptr::null_mut());
            if let Some(cell) = r.cell.get() {
                // Release: the read happens before a revoker's writes.
                cell.map.store(ptr::null_mut(), Ordering::Release);
            }
        });
    }

    /// The lock's bias is gone for good: from now on readers may elide,
    /// so threads start recording the locks they hold (`sync/held.rs`;
    /// a program whose maps each stay with one thread never pays for it).
    pub(super) fn unbiased(&self) {
        if self.state.load(Ordering::Relaxed) != OFF {
            held::start();
        }
    }

    /// A write by a bias holder (the only thread inside): claims the lock
    /// the writer holds exclusively if none is claimed. No reader elides
    /// while the lock is biased, so nothing needs revoking yet.
    #[inline]
    pub(super) fn biased_write(&self) {
        if self.state.load(Ordering::Relaxed) == UNCLAIMED && held::recording() {
            self.claim();
        }
    }

    /// Takes `lock` (the internal lock) exclusively for a write, after
    /// revoking elision unless the writer holds the claimed lock
    /// exclusively, and claims the writer's lock if none is claimed.
    ///
    /// The state is checked again once `lock` is held: a claim is made only
    /// under it (or under the bias), so a writer that found no claim and
    /// then took the lock is alone with the data only if there is still no
    /// claim; if one was made meanwhile, it lets go and starts over.
    #[inline]
    pub(super) fn lock_for_write(&self, lock: &RawRwLock) {
        let me = self.id();
        if READING.with(|r| r.map.get() == me) {
            // A write from inside this thread's own eliding read of the
            // map: it would alias that read's borrow (or, revoking, wait
            // for it forever).
            reentrant();
        }
        loop {
            let e = self.state.load(Ordering::Acquire);
            if !(e == OFF || (e >= FIRST_LOCK && held::holds(e) == Some(true))) {
                self.prepare_write(e);
            }
            lock.lock_exclusive();
            match self.state.load(Ordering::Acquire) {
                OFF => return,
                UNCLAIMED => {
                    self.claim();
                    return;
                }
                e if e >= FIRST_LOCK && held::holds(e) == Some(true) => return,
                _ => {
                    // SAFETY: taken just above, by this thread.
                    unsafe { lock.unlock_exclusive() };
                }
            }
        }
    }

    /// Claims the innermost lock the caller holds exclusively, if any and
    /// if nothing is claimed. The caller excludes every other writer (it
    /// holds the internal lock exclusively, or the bias).
    #[cold]
    fn claim(&self) {
        if let Some(lock) = held::exclusive() {
            let _ =
                self.state
                    .compare_exchange(UNCLAIMED, lock, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    /// Before a writer that does not hold the claimed lock exclusively
    /// takes the internal lock: revokes elision (or waits for the writer
    /// revoking it). Never holds the internal lock: an eliding reader may
    /// need its shared side to finish (module docs).
    #[cold]
    #[inline(never)]
    fn prepare_write(&self, e: usize) {
        match e {
            OFF | UNCLAIMED => {}
            REVOKING => {
                let mut spins = 0;
                while self.state.load(Ordering::Acquire) == REVOKING {
                    backoff(&mut spins);
                }
            }
            lock => {
                if self
                    .state
                    .compare_exchange(lock, REVOKING, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
                {
                    self.drain();
                }
                // Otherwise the state moved on: the caller's loop looks again.
            }
        }
    }

    /// Waits out every eliding reader, then settles on [`UNCLAIMED`], or
    /// on [`OFF`] after [`MAX_REVOCATIONS`].
    fn drain(&self) {
        REVOCATIONS.fetch_add(1, Ordering::Relaxed);
        heavy_barrier();
        let me = self.id();
        // A cell added to the list after this walk began was added after
        // the barrier point of its thread, so its first announcement comes
        // after it too, and that thread's re-read sees the revocation.
        for c in cells() {
            let mut spins = 0;
            // Acquire: the reader's section happens before what follows.
            while c.map.load(Ordering::Acquire) == me {
                backoff(&mut spins);
            }
        }
        let n = self.revocations.load(Ordering::Relaxed) + 1;
        self.revocations.store(n, Ordering::Relaxed);
        let settled = if n < MAX_REVOCATIONS { UNCLAIMED } else { OFF };
        // Release: writers that see the settled state come after the
        // drain. A new claim is made under the internal lock, as a first
        // one is, and no reader elides until then.
        self.state.store(settled, Ordering::Release);
    }

    /// The state in words, for tests outside the crate.
    pub(super) fn describe(&self) -> &'static str {
        match self.state.load(Ordering::Relaxed) {
            UNCLAIMED => "unclaimed",
            OFF => "off",
            REVOKING => "revoking",
            _ => "claimed",
        }
    }

    fn id(&self) -> *mut () {
        ptr::from_ref(self).cast_mut().cast()
    }
}

/// Called by `sync/held.rs` as this thread releases a racedet lock, before
/// the real unlock: an eliding read in progress takes its internal lock's
/// shared side first (module docs).
#[inline]
pub(crate) fn lock_released() {
    READING.with(|r| {
        let p = r.active.get();
        if !p.is_null() {
            convert(&r.active, p);
        }
    });
}

#[cold]
#[inline(never)]
fn convert(active: &Cell<*const RawRwLock>, lock: *const RawRwLock) {
    // SAFETY: `active` is set only while the eliding read of that lock's
    // map runs on this thread, and the map outlives the read.
    unsafe { (*lock).lock_shared() };
    active.set(ptr::null());
}

/// This thread's eliding read, if any. No destructor, so it is there for
/// as long as the thread runs.
struct Reading {
    /// The map (its `Elision`) read, or null.
    map: Cell<*mut ()>,
    /// Its internal lock, null once the read took that lock's shared side
    /// (or when there is no read).
    active: Cell<*const RawRwLock>,
    /// This thread's announcement cell, once it has one and until the
    /// thread hands it back at exit.
    cell: Cell<Option<&'static Announcement>>,
}

impl Reading {
    #[inline]
    fn cell(&self) -> Option<&'static Announcement> {
        if let Some(c) = self.cell.get() {
            return Some(c);
        }
        // `OWNER` hands the cell back when the thread exits; after that
        // (another thread-local's destructor reading a map) there is none.
        let c = OWNER.try_with(|o| o.take_cell()).ok()?;
        self.cell.set(Some(c));
        Some(c)
    }
}

/// A thread's announcement: the map (its `Elision`) it reads elided, or
/// null. A cache line each, so that announcing writes no shared line.
#[repr(align(64))]
struct Announcement {
    map: AtomicPtr<()>,
    /// Whether a live thread owns this cell.
    taken: AtomicBool,
    /// The next cell in the list, fixed before the cell is published.
    next: *const Announcement,
}

// SAFETY: `next` is written only before the cell is published (by the
// release exchange in `new_cell`), and only read after; the rest are
// atomics.
unsafe impl Sync for Announcement {}

/// Every cell ever handed out, newest first, never freed (a revoker may
/// walk over a cell while its thread exits); free ones are reused. A list
/// without a lock, so that a child forked while another thread held one
/// can still elide and revoke.
static CELLS: AtomicPtr<Announcement> = AtomicPtr::new(ptr::null_mut());

fn cells() -> impl Iterator<Item = &'static Announcement> {
    // Acquire: pairs with the publishing exchange, so `next` is visible.
    let head = CELLS.load(Ordering::Acquire);
    // SAFETY: cells are leaked, never freed, and immutable but for atomics.
    std::iter::successors(unsafe { head.as_ref() }, |c| unsafe { c.next.as_ref() })
}

/// Owns this thread's cell, to hand it back at thread exit.
struct Owner(Cell<Option<&'static Announcement>>);

impl Owner {
    fn take_cell(&self) -> &'static Announcement {
        if let Some(c) = self.0.get() {
            return c;
        }
        let c = cells()
            .find(|c| {
                c.taken
                    .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            })
            .unwrap_or_else(new_cell);
        self.0.set(Some(c));
        c
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            let _ = READING.try_with(|r| r.cell.set(None));
            c.map.store(ptr::null_mut(), Ordering::Release);
            c.taken.store(false, Ordering::Release);
        }
    }
}

fn new_cell() -> &'static Announcement {
    let mut head = CELLS.load(Ordering::Relaxed);
    let c = Box::leak(Box::new(Announcement {
        map: AtomicPtr::new(ptr::null_mut()),
        taken: AtomicBool::new(true),
        next: head,
    }));
    loop {
        match CELLS.compare_exchange_weak(head, c, Ordering::Release, Ordering::Relaxed) {
            Ok(_) => return c,
            Err(now) => {
                head = now;
                c.next = head;
            }
        }
    }
}

thread_local! {
    static READING: Reading = const {
        Reading {
            map: Cell::new(ptr::null_mut()),
            active: Cell::new(ptr::null()),
            cell: Cell::new(None),
        }
    };
    static OWNER: Owner = const { Owner(Cell::new(None)) };
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use super::super::{BiasedRwLock, ELIDED, UNBIASED};
    use super::{FIRST_LOCK, MAX_REVOCATIONS, OFF, UNCLAIMED};
    use crate::sync::RwLock;

    type Shared = Arc<BiasedRwLock<u64>>;

    /// An eliding lock whose bias is already gone, and the racedet lock
    /// `E` that a first write claims for it; `None` where this machine
    /// cannot elide (no `membarrier`).
    fn claimed() -> Option<(Shared, Arc<RwLock<()>>)> {
        let l = Arc::new(BiasedRwLock::new_unbiased(0u64, true));
        if l.elision.state.load(Ordering::Relaxed) == OFF {
            return None;
        }
        let e = Arc::new(RwLock::new(()));
        {
            let _w = e.write().unwrap();
            *l.write() = 1;
        }
        let claimed = l.elision.state.load(Ordering::Relaxed);
        assert_eq!(claimed, Arc::as_ptr(&e) as usize, "the write claimed E");
        Some((l, e))
    }

    #[test]
    fn readers_holding_the_claimed_lock_elide_and_others_do_not() {
        let Some((l, e)) = claimed() else { return };
        {
            let _r = e.read().unwrap();
            let g = l.read();
            assert_eq!(g.generation, ELIDED);
            assert!(!g.is_exclusive(), "eliding readers are checked as shared");
            let nested = l.read();
            assert_ne!(nested.generation, UNBIASED);
        }
        {
            let _w = e.write().unwrap();
            assert_eq!(l.read().generation, ELIDED);
        }
        assert_eq!(l.read().generation, UNBIASED, "no hold of E, no elision");
        // A write under E keeps the claim.
        {
            let _w = e.write().unwrap();
            *l.write() += 1;
        }
        assert!(l.elision.state.load(Ordering::Relaxed) >= FIRST_LOCK);
    }

    #[test]
    fn a_writer_without_the_claimed_lock_waits_for_eliding_readers() {
        let Some((l, e)) = claimed() else { return };
        let inside = Arc::new(Barrier::new(2));
        let done = Arc::new(AtomicBool::new(false));
        let reader = {
            let (l, e, inside, done) = (l.clone(), e.clone(), inside.clone(), done.clone());
            std::thread::spawn(move || {
                let _r = e.read().unwrap();
                let g = l.read();
                assert_eq!(g.generation, ELIDED);
                inside.wait();
                std::thread::sleep(Duration::from_millis(100));
                assert_eq!(*g, 1, "no write while the read lasts");
                done.store(true, Ordering::SeqCst);
            })
        };
        inside.wait();
        // No hold of E: this write must revoke and wait for the reader.
        *l.write() = 2;
        assert!(done.load(Ordering::SeqCst), "the write waited for the read");
        reader.join().unwrap();
        // Revoked; the writer held no lock, so nothing is claimed again.
        assert_eq!(l.elision.state.load(Ordering::Relaxed), UNCLAIMED);
        let _r = e.read().unwrap();
        assert_eq!(l.read().generation, UNBIASED, "no elision without a claim");
    }

    #[test]
    fn a_moved_lock_is_claimed_again_then_revocations_end_elision() {
        let Some((l, e)) = claimed() else { return };
        // Another lock, as the claimed one moved to a new address: its
        // writer revokes, then claims it.
        let others: Vec<RwLock<()>> = (1..MAX_REVOCATIONS).map(|_| RwLock::new(())).collect();
        for (moved, round) in others.iter().zip(1..) {
            let _w = moved.write().unwrap();
            *l.write() += 1;
            assert_eq!(
                l.elision.state.load(Ordering::Relaxed),
                moved as *const RwLock<()> as usize,
                "claimed again after revocation {round}"
            );
            assert_eq!(l.elision.revocations.load(Ordering::Relaxed), round);
        }
        let _w = e.write().unwrap();
        *l.write() += 1;
        assert_eq!(
            l.elision.state.load(Ordering::Relaxed),
            OFF,
            "too many revocations"
        );
    }

    #[test]
    fn a_read_that_lets_go_of_the_claimed_lock_takes_the_internal_one() {
        let Some((l, e)) = claimed() else { return };
        let released = Arc::new(Barrier::new(2));
        let done = Arc::new(AtomicBool::new(false));
        let reader = {
            let (l, e, released, done) = (l.clone(), e.clone(), released.clone(), done.clone());
            std::thread::spawn(move || {
                let r = e.read().unwrap();
                let g = l.read();
                assert_eq!(g.generation, ELIDED);
                // As user code inside the read could (a `Hash` impl, a
                // closure given to `get_with`).
                drop(r);
                released.wait();
                std::thread::sleep(Duration::from_millis(100));
                assert_eq!(*g, 1, "no write while the read lasts");
                done.store(true, Ordering::SeqCst);
            })
        };
        released.wait();
        // Holding E exclusively: elision does not keep this writer out,
        // the internal lock the reader took must.
        let _w = e.write().unwrap();
        *l.write() = 2;
        assert!(done.load(Ordering::SeqCst), "the write waited for the read");
        reader.join().unwrap();
    }

    #[test]
    fn a_write_inside_the_own_eliding_read_panics_and_elision_goes_on() {
        let Some((l, e)) = claimed() else { return };
        let r = e.read().unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _g = l.read();
            *l.write() = 5;
        }));
        assert!(
            outcome.is_err(),
            "a write from inside the read would deadlock"
        );
        assert!(l.elision.state.load(Ordering::Relaxed) >= FIRST_LOCK);
        assert_eq!(
            l.read().generation,
            ELIDED,
            "the announcement was withdrawn"
        );
        drop(r);
        let _w = e.write().unwrap();
        *l.write() = 6;
    }

    #[test]
    fn a_write_inside_the_own_eliding_read_under_the_write_lock_panics() {
        let Some((l, e)) = claimed() else { return };
        let w = e.write().unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let g = l.read();
            assert_eq!(g.generation, ELIDED);
            // Holding E exclusively needs no revocation, but the read's
            // borrow is live: this must not get in.
            *l.write() = 5;
        }));
        assert!(outcome.is_err());
        drop(w);
        assert_eq!(*l.read(), 1);
    }

    /// Eliding readers, writers under E and writers without it, all at
    /// once: a pair written under each write must always be read whole.
    #[test]
    fn mixed_readers_and_writers_never_see_a_torn_write() {
        let Some((_, e)) = claimed() else { return };
        let l = Arc::new(BiasedRwLock::new_unbiased((0u64, 0u64), true));
        let torn = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let (l, e, torn) = (l.clone(), e.clone(), torn.clone());
                std::thread::spawn(move || {
                    for i in 0..20_000u64 {
                        match (t, i % 10) {
                            (3, 0) if i > 10_000 => {
                                // A write without E, late: revokes mid-run.
                                let mut g = l.write();
                                g.0 = i;
                                std::hint::spin_loop();
                                g.1 = i;
                            }
                            (_, 0) => {
                                let _w = e.write().unwrap();
                                let mut g = l.write();
                                g.0 = i;
                                std::hint::spin_loop();
                                g.1 = i;
                            }
                            _ => {
                                let _r = e.read().unwrap();
                                let g = l.read();
                                if g.0 != g.1 {
                                    torn.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(torn.load(Ordering::Relaxed), 0);
        assert!(
            l.elision.revocations.load(Ordering::Relaxed) >= 1,
            "a write without E revoked"
        );
    }
}
