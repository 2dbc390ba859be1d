//! The race report as plain data (TSan's `tsan_report.h`): built once by the
//! engine, then rendered as text (`text.rs`) or serialised as one JSON line
//! per race into the report directory, which the CLI reads back. The JSON
//! schema is versioned by [`SCHEMA_VERSION`] and documented in
//! docs/report-format.md; new optional fields may appear without a bump.

use serde::{Deserialize, Serialize};

/// Version of the JSON-lines schema written to `report_dir`.
pub const SCHEMA_VERSION: u32 = 1;

/// One line of a report file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// The first occurrence of a distinct race in this process.
    Race(Box<RaceReport>),
    /// The race with this signature has now happened `count` times in this
    /// process (written as counts grow; the largest count wins).
    Repeat { signature: String, count: u64 },
    /// Written once when a process starts writing reports and once at exit.
    Process(ProcessInfo),
}

/// Process-level facts.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ProcessInfo {
    pub schema: u32,
    pub pid: u32,
    pub exe: String,
    pub event: String,
    /// Distinct races and total occurrences so far (on `exit`).
    #[serde(default)]
    pub races: u64,
    #[serde(default)]
    pub occurrences: u64,
}

/// A data race: two accesses to the same bytes, at least one a write, with
/// no happens-before order between them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RaceReport {
    pub schema: u32,
    /// Stable identity of the race: a hash of the unordered pair of call
    /// sites and the object kind. No addresses, pids or thread ids.
    pub signature: String,
    pub pid: u32,
    /// Executable path of the process that found the race.
    pub process: String,
    /// The access that detected the race.
    pub current: AccessInfo,
    /// The earlier access it is unordered with.
    pub previous: AccessInfo,
    pub object: ObjectInfo,
    /// The threads of both accesses (current first), with creation info.
    pub threads: Vec<ThreadInfo>,
    /// Name of the outermost named thread the racing thread descends from
    /// (below `main`): the test's name under libtest.
    #[serde(default)]
    pub test: Option<String>,
    /// Occurrences in this process when this line was written (1).
    pub occurrences: u64,
    /// A closing advice line for the pattern seen, if any.
    #[serde(default)]
    pub hint: Option<String>,
}

/// One side of a race.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AccessInfo {
    /// "read", "write", "atomic read", "atomic write", "atomic read-modify-write".
    pub kind: String,
    pub is_write: bool,
    pub atomic: bool,
    pub addr: u64,
    pub size: u64,
    /// `ThreadInfo::id` of the accessing thread.
    pub thread: u64,
    /// The exact call site (from `#[track_caller]`), always present when known.
    pub site: Option<Frame>,
    /// Symbolised stack, innermost first, runtime frames trimmed.
    #[serde(default)]
    pub stack: Vec<Frame>,
    /// Why `stack` is empty or partial, if it is.
    #[serde(default)]
    pub stack_note: Option<String>,
    /// racedet locks the thread held at the access.
    #[serde(default)]
    pub locks_held: Vec<LockInfo>,
    /// The source line of `site`, when the file was readable.
    #[serde(default)]
    pub source: Option<String>,
}

/// A source position, possibly with the function.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Frame {
    #[serde(default)]
    pub function: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<u32>,
    #[serde(default)]
    pub column: Option<u32>,
}

/// A lock held at an access.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LockInfo {
    pub addr: u64,
    /// "Mutex", "RwLock (write)", "RwLock (read)".
    pub kind: String,
    #[serde(default)]
    pub created_at: Option<Frame>,
}

/// What the racing bytes belong to.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ObjectInfo {
    /// "RaceMap", "RaceCell", "UnsafeCell", "annotated range" or "memory".
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    pub addr: u64,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub created_at: Option<Frame>,
    #[serde(default)]
    pub created_by: Option<u64>,
}

/// A thread involved in a race.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ThreadInfo {
    /// racedet's thread number: `T<id>` in text reports.
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    pub os_tid: i64,
    /// "running" or "finished".
    pub state: String,
    #[serde(default)]
    pub parent: Option<u64>,
    #[serde(default)]
    pub created_at: Option<Frame>,
    #[serde(default)]
    pub created_stack: Vec<Frame>,
}

impl Frame {
    /// `file:line:col`, as much of it as is known.
    pub fn position(&self) -> String {
        let mut s = self.file.clone().unwrap_or_else(|| "??".into());
        if let Some(l) = self.line {
            s.push_str(&format!(":{l}"));
            if let Some(c) = self.column {
                s.push_str(&format!(":{c}"));
            }
        }
        s
    }
}

/// Stable signature of a race: FNV-1a over the unordered pair of sites and
/// the object kind.
pub fn signature(a: &str, b: &str, object_kind: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in lo
        .bytes()
        .chain([0])
        .chain(hi.bytes())
        .chain([0])
        .chain(object_kind.bytes())
    {
        h ^= byte as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_ignores_order() {
        assert_eq!(
            signature("a.rs:1:1", "b.rs:2:2", "RaceMap"),
            signature("b.rs:2:2", "a.rs:1:1", "RaceMap")
        );
        assert_ne!(
            signature("a.rs:1:1", "b.rs:2:2", "RaceMap"),
            signature("a.rs:1:1", "b.rs:2:2", "RaceCell")
        );
    }

    #[test]
    fn record_round_trips() {
        let r = Record::Repeat {
            signature: "ab".into(),
            count: 3,
        };
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(line, r#"{"type":"repeat","signature":"ab","count":3}"#);
        assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), r);
    }
}
