//! loom's items that std has no counterpart of, glob-re-exported at the
//! crate root so that `loom::model`, `loom::model::Builder`,
//! `loom::alloc::alloc`, `loom::hint::spin_loop`, `loom::future::block_on`,
//! `loom::explore()`, `loom::lazy_static!` and `loom::thread_local!` resolve
//! when this package is renamed to `loom`. `model` is both a function and a
//! module, as in loom (they live in different namespaces).

pub use super::runner::{MAX_THREADS, model};

/// Model configuration, as `loom::model`.
pub mod model {
    pub use crate::loom::runner::{Builder, model};
}

/// Memory allocation, as `loom::alloc`.
pub mod alloc {
    use racedet_runtime::{Site, api};

    pub use std::alloc::Layout;

    /// Allocates with the global allocator, as `loom::alloc::alloc`.
    ///
    /// # Safety
    /// As [`std::alloc::alloc`].
    pub unsafe fn alloc(layout: Layout) -> *mut u8 {
        // SAFETY: forwarded; the caller upholds `std::alloc::alloc`'s contract.
        unsafe { std::alloc::alloc(layout) }
    }

    /// Allocates zeroed memory, as `loom::alloc::alloc_zeroed`.
    ///
    /// # Safety
    /// As [`std::alloc::alloc_zeroed`].
    pub unsafe fn alloc_zeroed(layout: Layout) -> *mut u8 {
        // SAFETY: forwarded; the caller upholds the contract.
        unsafe { std::alloc::alloc_zeroed(layout) }
    }

    /// Frees memory, as `loom::alloc::dealloc`. The free is a checked write
    /// of the whole block (a use that is not ordered before it is a race,
    /// as in TSan), after which the block's history is forgotten so that a
    /// new allocation at the same address starts clean.
    ///
    /// # Safety
    /// As [`std::alloc::dealloc`].
    #[track_caller]
    pub unsafe fn dealloc(ptr: *mut u8, layout: Layout) {
        if layout.size() > 0 {
            api::write_range(ptr as usize, layout.size(), Site::caller());
            api::reset_range(ptr as usize, layout.size());
        }
        // SAFETY: forwarded; the caller upholds `std::alloc::dealloc`'s contract.
        unsafe { std::alloc::dealloc(ptr, layout) }
    }

    /// loom's leak-tracking wrapper; racedet does not track leaks, so this
    /// only holds the value.
    #[derive(Debug)]
    pub struct Track<T> {
        value: T,
    }

    impl<T> Track<T> {
        /// Wraps `value`.
        pub fn new(value: T) -> Track<T> {
            Track { value }
        }

        /// The value.
        pub fn get_ref(&self) -> &T {
            &self.value
        }

        /// The value, mutably.
        pub fn get_mut(&mut self) -> &mut T {
            &mut self.value
        }

        /// Unwraps the value.
        pub fn into_inner(self) -> T {
            self.value
        }
    }
}

/// Hints, as `loom::hint`.
pub mod hint {
    pub use std::hint::unreachable_unchecked;

    /// A spin-loop hint; inside a model also a possible yield point (loom
    /// yields here).
    #[inline]
    pub fn spin_loop() {
        crate::loom::hook::maybe_yield();
        std::hint::spin_loop();
    }
}

/// Futures support, as `loom::future` (no `futures` dependency needed).
pub mod future {
    pub use crate::loom::future::{AtomicWaker, block_on};
}

/// loom: marks where exploration may start (a no-op: racedet runs every
/// iteration whole).
pub fn explore() {}

/// loom: stops exploring further branches (a no-op).
pub fn stop_exploring() {}

/// loom: skips the current branch (a no-op).
pub fn skip_branch() {}

/// `lazy_static!`, as loom's: a `static ref` initialised on first use
/// through racedet's [`LazyLock`](crate::sync::LazyLock) (initialisation
/// happens-before every use). Unlike loom's, the value lives for the whole
/// process, not one iteration.
///
/// ```
/// racedet::lazy_static! {
///     static ref ANSWER: u32 = 6 * 7;
/// }
/// assert_eq!(*ANSWER, 42);
/// ```
#[macro_export]
macro_rules! lazy_static {
    ($(#[$attr:meta])* static ref $N:ident : $T:ty = $e:expr; $($t:tt)*) => {
        $crate::__racedet_lazy_static!($(#[$attr])* () $N, $T, $e);
        $crate::lazy_static!($($t)*);
    };
    ($(#[$attr:meta])* pub static ref $N:ident : $T:ty = $e:expr; $($t:tt)*) => {
        $crate::__racedet_lazy_static!($(#[$attr])* (pub) $N, $T, $e);
        $crate::lazy_static!($($t)*);
    };
    ($(#[$attr:meta])* pub ($($vis:tt)+) static ref $N:ident : $T:ty = $e:expr; $($t:tt)*) => {
        $crate::__racedet_lazy_static!($(#[$attr])* (pub ($($vis)+)) $N, $T, $e);
        $crate::lazy_static!($($t)*);
    };
    () => {};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __racedet_lazy_static {
    ($(#[$attr:meta])* ($($vis:tt)*) $N:ident, $T:ty, $e:expr) => {
        #[allow(non_camel_case_types, dead_code, missing_copy_implementations)]
        $(#[$attr])*
        $($vis)* struct $N {
            __private_field: (),
        }
        #[doc(hidden)]
        $($vis)* static $N: $N = $N { __private_field: () };
        impl ::core::ops::Deref for $N {
            type Target = $T;
            fn deref(&self) -> &$T {
                fn __init() -> $T {
                    $e
                }
                static LAZY: $crate::sync::LazyLock<$T> =
                    $crate::sync::LazyLock::new(__init as fn() -> $T);
                &LAZY
            }
        }
    };
}

/// `thread_local!`, as loom's: std's thread-locals. Each model iteration
/// runs on fresh threads, so a model sees fresh values per iteration, as in
/// loom.
///
/// ```
/// use std::cell::Cell;
/// racedet::thread_local! {
///     static DEPTH: Cell<u32> = Cell::new(0);
/// }
/// DEPTH.with(|d| d.set(d.get() + 1));
/// assert_eq!(DEPTH.with(Cell::get), 1);
/// ```
#[macro_export]
macro_rules! thread_local {
    ($($t:tt)*) => {
        ::std::thread_local!($($t)*);
    };
}
