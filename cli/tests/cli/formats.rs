//! `--format json|sarif|junit`, `--output`, and `racedet report`.

use serde_json::Value;

use crate::common::*;

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn json_has_one_object_per_race_then_a_summary() {
    let out = run_fixture(&["--format", "json"], &["race-loop", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(RACES_FOUND));
    let lines = json_lines(&stdout(&out));
    assert_eq!(lines.len(), 2);
    let race = &lines[0];
    assert_eq!(race["type"], "race");
    assert_eq!(race["schema"], 1);
    assert_eq!(race["status"], "new");
    assert_eq!(race["occurrences"], 3);
    assert_eq!(race["processes"], 1);
    assert!(race["signature"].as_str().is_some_and(|s| !s.is_empty()));
    for side in ["current", "previous"] {
        let site = &race[side]["site"];
        assert!(
            site["file"]
                .as_str()
                .unwrap()
                .ends_with("racedet-fixture.rs"),
            "{race}"
        );
        assert!(site["line"].as_u64().unwrap() > 0);
    }
    let summary = &lines[1];
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        (summary["races"].clone(), summary["new"].clone()),
        (1.into(), 1.into())
    );
}

#[test]
fn machine_output_on_stdout_is_not_mixed_with_the_targets_output() {
    let out = run_fixture(&["--format", "json"], &["stdout-race"])
        .output()
        .unwrap();
    assert_eq!(json_lines(&stdout(&out)).len(), 2);
    assert!(stderr(&out).contains("this is the target's own output"));
}

#[test]
fn sarif_has_both_accesses_as_locations_and_a_code_flow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.sarif");
    let out = run_fixture(
        &["--format", "sarif", "--output", path.to_str().unwrap()],
        &["two-races"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(RACES_FOUND));
    assert!(stdout(&out).is_empty(), "report went to the file");
    assert!(stderr(&out).contains("2 data races"), "summary on stderr");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "racedet");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["ruleId"], "racedet/data-race");
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let locs = r["locations"].as_array().unwrap();
        assert_eq!(locs.len(), 2);
        for l in locs {
            let p = &l["physicalLocation"];
            assert!(
                p["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .ends_with("racedet-fixture.rs")
            );
            assert!(p["region"]["startLine"].as_u64().unwrap() > 0);
            assert!(p["region"]["startColumn"].as_u64().unwrap() > 0);
        }
        let flows = r["codeFlows"][0]["threadFlows"].as_array().unwrap();
        assert_eq!(flows.len(), 2);
        assert!(r["partialFingerprints"]["racedetSignature/v1"].is_string());
    }
}

#[test]
fn junit_in_run_mode_is_one_failing_testcase() {
    let out = run_fixture(&["--format", "junit"], &["race"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(RACES_FOUND));
    let root = parse_xml(&stdout(&out));
    assert_eq!(root.name, "testsuites");
    let mut cases = Vec::new();
    root.all("testcase", &mut cases);
    assert_eq!(cases.len(), 1);
    let mut failures = Vec::new();
    cases[0].all("failure", &mut failures);
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0]
            .attr("message")
            .unwrap()
            .contains("race detected")
    );
    assert!(failures[0].text.contains("WARNING: DATA RACE"));

    let out = run_fixture(&["--format", "junit"], &["clean"])
        .output()
        .unwrap();
    let root = parse_xml(&stdout(&out));
    let mut failures = Vec::new();
    root.all("failure", &mut failures);
    assert!(failures.is_empty());
}

#[test]
fn kept_reports_re_render_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("reports");
    let first = run_fixture(
        &["--keep-reports", keep.to_str().unwrap()],
        &["named", "t::one"],
    )
    .output()
    .unwrap();
    assert_eq!(first.status.code(), Some(RACES_FOUND));
    let text = racedet().arg("report").arg(&keep).output().unwrap();
    assert_eq!(text.status.code(), Some(RACES_FOUND));
    assert!(stdout(&text).contains("WARNING: DATA RACE"));
    let json = racedet()
        .args(["report", "--format", "json"])
        .arg(&keep)
        .output()
        .unwrap();
    assert_eq!(json_lines(&stdout(&json))[0]["tests"][0], "t::one");
    let junit = racedet()
        .args(["report", "--format", "junit"])
        .arg(&keep)
        .output()
        .unwrap();
    let root = parse_xml(&stdout(&junit));
    let mut cases = Vec::new();
    root.all("testcase", &mut cases);
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].attr("name"), Some("one"));
    assert_eq!(cases[0].attr("classname"), Some("t"));
}

#[test]
fn corrupted_and_truncated_lines_are_skipped_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("reports");
    run_fixture(&["--keep-reports", keep.to_str().unwrap()], &["two-races"])
        .assert()
        .code(RACES_FOUND);
    let file = std::fs::read_dir(&keep)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let good = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    // Corrupt line 2 (the first race); cut the last line in half.
    assert!(lines[1].contains("\"race\""), "{good}");
    let mut text = String::new();
    for (i, l) in lines.iter().enumerate() {
        match i {
            1 => text.push_str("{\"type\":\"race\",garbage\n"),
            _ if i + 1 == lines.len() => text.push_str(&l[..l.len() / 2]),
            _ => {
                text.push_str(l);
                text.push('\n');
            }
        }
    }
    std::fs::write(&file, text).unwrap();
    let out = racedet().arg("report").arg(&keep).output().unwrap();
    let err = stderr(&out);
    let name = file.display().to_string();
    assert!(
        err.contains(&format!("{name}:2: skipped a corrupted report line")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{name}:{}: skipped a truncated", lines.len())),
        "{err}"
    );
    // The other race is still there.
    assert_eq!(out.status.code(), Some(RACES_FOUND));
    assert!(stdout(&out).contains("1 data race"), "{}", stdout(&out));
}
