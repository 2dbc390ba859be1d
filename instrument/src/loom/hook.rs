//! The hooks racedet's sync types call for `model` (always compiled; each
//! is an inlined no-op without the `loom` feature, and one relaxed load with
//! it while no model runs).
//!
//! * [`maybe_yield`] at the entry of a sync point (lock, atomic operation,
//!   notify/wait): a model thread may yield there, per its seeded random
//!   stream, so that iterations see different interleavings.
//! * [`wrap_spawn`] around a spawned closure: a thread spawned by a model
//!   thread joins the model's iteration (it inherits the yield stream and
//!   the iteration waits for it, as loom waits for every thread it spawned).

/// A possible yield point for the model runner.
#[inline]
pub(crate) fn maybe_yield() {
    #[cfg(feature = "loom")]
    super::runner::maybe_yield();
}

/// Wraps a closure about to run on a new thread (see the module docs).
#[inline]
pub(crate) fn wrap_spawn<F, T>(f: F) -> impl FnOnce() -> T + Send + 'static
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    #[cfg(feature = "loom")]
    {
        super::runner::wrap_spawn(f)
    }
    #[cfg(not(feature = "loom"))]
    {
        f
    }
}
