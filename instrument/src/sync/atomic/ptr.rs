//! [`AtomicPtr`].

use std::fmt;

use racedet_runtime::{AccessKind, SyncVar};

use super::{Ordering, atomic_common, atomic_rmw};

/// An atomic raw pointer with the API of [`std::sync::atomic::AtomicPtr`].
///
/// # Examples
///
/// ```
/// use racedet::sync::atomic::{AtomicPtr, Ordering};
///
/// let mut x = 5;
/// let p = AtomicPtr::new(&mut x as *mut i32);
/// assert_eq!(unsafe { *p.load(Ordering::Acquire) }, 5);
/// ```
pub struct AtomicPtr<T> {
    v: std::sync::atomic::AtomicPtr<T>,
    sync: SyncVar,
}

atomic_common!(AtomicPtr<T>, std::sync::atomic::AtomicPtr<T>, *mut T);

impl<T> AtomicPtr<T> {
    atomic_rmw!(*mut T;
        /// Offsets by `val` elements (wrapping), returning the previous pointer.
        fetch_ptr_add(usize),
        /// Offsets back by `val` elements (wrapping), returning the previous pointer.
        fetch_ptr_sub(usize),
        /// Offsets by `val` bytes (wrapping), returning the previous pointer.
        fetch_byte_add(usize),
        /// Offsets back by `val` bytes (wrapping), returning the previous pointer.
        fetch_byte_sub(usize),
        /// Bitwise or on the address, returning the previous pointer.
        fetch_or(usize),
        /// Bitwise and on the address, returning the previous pointer.
        fetch_and(usize),
        /// Bitwise xor on the address, returning the previous pointer.
        fetch_xor(usize),
    );
}

impl<T> Default for AtomicPtr<T> {
    fn default() -> Self {
        Self::new(std::ptr::null_mut())
    }
}

impl<T> fmt::Pointer for AtomicPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.load(Ordering::Relaxed), f)
    }
}
