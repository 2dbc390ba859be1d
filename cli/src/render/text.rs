//! Text output: each distinct race once in TSan's layout (both accesses,
//! the object, the threads), its total count, then the gate's notes and the
//! summary line.

use racedet_runtime::report::text::{TextOptions, escape_control, render as render_report};

use super::{Context, Mode, raced_tests};
use crate::gate::{Status, plural};

pub fn render(cx: &Context<'_>) -> String {
    let v = cx.verdict;
    let opts = |occ| TextOptions {
        strip_path_prefix: cx.out.strip_path_prefix.clone(),
        color: cx.out.color,
        occurrences: Some(occ),
        show_test: matches!(cx.mode, Mode::Test { .. }),
    };
    let mut out = String::new();
    let limit = match cx.out.max_reports {
        0 => usize::MAX,
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    let shown: Vec<_> = v.shown().collect();
    for (race, status) in shown.iter().take(limit) {
        out.push_str(&render_report(&race.report, &opts(race.occurrences)));
        if race.pids.len() > 1 {
            out.push_str(&format!("Found by {} processes.\n", race.pids.len()));
        }
        if *status == Status::Known {
            let file = cx
                .baseline
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            out.push_str(&format!(
                "racedet: known race (in the baseline {file}): does not fail the run\n"
            ));
        }
    }
    if shown.len() > limit {
        let rest = shown.len() - limit;
        out.push_str(&format!(
            "racedet: {rest} more distinct race{} not shown (--max-reports {limit})\n",
            plural(rest as u64)
        ));
    }
    if let Mode::Test { .. } = cx.mode {
        for (test, idx) in raced_tests(v) {
            out.push_str(&format!(
                "--- FAIL: {} (race detected during execution of test: {} race{})\n",
                escape_control(&test),
                idx.len(),
                plural(idx.len() as u64)
            ));
        }
        let outside = shown.iter().filter(|(r, _)| r.tests.is_empty()).count();
        if outside > 0 {
            out.push_str(&format!(
                "racedet: {outside} race{} outside any test (in a process's main thread or unnamed threads)\n",
                plural(outside as u64)
            ));
        }
    }
    for e in &v.fixed {
        out.push_str(&format!(
            "racedet: fixed since the baseline: {} between {} and {} ({})\n",
            escape_control(&e.object),
            escape_control(&e.current.location),
            escape_control(&e.previous.location),
            escape_control(&e.signature)
        ));
    }
    out.push_str(&v.summary());
    out.push('\n');
    out
}
