//! `racedet test [-- CARGO_TEST_ARGS]...`: runs `cargo test` (or `cargo
//! nextest run`) with detection on in every test binary.
//!
//! Attribution: libtest runs each test on a thread named after the test,
//! and the runtime records in `RaceReport::test` the outermost named thread
//! the racing thread descends from, so every race knows its test. Under
//! nextest each test is its own process, and the same thread name holds.
//! A test that raced fails, even if its assertions passed ("race detected
//! during execution of test", as `go test -race` says).
//!
//! libtest's `test NAME ... ok|FAILED|ignored` lines are read from cargo's
//! standard output (and passed on) so that JUnit output lists every test.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use super::{ReportDir, enable_detection, finish, gather};
use crate::config::{Config, EngineConfig};
use crate::exit_code;
use crate::render::{Mode, TestCase, TestOutcome};

pub fn run(cfg: &Config, nextest: bool, cargo_args: &[OsString], engine: &EngineConfig) -> i32 {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    if nextest {
        cmd.args(["nextest", "run"]);
    } else {
        cmd.arg("test");
    }
    cmd.args(cargo_args);
    let display = if nextest {
        "cargo nextest run"
    } else {
        "cargo test"
    };
    let dir = match ReportDir::create() {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "racedet: cannot create a report directory in {}: {e}",
                std::env::temp_dir().display()
            );
            return exit_code::USAGE_OR_CONFIG_ERROR;
        }
    };
    if let Err(e) = enable_detection(&mut cmd, engine, dir.path()) {
        eprintln!("racedet: {e}");
        return exit_code::USAGE_OR_CONFIG_ERROR;
    }
    cmd.stdout(Stdio::piped());
    let mut tests = Vec::new();
    let status = match super::spawn(&mut cmd, display) {
        Ok(mut child) => {
            if let Some(stdout) = child.stdout.take() {
                pass_through(stdout, cfg.output.machine_on_stdout(), &mut tests);
            }
            super::wait(child, display)
        }
        Err(not_started) => not_started,
    };
    let collected = gather(&dir, engine);
    finish(cfg, collected, &Mode::Test { tests }, Some(&status))
}

/// Copies cargo's standard output to ours (or to standard error when a
/// machine-readable report owns standard output), noting libtest results.
fn pass_through(stdout: impl std::io::Read, to_stderr: bool, tests: &mut Vec<TestCase>) {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let _ = if to_stderr {
            std::io::stderr().write_all(&line)
        } else {
            std::io::stdout().write_all(&line)
        };
        if let Some(t) = parse_libtest_line(&String::from_utf8_lossy(&line)) {
            tests.push(t);
        }
    }
}

/// `test a::b ... ok` → (a::b, Passed); `ok`, `FAILED`, `ignored`.
pub fn parse_libtest_line(line: &str) -> Option<TestCase> {
    let rest = line.trim_end().strip_prefix("test ")?;
    let (name, result) = rest.rsplit_once(" ... ")?;
    let outcome = if result.starts_with("ok") {
        TestOutcome::Passed
    } else if result.starts_with("FAILED") {
        TestOutcome::Failed
    } else if result.starts_with("ignored") {
        TestOutcome::Ignored
    } else {
        return None;
    };
    Some(TestCase {
        name: name.to_string(),
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_lines() {
        let t = parse_libtest_line("test a::b ... ok\n").unwrap();
        assert_eq!((t.name.as_str(), t.outcome), ("a::b", TestOutcome::Passed));
        let t = parse_libtest_line("test x ... FAILED").unwrap();
        assert_eq!(t.outcome, TestOutcome::Failed);
        let t = parse_libtest_line("test y ... ignored, slow").unwrap();
        assert_eq!(t.outcome, TestOutcome::Ignored);
        assert!(parse_libtest_line("test result: ok. 1 passed").is_none());
        assert!(parse_libtest_line("running 3 tests").is_none());
    }
}
