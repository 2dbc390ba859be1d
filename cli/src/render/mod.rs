//! Rendering a [`Verdict`] in one of the output formats. Rendering only:
//! which races count and how is decided in `gate.rs`.

pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use std::path::Path;

use crate::args::Format;
use crate::config::OutputConfig;
use crate::gate::Verdict;

/// What ran, for formats that describe it (JUnit test cases, SARIF invocations).
#[derive(Debug, Clone)]
pub enum Mode {
    /// `racedet run`: one program (its command line, for display).
    Run { program: String },
    /// `racedet test`: the tests libtest reported, in order.
    Test { tests: Vec<TestCase> },
    /// `racedet report`: re-rendering saved reports.
    Report,
}

/// A test as libtest reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    pub name: String,
    pub outcome: TestOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    Passed,
    Failed,
    Ignored,
}

pub struct Context<'a> {
    pub verdict: &'a Verdict,
    pub out: &'a OutputConfig,
    pub mode: &'a Mode,
    pub suppressions: Option<&'a Path>,
    pub baseline: Option<&'a Path>,
}

pub fn render(cx: &Context<'_>) -> String {
    match cx.out.format {
        Format::Text => text::render(cx),
        Format::Json => json::render(cx),
        Format::Sarif => sarif::render(cx),
        Format::Junit => junit::render(cx),
    }
}

/// `path` without the `--strip-path-prefix` prefix.
pub fn strip<'p>(path: &'p str, prefix: &str) -> &'p str {
    if prefix.is_empty() {
        path
    } else {
        path.strip_prefix(prefix).unwrap_or(path)
    }
}

/// Tests that raced (in the order of the races), with the races' indices.
pub fn raced_tests(v: &Verdict) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, (race, _)) in v.shown().enumerate() {
        for t in &race.tests {
            match out.iter_mut().find(|(n, _)| n == t) {
                Some((_, idx)) => idx.push(i),
                None => out.push((t.clone(), vec![i])),
            }
        }
    }
    out
}
