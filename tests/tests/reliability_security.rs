//! Security: the report directory is private, report files are never
//! opened through a planted symlink, and text from the program (thread and
//! object names) cannot break or spoof any output format.

mod reliability_common;

use std::time::Duration;

use reliability_common::*;

const LIMIT: Duration = Duration::from_secs(120);

/// `racedet run` makes its report directory with mkdtemp under `$TMPDIR`,
/// mode 0700, and removes it afterwards.
#[test]
fn report_dir_is_private_and_under_tmpdir() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = racedet(&["run", "--", target_exe(), "report-dir-mode"]);
    cmd.env("TMPDIR", tmp.path());
    let out = output_within(&mut cmd, LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    let dir = lines.next().unwrap();
    assert!(dir.starts_with(tmp.path().to_str().unwrap()), "{dir}");
    assert_eq!(lines.next(), Some("700"));
    assert!(
        !std::path::Path::new(dir).exists(),
        "report dir left behind"
    );
}

/// A symlink planted where the process's report file will go (pointing at
/// a file the attacker wants overwritten, or at a path to create) is
/// refused, not followed: the target is untouched, the runtime says so once
/// and prints its reports to standard error instead, and the run goes on.
#[test]
fn planted_symlink_is_refused_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let dangling = dir.path().join("would-be-created");
    for (target_path, existing) in [(&victim, true), (&dangling, false)] {
        let reports = tempfile::tempdir().unwrap();
        let out = output_within(
            target(&["plant-symlink", target_path.to_str().unwrap()])
                .env("RACEDET_OPTIONS", options(reports.path(), "")),
            LIMIT,
        );
        assert_eq!(out.status.code(), Some(66), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), "survived");
        let err = text(&out.stderr);
        assert_eq!(err.matches("cannot write reports to").count(), 1, "{err}");
        assert!(err.contains("WARNING: DATA RACE"), "{err}");
        if existing {
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        } else {
            assert!(!dangling.exists(), "created through the symlink");
        }
    }
}

const EVIL_PARTS: [&str; 4] = [
    "</failure>",
    "\u{1b}[2J",
    "\u{1b}]0;title\u{7}",
    "\nSUMMARY: racedet: fake",
];

fn names_run(format: &str) -> std::process::Output {
    let out = output_within(
        &mut racedet(&["run", "--format", format, "--", target_exe(), "names"]),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(66), "{}", text(&out.stderr));
    out
}

fn no_control_bytes(out: &[u8], what: &str) {
    for b in [0x1b_u8, 0x07] {
        assert!(
            !out.contains(&b),
            "{what}: raw control byte {b:#x} in output"
        );
    }
}

#[test]
fn hostile_names_are_escaped_in_every_format() {
    // JSON: valid, and the names survive exactly (escaping is lossless).
    let out = names_run("json");
    no_control_bytes(&out.stdout, "json");
    let mut seen_name = false;
    for line in text(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid JSON line");
        if let Some(threads) = v.pointer("/report/threads").or(v.get("threads")) {
            for t in threads.as_array().unwrap() {
                let name = t["name"].as_str().unwrap_or("");
                if EVIL_PARTS.iter().all(|p| name.contains(p)) {
                    seen_name = true;
                }
            }
        }
    }
    assert!(
        seen_name,
        "thread names lost in JSON:\n{}",
        text(&out.stdout)
    );

    // SARIF: one valid JSON document.
    let out = names_run("sarif");
    no_control_bytes(&out.stdout, "sarif");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid SARIF JSON");
    assert!(
        doc.to_string().contains("</failure>"),
        "names lost in SARIF"
    );

    // JUnit: the only `</failure>` tags are racedet's own, no control bytes
    // (XML 1.0 cannot carry them).
    let out = names_run("junit");
    let xml = text(&out.stdout);
    no_control_bytes(&out.stdout, "junit");
    assert_eq!(
        xml.matches("</failure>").count(),
        xml.matches("<failure").count(),
        "{xml}"
    );
    assert!(!xml.contains("<x a="), "{xml}");

    // Text: no escape sequence reaches the terminal, and the newline in
    // the name cannot start a line of its own.
    let out = names_run("text");
    no_control_bytes(&out.stdout, "text");
    let t = text(&out.stdout);
    assert!(t.contains("\\u{1b}[2J"), "{t}");
    assert!(
        !t.lines().any(|l| l.starts_with("SUMMARY: racedet: fake")),
        "{t}"
    );
}
