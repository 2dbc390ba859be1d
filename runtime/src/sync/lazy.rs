//! The handle racedet's own primitives embed: one pointer, with the
//! [`Clocks`] allocated on the first operation that runs with detection on.
//!
//! Every racedet `Mutex`, `RwLock`, atomic, `Once` and `Arc` carries one. The
//! clocks are 184 bytes; inline (at 160), they made a
//! `racedet::sync::atomic::AtomicU64` 168 bytes against std's 8, so a program's array of atomics or of small
//! locks grew twentyfold even with detection off, and its cache footprint
//! with it. With detection off nothing here is touched (the `api::var`
//! functions test [`enabled`](crate::enabled) first); with detection on an
//! operation pays one extra load.
//!
//! The pointer is installed with a compare-exchange (`once_ptr.rs`), so a
//! thread that sees it null always ends up on the same allocation as every
//! other thread, whatever the real primitive's memory ordering made visible
//! to a plain load.

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::once_ptr;

use super::Clocks;
use crate::clock::{Epoch, VectorClock};
use crate::thread::ThreadState;

/// What a read lock keeps for its unlock: the lock's clocks, so that the
/// unlock need not load their pointer from the lock itself. That pointer
/// shares a cache line with the real lock's state word, which every other
/// reader's lock and unlock takes away; reading it again just before the
/// real unlock's read-modify-write cost a miss inside the critical section
/// (half the samples of the read unlock at 4 threads).
#[derive(Copy, Clone, Debug, Default)]
pub struct ReadHeld<'a>(Option<&'a Clocks>);

impl<'a> ReadHeld<'a> {
    /// Nothing kept: the read lock ran with detection off.
    pub const NONE: ReadHeld<'static> = ReadHeld(None);

