//! Race checks scoped to a closure: the entry point for tests.
//!
//! [`check`] turns detection on for the duration of a closure (whatever the
//! environment says) and hands back the races found while it ran, instead of
//! printing them. The engine tags every race with the *check context* of the
//! thread that detected it; threads created inside the closure inherit the
//! context, so a race found by a worker thread is collected too.
//!
//! The context is ended by a guard, so a panicking closure still ends its
//! check (detection is switched back off and the collected races dropped)
//! before the panic continues; otherwise one failing test would leave
//! detection on for the rest of the test binary.
//!
//! Checks nest: an inner `check` returns the races found while it ran, and
//! when it ends, the thread's races go to the enclosing check again.
//!
//! Detection is on in the whole process while any check runs, so tests on
//! parallel threads record each other's work. What was recorded before
//! detection was last off counts as ordered before everything after it
//! (the runtime's `period.rs`): synchronisation made while off is unknown,
//! and holding that history against a later check gave false reports.

use std::fmt;

use racedet_runtime::report::model::{Frame, RaceReport};
use racedet_runtime::report::text::{self, TextOptions};

/// The races found by a [`check`]: never empty.
#[derive(Debug, Clone)]
pub struct RaceError {
    reports: Vec<RaceReport>,
}

impl RaceError {
    /// The distinct races, in the order they were found (repeats of the
    /// same pair of call sites are folded into `occurrences`).
    pub fn reports(&self) -> &[RaceReport] {
        &self.reports
    }

    /// Takes the reports out.
    pub fn into_reports(self) -> Vec<RaceReport> {
        self.reports
    }

    /// Number of distinct races.
    pub fn len(&self) -> usize {
        self.reports.len()
    }

    /// Always `false`: a `RaceError` holds at least one race.
    pub fn is_empty(&self) -> bool {
        self.reports.is_empty()
    }

    /// The call sites of both accesses of every race (current first).
    pub fn sites(&self) -> impl Iterator<Item = (Option<&Frame>, Option<&Frame>)> {
        self.reports
            .iter()
            .map(|r| (r.current.site.as_ref(), r.previous.site.as_ref()))
    }

    /// Every source line number involved in a race, sorted and deduplicated.
    pub fn lines(&self) -> Vec<u32> {
        let mut lines: Vec<u32> = self
            .sites()
            .flat_map(|(a, b)| [a, b])
            .flatten()
            .filter_map(|f| f.line)
            .collect();
        lines.sort_unstable();
        lines.dedup();
        lines
    }
}

impl fmt::Display for RaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.reports.len();
        writeln!(
            f,
            "racedet: {n} data race{} detected",
            if n == 1 { "" } else { "s" }
        )?;
        for r in &self.reports {
            let opts = TextOptions {
                occurrences: (r.occurrences > 1).then_some(r.occurrences),
                ..TextOptions::default()
            };
            f.write_str(&text::render(r, &opts))?;
        }
        Ok(())
    }
}

impl std::error::Error for RaceError {}

/// Ends the check context when dropped, also during a panic.
struct CheckGuard {
    ctx: Option<u64>,
}

impl CheckGuard {
    fn finish(mut self) -> Vec<RaceReport> {
        match self.ctx.take() {
            Some(ctx) => racedet_runtime::end_check(ctx),
            None => Vec::new(),
        }
    }
}

impl Drop for CheckGuard {
    fn drop(&mut self) {
        if let Some(ctx) = self.ctx.take() {
            // Unwinding: the closure failed anyway, its races are dropped.
            drop(racedet_runtime::end_check(ctx));
        }
    }
}

/// Runs `f` with race detection on and returns its value, or the races
/// found while it ran (by this thread and the threads it created).
///
/// ```
/// use racedet::cell::RaceCell;
///
/// let counter = RaceCell::new(0);
/// let r = racedet::check(|| {
///     std::thread::scope(|s| {
///         s.spawn(|| counter.update(|c| *c += 1));
///         counter.update(|c| *c += 1); // unordered with the spawned thread
///     })
/// });
/// assert_eq!(r.unwrap_err().len(), 1);
/// ```
pub fn check<T>(f: impl FnOnce() -> T) -> Result<T, RaceError> {
    let guard = CheckGuard {
        ctx: Some(racedet_runtime::begin_check()),
    };
    let value = f();
    let reports = guard.finish();
    if reports.is_empty() {
        Ok(value)
    } else {
        Err(RaceError { reports })
    }
}

/// Runs `f` with race detection on; panics with the rendered reports if
/// any race was found, otherwise returns `f`'s value.
#[track_caller]
pub fn assert_race_free<T>(f: impl FnOnce() -> T) -> T {
    match check(f) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}
