//! Deduplication across processes.
//!
//! A race is identified by its `signature` (the unordered pair of call
//! sites and the object kind: no addresses, pids or thread ids), so the same
//! race found by several processes (forked workers, test binaries) is one
//! race. Counting rule: within a process the largest count written for a
//! signature wins (the runtime writes growing counts); across processes the
//! counts add up.

use std::collections::{BTreeMap, BTreeSet};

use racedet_runtime::report::model::RaceReport;

use crate::collect::Collected;

/// One distinct race after deduplication.
#[derive(Debug, Clone)]
pub struct Race {
    /// The first report of it (lowest pid, then the order found).
    pub report: RaceReport,
    /// Total occurrences over all processes.
    pub occurrences: u64,
    /// The processes that found it.
    pub pids: Vec<u32>,
    /// The tests during which it happened (`RaceReport::test`), sorted.
    pub tests: Vec<String>,
}

/// Merges the collected processes into distinct races, in the order first seen.
pub fn aggregate(c: &Collected) -> Vec<Race> {
    let mut order: Vec<String> = Vec::new();
    let mut by_sig: BTreeMap<String, Race> = BTreeMap::new();
    let mut tests: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for proc in c.processes.values() {
        for r in &proc.races {
            let count = proc.counts.get(&r.signature).copied().unwrap_or(1).max(1);
            if let Some(t) = &r.test {
                tests
                    .entry(r.signature.clone())
                    .or_default()
                    .insert(t.clone());
            }
            match by_sig.get_mut(&r.signature) {
                Some(race) => {
                    race.occurrences += count;
                    race.pids.push(proc.pid);
                }
                None => {
                    order.push(r.signature.clone());
                    by_sig.insert(
                        r.signature.clone(),
                        Race {
                            report: r.clone(),
                            occurrences: count,
                            pids: vec![proc.pid],
                            tests: Vec::new(),
                        },
                    );
                }
            }
        }
    }
    order
        .into_iter()
        .filter_map(|sig| {
            let mut race = by_sig.remove(&sig)?;
            race.tests = tests.remove(&sig).unwrap_or_default().into_iter().collect();
            race.report.occurrences = race.occurrences;
            Some(race)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::read_lines;
    use std::path::Path;

    fn race_line(pid: u32, sig: &str, test: Option<&str>) -> String {
        let r = serde_json::json!({
            "type": "race", "schema": 1, "signature": sig, "pid": pid, "process": "/bin/x",
            "current": {"kind": "write", "is_write": true, "atomic": false, "addr": 1, "size": 8,
                        "thread": 2, "site": {"file": "a.rs", "line": 3, "column": 5}},
            "previous": {"kind": "read", "is_write": false, "atomic": false, "addr": 1, "size": 8,
                         "thread": 1, "site": {"file": "b.rs", "line": 7, "column": 9}},
            "object": {"kind": "memory", "addr": 1}, "threads": [], "test": test, "occurrences": 1
        });
        r.to_string()
    }

    #[test]
    fn max_within_a_process_sum_across_processes() {
        let mut c = Collected::default();
        let a = format!(
            "{}\n{}\n{}\n",
            race_line(10, "s1", Some("t1")),
            r#"{"type":"repeat","signature":"s1","count":4}"#,
            r#"{"type":"repeat","signature":"s1","count":2}"#
        );
        let b = format!(
            "{}\n{}\n",
            race_line(11, "s1", Some("t2")),
            race_line(11, "s2", None)
        );
        read_lines(Path::new("racedet-10.jsonl"), a.as_bytes(), &mut c);
        read_lines(Path::new("racedet-11.jsonl"), b.as_bytes(), &mut c);
        let races = aggregate(&c);
        assert_eq!(races.len(), 2);
        assert_eq!(races[0].report.signature, "s1");
        assert_eq!(races[0].occurrences, 5);
        assert_eq!(races[0].pids, vec![10, 11]);
        assert_eq!(races[0].tests, vec!["t1".to_string(), "t2".to_string()]);
        assert_eq!(races[1].occurrences, 1);
    }

    #[test]
    fn bad_lines_are_skipped_with_their_position() {
        let mut c = Collected::default();
        let text = format!(
            "{}\nnot json\n{}",
            race_line(5, "s1", None),
            race_line(5, "s2", None)
        );
        read_lines(Path::new("racedet-5.jsonl"), text.as_bytes(), &mut c);
        assert_eq!(aggregate(&c).len(), 1);
        assert_eq!(c.warnings.len(), 2);
        assert!(
            c.warnings[0].starts_with("racedet-5.jsonl:2:"),
            "{:?}",
            c.warnings
        );
        assert!(
            c.warnings[1].starts_with("racedet-5.jsonl:3:"),
            "{:?}",
            c.warnings
        );
        assert!(c.warnings[1].contains("truncated"), "{:?}", c.warnings);
    }
}
