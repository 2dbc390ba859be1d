//! JUnit XML for test dashboards. In test mode there is one test case per
//! test (as libtest reported them, plus any test that raced), and a race
//! fails its test with "race detected during execution of test", as
//! `go test -race` does, even when the test's assertions passed. In run
//! mode the program is the one test case. Known (baselined) and suppressed
//! races do not fail a test case.
//!
//! Written by hand with careful escaping: text and attribute values escape
//! `& < > " '`, and characters XML 1.0 forbids (control characters other
//! than tab, newline and carriage return) become U+FFFD.

use std::fmt::Write;

use racedet_runtime::report::text::{TextOptions, render as render_report};

use super::{Context, Mode, TestOutcome};
use crate::aggregate::Race;
use crate::gate::{Status, plural};
use crate::render::sarif::RULE_ID;

/// Test case name for races that happened outside any named test thread.
pub const OUTSIDE_TESTS: &str = "(outside any test)";

struct Case<'a> {
    name: String,
    outcome: TestOutcome,
    races: Vec<&'a Race>,
}

pub fn render(cx: &Context<'_>) -> String {
    let new: Vec<&Race> = cx
        .verdict
        .races
        .iter()
        .filter(|(_, s)| *s == Status::New)
        .map(|(r, _)| r)
        .collect();
    let (suite, cases) = match cx.mode {
        Mode::Run { program } => (
            "racedet run",
            vec![Case {
                name: program.clone(),
                outcome: TestOutcome::Passed,
                races: new.clone(),
            }],
        ),
        Mode::Test { tests } => ("racedet test", test_cases(tests, &new)),
        Mode::Report => ("racedet report", test_cases(&[], &new)),
    };
    let failures = cases
        .iter()
        .filter(|c| !c.races.is_empty() || c.outcome == TestOutcome::Failed)
        .count();
    let skipped = cases
        .iter()
        .filter(|c| c.races.is_empty() && c.outcome == TestOutcome::Ignored)
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"racedet\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
        cases.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        cases.len()
    );
    for c in &cases {
        case(&mut out, cx, c);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn test_cases<'a>(tests: &[super::TestCase], new: &[&'a Race]) -> Vec<Case<'a>> {
    let mut cases: Vec<Case<'a>> = tests
        .iter()
        .map(|t| Case {
            name: t.name.clone(),
            outcome: t.outcome,
            races: Vec::new(),
        })
        .collect();
    for race in new {
        let names: Vec<String> = if race.tests.is_empty() {
            vec![OUTSIDE_TESTS.to_string()]
        } else {
            race.tests.clone()
        };
        for name in names {
            let pos = match cases.iter().position(|c| c.name == name) {
                Some(p) => p,
                None => {
                    cases.push(Case {
                        name,
                        outcome: TestOutcome::Passed,
                        races: Vec::new(),
                    });
                    cases.len() - 1
                }
            };
            cases[pos].races.push(race);
        }
    }
    cases
}

fn case(out: &mut String, cx: &Context<'_>, c: &Case<'_>) {
    let (classname, name) = match c.name.rsplit_once("::") {
        Some((module, leaf)) => (module.to_string(), leaf.to_string()),
        None => ("racedet".to_string(), c.name.clone()),
    };
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\"",
        escape(&name),
        escape(&classname)
    );
    if c.races.is_empty() && c.outcome == TestOutcome::Passed {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    if !c.races.is_empty() {
        let opts = TextOptions {
            strip_path_prefix: cx.out.strip_path_prefix.clone(),
            color: false,
            occurrences: None,
            show_test: matches!(cx.mode, Mode::Test { .. }),
        };
        let body: String = c
            .races
            .iter()
            .map(|r| {
                render_report(
                    &r.report,
                    &TextOptions {
                        occurrences: Some(r.occurrences),
                        ..opts.clone()
                    },
                )
            })
            .collect();
        let n = c.races.len() as u64;
        let _ = writeln!(
            out,
            "      <failure message=\"race detected during execution of test ({n} data race{})\" type=\"{RULE_ID}\">{}</failure>",
            plural(n),
            escape(&body)
        );
    } else if c.outcome == TestOutcome::Failed {
        out.push_str("      <failure message=\"test failed\" type=\"test-failure\"/>\n");
    } else {
        out.push_str("      <skipped/>\n");
    }
    out.push_str("    </testcase>\n");
}

/// Escapes text for XML 1.0 content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_forbidden_characters() {
        assert_eq!(
            escape("a<b>&\"c'\x1b[0m\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}[0m\n"
        );
    }
}
