//! SARIF 2.1.0 output for code scanning (GitHub and others).
//!
//! One result per distinct race, rule `racedet/data-race`. Both accesses
//! are the result's `locations` (current first) and also one code flow with
//! a thread flow per thread, so viewers can walk from one access to the
//! other. `partialFingerprints` carries the race signature, which ignores
//! addresses and thread ids, so a race keeps its identity across runs.
//! Relative paths are given against `%SRCROOT%` (the repository root when
//! racedet runs from it); absolute paths under the current directory are
//! made relative for the same reason.

use serde_json::{Value, json};

use racedet_runtime::report::model::{AccessInfo, Frame, RaceReport};

use super::{Context, strip};
use crate::aggregate::Race;
use crate::gate::{Status, object_label};

pub const RULE_ID: &str = "racedet/data-race";
pub const FINGERPRINT_KEY: &str = "racedetSignature/v1";

pub fn render(cx: &Context<'_>) -> String {
    let results: Vec<Value> = cx
        .verdict
        .races
        .iter()
        .map(|(race, status)| result(cx, race, status))
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "racedet",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": [{
                    "id": RULE_ID,
                    "name": "DataRace",
                    "shortDescription": {"text": "Data race"},
                    "fullDescription": {"text": "Two threads accessed the same memory, at least one writing, with no happens-before order between the accesses."},
                    "help": {"text": "Order the two accesses: protect the shared data with a lock (e.g. an RwLock around a map), use atomics with release/acquire orderings, or hand the data over through a channel."},
                    "defaultConfiguration": {"level": "error"},
                    "properties": {"tags": ["concurrency", "reliability"], "precision": "high", "problem.severity": "error"}
                }]
            }},
            "columnKind": "unicodeCodePoints",
            "results": results
        }]
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("serialisable");
    s.push('\n');
    s
}

fn result(cx: &Context<'_>, race: &Race, status: &Status) -> Value {
    let r = &race.report;
    let cur = location(cx, r, &r.current, "current");
    let prev = location(cx, r, &r.previous, "previous");
    let locations: Vec<Value> = [&cur, &prev].into_iter().flatten().cloned().collect();
    let flows: Vec<Value> = [(&prev, &r.previous, 1), (&cur, &r.current, 2)]
        .into_iter()
        .filter_map(|(loc, a, order)| {
            let loc = loc.as_ref()?;
            Some(json!({
                "id": format!("T{}", a.thread),
                "message": {"text": format!("{} by {}", a.kind, thread_phrase(r, a.thread))},
                "locations": [{"location": loc, "executionOrder": order}]
            }))
        })
        .collect();
    let mut res = json!({
        "ruleId": RULE_ID,
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": message(cx, race)},
        "locations": locations,
        "partialFingerprints": {FINGERPRINT_KEY: r.signature},
        "properties": {
            "occurrences": race.occurrences,
            "processes": race.pids.len(),
            "tests": race.tests,
        }
    });
    if !flows.is_empty() {
        res["codeFlows"] = json!([{
            "message": {"text": "The two unordered accesses"},
            "threadFlows": flows
        }]);
    }
    if cx.baseline.is_some() {
        res["baselineState"] = json!(if *status == Status::Known {
            "unchanged"
        } else {
            "new"
        });
    }
    if let Status::Suppressed { line } = status {
        let file = cx
            .suppressions
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        res["suppressions"] = json!([{
            "kind": "external",
            "justification": format!("suppressed by {file}:{line}")
        }]);
    }
    res
}

fn message(cx: &Context<'_>, race: &Race) -> String {
    let r = &race.report;
    let pos = |a: &AccessInfo| {
        a.site
            .as_ref()
            .map(|f| strip(&f.position(), &cx.out.strip_path_prefix).to_string())
            .unwrap_or_else(|| "an unknown site".into())
    };
    let mut s = format!(
        "Data race on {}: {} at {} by {} races with previous {} at {} by {}",
        object_label(r),
        r.current.kind,
        pos(&r.current),
        thread_phrase(r, r.current.thread),
        r.previous.kind,
        pos(&r.previous),
        thread_phrase(r, r.previous.thread),
    );
    if race.occurrences > 1 {
        s.push_str(&format!(" ({} occurrences)", race.occurrences));
    }
    if !race.tests.is_empty() {
        s.push_str(&format!(" during test {}", race.tests.join(", ")));
    }
    s.push('.');
    s
}

fn thread_phrase(r: &RaceReport, id: u64) -> String {
    match r
        .threads
        .iter()
        .find(|t| t.id == id)
        .and_then(|t| t.name.as_ref())
    {
        Some(n) => format!("thread T{id} '{n}'"),
        None => format!("thread T{id}"),
    }
}

/// A SARIF location for one access, if its file and line are known.
fn location(cx: &Context<'_>, r: &RaceReport, a: &AccessInfo, role: &str) -> Option<Value> {
    let site: &Frame = a.site.as_ref().or(a.stack.first())?;
    let file = site.file.as_deref()?;
    let line = site.line?;
    let (uri, base) = artifact_uri(strip(file, &cx.out.strip_path_prefix));
    let mut artifact = json!({"uri": uri});
    if let Some(b) = base {
        artifact["uriBaseId"] = json!(b);
    }
    let mut region = json!({"startLine": line});
    if let Some(c) = site.column {
        region["startColumn"] = json!(c);
    }
    let mut loc = json!({
        "physicalLocation": {"artifactLocation": artifact, "region": region},
        "message": {"text": format!("{} access ({}) by {}", role, a.kind, thread_phrase(r, a.thread))}
    });
    let function = a.stack.first().and_then(|f| f.function.clone());
    if let Some(f) = function {
        loc["logicalLocations"] = json!([{"fullyQualifiedName": f, "kind": "function"}]);
    }
    Some(loc)
}

/// The URI of a source path: relative to `%SRCROOT%` when it can be.
fn artifact_uri(path: &str) -> (String, Option<&'static str>) {
    let mut p = path.to_string();
    if p.starts_with('/')
        && let Ok(cwd) = std::env::current_dir()
    {
        let cwd = format!("{}/", cwd.display());
        if let Some(rest) = p.strip_prefix(&cwd) {
            p = rest.to_string();
        }
    }
    if p.starts_with('/') {
        (format!("file://{}", percent_encode(&p)), None)
    } else {
        (percent_encode(&p), Some("%SRCROOT%"))
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
