//! `loom::sync::Notify`: a one-waiter notification, loom's mock of the
//! park/unpark pattern.
//!
//! | operation | happens-before effect |
//! |-----------|-----------------------|
//! | `notify` → the `wait` that consumes it | everything before `notify` → after `wait` |
//!
//! The flag and the blocking are std's mutex and condvar, which the detector
//! does not see (they would order the waiter before later notifies too); the
//! edge is a clock released by `notify` and acquired by `wait`, both while
//! holding that mutex, so `wait` acquires exactly the notifies it consumed
//! (and earlier ones).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

use racedet_runtime::SyncVar;
use racedet_runtime::api::var;

/// A notification for one waiting thread, as `loom::sync::Notify`.
///
/// ```
/// use racedet::sync::{Arc, Notify};
///
/// let n = Arc::new(Notify::new());
/// let m = n.clone();
/// racedet::thread::spawn(move || m.notify());
/// n.wait();
/// ```
pub struct Notify {
    notified: Mutex<bool>,
    cv: Condvar,
    clock: SyncVar,
    waiting: AtomicBool,
}

impl Notify {
    /// A new `Notify`, not notified.
    pub fn new() -> Notify {
        Notify {
            notified: Mutex::new(false),
            cv: Condvar::new(),
            clock: SyncVar::new(),
            waiting: AtomicBool::new(false),
        }
    }

    /// Notifies the waiter (or the next `wait`).
    pub fn notify(&self) {
        crate::loom::hook::maybe_yield();
        let mut n = self.notified.lock().unwrap_or_else(|e| e.into_inner());
        var::release(&self.clock);
        *n = true;
        self.cv.notify_one();
    }

    /// Waits for a notification and consumes it.
    ///
    /// # Panics
    /// If another thread is waiting on the same `Notify` (as loom).
    pub fn wait(&self) {
        let busy = self.waiting.swap(true, Ordering::Relaxed);
        assert!(!busy, "only a single thread may wait on `Notify`");
        crate::loom::hook::maybe_yield();
        let mut n = self.notified.lock().unwrap_or_else(|e| e.into_inner());
        while !*n {
            n = self.cv.wait(n).unwrap_or_else(|e| e.into_inner());
        }
        *n = false;
        var::acquire(&self.clock);
        drop(n);
        self.waiting.store(false, Ordering::Relaxed);
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify").finish_non_exhaustive()
    }
}
