//! Shared helpers of the reliability tests: running the helper programs
//! with a controlled environment, a watchdog that fails a hung child
//! instead of hanging CI, and reading report directories.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `reliability-target MODE ARGS...` with no detector variables inherited.
pub fn target(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reliability-target"));
    c.args(args)
        .env_remove("RACEDET")
        .env_remove("RACEDET_OPTIONS");
    c
}

/// The `racedet` command (built from `racedet-cli` as a bin of this crate).
pub fn racedet(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reliability-racedet"));
    c.args(args)
        .env_remove("RACEDET")
        .env_remove("RACEDET_OPTIONS")
        .env("NO_COLOR", "1");
    c
}

pub fn target_exe() -> &'static str {
    env!("CARGO_BIN_EXE_reliability-target")
}

/// Runs `cmd` to completion, or kills it and panics after `limit`: a
/// deadlock fails the test instead of hanging the suite.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_within(child, limit)
}

pub fn wait_within(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    // Drain the pipes on threads so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let o = std::thread::spawn(move || read_all(out.as_mut()));
    let e = std::thread::spawn(move || read_all(err.as_mut()));
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return Output {
                status,
                stdout: o.join().unwrap(),
                stderr: e.join().unwrap(),
            };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = e.join().unwrap();
            panic!(
                "child still running after {limit:?} (deadlock?); stderr tail:\n{}",
                tail(&String::from_utf8_lossy(&stderr), 2000)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_all(r: Option<&mut impl std::io::Read>) -> Vec<u8> {
    let mut v = Vec::new();
    if let Some(r) = r {
        let _ = r.read_to_end(&mut v);
    }
    v
}

pub fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The `racedet-<pid>.jsonl` files in `dir`, sorted.
pub fn report_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("racedet-") && n.ends_with(".jsonl")
        })
        .collect();
    v.sort();
    v
}

/// Every line of a report file, parsed (panics on a damaged line).
pub fn records(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{file:?}: {e}: {l}")))
        .collect()
}

pub fn of_type<'a>(recs: &'a [Value], ty: &str) -> Vec<&'a Value> {
    recs.iter().filter(|r| r["type"] == ty).collect()
}

/// `RACEDET_OPTIONS` value with `report_dir` set to `dir` plus `extra`.
pub fn options(dir: &Path, extra: &str) -> String {
    format!("report_dir={} {extra}", dir.display())
}
