//! Heap values published once through an `AtomicPtr`: the lazily allocated
//! parts of shared objects (a primitive's clocks, per-slot entry chunks, an
//! object's shared-read block).
//!
//! The pointer is installed with a compare-exchange, so every thread that
//! sees it null ends up on the same allocation: the exchange reads the
//! latest value, whatever a plain load was allowed to miss; a thread that
//! loses the race frees its own value, which nobody else saw.

use std::sync::atomic::{AtomicPtr, Ordering};

/// The value behind `slot`, if one was installed.
///
/// # Safety
/// A non-null pointer in `slot` came from [`install`], and is freed only by
/// the owner of `slot` with exclusive access to it (its `Drop`).
#[inline(always)]
pub(crate) unsafe fn get<T>(slot: &AtomicPtr<T>) -> Option<&T> {
    // Acquire: pairs with the installing exchange, so the value's
    // initialisation is visible.
    let p = slot.load(Ordering::Acquire);
    // SAFETY: per the contract, the value lives as long as `slot` is
    // borrowed.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// The value behind `slot`, installing `make()` if there is none yet.
///
/// # Safety
/// As [`get`].
#[cold]
#[inline(never)]
pub(crate) unsafe fn install<T>(slot: &AtomicPtr<T>, make: impl FnOnce() -> T) -> &T {
    let fresh = Box::into_raw(Box::new(make()));
    let p = match slot.compare_exchange(
        std::ptr::null_mut(),
        fresh,
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => fresh,
        Err(installed) => {
            // SAFETY: `fresh` came from `Box::into_raw` above and was never
            // shared.
            drop(unsafe { Box::from_raw(fresh) });
            installed
        }
    };
    // SAFETY: as in `get`.
    unsafe { &*p }
}

/// Frees the value behind `slot`, if any (the owner's `Drop`).
pub(crate) fn free<T>(slot: &mut AtomicPtr<T>) {
    let p = std::mem::replace(slot.get_mut(), std::ptr::null_mut());
    if !p.is_null() {
        // SAFETY: a non-null pointer came from `Box::into_raw` in `install`,
        // and `&mut` excludes every reference handed out by `get`.
        drop(unsafe { Box::from_raw(p) });
    }
}
