//! [`AtomicBool`].

use racedet_runtime::{AccessKind, SyncVar};

use super::{Ordering, atomic_common, atomic_rmw};

/// An atomic `bool` with the API of [`std::sync::atomic::AtomicBool`].
///
/// # Examples
///
/// ```
/// use racedet::sync::atomic::{AtomicBool, Ordering};
///
/// let flag = AtomicBool::new(false);
/// assert!(!flag.swap(true, Ordering::AcqRel));
/// assert!(flag.fetch_not(Ordering::AcqRel));
/// assert!(!flag.load(Ordering::Acquire));
/// ```
pub struct AtomicBool {
    v: std::sync::atomic::AtomicBool,
    sync: SyncVar,
}

atomic_common!(AtomicBool, std::sync::atomic::AtomicBool, bool);

impl AtomicBool {
    atomic_rmw!(bool;
        /// Logical and, returning the previous value.
        fetch_and(bool),
        /// Logical nand, returning the previous value.
        fetch_nand(bool),
        /// Logical or, returning the previous value.
        fetch_or(bool),
        /// Logical xor, returning the previous value.
        fetch_xor(bool),
    );

    /// Logical not, returning the previous value.
    #[inline]
    pub fn fetch_not(&self, order: Ordering) -> bool {
        super::run(&self.sync, AccessKind::AtomicRmw, order, move || {
            self.v.fetch_not(order)
        })
    }
}

impl Default for AtomicBool {
    fn default() -> Self {
        Self::new(false)
    }
}
