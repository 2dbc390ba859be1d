//! The loom drop-in, end to end: each crate in `tests/loom-crates` runs its
//! own loom suite with `RUSTFLAGS="--cfg loom" cargo test --test loom`
//! against racedet renamed to `loom` (docs/loom.md). The clean crate must
//! pass; its `mutant` (one ordering weakened or a fence left out) must fail
//! with a race report naming every line marked `// race:` in its source,
//! and with the seed that replays the failing iteration.
//!
//! The crates share one target directory under this workspace's target
//! (`target/loom-crates`), so racedet is built once for all of them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("loom-crates")
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory")
        .join("loom-crates")
}

struct Run {
    ok: bool,
    output: String,
}

/// `cargo test --test loom` on one crate, with `--cfg loom`.
fn loom_suite(krate: &str, mutant: bool) -> Run {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.arg("test")
        .arg("--manifest-path")
        .arg(crates_dir().join("Cargo.toml"))
        .args(["-p", &format!("loom-{krate}"), "--test", "loom"])
        .arg("--target-dir")
        .arg(target_dir());
    if mutant {
        cmd.args(["--features", "mutant"]);
    }
    // The inner build's flags are exactly `--cfg loom`, whatever the outer
    // build used; detection is left to `model`, not the environment.
    cmd.env("RUSTFLAGS", "--cfg loom")
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RACEDET")
        .env_remove("RACEDET_OPTIONS")
        .env_remove("RACEDET_MODEL_SEED")
        .env_remove("RACEDET_MODEL_ITERATIONS");
    let out = cmd.output().expect("cargo runs");
    Run {
        ok: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Tests passed according to libtest's summary lines.
fn passed(output: &str) -> usize {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum()
}

/// The 1-based numbers of the lines marked `// race:` in the crate's source.
fn marked_lines(krate: &str) -> Vec<usize> {
    let src =
        std::fs::read_to_string(crates_dir().join(krate).join("src/lib.rs")).expect("crate source");
    src.lines()
        .enumerate()
        .filter(|(_, l)| l.contains("// race:"))
        .map(|(i, _)| i + 1)
        .collect()
}

fn clean_passes(krate: &str) {
    let run = loom_suite(krate, false);
    assert!(run.ok, "loom suite of {krate} failed:\n{}", run.output);
    assert!(
        passed(&run.output) > 0,
        "no test ran in {krate}:\n{}",
        run.output
    );
}

fn mutant_fails_naming_the_race(krate: &str) {
    let lines = marked_lines(krate);
    assert!(!lines.is_empty(), "{krate} marks no racing line");
    let run = loom_suite(krate, true);
    assert!(!run.ok, "mutant of {krate} passed:\n{}", run.output);
    assert!(
        run.output.contains("WARNING: DATA RACE"),
        "mutant of {krate} failed without a race report:\n{}",
        run.output
    );
    for n in lines {
        assert!(
            run.output.contains(&format!("src/lib.rs:{n}:")),
            "the report for {krate} does not name src/lib.rs:{n}:\n{}",
            run.output
        );
    }
    assert!(
        run.output.contains("RACEDET_MODEL_SEED=0x"),
        "no replay seed for {krate}:\n{}",
        run.output
    );
}

#[test]
fn spsc_queue() {
    clean_passes("spsc");
    mutant_fails_naming_the_race("spsc");
}

#[test]
fn treiber_stack() {
    clean_passes("treiber");
    mutant_fails_naming_the_race("treiber");
}

#[test]
fn seqlock() {
    clean_passes("seqlock");
    mutant_fails_naming_the_race("seqlock");
}

#[test]
fn refcount_missing_fence() {
    clean_passes("refcount");
    mutant_fails_naming_the_race("refcount");
}

#[test]
fn oneshot_channel() {
    clean_passes("oneshot");
    mutant_fails_naming_the_race("oneshot");
}

#[test]
fn loom_api_coverage() {
    clean_passes("api");
}
