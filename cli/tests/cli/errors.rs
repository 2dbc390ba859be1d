//! Each error is one line naming the path and the problem, with the
//! documented exit status; configuration errors stop before the target runs.

use std::os::unix::fs::PermissionsExt;

use crate::common::*;

#[test]
fn missing_program_is_127() {
    let out = racedet()
        .args(["run", "--", "/nonexistent/racedet-no-such-program"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    let err = stderr(&out);
    assert!(
        err.contains("cannot run /nonexistent/racedet-no-such-program: program not found"),
        "{err}"
    );
}

#[test]
fn non_executable_program_is_126() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "script", "#!/bin/sh\necho hi\n");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = racedet().arg("run").arg("--").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(126));
    assert!(stderr(&out).contains("not executable"), "{}", stderr(&out));
}

/// The target must not run: it would print its environment.
fn assert_config_error(opts: &[&str], expect: &str) {
    let out = run_fixture(opts, &["print-env"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!stdout(&out).contains("RACEDET="), "the target ran");
    let err = stderr(&out);
    assert!(err.contains(expect), "expected `{expect}` in: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn bad_suppression_files_stop_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.supp");
    assert_config_error(
        &["--suppressions", missing.to_str().unwrap()],
        &format!("cannot read suppression file {}", missing.display()),
    );
    let bad = write(dir.path(), "bad.supp", "race:ok\nmutex:foo\n");
    assert_config_error(
        &["--suppressions", bad.to_str().unwrap()],
        &format!("{}:2: unsupported suppression type `mutex`", bad.display()),
    );
}

#[test]
fn bad_baseline_stops_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    assert_config_error(
        &["--baseline", missing.to_str().unwrap()],
        &format!("cannot read baseline file {}", missing.display()),
    );
    let bad = write(dir.path(), "bad.json", "{\"races\": 3}");
    assert_config_error(
        &["--baseline", bad.to_str().unwrap()],
        &format!("{}:1: not a racedet baseline file", bad.display()),
    );
}

#[test]
fn unwritable_output_stops_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no-such-dir").join("out.sarif");
    assert_config_error(
        &["--output", out.to_str().unwrap()],
        &format!("cannot write output file {}", out.display()),
    );
}

#[test]
fn bad_engine_options_stop_before_the_run() {
    assert_config_error(&["-O", "halt_on_eror=1"], "unknown option `halt_on_eror`");
    assert_config_error(&["-O", "exitcode=3"], "use --exitcode");
}

#[test]
fn missing_report_path_is_a_config_error() {
    let out = racedet()
        .args(["report", "/nonexistent/racedet-reports"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read reports from /nonexistent/racedet-reports"));
}

#[test]
fn usage_errors_are_2() {
    racedet().args(["run"]).assert().code(2);
    racedet().args(["frobnicate"]).assert().code(2);
    racedet()
        .args(["run", "--format", "xml", "--", "true"])
        .assert()
        .code(2);
}
