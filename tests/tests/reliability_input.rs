//! Bad input: malformed engine options, an unwritable or full report
//! directory, odd arguments, unreadable gate files. Each gives one clear
//! line naming what was wrong (and what is accepted), the documented exit
//! status (docs/cli.md), and loses nothing already collected. Cases the CLI's
//! own tests cover are listed in docs/reliability.md, not repeated here.

mod reliability_common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use reliability_common::*;

const LIMIT: Duration = Duration::from_secs(120);

/// The runtime itself (no CLI): `RACEDET_OPTIONS` errors end the process
/// with status 2 and one line naming the key, the value and what is accepted.
#[test]
fn malformed_engine_options_stop_the_process_with_one_line() {
    let cases = [
        (
            "bogus=1",
            &["`bogus`", "accepted options: halt_on_error"][..],
        ),
        (
            "max_reports=many",
            &["`many`", "`max_reports`", "non-negative integer"],
        ),
        (
            "halt_on_error=maybe",
            &["`maybe`", "`halt_on_error`", "0, 1, true or false"],
        ),
        ("history_size=9", &["`9`", "`history_size`", "0 to 7"]),
        ("report_dir", &["`report_dir`", "no value"]),
    ];
    for (opts, expect) in cases {
        let out = output_within(target(&["flood", "1"]).env("RACEDET_OPTIONS", opts), LIMIT);
        assert_eq!(out.status.code(), Some(2), "{opts}");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{opts}: {err}");
        assert!(err.starts_with("racedet: "), "{err}");
        for e in expect {
            assert!(err.contains(e), "{opts}: {err} lacks {e}");
        }
        // The program did not get to its work.
        assert!(!text(&out.stdout).contains("done"), "{opts}");
    }
}

/// A suppression file given to the engine is read at start-up: a bad line
/// stops the process with status 2 naming FILE:LINE, before any race.
#[test]
fn malformed_engine_suppression_file_stops_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let supp = dir.path().join("bad.supp");
    std::fs::write(&supp, "race:fine\nrace_top:\nmutex:x\n").unwrap();
    let out = output_within(
        target(&["flood", "1"]).env(
            "RACEDET_OPTIONS",
            format!(
                "suppressions={} report_dir={}",
                supp.display(),
                dir.path().display()
            ),
        ),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("{}:2:", supp.display())), "{err}");
    assert!(err.contains("empty pattern"), "{err}");
}

/// The report directory cannot be used (not a directory): the runtime says
/// so once, keeps running and prints its reports to standard error.
#[test]
fn unusable_report_dir_falls_back_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "").unwrap();
    let bad = file.join("reports");
    let out = output_within(
        target(&["flood", "3"]).env("RACEDET_OPTIONS", format!("report_dir={}", bad.display())),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(66), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(
        err.matches("cannot write reports to").count(),
        1,
        "one warning, not one per report: {err}"
    );
    assert!(err.contains(&bad.display().to_string()), "{err}");
    let races: usize = text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("done races="))
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(err.matches("WARNING: DATA RACE").count(), races, "{err}");
}

/// Every write to the report file fails (file size limit 0: what a full
/// disk looks like to the writer): one warning, reports go to stderr.
#[test]
fn full_report_dir_falls_back_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = output_within(
        target(&["fsize-limit"]).env("RACEDET_OPTIONS", options(dir.path(), "")),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(66), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "survived");
    let err = text(&out.stderr);
    assert_eq!(err.matches("writing a report failed").count(), 1, "{err}");
    assert_eq!(err.matches("WARNING: DATA RACE").count(), 2, "{err}");
}

/// Arguments with newlines, tabs, quotes, spaces and invalid UTF-8 reach
/// the target byte for byte (the CLI's test covers the rest of the set).
#[test]
fn arguments_with_newlines_pass_through() {
    let args: Vec<&OsStr> = vec![
        OsStr::new("line one\nline two"),
        OsStr::new("\r\n\t"),
        OsStr::new("\"quoted 'both' ways\""),
        OsStr::new(" leading and trailing "),
        OsStr::from_bytes(b"\xc3\x28 bad utf-8 \xff\n"),
    ];
    let mut cmd = racedet(&["run", "--", target_exe(), "print-args"]);
    cmd.args(&args);
    let out = output_within(&mut cmd, LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut expected = Vec::new();
    for a in &args {
        expected.extend_from_slice(a.as_bytes());
        expected.push(0);
    }
    assert!(out.stdout.starts_with(&expected), "{:?}", text(&out.stdout));
}

/// A baseline that exists but cannot be read as a file (a directory), and
/// a malformed `RACEDET_OPTIONS` inherited by the CLI: status 2 before the
/// target runs, one line naming the problem.
#[test]
fn unreadable_gate_input_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = output_within(
        &mut racedet(&["run", "--baseline", d, "--", target_exe(), "race"]),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("cannot read baseline file {d}")),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    let mut cmd = racedet(&["run", "--", target_exe(), "race"]);
    cmd.env("RACEDET_OPTIONS", "max_reports=lots");
    let out = output_within(&mut cmd, LIMIT);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("max_reports") && err.contains("lots"), "{err}");
}

/// `RACEDET` turns detection on with any value but `0` or the empty string,
/// which read as unset (`RACEDET= cargo test` must not switch it on).
#[test]
fn racedet_variable_is_on_only_with_a_value() {
    for (value, on) in [("1", true), ("yes", true), ("0", false), ("", false)] {
        let out = output_within(target(&["flood", "1"]).env("RACEDET", value), LIMIT);
        // A process that reported a race exits with `exitcode` (66).
        let want = if on { 66 } else { 0 };
        assert_eq!(out.status.code(), Some(want), "RACEDET={value:?}");
        let err = text(&out.stderr);
        assert_eq!(
            err.contains("WARNING: DATA RACE"),
            on,
            "RACEDET={value:?}: {err}"
        );
    }
}
