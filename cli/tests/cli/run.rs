//! `racedet run` and `racedet demo`: detection in the target and its
//! children, dedup and counts, exit statuses, argument pass-through.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use predicates::prelude::*;

use crate::common::*;

#[test]
fn race_is_reported_with_both_accesses_and_fails() {
    let out = run_fixture(&[], &["race"]).output().unwrap();
    assert_eq!(out.status.code(), Some(RACES_FOUND), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("WARNING: DATA RACE"), "{text}");
    assert!(write_and_read(&text, "of size 8"), "{text}");
    assert!(text.contains("racedet-fixture.rs"), "{text}");
    assert!(
        text.contains("racedet: 1 data race (1 occurrence) in 1 process"),
        "{text}"
    );
}

#[test]
fn race_free_twin_is_clean() {
    run_fixture(&[], &["clean"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("racedet: no data races"))
        .stdout(predicate::str::contains("DATA RACE").not());
}

#[test]
fn target_status_passes_through_when_clean() {
    run_fixture(&[], &["exit", "4"]).assert().code(4);
}

#[test]
fn races_override_the_target_status_and_exitcode_is_configurable() {
    run_fixture(&[], &["race-exit", "3"])
        .assert()
        .code(RACES_FOUND);
    run_fixture(&["--exitcode", "9"], &["race"])
        .assert()
        .code(9);
}

#[test]
fn repeats_are_counted_not_reprinted() {
    let out = run_fixture(&[], &["race-loop", "5"]).output().unwrap();
    let text = stdout(&out);
    assert_eq!(text.matches("WARNING: DATA RACE").count(), 1, "{text}");
    assert!(text.contains("Occurrences: 5"), "{text}");
    assert!(
        text.contains("1 data race (5 occurrences) in 1 process"),
        "{text}"
    );
}

#[test]
fn same_race_in_two_processes_is_one_race() {
    let out = run_fixture(&[], &["race-and-spawn"]).output().unwrap();
    assert_eq!(out.status.code(), Some(RACES_FOUND));
    let text = stdout(&out);
    assert_eq!(text.matches("WARNING: DATA RACE").count(), 1, "{text}");
    assert!(
        text.contains("1 data race (2 occurrences) in 2 processes"),
        "{text}"
    );
}

#[test]
fn child_processes_are_checked() {
    // fork + exec: the child inherits the detector's environment.
    let out = run_fixture(&[], &["spawn-child", "race"]).output().unwrap();
    assert_eq!(out.status.code(), Some(RACES_FOUND));
    assert!(stdout(&out).contains("WARNING: DATA RACE"));
    // A plain fork(2): the child writes its own report file.
    let out = run_fixture(&[], &["fork-race"]).output().unwrap();
    assert_eq!(out.status.code(), Some(RACES_FOUND), "{}", stderr(&out));
    assert!(stdout(&out).contains("WARNING: DATA RACE"));
}

#[test]
fn clean_child_keeps_the_run_clean() {
    run_fixture(&[], &["spawn-child", "clean"]).assert().code(0);
}

#[test]
fn report_survives_sigkill() {
    let out = run_fixture(&[], &["race-then-kill"]).output().unwrap();
    assert_eq!(out.status.code(), Some(RACES_FOUND));
    assert!(stdout(&out).contains("WARNING: DATA RACE"));
    assert!(
        stderr(&out).contains("killed by signal 9 (SIGKILL)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn arguments_pass_through_byte_for_byte() {
    let args: Vec<&OsStr> = vec![
        OsStr::new("two words"),
        OsStr::new("--flag=$HOME"),
        OsStr::new("*"),
        OsStr::new("'\"`;|&"),
        OsStr::new(""),
        OsStr::from_bytes(b"\xff\xfenot utf-8"),
    ];
    let out = racedet()
        .arg("run")
        .arg("--")
        .arg(fixture())
        .arg("print-args")
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut expected = Vec::new();
    for a in &args {
        expected.extend_from_slice(a.as_bytes());
        expected.push(0);
    }
    assert!(
        out.stdout.starts_with(&expected),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn detection_environment_reaches_the_target() {
    let out = run_fixture(&["-O", "history_size=4"], &["print-env"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("RACEDET=1\n"), "{text}");
    let opts = text
        .lines()
        .find_map(|l| l.strip_prefix("RACEDET_OPTIONS="))
        .unwrap();
    assert!(opts.contains("history_size=4"), "{opts}");
    assert!(opts.contains("report_dir=/"), "{opts}");
}

#[test]
fn halt_on_error_stops_at_the_first_race() {
    let out = run_fixture(&["--halt-on-error"], &["two-races"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(RACES_FOUND));
    assert!(
        stdout(&out).contains("1 data race (1 occurrence)"),
        "{}",
        stdout(&out)
    );
    let out = run_fixture(&[], &["two-races"]).output().unwrap();
    assert!(
        stdout(&out).contains("2 data races (2 occurrences)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn max_reports_limits_what_is_shown_not_what_is_counted() {
    let out = run_fixture(&["--max-reports", "1"], &["two-races"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(text.matches("WARNING: DATA RACE").count(), 1, "{text}");
    assert!(text.contains("1 more distinct race not shown"), "{text}");
    assert!(text.contains("2 data races"), "{text}");
}

#[test]
fn strip_path_prefix_shortens_paths() {
    let out = run_fixture(&["--strip-path-prefix", "cli/tests/"], &["race"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("fixtures/racedet-fixture.rs"), "{text}");
    assert!(!text.contains("cli/tests/fixtures"), "{text}");
}

#[test]
fn demo_reports_the_map_race() {
    let out = racedet().arg("demo").output().unwrap();
    assert_eq!(out.status.code(), Some(RACES_FOUND), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("RaceMap \"users\""), "{text}");
    assert!(write_and_read(&text, "at RaceMap"), "{text}");
    assert!(text.contains("cli/src/demo.rs"), "{text}");
}

#[test]
fn help_documents_exit_statuses() {
    racedet()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Exit status"))
        .stdout(predicate::str::contains("66"))
        .stdout(predicate::str::contains("127"));
}
