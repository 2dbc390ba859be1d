//! JSON output: one line per distinct race, then one summary line
//! (docs/report-format.md). A race line is the runtime's `RaceReport`
//! with `occurrences` summed over processes, plus the CLI's fields:
//! `type`, `processes`, `pids`, `tests`, `status`.

use serde::Serialize;

use racedet_runtime::report::model::{RaceReport, SCHEMA_VERSION};

use super::{Context, strip};
use crate::gate::{BaselineEntry, Status};

#[derive(Serialize)]
struct RaceLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    report: RaceReport,
    processes: usize,
    pids: &'a [u32],
    tests: &'a [String],
    /// "new", "known" (in the baseline) or "suppressed".
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed_by: Option<String>,
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    schema: u32,
    races: usize,
    occurrences: u64,
    new: usize,
    known: usize,
    suppressed: usize,
    fixed: &'a [BaselineEntry],
    text: String,
}

pub fn render(cx: &Context<'_>) -> String {
    let v = cx.verdict;
    let prefix = &cx.out.strip_path_prefix;
    let mut out = String::new();
    for (race, status) in &v.races {
        let mut report = race.report.clone();
        for side in [&mut report.current, &mut report.previous] {
            for f in side.site.iter_mut().chain(side.stack.iter_mut()) {
                if let Some(file) = &mut f.file {
                    *file = strip(file, prefix).to_string();
                }
            }
        }
        let line = RaceLine {
            kind: "race",
            report,
            processes: race.pids.len(),
            pids: &race.pids,
            tests: &race.tests,
            status: match status {
                Status::New => "new",
                Status::Known => "known",
                Status::Suppressed { .. } => "suppressed",
            },
            suppressed_by: match status {
                Status::Suppressed { line } => Some(format!(
                    "{}:{line}",
                    cx.suppressions
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                )),
                _ => None,
            },
        };
        push_line(&mut out, &line);
    }
    let (races, occurrences) = v.count(|s| !matches!(s, Status::Suppressed { .. }));
    let summary = SummaryLine {
        kind: "summary",
        schema: SCHEMA_VERSION,
        races,
        occurrences,
        new: v.new_races(),
        known: v.count(|s| *s == Status::Known).0,
        suppressed: v.count(|s| matches!(s, Status::Suppressed { .. })).0,
        fixed: &v.fixed,
        text: v.summary(),
    };
    push_line(&mut out, &summary);
    out
}

fn push_line(out: &mut String, value: &impl Serialize) {
    // Serialising plain data with string keys cannot fail.
    out.push_str(&serde_json::to_string(value).expect("serialisable"));
    out.push('\n');
}
