//! The integer atomics.

use racedet_runtime::{AccessKind, SyncVar};

use super::{Ordering, atomic_common, atomic_rmw};

macro_rules! atomic_int {
    ($($name:ident($val:ty)),* $(,)?) => {$(
        #[doc = concat!("An atomic `", stringify!($val), "` with the API of [`std::sync::atomic::", stringify!($name), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use racedet::sync::atomic::{", stringify!($name), ", Ordering};")]
        ///
        #[doc = concat!("let n = ", stringify!($name), "::new(1);")]
        /// assert_eq!(n.fetch_add(2, Ordering::AcqRel), 1);
        /// assert_eq!(n.load(Ordering::Acquire), 3);
        /// ```
        pub struct $name {
            v: std::sync::atomic::$name,
            sync: SyncVar,
        }

        atomic_common!($name, std::sync::atomic::$name, $val);

        impl $name {
            atomic_rmw!($val;
                /// Adds (wrapping), returning the previous value.
                fetch_add($val),
                /// Subtracts (wrapping), returning the previous value.
                fetch_sub($val),
                /// Bitwise and, returning the previous value.
                fetch_and($val),
                /// Bitwise nand, returning the previous value.
                fetch_nand($val),
                /// Bitwise or, returning the previous value.
                fetch_or($val),
                /// Bitwise xor, returning the previous value.
                fetch_xor($val),
                /// Maximum, returning the previous value.
                fetch_max($val),
                /// Minimum, returning the previous value.
                fetch_min($val),
            );
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new(0)
            }
        }
    )*};
}

atomic_int!(
    AtomicU8(u8),
    AtomicU16(u16),
    AtomicU32(u32),
    AtomicU64(u64),
    AtomicUsize(usize),
    AtomicI8(i8),
    AtomicI16(i16),
    AtomicI32(i32),
    AtomicI64(i64),
    AtomicIsize(isize),
);
