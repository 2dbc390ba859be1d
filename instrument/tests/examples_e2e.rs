//! End to end: the shared-map examples in `instrument/examples/`.
//!
//! Every line of an example marked with a trailing `// RACE` is a racing
//! call site. A racy example must report exactly those lines (the current
//! and the previous access of every race) in every run; a clean one must
//! report nothing, ever.
//!
//! * In process, 50 repetitions each: the example files are compiled into
//!   this test as modules and their `run()` is called inside
//!   `racedet::check`. Cheap, and it exercises the schedule variety of many
//!   runs.
//! * As processes, a few runs each: the example binaries with `RACEDET=1`
//!   and `RACEDET_OPTIONS=report_dir=<tempdir>`, checking the exit status
//!   (66 when racy, 0 when clean) and the JSON-lines reports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use racedet::runtime::report::model::{RaceReport, Record};

macro_rules! examples {
    ($($name:ident => $path:literal),* $(,)?) => {
        $(
            #[allow(dead_code)]
            #[path = $path]
            mod $name;
        )*

        /// (name, run, source) of every example.
        const EXAMPLES: &[(&str, fn(), &str)] = &[
            $((
                stringify!($name),
                $name::run,
                include_str!($path),
            )),*
        ];
    };
}

examples!(
    map_unsync => "../examples/map_unsync.rs",
    map_rwlock => "../examples/map_rwlock.rs",
    map_read_lock_insert => "../examples/map_read_lock_insert.rs",
    map_sharded => "../examples/map_sharded.rs",
    map_snapshot_swap => "../examples/map_snapshot_swap.rs",
    map_snapshot_relaxed => "../examples/map_snapshot_relaxed.rs",
    map_owner_channel => "../examples/map_owner_channel.rs",
    map_flag_relaxed => "../examples/map_flag_relaxed.rs",
    map_flag_release => "../examples/map_flag_release.rs",
    map_spawn_join => "../examples/map_spawn_join.rs",
);

const IN_PROCESS_RUNS: usize = 50;
const PROCESS_RUNS: usize = 2;

/// The 1-based numbers of the lines ending in `// RACE`.
fn marked_lines(source: &str) -> BTreeSet<u32> {
    source
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_end().ends_with("// RACE"))
        .map(|(i, _)| i as u32 + 1)
        .collect()
}

/// The lines of both accesses of every race, which must all be in the
/// example's own file.
fn reported_lines<'a>(
    name: &str,
    reports: impl IntoIterator<Item = &'a RaceReport>,
) -> BTreeSet<u32> {
    let file = format!("{name}.rs");
    let mut lines = BTreeSet::new();
    for r in reports {
        for access in [&r.current, &r.previous] {
            let site = access.site.as_ref().expect("every access has a site");
            let path = site.file.as_deref().unwrap_or_default();
            assert!(
                path.ends_with(&file),
                "{name}: race at {path}, outside the example"
            );
            lines.insert(site.line.expect("site line"));
        }
    }
    lines
}

#[test]
fn examples_are_marked_consistently() {
    let racy: Vec<_> = EXAMPLES
        .iter()
        .filter(|(_, _, src)| !marked_lines(src).is_empty())
        .map(|(name, _, _)| *name)
        .collect();
    assert_eq!(
        racy,
        [
            "map_unsync",
            "map_read_lock_insert",
            "map_snapshot_relaxed",
            "map_flag_relaxed"
        ]
    );
}

#[test]
fn in_process_runs_report_exactly_the_marked_lines() {
    for (name, run, source) in EXAMPLES {
        let expected = marked_lines(source);
        for i in 0..IN_PROCESS_RUNS {
            match racedet::check(run) {
                Ok(()) => assert!(expected.is_empty(), "{name}: no race in run {i}"),
                Err(e) => {
                    assert!(!expected.is_empty(), "{name}, run {i}: unexpected\n{e}");
                    let got = reported_lines(name, e.reports());
                    assert_eq!(got, expected, "{name}, run {i}:\n{e}");
                }
            }
        }
    }
}

/// `target/<profile>/examples/`, next to this test's `deps/` directory.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples")
}

/// The example binary `name`. `cargo build --examples` runs once first, for
/// the same target directory and profile as this test: `cargo test` builds
/// the examples anyway (then this is a quick no-op), but `cargo test --test
/// examples_e2e` does not, and would otherwise run stale binaries.
fn example_binary(name: &str) -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let profile_dir = examples_dir().parent().unwrap().to_path_buf();
        let profile = match profile_dir.file_name().unwrap().to_str().unwrap() {
            "debug" => "dev".to_string(),
            other => other.to_string(),
        };
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--examples", "-p", "racedet"])
            .args(["--profile", &profile])
            .arg("--target-dir")
            .arg(profile_dir.parent().unwrap())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the examples failed");
    });
    let path = examples_dir().join(name);
    assert!(path.exists(), "{} not found", path.display());
    path
}

fn records(dir: &Path) -> Vec<Record> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            out.push(serde_json::from_str(line).expect("a report record"));
        }
    }
    out
}

#[test]
fn example_processes_exit_66_and_report_exactly_the_marked_lines() {
    for (name, _, source) in EXAMPLES {
        let expected = marked_lines(source);
        let bin = example_binary(name);
        for i in 0..PROCESS_RUNS {
            let dir = tempfile::tempdir().unwrap();
            let out = Command::new(&bin)
                .env("RACEDET", "1")
                .env(
                    "RACEDET_OPTIONS",
                    format!("report_dir={}", dir.path().display()),
                )
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let races: Vec<RaceReport> = records(dir.path())
                .into_iter()
                .filter_map(|r| match r {
                    Record::Race(r) => Some(*r),
                    _ => None,
                })
                .collect();
            let want_status = if expected.is_empty() { 0 } else { 66 };
            assert_eq!(
                out.status.code(),
                Some(want_status),
                "{name}, run {i}: stderr:\n{stderr}"
            );
            assert_eq!(reported_lines(name, &races), expected, "{name}, run {i}");
            for r in &races {
                assert_eq!(r.object.kind, "RaceMap", "{name}");
                assert!(r.object.name.is_some(), "{name}: the map is named");
                assert_ne!(r.current.thread, r.previous.thread, "{name}");
                // Both sides carry their exact call site, always, and the
                // earlier access its recorded stack (the product's promise:
                // never "failed to restore the stack").
                assert!(
                    r.current.site.is_some() && r.previous.site.is_some(),
                    "{name}"
                );
                assert!(!r.current.stack.is_empty(), "{name}: current stack");
                assert!(
                    !r.previous.stack.is_empty()
                        && r.previous.stack_note.as_deref()
                            == Some("stack as first recorded by this thread at this call site"),
                    "{name}: previous stack not recorded: {:?}",
                    r.previous
                );
                assert!(r.hint.is_some(), "{name}: a hint for a RaceMap race");
            }
        }
    }
}
