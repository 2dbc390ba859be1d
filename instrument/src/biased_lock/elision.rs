//! Lock elision: a `RaceMap` read by a thread that holds the racedet lock
//! every writer of the map holds exclusively skips the map's own lock.
//!
//! Once a map's bias is revoked (`mod.rs`), every call takes the internal
//! `parking_lot` lock: two atomic read-modify-writes on a line every caller
//! writes. A map shared behind the program's `RwLock` already excludes its
//! writers from its readers, so under contention those atomics only move a
//! cache line between cores (at 4 threads on 2 cores they were 14% of the
//! time with detection on and 30% with it off).
//!
//! **Protocol.** The lock names one racedet lock `E` in `state`, *claimed*
//! by the first write made while holding a racedet lock exclusively (the
//! innermost such lock). Then:
//! - A reader that holds `E` in any mode (per `sync/held.rs`, which never
//!   names a lock that is not held) *announces* the map in its thread's
//!   cell, a plain store, issues a compiler fence and re-reads `state`; if
//!   it still names `E`, it reads without the internal lock.
//! - A writer that holds `E` exclusively takes the internal lock as usual:
//!   no eliding reader can be inside, since each holds `E`.
//! - Any other writer *revokes*: it marks `state` revoking,
//!   calls `membarrier` (every running thread executes a full barrier),
//!   waits until no thread's cell announces the map, and settles `state` on
//!   [`OFF`] for good. It is the asymmetric Dekker handshake of the bias
//!   (`mod.rs`): either the reader's re-read sees the revocation (and it
//!   takes the internal lock), or the revoker sees its announcement (and
//!   waits). The reader's release store of its cell and the revoker's
//!   acquire load order the read before the write.
//!
//! A reader that releases any racedet lock while it reads elided (user
//! code runs inside a read: `Hash`, `Eq`, the closures of `get_with` and
//! `for_each`) first takes the internal lock's shared side, while it still
//! holds `E`, and keeps it until the read ends. No writer can be waiting
//! for that side then: those holding `E` are kept out by the reader's hold
//! of it, and the others wait for its announcement before touching the
//! internal lock.
//!
//! Nested reads of the same map ride on the outer announcement; a read of
//! another map inside an eliding read takes its internal lock.

use std::cell::Cell;
use std::ptr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering, compiler_fence};

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
}

