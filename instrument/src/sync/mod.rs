//! Synchronisation primitives with the API of [`std::sync`], each telling
//! the detector exactly the happens-before edges its std counterpart
//! guarantees: no fewer (a missing edge is a false race report) and no more
//! (an extra edge hides real races).
//!
//! | type | edges (details in each module) |
//! |------|--------------------------------|
//! | [`Mutex`] | unlock → next lock (also a poisoned lock; not a failed `try_lock`) |
//! | [`RwLock`] | write unlock → every later lock; read unlock → next write lock; never reader → reader |
//! | [`Condvar`] | only through its mutex (wait unlocks, wake-up relocks) |
//! | [`Barrier`] | every waiter's arrival → every waiter's departure, per generation |
//! | [`Once`], [`OnceLock`], [`LazyLock`] | initialisation → every caller that observes completion |
//! | [`Arc`] | every drop → the last drop (and `get_mut`, `try_unwrap`, `into_inner`) |
//! | [`mpsc`] | send → the receive of that message |
//! | [`atomic`] | release (sequence) → acquire that reads from it, fences, per C++20 |
//!
//! Switch code over with `cfg`, the types being drop-in replacements:
//!
//! ```
//! #[cfg(racedet)]
//! use racedet::sync::Mutex;
//! #[cfg(not(racedet))]
//! use std::sync::Mutex;
//!
//! let m = Mutex::new(1);
//! *m.lock().unwrap() += 1;
//! ```
//!
//! The poison and error types are std's own ([`PoisonError`],
//! [`LockResult`], ...), so error handling code is shared too.

mod arc;
pub mod atomic;
mod barrier;
mod condvar;
pub(crate) mod held;
pub mod mpsc;
mod mutex;
mod once;
mod rwlock;

pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

pub use self::arc::{Arc, ArcInner, Weak};
pub use self::barrier::{Barrier, BarrierWaitResult};
pub use self::condvar::{Condvar, WaitTimeoutResult};
pub use self::mutex::{Mutex, MutexGuard};
pub use self::once::{LazyLock, Once, OnceLock, OnceState};
pub use self::rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};

#[cfg(feature = "loom")]
pub use crate::loom::notify::Notify;
