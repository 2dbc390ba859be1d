//! The CI gate: which races fail the run.
//!
//! Each distinct race gets one status: *suppressed* (a `race:` entry of the
//! suppression file matches it: counted, not shown), *known* (its signature
//! is in the baseline: shown, does not fail) or *new* (fails the run with
//! `--exitcode`). Baseline entries not seen this time are listed as fixed.
//!
//! A baseline file is JSON (`{"racedet_baseline": 1, "races": [...]}`); an
//! entry is keyed by the race's `signature`, which ignores addresses,
//! thread ids and pids, and carries both sides' positions and functions so
//! that a reviewer can read what was accepted.

use std::collections::BTreeSet;
use std::path::Path;

use racedet_runtime::report::model::{AccessInfo, RaceReport};
use serde::{Deserialize, Serialize};

use crate::aggregate::Race;
use crate::config::GateConfig;

/// Version of the baseline file format.
pub const BASELINE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    pub racedet_baseline: u32,
    pub races: Vec<BaselineEntry>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct BaselineEntry {
    pub signature: String,
    /// e.g. `RaceMap "users"` or `memory`.
    pub object: String,
    pub current: BaselineSide,
    pub previous: BaselineSide,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct BaselineSide {
    pub kind: String,
    /// `file:line:column` of the call site.
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read baseline file {}: {e}", path.display()))?;
        let b: Baseline = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}:{}: not a racedet baseline file: {e}",
                path.display(),
                e.line()
            )
        })?;
        if b.racedet_baseline != BASELINE_VERSION {
            return Err(format!(
                "{}: baseline version {} is not supported (expected {BASELINE_VERSION})",
                path.display(),
                b.racedet_baseline
            ));
        }
        Ok(b)
    }

    pub fn from_races<'a>(races: impl Iterator<Item = &'a RaceReport>) -> Baseline {
        let mut entries: Vec<BaselineEntry> = races.map(BaselineEntry::from_report).collect();
        entries.sort_by(|a, b| a.signature.cmp(&b.signature));
        entries.dedup_by(|a, b| a.signature == b.signature);
        Baseline {
            racedet_baseline: BASELINE_VERSION,
            races: entries,
        }
    }
}

impl BaselineEntry {
    pub fn from_report(r: &RaceReport) -> BaselineEntry {
        let side = |a: &AccessInfo| BaselineSide {
            kind: a.kind.clone(),
            location: a
                .site
                .as_ref()
                .map(|f| f.position())
                .unwrap_or_else(|| "??".into()),
            function: a.stack.first().and_then(|f| f.function.clone()),
        };
        BaselineEntry {
            signature: r.signature.clone(),
            object: object_label(r),
            current: side(&r.current),
            previous: side(&r.previous),
        }
    }
}

/// `RaceMap "users"`, `memory`, ...
pub fn object_label(r: &RaceReport) -> String {
    match &r.object.name {
        Some(n) => format!("{} \"{n}\"", r.object.kind),
        None => r.object.kind.clone(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    New,
    Known,
    /// By the entry on this line of the suppression file.
    Suppressed {
        line: usize,
    },
}

#[derive(Debug)]
pub struct Verdict {
    pub races: Vec<(Race, Status)>,
    /// Baseline entries whose race was not seen.
    pub fixed: Vec<BaselineEntry>,
    /// Suppression entries that matched nothing: `(line, pattern)`.
    pub unused_suppressions: Vec<(usize, String)>,
}

impl Verdict {
    pub fn count(&self, pred: impl Fn(&Status) -> bool) -> (usize, u64) {
        self.races
            .iter()
            .filter(|(_, s)| pred(s))
            .fold((0, 0), |(n, o), (r, _)| (n + 1, o + r.occurrences))
    }

    pub fn new_races(&self) -> usize {
        self.count(|s| *s == Status::New).0
    }

    /// Races shown (new and known), in order.
    pub fn shown(&self) -> impl Iterator<Item = &(Race, Status)> {
        self.races
            .iter()
            .filter(|(_, s)| !matches!(s, Status::Suppressed { .. }))
    }

    /// The one-line summary, e.g. `racedet: 2 data races (5 occurrences) in 1 process`.
    pub fn summary(&self) -> String {
        let (n, occ) = self.count(|s| !matches!(s, Status::Suppressed { .. }));
        let pids: BTreeSet<u32> = self
            .shown()
            .flat_map(|(r, _)| r.pids.iter().copied())
            .collect();
        let mut s = if n == 0 {
            "racedet: no data races".to_string()
        } else {
            format!(
                "racedet: {n} data race{} ({occ} occurrence{}) in {} process{}",
                plural(n as u64),
                plural(occ),
                pids.len(),
                if pids.len() == 1 { "" } else { "es" }
            )
        };
        let mut extra = Vec::new();
        let (known, _) = self.count(|s| *s == Status::Known);
        if known > 0 {
            extra.push(format!("{known} known from the baseline"));
        }
        let (sup, sup_occ) = self.count(|s| matches!(s, Status::Suppressed { .. }));
        if sup > 0 {
            extra.push(format!(
                "{sup} suppressed ({sup_occ} occurrence{})",
                plural(sup_occ)
            ));
        }
        if !self.fixed.is_empty() {
            extra.push(format!("{} fixed since the baseline", self.fixed.len()));
        }
        if !extra.is_empty() {
            s.push_str(&format!("; {}", extra.join(", ")));
        }
        s
    }
}

pub fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Classifies every race.
pub fn evaluate(races: Vec<Race>, gate: &GateConfig) -> Verdict {
    let known: BTreeSet<&str> = gate
        .baseline
        .as_ref()
        .map(|(_, b)| b.races.iter().map(|e| e.signature.as_str()).collect())
        .unwrap_or_default();
    let mut used = BTreeSet::new();
    let races: Vec<(Race, Status)> = races
        .into_iter()
        .map(|r| {
            let sup = gate
                .suppressions
                .as_ref()
                .and_then(|s| s.set.matching(&r.report));
            let status = match sup {
                Some(e) => {
                    used.insert(e.line);
                    Status::Suppressed { line: e.line }
                }
                None if known.contains(r.report.signature.as_str()) => Status::Known,
                None => Status::New,
            };
            (r, status)
        })
        .collect();
    let seen: BTreeSet<&str> = races
        .iter()
        .map(|(r, _)| r.report.signature.as_str())
        .collect();
    let fixed = gate
        .baseline
        .as_ref()
        .map(|(_, b)| {
            b.races
                .iter()
                .filter(|e| !seen.contains(e.signature.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let unused_suppressions = gate
        .suppressions
        .as_ref()
        .map(|s| {
            s.set
                .entries
                .iter()
                .filter(|e| !used.contains(&e.line))
                .map(|e| (e.line, e.pattern.clone()))
                .collect()
        })
        .unwrap_or_default();
    Verdict {
        races,
        fixed,
        unused_suppressions,
    }
}

/// How the target ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetStatus {
    Exited(i32),
    Signaled(i32),
    /// The target could not be started; the status is racedet's (126, 127, 2).
    NotStarted(i32),
}

/// The final exit status: new races win, then the target's own status.
pub fn exit_status(verdict: &Verdict, target: Option<&TargetStatus>, exitcode: i32) -> i32 {
    if verdict.new_races() > 0 {
        return exitcode;
    }
    match target {
        None => crate::exit_code::CLEAN,
        Some(TargetStatus::Exited(c)) => *c,
        Some(TargetStatus::Signaled(n)) => crate::exit_code::SIGNAL_BASE + n,
        Some(TargetStatus::NotStarted(c)) => *c,
    }
}
