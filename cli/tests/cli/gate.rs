//! Suppressions and baselines.

use crate::common::*;

#[test]
fn suppressed_races_pass_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let supp = write(
        dir.path(),
        "supp.txt",
        "# the fixture's race is on purpose\nrace:racedet_fixture::read_at\n# stale\nrace:no_such_function\n",
    );
    let out = run_fixture(&["--suppressions", supp.to_str().unwrap()], &["race"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("WARNING: DATA RACE"), "{text}");
    assert!(text.contains("1 suppressed (1 occurrence)"), "{text}");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}:4 `race:no_such_function` matched no race",
            supp.display()
        )),
        "{err}"
    );
}

#[test]
fn suppression_by_file_pattern_leaves_other_races() {
    let dir = tempfile::tempdir().unwrap();
    let supp = write(dir.path(), "supp.txt", "race:racedet_fixture::read_at\n");
    // two-races: the write/read race is suppressed, the write/write one is not.
    let out = run_fixture(&["--suppressions", supp.to_str().unwrap()], &["two-races"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(RACES_FOUND));
    assert!(stdout(&out).contains("1 data race (1 occurrence) in 1 process; 1 suppressed"));
}

#[test]
fn baseline_accepts_known_races_and_lists_fixed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("baseline.json");
    let b = base.to_str().unwrap();
    // Record the known race (the run still fails: it had no baseline).
    run_fixture(&["--write-baseline", b], &["race"])
        .assert()
        .code(RACES_FOUND);
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    assert_eq!(recorded["races"].as_array().unwrap().len(), 1);
    assert!(
        recorded["races"][0]["current"]["location"]
            .as_str()
            .unwrap()
            .contains("racedet-fixture.rs:")
    );

    // The same race again: known, passes.
    let out = run_fixture(&["--baseline", b], &["race"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 known from the baseline"));

    // A new race on top: fails.
    let out = run_fixture(&["--baseline", b], &["two-races"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(RACES_FOUND));

    // The known race is gone: listed as fixed.
    let out = run_fixture(&["--baseline", b], &["clean"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("fixed since the baseline"),
        "{}",
        stdout(&out)
    );
}
