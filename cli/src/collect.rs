//! Reading report directories: one `racedet-<pid>.jsonl` file per process,
//! written by the runtime one whole line per `write(2)` (docs/report-format.md).
//!
//! The reader is tolerant: a process killed mid-write leaves at most a
//! truncated last line, and a damaged file may hold garbage. Each bad line
//! is skipped with a warning naming `file:line`, and every good line is
//! kept, so nothing already collected is lost.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use racedet_runtime::report::model::{RaceReport, Record};

/// Everything one process reported.
#[derive(Debug, Default, Clone)]
pub struct ProcessReports {
    pub pid: u32,
    pub exe: String,
    /// Distinct races, in the order the process found them.
    pub races: Vec<RaceReport>,
    /// Largest occurrence count seen per signature (`repeat` lines).
    pub counts: BTreeMap<String, u64>,
    /// The process wrote its `exit` record (it was not killed).
    pub exited: bool,
}

#[derive(Debug, Default)]
pub struct Collected {
    /// By pid.
    pub processes: BTreeMap<u32, ProcessReports>,
    /// One line each, already naming `file:line`.
    pub warnings: Vec<String>,
}

/// The report path itself could not be read.
#[derive(Debug)]
pub struct CollectError {
    pub path: PathBuf,
    pub error: std::io::Error,
}

impl fmt::Display for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read reports from {}: {}",
            self.path.display(),
            self.error
        )
    }
}

impl std::error::Error for CollectError {}

/// Reads a report directory (every `*.jsonl` in it, by name) or one file.
pub fn collect(path: &Path) -> Result<Collected, CollectError> {
    let fail = |error| CollectError {
        path: path.to_path_buf(),
        error,
    };
    let mut out = Collected::default();
    let meta = std::fs::metadata(path).map_err(fail)?;
    if meta.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(fail)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        for f in files {
            match std::fs::read(&f) {
                Ok(bytes) => read_lines(&f, &bytes, &mut out),
                Err(e) => out
                    .warnings
                    .push(format!("cannot read {}: {e}", f.display())),
            }
        }
    } else {
        let bytes = std::fs::read(path).map_err(fail)?;
        read_lines(path, &bytes, &mut out);
    }
    Ok(out)
}

/// The pid a file belongs to, from its name, until a record says otherwise.
fn pid_from_name(file: &Path) -> u32 {
    file.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("racedet-"))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Parses the JSON lines of one file into `out`.
pub fn read_lines(file: &Path, bytes: &[u8], out: &mut Collected) {
    let mut pid = pid_from_name(file);
    let complete = bytes.ends_with(b"\n");
    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let last = lines.len() - 1;
    for (i, line) in lines.into_iter().enumerate() {
        let at = format!("{}:{}", file.display(), i + 1);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if i == last && !complete {
            out.warnings.push(format!(
                "{at}: skipped a truncated report line (the process was probably killed while writing it)"
            ));
            continue;
        }
        let record = match serde_json::from_slice::<Record>(line) {
            Ok(r) => r,
            Err(e) => {
                out.warnings
                    .push(format!("{at}: skipped a corrupted report line: {e}"));
                continue;
            }
        };
        match record {
            Record::Process(p) => {
                pid = p.pid;
                let proc = entry(out, pid);
                if proc.exe.is_empty() {
                    proc.exe = p.exe;
                }
                if p.event == "exit" {
                    proc.exited = true;
                }
            }
            Record::Race(r) => {
                pid = r.pid;
                let proc = entry(out, pid);
                if proc.exe.is_empty() {
                    proc.exe = r.process.clone();
                }
                let n = proc.counts.entry(r.signature.clone()).or_insert(0);
                *n = (*n).max(r.occurrences.max(1));
                if !proc.races.iter().any(|x| x.signature == r.signature) {
                    proc.races.push(*r);
                }
            }
            Record::Repeat { signature, count } => {
                let n = entry(out, pid).counts.entry(signature).or_insert(0);
                *n = (*n).max(count);
            }
        }
    }
}

fn entry(out: &mut Collected, pid: u32) -> &mut ProcessReports {
    out.processes.entry(pid).or_insert_with(|| ProcessReports {
        pid,
        ..Default::default()
    })
}
