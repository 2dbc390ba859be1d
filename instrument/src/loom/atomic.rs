//! loom's extra atomic methods: `with_mut` (exclusive access through
//! `&mut self`, no ordering needed) and `unsync_load` (a plain load the
//! caller promises is not concurrent with any store). racedet does not
//! check `unsync_load` (the atomic's stores are not shadowed as plain
//! writes), where loom checks that every store happens-before it.

use crate::sync::atomic::{
    AtomicBool, AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicPtr, AtomicU8,
    AtomicU16, AtomicU32, AtomicU64, AtomicUsize,
};

macro_rules! loom_ext {
    ($($name:ident $(<$g:ident>)? ($val:ty)),* $(,)?) => {$(
        impl $(<$g>)? $name $(<$g>)? {
            /// Runs `f` with the value, mutably (`&mut self` is exclusive),
            /// as loom's `with_mut`.
            #[inline]
            pub fn with_mut<R>(&mut self, f: impl FnOnce(&mut $val) -> R) -> R {
                f(self.get_mut())
            }

            /// Loads the value without synchronisation, as loom's
            /// `unsync_load`.
            ///
            /// # Safety
            /// No store to the atomic may be concurrent with this load.
            #[inline]
            pub unsafe fn unsync_load(&self) -> $val {
                // SAFETY: the caller rules out concurrent stores, so a plain
                // read of the value is not a data race.
                unsafe { self.as_ptr().read() }
            }
        }
    )*};
}

loom_ext!(
    AtomicBool(bool),
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
    AtomicPtr<T>(*mut T),
);
