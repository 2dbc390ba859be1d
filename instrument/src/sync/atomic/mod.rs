//! Atomics with the API of [`std::sync::atomic`]; each holds std's atomic
//! and a release clock, and every operation runs through the engine's
//! C++20 memory model ([`racedet_runtime::atomic`]).
//!
//! | operation (ordering)                          | happens-before effect                                  |
//! |-----------------------------------------------|--------------------------------------------------------|
//! | store `Release`/`SeqCst`                      | the location's clock := the thread's clock              |
//! | store `Relaxed`                               | the location's clock := the thread's last `fence(Release)` clock |
//! | RMW (`swap`, `fetch_*`, successful CAS)       | load part as below, then *joins* into the clock (continues the release sequence) |
//! | load / failed CAS `Acquire`/`SeqCst`          | acquires the location's clock                           |
//! | load / failed CAS `Relaxed`                   | stashes the clock for a later `fence(Acquire)`          |
//! | [`fence`]`(Release)`, `(Acquire)`, `(AcqRel/SeqCst)` | as std: publishes for later relaxed stores / takes what earlier relaxed loads read / both |
//! | `Debug` (and `Pointer` for [`AtomicPtr`])      | a `Relaxed` load, as std's                              |
//! | [`compiler_fence`], `get_mut`, `into_inner`, `as_ptr` | none                                            |
//!
//! So a `Relaxed` flag does not publish data, `Release`/`Acquire` does,
//! fences pair with relaxed accesses, and a `fetch_add` in the middle keeps
//! a release sequence alive. `SeqCst` adds no edge beyond acquire/release
//! (the single total order constrains values, not happens-before). The real
//! operation runs under the clock's lock, so the value a load returns and
//! the clock it acquires belong to the same store.
//!
//! The wrappers are larger than std's (they carry the clock), so the
//! `from_ptr` constructors cannot exist, and memory changed through
//! `as_ptr` bypasses the model. A user closure (`fetch_update`, `update`,
//! `try_update`) never runs under the clock's lock: those are loops of a
//! load and `compare_exchange_weak`, as in std. An invalid ordering (a
//! `Release` load, ...) panics with std's message, from std itself.

mod bool;
mod int;
mod ptr;

pub use std::sync::atomic::{Ordering, compiler_fence};

pub use self::bool::AtomicBool;
pub use self::int::{
    AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicU8, AtomicU16, AtomicU32,
    AtomicU64, AtomicUsize,
};
pub use self::ptr::AtomicPtr;

use racedet_runtime::api::var;
use racedet_runtime::{AccessKind, SyncVar};

/// A memory fence, as [`std::sync::atomic::fence`], modelled per the table
/// above.
///
/// # Panics
/// As std: on `Ordering::Relaxed`.
///
/// # Examples
///
/// ```
/// use racedet::sync::atomic::{fence, Ordering};
/// fence(Ordering::Release);
/// ```
#[inline]
pub fn fence(order: Ordering) {
    std::sync::atomic::fence(order);
    racedet_runtime::api::fence(order);
}

/// Runs the real operation `f` under `sync`'s lock and applies its effect.
#[inline]
fn run<R>(sync: &SyncVar, kind: AccessKind, order: Ordering, f: impl FnOnce() -> R) -> R {
    crate::loom::hook::maybe_yield();
    // Checked here, before the closure for the engine exists: otherwise
    // the compiler builds that closure in memory ahead of the check, which
    // costs a detection-off atomic a handful of stores.
    if !racedet_runtime::enabled() {
        return f();
    }
    var::atomic(sync, move || (f(), kind, order))
}

/// Valid for a load (and a CAS failure); an invalid one is left to std to
/// reject, outside the engine.
#[inline]
fn load_ok(order: Ordering) -> bool {
    !matches!(order, Ordering::Release | Ordering::AcqRel)
}

#[inline]
fn store_ok(order: Ordering) -> bool {
    !matches!(order, Ordering::Acquire | Ordering::AcqRel)
}

/// The failure ordering the deprecated `compare_and_swap` uses.
#[inline]
fn failure_for(order: Ordering) -> Ordering {
    match order {
        Ordering::Release => Ordering::Relaxed,
        Ordering::AcqRel => Ordering::Acquire,
        o => o,
    }
}

