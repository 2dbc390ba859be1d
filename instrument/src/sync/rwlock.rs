//! [`RwLock`]: std's reader-writer lock, plus the lock's clocks.
//!
//! | operation                              | happens-before effect                                   |
//! |----------------------------------------|---------------------------------------------------------|
//! | `write`, successful `try_write`        | acquires the last write unlock *and* every read unlock since |
//! | write guard drop                       | releases (stores) the clock: the next reader or writer acquires it |
//! | `read`, successful `try_read`          | acquires the last write unlock only                     |
//! | read guard drop                        | joins the clock into the read-unlock clock (for the next writer) |
//! | failed `try_read`/`try_write` (`WouldBlock`) | none                                              |
//!
//! Two readers never order each other: a reader acquires only what writers
//! published, which is what std guarantees (shared access cannot publish
//! anything through the lock, except to the next writer).

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::{RefUnwindSafe, UnwindSafe};

use racedet_runtime::SyncVar;
use racedet_runtime::api::var;
use racedet_runtime::sync::ReadHeld;

use super::held;
use super::mutex::{map_result, map_try_result};
use super::{LockResult, TryLockError, TryLockResult};

/// A reader-writer lock with the API of [`std::sync::RwLock`].
///
/// # Examples
///
/// ```
/// use racedet::sync::RwLock;
///
/// let lock = RwLock::new(5);
/// {
///     let r1 = lock.read().unwrap();
///     let r2 = lock.read().unwrap();
///     assert_eq!(*r1 + *r2, 10);
/// }
/// *lock.write().unwrap() += 1;
/// assert_eq!(*lock.read().unwrap(), 6);
/// ```
pub struct RwLock<T: ?Sized> {
    sync: SyncVar,
    inner: std::sync::RwLock<T>,
}

// As for `Mutex`: the clocks are internally locked.
impl<T: ?Sized> RefUnwindSafe for RwLock<T> {}
impl<T: ?Sized> UnwindSafe for RwLock<T> {}

/// Shared access to a locked [`RwLock`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    sync: &'a SyncVar,
    /// The lock's clocks as the read lock found them, for the unlock.
    held: ReadHeld<'a>,
    /// The lock's address: reports list it among the locks held.
    addr: usize,
    /// Whether this guard is in its thread's held-lock record (`held.rs`).
    recorded: bool,
    inner: ManuallyDrop<std::sync::RwLockReadGuard<'a, T>>,
}

/// Exclusive access to a locked [`RwLock`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    /// Whether this guard is in its thread's held-lock record (`held.rs`).
    recorded: bool,
    inner: ManuallyDrop<std::sync::RwLockWriteGuard<'a, T>>,
}

// SAFETY (both): the guards hand out `&T` like std's, which are `Sync` when
// `T: Sync`; the extra reference only reaches the internally locked clock.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<T> RwLock<T> {
    /// Creates a new unlocked lock.
    #[inline]
    pub const fn new(t: T) -> RwLock<T> {
        RwLock {
            sync: SyncVar::new(),
            inner: std::sync::RwLock::new(t),
        }
    }

    /// Consumes the lock and returns the data (`Err` if poisoned).
    #[inline]
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    #[inline]
    fn addr(&self) -> usize {
        (self as *const Self).cast::<u8>() as usize
    }

    #[inline(always)]
    fn read_guard<'a>(&'a self, g: std::sync::RwLockReadGuard<'a, T>) -> RwLockReadGuard<'a, T> {
        // SAFETY: called right after the real lock's shared side was taken;
        // every operation on this clock runs under the real lock, the
        // writer-side ones (`write_guard`, write guard drop) under its
        // exclusive side.
        let held = unsafe { var::shared_read_lock_acquired(&self.sync, self.addr()) };
        RwLockReadGuard {
            recorded: held::acquired(self.addr(), false),
            sync: &self.sync,
            held,
            addr: self.addr(),
            inner: ManuallyDrop::new(g),
        }
    }

    #[inline(always)]
    fn write_guard<'a>(&'a self, g: std::sync::RwLockWriteGuard<'a, T>) -> RwLockWriteGuard<'a, T> {
        // SAFETY: called right after the real (exclusive) lock was taken;
        // every operation on this clock runs under that lock.
        unsafe { var::exclusive_lock_acquired(&self.sync, self.addr()) };
        RwLockWriteGuard {
            recorded: held::acquired(self.addr(), true),
            lock: self,
            inner: ManuallyDrop::new(g),
        }
    }

    /// Locks for shared read access, blocking while a writer holds the lock.
    ///
    /// # Errors
    /// As std: `Err` (with the guard) if the lock is poisoned.
    #[inline(always)]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        map_result(self.inner.read(), |g| self.read_guard(g))
    }

    /// Attempts shared access without blocking.
    ///
    /// # Errors
    /// As std: `WouldBlock` or `Poisoned`.
    #[inline]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        map_try_result(self.inner.try_read(), |g| self.read_guard(g))
    }

    /// Locks for exclusive write access.
    ///
    /// # Errors
    /// As std: `Err` (with the guard) if the lock is poisoned.
    #[inline(always)]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        map_result(self.inner.write(), |g| self.write_guard(g))
    }

    /// Attempts exclusive access without blocking.
    ///
    /// # Errors
    /// As std: `WouldBlock` or `Poisoned`.
    #[inline]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        map_try_result(self.inner.try_write(), |g| self.write_guard(g))
    }

    /// Whether the lock is poisoned.
    #[inline]
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// Clears the poisoned state.
    #[inline]
    pub fn clear_poison(&self) {
        self.inner.clear_poison();
    }

    /// A mutable reference to the data (`&mut self` is exclusive).
    #[inline]
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(t: T) -> RwLock<T> {
        RwLock::new(t)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(TryLockError::Poisoned(err)) => d.field("data", &&**err.get_ref()),
            Err(TryLockError::WouldBlock) => d.field("data", &format_args!("<locked>")),
        };
        d.field("poisoned", &self.is_poisoned());
        d.finish_non_exhaustive()
    }
}

// ===== impl guards =====

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        held::released(self.recorded, self.addr, false);
        // SAFETY: the real lock's shared side is still held (released just
        // below), and every writer-side operation on this clock runs under
        // its exclusive side (`write_guard`, write guard drop).
        unsafe { var::shared_read_unlock(self.sync, self.held, self.addr) };
        // SAFETY: dropped exactly once, here, after the clock was released.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        held::released(self.recorded, self.lock.addr(), true);
        // SAFETY: the real (exclusive) lock is still held here and is
        // released only after this call.
        unsafe { var::exclusive_write_unlock(&self.lock.sync, self.lock.addr()) };
        // SAFETY: dropped exactly once, here, after the clock was released.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

macro_rules! fmt_guard {
    ($($g:ident),*) => {$(
        impl<T: ?Sized + fmt::Debug> fmt::Debug for $g<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
        impl<T: ?Sized + fmt::Display> fmt::Display for $g<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                (**self).fmt(f)
            }
        }
    )*};
}
fmt_guard!(RwLockReadGuard, RwLockWriteGuard);
