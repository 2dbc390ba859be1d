//! # racedet-runtime: the happens-before engine
//!
//! A dynamic data-race detector in the FastTrack family (Flanagan & Freund,
//! "FastTrack: Efficient and Precise Dynamic Race Detection", PLDI 2009),
//! with ThreadSanitizer's engineering (Serebryany & Iskhodzhanov, "TSan —
//! data race detection in practice", WBIA 2009; the v3 runtime's shadow
//! cells, slots and report pipeline).
//!
//! **Data race.** Two accesses to overlapping bytes, at least one a write,
//! not both atomic, such that neither happens-before the other. Happens-
//! before is the transitive closure of program order and the synchronisation
//! edges std guarantees: thread fork and join, lock release → next acquire,
//! channel send → receive, atomic release → acquire that reads from it
//! (including release sequences and fences), once completion → observers.
//!
//! **What counts as an access.** Whatever the instrumentation reports: the
//! `racedet` crate reports whole-object reads and writes of `RaceMap` and
//! `RaceCell`, `UnsafeCell` accesses, and annotated ranges; the raw API takes
//! any address, size (1, 2, 4, 8 bytes, unaligned, or a range) and call site.
//!
//! **Soundness claim.** For the accesses and edges it is told about, the
//! engine reports a race on an access exactly when a detector that keeps
//! every access's full vector clock (DJIT+) would: see [`shadow::state`] for
//! the argument and `tests/differential.rs` for the check. It does not
//! explore other interleavings: a race is found when the racing accesses
//! actually run unordered in the observed execution.
//!
//! ## Module map
//! * [`clock`] — vector clocks and epochs;
//! * [`shadow`] — per-location state (`state`), 8-byte shadow words with the
//!   same-epoch fast path (`word`), address lookup (`table`), an object's
//!   reads recorded under its lock's shared side (`shared`);
//! * [`thread`] — slots, thread clocks, fork/join, slot reuse;
//! * [`sync`] — lock and release/acquire clocks; [`atomic`] — orderings, fences;
//! * [`api`] — the raw API used by the `racedet` crate; [`Object`] — the
//!   inline shadow of the objects racedet owns (`RaceMap`, `RaceCell`);
//! * [`stack`] — stack capture, depot, per-site stacks;
//! * [`report`] — report data, text rendering, JSON lines, dedup;
//! * [`options`] — `RACEDET_OPTIONS`; [`suppress`] — suppression files;
//! * `rt` — process-wide state and the current thread; `interpose` —
//!   `pthread_create`/`pthread_join` interposition;
//! * `per_slot` — per-thread-slot entries next to a shared object (lock-free
//!   read unlocks, shared reads); `once_ptr` — values published once by
//!   compare-exchange; `spin` — the internal spin locks.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod api;
pub mod atomic;
pub mod clock;
mod fork;
mod interpose;
pub mod locks;
mod object;
mod once_ptr;
pub mod options;
mod per_slot;
mod period;
mod ranges;
pub mod report;
mod rt;
pub mod shadow;
pub mod site;
mod spin;
pub mod stack;
pub mod suppress;
pub mod sync;
pub mod thread;

pub use api::MessageClock;
pub use object::Object;
pub use report::races_reported;
pub use rt::{
    Stats, abandon_fork, begin_check, current_thread_id, detach, enabled, end_check,
    finish_current, fork, init, join, start_thread, stats, with_spawn_site,
};
pub use shadow::AccessKind;
pub use site::Site;
pub use sync::SyncVar;
