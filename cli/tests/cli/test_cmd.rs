//! `racedet test` on a tiny cargo project (cli/tests/fixtures/racy-project).
//! It compiles the project (and racedet) once into a persistent directory
//! under the workspace's target directory, so reruns are incremental.

use std::path::Path;

use crate::common::*;

#[test]
fn racy_test_fails_with_its_name_even_though_assertions_pass() {
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/racy-project/Cargo.toml");
    let junit = tempfile::NamedTempFile::new().unwrap();
    let out = racedet()
        .env(
            "CARGO_TARGET_DIR",
            target_dir().join("racedet-fixture-project"),
        )
        .args(["test", "--format", "junit", "--output"])
        .arg(junit.path())
        .arg("--")
        .arg("--manifest-path")
        .arg(&manifest)
        .output()
        .unwrap();
    let (so, se) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(RACES_FOUND), "{so}\n{se}");
    // libtest saw both tests pass: only the detector fails the racy one.
    assert!(
        so.contains("test tests::racy_insert_and_get ... ok"),
        "{so}"
    );
    assert!(
        so.contains("test tests::joined_insert_and_get ... ok"),
        "{so}"
    );
    let root = parse_xml(&std::fs::read_to_string(junit.path()).unwrap());
    let mut cases = Vec::new();
    root.all("testcase", &mut cases);
    let case = |name: &str| {
        cases
            .iter()
            .find(|c| c.attr("name") == Some(name))
            .unwrap_or_else(|| panic!("no testcase {name}: {cases:?}"))
    };
    let mut failures = Vec::new();
    case("racy_insert_and_get").all("failure", &mut failures);
    assert_eq!(failures.len(), 1, "{cases:?}");
    assert!(
        failures[0]
            .attr("message")
            .unwrap()
            .contains("race detected during execution of test")
    );
    assert!(failures[0].text.contains("RaceMap \"users\""));
    let mut clean = Vec::new();
    case("joined_insert_and_get").all("failure", &mut clean);
    assert!(clean.is_empty(), "{cases:?}");
}

/// The same project under `cargo nextest run` (each test in its own
/// process): the race still fails exactly the racy test.
#[test]
fn nextest_mode_fails_the_racy_test() {
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/racy-project/Cargo.toml");
    let junit = tempfile::NamedTempFile::new().unwrap();
    let out = racedet()
        .env(
            "CARGO_TARGET_DIR",
            target_dir().join("racedet-fixture-project"),
        )
        .args(["test", "--nextest", "--format", "junit", "--output"])
        .arg(junit.path())
        .arg("--")
        .arg("--manifest-path")
        .arg(&manifest)
        .output()
        .unwrap();
    let (so, se) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(RACES_FOUND), "{so}\n{se}");
    let root = parse_xml(&std::fs::read_to_string(junit.path()).unwrap());
    let mut failures = Vec::new();
    root.all("failure", &mut failures);
    assert_eq!(failures.len(), 1, "one failing test: {so}\n{se}");
    assert!(
        failures[0]
            .attr("message")
            .unwrap()
            .contains("race detected during execution of test"),
        "{failures:?}"
    );
    assert!(
        failures[0].text.contains("racy_insert_and_get"),
        "{failures:?}"
    );
}
