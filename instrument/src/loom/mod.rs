//! The loom drop-in: a crate's `cfg(loom)` test suite, run on real threads
//! under racedet.
//!
//! A crate under test renames this package to `loom`
//! (`loom = { package = "racedet", features = ["loom"] }`), so its facade's
//! `loom::sync::Arc`, `loom::cell::UnsafeCell`, `loom::thread::spawn` and its
//! tests' `loom::model(|| ..)` resolve to racedet's paths. Where loom's API
//! is std's, racedet's std-mirroring types already stand at the right path;
//! this module adds what only loom has, behind the `loom` feature:
//!
//! * [`api`]: the items glob-re-exported at the crate root: `model` (both the
//!   function and the module with `Builder`), `alloc`, `hint`, `future`,
//!   `explore`/`stop_exploring`/`skip_branch`, and the `lazy_static!` and
//!   `thread_local!` macros;
//! * [`runner`]: what `model` does: run the closure many times on fresh
//!   threads with detection on, injecting seeded random yields at sync points
//!   so that different interleavings run, and failing on a race or a panic
//!   with the report and the seed that replays the iteration;
//! * [`cell`]: `UnsafeCell::get`/`get_mut` with loom's guard pointers
//!   (`ConstPtr`, `MutPtr`) and loom's `Cell`; [`atomic`]: `with_mut` and
//!   `unsync_load`; [`notify`]: loom's `Notify`;
//! * [`hook`] (always compiled): the yield-injection and thread-tracking
//!   hooks that the sync types call, no-ops without the feature.
//!
//! **Relation to loom.** loom runs the closure under its own scheduler and
//! explores every interleaving (up to its bounds), checking each against the
//! C11 model; racedet runs it on real threads and checks the interleavings
//! that actually happen, with a happens-before detector that reports the
//! same unordered `UnsafeCell` accesses loom calls causality violations. So a
//! race that loom would find only in a rare schedule needs that schedule to
//! occur here (the injected yields make that more likely, not certain),
//! while racedet runs at real speed and real sizes. docs/loom.md compares
//! the two and lists loom's API that is not covered.

pub(crate) mod hook;

#[cfg(feature = "loom")]
pub(crate) mod api;
#[cfg(feature = "loom")]
mod atomic;
#[cfg(feature = "loom")]
pub(crate) mod cell;
#[cfg(feature = "loom")]
mod future;
#[cfg(feature = "loom")]
pub(crate) mod notify;
#[cfg(feature = "loom")]
pub(crate) mod runner;
