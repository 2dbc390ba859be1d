//! [`Condvar`]: std's condition variable over racedet's [`Mutex`].
//!
//! | operation                         | happens-before effect                                 |
//! |-----------------------------------|-------------------------------------------------------|
//! | `wait*` entering the wait         | the mutex is unlocked: its clock is released           |
//! | `wait*` returning (woken or timed out) | the mutex is locked again: its clock is acquired |
//! | `notify_one`, `notify_all`        | none                                                  |
//!
//! All edges go through the mutex, as std promises: a notification by
//! itself orders nothing (the waiter may even wake spuriously), and whatever
//! the notifier wrote under the lock is seen because the waiter re-locks.
//! The `*_while` variants evaluate the condition under the re-acquired
//! clock, so accesses in the condition are ordered like any other accesses
//! under the lock.

use std::fmt;
use std::time::{Duration, Instant};

use super::LockResult;
use super::mutex::{MutexGuard, map_result};

/// A condition variable with the API of [`std::sync::Condvar`].
///
/// # Examples
///
/// ```
/// use racedet::sync::{Arc, Condvar, Mutex};
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let p = Arc::clone(&pair);
/// racedet::thread::spawn(move || {
///     *p.0.lock().unwrap() = true;
///     p.1.notify_one();
/// });
/// let (lock, cvar) = &*pair;
/// let started = cvar.wait_while(lock.lock().unwrap(), |s| !*s).unwrap();
/// assert!(*started);
/// ```
#[derive(Default)]
pub struct Condvar {
    inner: std::sync::Condvar,
}

/// Whether a timed wait timed out (std's type, whose constructor is private).
#[derive(Debug, PartialEq, Eq, Copy, Clone)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// `true` if the wait ended because the timeout elapsed.
    #[must_use]
    #[inline]
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

impl Condvar {
    /// Creates a new condition variable.
    #[must_use]
    #[inline]
    pub const fn new() -> Condvar {
        Condvar {
            inner: std::sync::Condvar::new(),
        }
    }

    /// Blocks until notified (or woken spuriously), unlocking `guard`'s
    /// mutex meanwhile.
    ///
    /// # Errors
    /// As std: `Err` (with the guard) if the mutex is poisoned on wake-up.
    ///
    /// # Panics
    /// As std: may panic if used with more than one mutex.
    #[inline]
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        let (lock, g) = guard.into_std();
        map_result(self.inner.wait(g), |g| MutexGuard::from_std(lock, g))
    }

    /// Blocks while `condition` returns `true`.
    ///
    /// # Errors
    /// As std: `Err` (with the guard) if the mutex is poisoned on wake-up.
    pub fn wait_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Blocks until notified or until `dur` elapsed.
    ///
    /// # Errors
    /// As std: `Err` (with the guard and result) if the mutex is poisoned.
    #[inline]
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let (lock, g) = guard.into_std();
        map_result(self.inner.wait_timeout(g, dur), |(g, r)| {
            (
                MutexGuard::from_std(lock, g),
                WaitTimeoutResult(r.timed_out()),
            )
        })
    }

    /// Blocks while `condition` returns `true`, for at most `dur`.
    ///
    /// # Errors
    /// As std: `Err` (with the guard and result) if the mutex is poisoned.
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        dur: Duration,
        mut condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        let start = Instant::now();
        loop {
            if !condition(&mut *guard) {
                return Ok((guard, WaitTimeoutResult(false)));
            }
            let Some(left) = dur.checked_sub(start.elapsed()) else {
                return Ok((guard, WaitTimeoutResult(true)));
            };
            guard = self.wait_timeout(guard, left)?.0;
        }
    }

    /// Wakes one waiter. Creates no happens-before edge by itself.
    #[inline]
    pub fn notify_one(&self) {
        self.inner.notify_one();
    }

    /// Wakes all waiters. Creates no happens-before edge by itself.
    #[inline]
    pub fn notify_all(&self) {
        self.inner.notify_all();
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}