    #[inline(always)]
    pub(crate) fn of(clocks: &'a Clocks) -> ReadHeld<'a> {
        ReadHeld(Some(clocks))
    }

    /// The kept clocks, or `var`'s.
    #[inline(always)]
    pub(crate) fn clocks_or(self, var: &'a SyncVar) -> &'a Clocks {
        match self.0 {
            Some(c) => c,
            None => var.clocks(),
        }
    }
}

/// A synchronisation object's clocks, allocated on first use.
pub struct SyncVar {
    clocks: AtomicPtr<Clocks>,
}

impl Default for SyncVar {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SyncVar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncVar").finish_non_exhaustive()
    }
}

impl Drop for SyncVar {
    fn drop(&mut self) {
        once_ptr::free(&mut self.clocks);
    }
}

impl SyncVar {
    pub const fn new() -> SyncVar {
        SyncVar {
            clocks: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The clocks, allocated if this is the first use.
    #[inline]
    pub(crate) fn clocks(&self) -> &Clocks {
        // SAFETY: `clocks` is only ever set by `install` and freed by `Drop`.
        match unsafe { once_ptr::get(&self.clocks) } {
            Some(c) => c,
            // SAFETY: as above.
            None => unsafe { once_ptr::install(&self.clocks, Clocks::new) },
        }
    }

    /// Whether the clocks were ever allocated (tests and memory checks).
    pub fn is_allocated(&self) -> bool {
        !self.clocks.load(Ordering::Acquire).is_null()
    }

    /// `C_t ⊔= L_m`.
    #[inline]
    pub fn acquire(&self, thr: &mut ThreadState) {
        self.clocks().acquire(thr);
    }

    /// `L_m ⊔= C_t`, then a new epoch.
    #[inline]
    pub fn release(&self, thr: &mut ThreadState) {
        self.clocks().release(thr);
    }

    /// `L_m := C_t`, then a new epoch.
    #[inline]
    pub fn release_store(&self, thr: &mut ThreadState) {
        self.clocks().release_store(thr);
    }

    /// Exclusive lock acquired: `C_t ⊔= L_m ⊔ R_m`.
    #[inline]
    pub fn lock_acquired(&self, thr: &mut ThreadState) {
        self.clocks().lock_acquired(thr);
    }

    /// Exclusive unlock: `L_m := C_t`.
    #[inline]
    pub fn unlock(&self, thr: &mut ThreadState) {
        self.clocks().unlock(thr);
    }

    /// [`lock_acquired`](Self::lock_acquired) without the clocks' own lock.
    ///
    /// # Safety
    /// As [`Clocks::lock_acquired_exclusive`].
    #[inline]
    pub unsafe fn lock_acquired_exclusive(&self, thr: &mut ThreadState) {
        // SAFETY: forwarded contract.
        unsafe { self.clocks().lock_acquired_exclusive(thr) }
    }

    /// [`lock_acquired_exclusive`](Self::lock_acquired_exclusive) of a
    /// mutex (no shared side).
    ///
    /// # Safety
    /// As [`Clocks::mutex_lock_acquired`].
    #[inline]
    pub unsafe fn mutex_lock_acquired(&self, thr: &mut ThreadState) {
        // SAFETY: forwarded contract.
        unsafe { self.clocks().mutex_lock_acquired(thr) }
    }

    /// [`unlock`](Self::unlock) without the clocks' own lock.
    ///
    /// # Safety
    /// As [`Clocks::unlock_exclusive`].
    #[inline]
    pub unsafe fn unlock_exclusive(&self, thr: &mut ThreadState) {
        // SAFETY: forwarded contract.
        unsafe { self.clocks().unlock_exclusive(thr) }
    }

    /// The write unlock of a reader-writer lock without the clocks' own lock.
    ///
    /// # Safety
    /// As [`Clocks::write_unlock_exclusive`].
    #[inline]
    pub unsafe fn write_unlock_exclusive(&self, thr: &mut ThreadState) {
        // SAFETY: forwarded contract.
        unsafe { self.clocks().write_unlock_exclusive(thr) }
    }

    /// Shared lock acquired: `C_t ⊔= L_m`.
    #[inline]
    pub fn read_lock_acquired(&self, thr: &mut ThreadState) {
        self.clocks().read_lock_acquired(thr);
    }

    /// [`read_lock_acquired`](Self::read_lock_acquired) without the clocks'
    /// own lock. The returned handle goes to the matching
    /// [`read_unlock_shared`](Self::read_unlock_shared).
    ///
    /// # Safety
    /// As [`Clocks::read_lock_acquired_shared`].
    #[inline]
    pub unsafe fn read_lock_acquired_shared(&self, thr: &mut ThreadState) -> ReadHeld<'_> {
        let clocks = self.clocks();
        // SAFETY: forwarded contract.
        unsafe { clocks.read_lock_acquired_shared(thr) };
        ReadHeld::of(clocks)
    }

    /// Shared unlock: `R_m ⊔= C_t`.
    #[inline]
    pub fn read_unlock(&self, thr: &mut ThreadState) {
        self.clocks().read_unlock(thr);
    }

    /// [`read_unlock`](Self::read_unlock), lock-free when it can be;
    /// `held` is what the matching read lock returned, if it ran with
    /// detection on.
    ///
    /// # Safety
    /// As [`Clocks::read_unlock_shared`].
    #[inline]
    pub unsafe fn read_unlock_shared(&self, held: ReadHeld<'_>, thr: &mut ThreadState) {
        // SAFETY: forwarded contract.
        unsafe { held.clocks_or(self).read_unlock_shared(thr) }
    }

    /// See [`Clocks::locked`].
    #[inline]
    pub fn locked<R>(&self, f: impl FnOnce(&mut VectorClock) -> R) -> R {
        self.clocks().locked(f)
    }

    /// See [`Clocks::locked_atomic`].
    #[inline]
    pub fn locked_atomic<R>(&self, f: impl FnOnce(&mut VectorClock, &mut Option<Epoch>) -> R) -> R {
        self.clocks().locked_atomic(f)
    }

    /// Forgets all history; allocates nothing if there is none.
    pub fn reset(&self) {
        if self.is_allocated() {
            self.clocks().reset();
        }
    }
}
