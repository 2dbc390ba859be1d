//! # racedet: data-race detection for Rust on stable
//!
//! Drop-in versions of std's synchronisation types that tell the racedet
//! engine (`racedet-runtime`) every happens-before edge they create, plus
//! shared containers whose unsynchronised use is *reported* instead of being
//! undefined behaviour.
//!
//! ```
//! use racedet::collections::RaceMap;
//! use racedet::sync::Arc;
//!
//! let users = Arc::new(RaceMap::named("users"));
//! let races = racedet::check(|| {
//!     let w = { let users = users.clone(); racedet::thread::spawn(move || users.insert("ann", 1)) };
//!     let _ = users.get(&"ann"); // unsynchronised with the insert: a race
//!     w.join().unwrap();
//! });
//! assert!(races.is_err());
//! ```
//!
//! Switch a crate over with `cfg`:
//! `#[cfg(racedet)] use racedet::sync::Mutex; #[cfg(not(racedet))] use std::sync::Mutex;`.
//!
//! Detection is on when the environment has `RACEDET=1` or
//! `RACEDET_OPTIONS` (the `racedet` CLI sets them), and inside
//! [`check`]/[`assert_race_free`]. Off, every instrumented operation costs one
//! relaxed load and a branch.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod annotate;
mod biased_lock;
pub mod cell;
mod check;
pub mod collections;
mod loom;
pub mod sync;
pub mod thread;

pub use check::{RaceError, assert_race_free, check};

/// loom's extra API at loom's paths (`racedet::model`, `racedet::alloc`, ...).
#[cfg(feature = "loom")]
pub use loom::api::*;

/// The engine, for advanced use (custom instrumentation).
pub use racedet_runtime as runtime;