impl Elision {
    /// Elision for a new lock, if this process can revoke it (it needs
    /// `membarrier`, and has not revoked too often).
    pub(super) fn new(wanted: bool) -> Elision {
        let possible =
            wanted && bias_available() && REVOCATIONS.load(Ordering::Relaxed) < REVOCATION_LIMIT;
        Elision {
            state: AtomicUsize::new(if possible { UNCLAIMED } else { OFF }),
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
        let Ok(Some(cell)) = MINE.try_with(Mine::cell) else {
            return Entered::No;
        };
        let now = cell.map.load(Ordering::Relaxed);
        if now == me {
            return Entered::Nested;
        }
        if !now.is_null() {
            return Entered::No;
        }
        cell.map.store(me, Ordering::Relaxed);
        // The store must not sink below the re-read; the revoker's
        // membarrier supplies the hardware half of the fence.
        compiler_fence(Ordering::SeqCst);
        if self.state.load(Ordering::Relaxed) != e {
            cell.map.store(ptr::null_mut(), Ordering::Release);
            return Entered::No;
        }
        ACTIVE.with(|a| a.set(ptr::from_ref(lock)));
        Entered::Elided
    }

    /// Ends an [`Entered::Elided`] read of the lock whose internal lock is
    /// `lock`.
    #[inline]
    pub(super) fn leave_read(&self, lock: &RawRwLock) {
        let converted = ACTIVE.with(|a| a.replace(ptr::null())).is_null();
        if converted {
            // SAFETY: `lock_released` took the shared side for this read
            // (and cleared `ACTIVE` to say so); it is released once, here.
            unsafe { lock.unlock_shared() };
        }
        if let Ok(Some(cell)) = MINE.try_with(Mine::cell) {
            // Release: the read happens before a revoker's writes.
            cell.map.store(ptr::null_mut(), Ordering::Release);
        }
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
                let me = self.id();
                if MINE.try_with(|m| m.announced() == me).unwrap_or(false) {
                    // A write from inside this thread's own read of the map:
                    // waiting for that read would never end.
                    reentrant();
                }
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

    /// Waits out every eliding reader, then settles on [`OFF`].
    fn drain(&self) {
        REVOCATIONS.fetch_add(1, Ordering::Relaxed);
        heavy_barrier();
        let me = self.id();
        // Cells handed out after this snapshot belong to threads that took
        // the registry's lock after the revocation was stored, and so see
        // it when they re-read the state.
        let cells = REGISTRY.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for c in cells {
            let mut spins = 0;
            // Acquire: the reader's section happens before what follows.
            while c.map.load(Ordering::Acquire) == me {
                backoff(&mut spins);
            }
        }
        // Release: writers that see `OFF` come after the drain.
        self.state.store(OFF, Ordering::Release);
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
    let _ = ACTIVE.try_with(|a| {
        let p = a.get();
        if !p.is_null() {
            convert(a, p);
        }
    });
}

#[cold]
#[inline(never)]
fn convert(active: &Cell<*const RawRwLock>, lock: *const RawRwLock) {
    // SAFETY: `ACTIVE` is set only while the eliding read of that lock's
    // map runs on this thread, and the map outlives the read.
    unsafe { (*lock).lock_shared() };
    active.set(ptr::null());
}

/// A thread's announcement: the map (its `Elision`) it reads elided, or
/// null. A cache line each, so that announcing writes no shared line.
#[repr(align(64))]
struct Announcement {
    map: AtomicPtr<()>,
    /// Whether a live thread owns this cell.
    taken: std::sync::atomic::AtomicBool,
}

/// Every cell ever handed out (never freed: a revoker may scan a cell
/// while its thread exits); free ones are reused.
static REGISTRY: Mutex<Vec<&'static Announcement>> = Mutex::new(Vec::new());

/// This thread's cell, handed back at thread exit.
struct Mine(Cell<Option<&'static Announcement>>);

impl Mine {
    /// The map this thread announces, or null (no cell handed out yet).
    fn announced(&self) -> *mut () {
        self.0
            .get()
            .map_or(ptr::null_mut(), |c| c.map.load(Ordering::Relaxed))
    }

    fn cell(&self) -> Option<&'static Announcement> {
        if let Some(c) = self.0.get() {
            return Some(c);
        }
        let c = take_cell();
        self.0.set(Some(c));
        Some(c)
    }
}

impl Drop for Mine {
    fn drop(&mut self) {
        if let Some(c) = self.0.get() {
            c.map.store(ptr::null_mut(), Ordering::Release);
            c.taken.store(false, Ordering::Release);
        }
    }
}

fn take_cell() -> &'static Announcement {
    let mut cells = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    for c in cells.iter() {
        if c.taken
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return c;
        }
    }
    let c: &'static Announcement = Box::leak(Box::new(Announcement {
        map: AtomicPtr::new(ptr::null_mut()),
        taken: std::sync::atomic::AtomicBool::new(true),
    }));
    cells.push(c);
    c
}

thread_local! {
    static MINE: Mine = const { Mine(Cell::new(None)) };
    /// The internal lock of the eliding read in progress on this thread,
    /// null if none (or once it took the lock's shared side).
    static ACTIVE: Cell<*const RawRwLock> = const { Cell::new(ptr::null()) };
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use super::super::{BiasedRwLock, ELIDED, UNBIASED};
    use super::{FIRST_LOCK, OFF};
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
        assert_eq!(l.elision.state.load(Ordering::Relaxed), OFF);
        let _r = e.read().unwrap();
        assert_eq!(l.read().generation, UNBIASED, "revoked for good");
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
        assert_eq!(l.elision.state.load(Ordering::Relaxed), OFF);
    }
}