/// Methods shared by every atomic: `$name` wraps `$std` holding `$val`.
macro_rules! atomic_common {
    ($name:ident $(<$g:ident>)?, $std:ty, $val:ty) => {
        // The clock is internally locked, as std's atomics are unwind-safe.
        impl $(<$g>)? std::panic::RefUnwindSafe for $name $(<$g>)? {}

        impl $(<$g>)? $name $(<$g>)? {
            /// A new atomic holding `v`.
            #[inline]
            pub const fn new(v: $val) -> Self {
                Self { v: <$std>::new(v), sync: racedet_runtime::SyncVar::new() }
            }

            /// The value, mutably (`&mut self` is exclusive).
            #[inline]
            pub fn get_mut(&mut self) -> &mut $val {
                self.v.get_mut()
            }

            /// The value, consuming the atomic.
            #[inline]
            pub fn into_inner(self) -> $val {
                self.v.into_inner()
            }

            /// A raw pointer to the value. Accesses through it are not seen
            /// by the detector.
            #[inline]
            pub const fn as_ptr(&self) -> *mut $val {
                self.v.as_ptr()
            }

            /// Loads the value.
            ///
            /// # Panics
            /// As std: on `Release` or `AcqRel`.
            #[inline]
            pub fn load(&self, order: Ordering) -> $val {
                if !super::load_ok(order) {
                    return self.v.load(order);
                }
                super::run(&self.sync, AccessKind::AtomicLoad, order, move || self.v.load(order))
            }

            /// Stores `val`.
            ///
            /// # Panics
            /// As std: on `Acquire` or `AcqRel`.
            #[inline]
            pub fn store(&self, val: $val, order: Ordering) {
                if !super::store_ok(order) {
                    return self.v.store(val, order);
                }
                super::run(&self.sync, AccessKind::AtomicStore, order, move || self.v.store(val, order))
            }

            /// Stores `val`, returning the previous value.
            #[inline]
            pub fn swap(&self, val: $val, order: Ordering) -> $val {
                super::run(&self.sync, AccessKind::AtomicRmw, order, move || self.v.swap(val, order))
            }

            /// Stores `new` if the value is `current`; returns the previous value.
            #[deprecated(since = "1.50.0", note = "Use `compare_exchange` or `compare_exchange_weak` instead")]
            #[inline]
            pub fn compare_and_swap(&self, current: $val, new: $val, order: Ordering) -> $val {
                match self.compare_exchange(current, new, order, super::failure_for(order)) {
                    Ok(v) | Err(v) => v,
                }
            }

            /// Stores `new` if the value is `current`. A failure is a load
            /// with the `failure` ordering.
            ///
            /// # Errors
            /// `Err(actual)` if the value was not `current`.
            ///
            /// # Panics
            /// As std: on a `Release` or `AcqRel` failure ordering.
            #[inline]
            pub fn compare_exchange(
                &self,
                current: $val,
                new: $val,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$val, $val> {
                if !super::load_ok(failure) {
                    return self.v.compare_exchange(current, new, success, failure);
                }
                crate::loom::hook::maybe_yield();
                // Checked before the engine's closure exists (see `run`).
                if !racedet_runtime::enabled() {
                    return self.v.compare_exchange(current, new, success, failure);
                }
                racedet_runtime::api::var::atomic(&self.sync, move || {
                    let r = self.v.compare_exchange(current, new, success, failure);
                    match r {
                        Ok(_) => (r, AccessKind::AtomicRmw, success),
                        Err(_) => (r, AccessKind::AtomicLoad, failure),
                    }
                })
            }

            /// Like `compare_exchange`, but may fail spuriously.
            ///
            /// # Errors
            /// `Err(actual)` if the value was not `current` (or spuriously).
            ///
            /// # Panics
            /// As std: on a `Release` or `AcqRel` failure ordering.
            #[inline]
            pub fn compare_exchange_weak(
                &self,
                current: $val,
                new: $val,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$val, $val> {
                if !super::load_ok(failure) {
                    return self.v.compare_exchange_weak(current, new, success, failure);
                }
                crate::loom::hook::maybe_yield();
                // Checked before the engine's closure exists (see `run`).
                if !racedet_runtime::enabled() {
                    return self.v.compare_exchange_weak(current, new, success, failure);
                }
                racedet_runtime::api::var::atomic(&self.sync, move || {
                    let r = self.v.compare_exchange_weak(current, new, success, failure);
                    match r {
                        Ok(_) => (r, AccessKind::AtomicRmw, success),
                        Err(_) => (r, AccessKind::AtomicLoad, failure),
                    }
                })
            }

            /// Applies `f` until it returns `None` or the update succeeds.
            ///
            /// # Errors
            /// `Err(previous)` if `f` returned `None`.
            #[inline]
            pub fn fetch_update<F>(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                f: F,
            ) -> Result<$val, $val>
            where
                F: FnMut($val) -> Option<$val>,
            {
                self.try_update(set_order, fetch_order, f)
            }

            /// Applies `f` until it returns `None` or the update succeeds.
            ///
            /// # Errors
            /// `Err(previous)` if `f` returned `None`.
            #[inline]
            pub fn try_update(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                mut f: impl FnMut($val) -> Option<$val>,
            ) -> Result<$val, $val> {
                let mut prev = self.load(fetch_order);
                while let Some(next) = f(prev) {
                    match self.compare_exchange_weak(prev, next, set_order, fetch_order) {
                        Ok(v) => return Ok(v),
                        Err(actual) => prev = actual,
                    }
                }
                Err(prev)
            }

            /// Applies `f` until the update succeeds; returns the previous value.
            #[inline]
            pub fn update(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                mut f: impl FnMut($val) -> $val,
            ) -> $val {
                let mut prev = self.load(fetch_order);
                loop {
                    match self.compare_exchange_weak(prev, f(prev), set_order, fetch_order) {
                        Ok(v) => return v,
                        Err(actual) => prev = actual,
                    }
                }
            }
        }

        impl $(<$g>)? From<$val> for $name $(<$g>)? {
            #[inline]
            fn from(v: $val) -> Self {
                Self::new(v)
            }
        }

        impl $(<$g>)? std::fmt::Debug for $name $(<$g>)? {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // std formats a Relaxed load, which a later `fence(Acquire)`
                // may rely on: it goes through the model like any load.
                std::fmt::Debug::fmt(&self.load(Ordering::Relaxed), f)
            }
        }
    };
}
use atomic_common;

/// Read-modify-write methods taking one argument.
macro_rules! atomic_rmw {
    ($val:ty; $($(#[$m:meta])* $f:ident($arg:ty)),* $(,)?) => {$(
        $(#[$m])*
        #[inline]
        pub fn $f(&self, val: $arg, order: Ordering) -> $val {
            super::run(&self.sync, AccessKind::AtomicRmw, order, move || self.v.$f(val, order))
        }
    )*};
}
use atomic_rmw;
