//! The runtime's internal spin locks (shadow stripes, sync objects' clocks).
//!
//! They guard a few hundred instructions of clock or history work, never a
//! call out of the runtime, so spinning beats parking; after a short spin the
//! waiter yields, since on a machine with fewer cores than threads the holder
//! may be descheduled and needs the core to finish.

use std::sync::atomic::{AtomicBool, Ordering};

/// Takes `lock`.
#[inline]
pub(crate) fn acquire(lock: &AtomicBool) {
    if lock
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        wait(lock);
    }
}

/// The contended (or spuriously failed) half of [`acquire`].
#[cold]
#[inline(never)]
fn wait(lock: &AtomicBool) {
    let mut spins = 0u32;
    while lock
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        spins += 1;
        if spins < 64 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Releases `lock`, taken by [`acquire`].
#[inline]
pub(crate) fn release(lock: &AtomicBool) {
    lock.store(false, Ordering::Release);
}
