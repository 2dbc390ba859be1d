//! Report storm: many racy operations from 8 threads. The run completes,
//! each race pair is reported once with an occurrence count, `max_reports`
//! limits what is printed (not what is counted), and the cost is recorded
//! next to the same program's race-free variants (timings are printed, not
//! asserted: docs/reliability.md has the figures).
//!
//! CI size: 100 000 operations; the full 1 000 000 is `#[ignore]`d.

mod reliability_common;

use std::collections::BTreeMap;
use std::time::Duration;

use reliability_common::*;

const LIMIT: Duration = Duration::from_secs(240);

fn elapsed_ms(out: &std::process::Output) -> u64 {
    text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("elapsed_ms "))
        .and_then(|v| v.trim().parse().ok())
        .expect("elapsed_ms line")
}

fn storm(ops: u64) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("text");
    let opts = options(
        dir.path(),
        &format!("max_reports=2 log_path={}", log.display()),
    );
    let ops_s = ops.to_string();
    let out = output_within(
        target(&["storm", &ops_s, "8", "racy"]).env("RACEDET_OPTIONS", &opts),
        LIMIT,
    );
    // A race and a normal exit: the runtime's `exitcode`.
    assert_eq!(out.status.code(), Some(66), "{}", text(&out.stderr));
    let racy_ms = elapsed_ms(&out);

    let files = report_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let recs = records(&files[0]);
    // Deduplicated: the four race pairs (cell write/write, write/read, map
    // insert/insert, insert/get), one record each.
    let races = of_type(&recs, "race");
    let mut sigs: Vec<&str> = races
        .iter()
        .map(|r| r["signature"].as_str().unwrap())
        .collect();
    sigs.sort();
    sigs.dedup();
    assert_eq!((races.len(), sigs.len()), (4, 4), "{races:#?}");
    // Counts: the largest count written per race, summed, is every
    // occurrence the process saw (its exit record).
    let mut counts: BTreeMap<&str, u64> = sigs.iter().map(|s| (*s, 1)).collect();
    for r in of_type(&recs, "repeat") {
        let c = counts
            .get_mut(r["signature"].as_str().unwrap())
            .expect("a repeat of a reported race");
        *c = (*c).max(r["count"].as_u64().unwrap());
    }
    let exit = of_type(&recs, "process")
        .into_iter()
        .find(|r| r["event"] == "exit")
        .expect("exit record");
    assert_eq!(exit["races"], 4);
    let total: u64 = counts.values().sum();
    assert_eq!(exit["occurrences"].as_u64(), Some(total));
    assert!(total > ops / 10, "few occurrences counted: {total}");
    // Bounded output: repeat lines only at powers of two and at exit.
    let repeat_lines = of_type(&recs, "repeat").len() as u64;
    assert!(repeat_lines <= 4 * (64 - total.leading_zeros() as u64 + 1));
    // max_reports=2: two reports printed, all four counted.
    let printed =
        std::fs::read_to_string(format!("{}.{}", log.display(), exit["pid"])).expect("text log");
    assert_eq!(printed.matches("WARNING: DATA RACE").count(), 2);

    // The race-free variants of the same program, for the record.
    let locked = output_within(
        target(&["storm", &ops_s, "8", "locked"]).env("RACEDET", "1"),
        LIMIT,
    );
    assert_eq!(locked.status.code(), Some(0), "{}", text(&locked.stderr));
    let own = output_within(
        target(&["storm", &ops_s, "8", "own"]).env("RACEDET", "1"),
        LIMIT,
    );
    assert_eq!(own.status.code(), Some(0), "{}", text(&own.stderr));
    eprintln!(
        "storm {ops} ops x 8 threads: racy {racy_ms} ms ({total} occurrences, 4 races); \
         race-free: locked {} ms, own objects {} ms",
        elapsed_ms(&locked),
        elapsed_ms(&own)
    );
}

#[test]
fn storm_is_deduplicated_counted_and_limited() {
    storm(100_000);
}

/// The same through the CLI: two races shown in full, the rest counted.
#[test]
fn storm_through_the_cli_honours_max_reports() {
    let out = output_within(
        &mut racedet(&[
            "run",
            "--max-reports",
            "2",
            "--",
            target_exe(),
            "storm",
            "20000",
            "8",
            "racy",
        ]),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(66), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("WARNING: DATA RACE").count(), 2, "{stdout}");
    assert!(
        stdout.contains("2 more distinct races not shown"),
        "{stdout}"
    );
    assert!(stdout.contains("racedet: 4 data races ("), "{stdout}");
}

/// Full size: `cargo test --release -p racedet-tests --test reliability_storm -- --ignored --nocapture`.
#[test]
#[ignore = "full size (1 000 000 racy operations); figures in docs/reliability.md"]
fn full_size_storm() {
    storm(1_000_000);
}
