//! [`Mutex`]: std's mutex, plus the lock's clock.
//!
//! | operation                                  | happens-before effect                          |
//! |--------------------------------------------|------------------------------------------------|
//! | `lock`, successful `try_lock` (poisoned or not) | acquires the clock of the previous unlock |
//! | guard drop                                 | releases (stores) the thread's clock into the lock |
//! | `try_lock` that fails with `WouldBlock`    | none                                           |
//! | `get_mut`, `into_inner`                    | none (`&mut`/ownership already prove order)    |
//!
//! The real lock is std's, so blocking, fairness and poisoning are exactly
//! std's. The engine is told about the lock *after* the real lock is held and
//! about the unlock *before* the real unlock: the clock is only touched by
//! the thread that owns the lock, so unlock → next lock is the edge, as in
//! TSan's `MutexPostLock`/`MutexUnlock`.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::{RefUnwindSafe, UnwindSafe};

use racedet_runtime::SyncVar;
use racedet_runtime::api::var;

use super::held;
use super::{LockResult, PoisonError, TryLockError, TryLockResult};

/// A mutual-exclusion lock with the API of [`std::sync::Mutex`]; every
/// unlock → lock pair is a happens-before edge for the detector.
///
/// # Examples
///
/// ```
/// use racedet::sync::{Arc, Mutex};
///
/// let counter = Arc::new(Mutex::new(0));
/// let c = Arc::clone(&counter);
/// racedet::thread::spawn(move || *c.lock().unwrap() += 1).join().unwrap();
/// assert_eq!(*counter.lock().unwrap(), 1);
/// ```
pub struct Mutex<T: ?Sized> {
    sync: SyncVar,
    inner: std::sync::Mutex<T>,
}

// The clock is internally locked and never observed half-updated, so the
// unwind-safety of a `Mutex` is that of std's (which is unconditional).
impl<T: ?Sized> RefUnwindSafe for Mutex<T> {}
impl<T: ?Sized> UnwindSafe for Mutex<T> {}

/// The guard of a locked [`Mutex`]; the lock is released (and the clock
/// published) when it is dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    lock: &'a Mutex<T>,
    /// Whether this guard is in its thread's held-lock record (`held.rs`).
    recorded: bool,
    // Dropped by hand, after the clock is released (see `Drop`).
    inner: ManuallyDrop<std::sync::MutexGuard<'a, T>>,
}

impl<T> Mutex<T> {
    /// Creates a new unlocked mutex.
    #[inline]
    pub const fn new(t: T) -> Mutex<T> {
        Mutex {
            sync: SyncVar::new(),
            inner: std::sync::Mutex::new(t),
        }
    }

    /// Consumes the mutex and returns the data (`Err` if poisoned).
    #[inline]
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    #[inline]
    fn addr(&self) -> usize {
        (self as *const Self).cast::<u8>() as usize
    }

    #[inline]
    fn guard<'a>(&'a self, inner: std::sync::MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        // SAFETY: called right after the real (exclusive) lock was taken;
        // every operation on this clock runs under that lock, and a mutex's
        // clock never sees a read lock or read unlock.
        unsafe { var::mutex_lock_acquired(&self.sync, self.addr()) };
        MutexGuard {
            recorded: held::acquired(self.addr(), true),
            lock: self,
            inner: ManuallyDrop::new(inner),
        }
    }

    /// Acquires the mutex, blocking until it is available.
    ///
    /// # Errors
    /// As std: `Err` carries the guard if another thread panicked while
    /// holding the lock.
    #[inline]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        crate::loom::hook::maybe_yield();
        map_result(self.inner.lock(), |g| self.guard(g))
    }

    /// Attempts to acquire the mutex without blocking. A `WouldBlock`
    /// failure creates no happens-before edge.
    ///
    /// # Errors
    /// As std: `WouldBlock` if the lock is held, `Poisoned` (with the guard)
    /// if it was poisoned.
    #[inline]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        map_try_result(self.inner.try_lock(), |g| self.guard(g))
    }

    /// Whether the mutex is poisoned.
    #[inline]
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// Clears the poisoned state.
    #[inline]
    pub fn clear_poison(&self) {
        self.inner.clear_poison();
    }

    /// A mutable reference to the data (no locking: `&mut self` is exclusive).
    #[inline]
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

/// Maps the guard inside a [`LockResult`], keeping the poison flag.
#[inline(always)]
pub(crate) fn map_result<G, H>(r: LockResult<G>, f: impl FnOnce(G) -> H) -> LockResult<H> {
    match r {
        Ok(g) => Ok(f(g)),
        Err(e) => Err(PoisonError::new(f(e.into_inner()))),
    }
}

/// Maps the guard inside a [`TryLockResult`]; `WouldBlock` (no lock taken,
/// so no edge) passes through untouched.
#[inline]
pub(crate) fn map_try_result<G, H>(
    r: TryLockResult<G>,
    f: impl FnOnce(G) -> H,
) -> TryLockResult<H> {
    match r {
        Ok(g) => Ok(f(g)),
        Err(TryLockError::Poisoned(e)) => {
            Err(TryLockError::Poisoned(PoisonError::new(f(e.into_inner()))))
        }
        Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(t: T) -> Mutex<T> {
        Mutex::new(t)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // std's format, with the data shown through an instrumented try_lock.
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(TryLockError::Poisoned(err)) => d.field("data", &&**err.get_ref()),
            Err(TryLockError::WouldBlock) => d.field("data", &format_args!("<locked>")),
        };
        d.field("poisoned", &self.is_poisoned());
        d.finish_non_exhaustive()
    }
}

// ===== impl MutexGuard =====

// SAFETY: the guard gives `&T` to whoever shares it, like std's guard (which
// is `Sync` when `T: Sync`); the lock reference it also holds is only used
// for the clock, which is internally synchronised.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Splits the guard for `Condvar`: publishes the clock (the wait unlocks)
    /// and hands over std's guard without running `Drop`.
    #[inline]
    pub(crate) fn into_std(self) -> (&'a Mutex<T>, std::sync::MutexGuard<'a, T>) {
        let mut this = ManuallyDrop::new(self);
        held::released(this.recorded, this.lock.addr(), true);
        // SAFETY: the real (exclusive) lock is still held here and is
        // released only after this call.
        unsafe { var::exclusive_unlock(&this.lock.sync, this.lock.addr()) };
        // SAFETY: `this` is never used or dropped again, so `inner` is moved
        // out exactly once.
        let inner = unsafe { ManuallyDrop::take(&mut this.inner) };
        (this.lock, inner)
    }

    /// Rebuilds the guard after `Condvar` re-acquired std's lock.
    #[inline]
    pub(crate) fn from_std(lock: &'a Mutex<T>, inner: std::sync::MutexGuard<'a, T>) -> Self {
        lock.guard(inner)
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        held::released(self.recorded, self.lock.addr(), true);
        // SAFETY: the real (exclusive) lock is still held here and is
        // released only after this call.
        unsafe { var::exclusive_unlock(&self.lock.sync, self.lock.addr()) };
        // SAFETY: `inner` is dropped exactly once, here, after the clock was
        // released, and is not used afterwards.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}
