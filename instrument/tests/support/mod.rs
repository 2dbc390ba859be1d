//! Helpers shared by the instrument crate's integration tests.
#![allow(dead_code)]

use racedet::RaceError;
use racedet::runtime::report::model::RaceReport;

/// Runs `a` on a new thread and `b` on this one, then joins: the two run
/// unordered (the only edges are the fork before `a` and the join after
/// both), whatever the timing.
pub fn concurrently<A, B>(a: A, b: B)
where
    A: FnOnce() + Send,
    B: FnOnce(),
{
    std::thread::scope(|s| {
        let h = s.spawn(a);
        b();
        h.join().unwrap();
    });
}

/// Runs `a` on a new thread, joins it, then runs `b`: ordered by the join.
pub fn sequentially<A, B>(a: A, b: B)
where
    A: FnOnce() + Send,
    B: FnOnce(),
{
    std::thread::scope(|s| s.spawn(a).join().unwrap());
    b();
}

/// The single race of `r`, or a panic showing what was found.
pub fn single(r: &RaceError) -> &RaceReport {
    assert_eq!(r.len(), 1, "expected exactly one race, got:\n{r}");
    &r.reports()[0]
}

/// The sorted pair of call-site lines of a race.
pub fn site_lines(r: &RaceReport) -> (u32, u32) {
    let a = r.current.site.as_ref().and_then(|f| f.line).unwrap();
    let b = r.previous.site.as_ref().and_then(|f| f.line).unwrap();
    (a.min(b), a.max(b))
}

/// The sorted pair of `a` and `b`.
pub fn pair(a: u32, b: u32) -> (u32, u32) {
    (a.min(b), a.max(b))
}
