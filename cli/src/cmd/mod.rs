//! The subcommands, and the machinery they share: the private report
//! directory, launching a target with detection enabled, and turning what
//! was collected into output and an exit status.

pub mod demo;
pub mod report;
pub mod run;
pub mod test;

use std::ffi::{CString, OsStr};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::aggregate::aggregate;
use crate::collect::{Collected, collect};
use crate::config::{Config, ConfigError, EngineConfig};
use crate::exit_code;
use crate::gate::{Baseline, TargetStatus, evaluate, exit_status};
use crate::render::{self, Context, Mode};

/// A private directory for the targets' report files: created by
/// `mkdtemp(3)` (mode 0700, unpredictable name) under `$TMPDIR`, removed on
/// drop. Every process of the run writes `racedet-<pid>.jsonl` into it.
pub struct ReportDir {
    path: PathBuf,
}

impl ReportDir {
    pub fn create() -> io::Result<ReportDir> {
        let template = std::env::temp_dir().join("racedet-XXXXXX");
        let c = CString::new(template.as_os_str().as_bytes()).map_err(io::Error::other)?;
        let mut buf = c.into_bytes_with_nul();
        // SAFETY: `buf` is a writable NUL-terminated template ending in
        // "XXXXXX", as mkdtemp requires; it rewrites those bytes in place.
        let p = unsafe { libc::mkdtemp(buf.as_mut_ptr().cast()) };
        if p.is_null() {
            return Err(io::Error::last_os_error());
        }
        buf.pop();
        Ok(ReportDir {
            path: PathBuf::from(OsStr::from_bytes(&buf)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ReportDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Sets the environment that turns detection on in the target and in every
/// process it starts (they inherit it). `exitcode=0` keeps each process's
/// own exit status: the CLI decides about races after suppressions and the
/// baseline, which a process cannot know.
pub fn enable_detection(
    cmd: &mut Command,
    engine: &EngineConfig,
    dir: &Path,
) -> Result<(), ConfigError> {
    let d = dir.to_string_lossy();
    if d.contains([' ', ':', '\t', '\n']) || d.contains('\u{FFFD}') {
        return Err(ConfigError(format!(
            "the report directory {d} cannot be passed in RACEDET_OPTIONS (spaces, colons or non-UTF-8); set TMPDIR to a plain path"
        )));
    }
    let mut options = engine.options.clone();
    if !options.is_empty() {
        options.push(' ');
    }
    options.push_str(&format!("report_dir={d} exitcode=0"));
    cmd.env("RACEDET", "1").env("RACEDET_OPTIONS", options);
    Ok(())
}

/// Routes the target's standard output to our standard error when a
/// machine-readable report is going to our standard output.
pub fn keep_stdout_clean(cmd: &mut Command, machine_on_stdout: bool) {
    if machine_on_stdout && let Ok(fd) = io::stderr().as_fd().try_clone_to_owned() {
        cmd.stdout(Stdio::from(fd));
    }
}

/// Starts the target; a failure is reported on one line and mapped to 127
/// (not found) or 126 (cannot execute).
pub fn spawn(cmd: &mut Command, display: &str) -> Result<Child, TargetStatus> {
    cmd.spawn().map_err(|e| {
        let (what, code) = match e.kind() {
            io::ErrorKind::NotFound => (
                "program not found".to_string(),
                exit_code::PROGRAM_NOT_FOUND,
            ),
            io::ErrorKind::PermissionDenied => (
                "not executable (permission denied)".to_string(),
                exit_code::NOT_EXECUTABLE,
            ),
            _ => (format!("cannot execute: {e}"), exit_code::NOT_EXECUTABLE),
        };
        eprintln!("racedet: cannot run {display}: {what}");
        TargetStatus::NotStarted(code)
    })
}

/// Waits for the target. Ctrl-C reaches the target (same process group);
/// racedet itself ignores SIGINT and SIGQUIT meanwhile, as `system(3)`
/// does, so it can still print what was collected.
pub fn wait(mut child: Child, display: &str) -> TargetStatus {
    let ignore = |sig| {
        // SAFETY: installing SIG_IGN (or restoring a previous disposition
        // returned by `signal`) has no memory-safety preconditions.
        unsafe { libc::signal(sig, libc::SIG_IGN) }
    };
    let (old_int, old_quit) = (ignore(libc::SIGINT), ignore(libc::SIGQUIT));
    let status = child.wait();
    // SAFETY: restores the dispositions returned above.
    unsafe {
        libc::signal(libc::SIGINT, old_int);
        libc::signal(libc::SIGQUIT, old_quit);
    }
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => TargetStatus::Exited(c),
            (None, Some(sig)) => {
                eprintln!(
                    "racedet: {display} was killed by signal {sig} ({})",
                    signal_name(sig)
                );
                TargetStatus::Signaled(sig)
            }
            (None, None) => TargetStatus::Exited(exit_code::NOT_EXECUTABLE),
        },
        Err(e) => {
            eprintln!("racedet: waiting for {display} failed: {e}");
            TargetStatus::NotStarted(exit_code::USAGE_OR_CONFIG_ERROR)
        }
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGUSR2 => "SIGUSR2",
        _ => "unknown signal",
    }
}

/// A human-readable command line for messages.
pub fn display_command(program: &OsStr, args: &[impl AsRef<OsStr>]) -> String {
    std::iter::once(program)
        .chain(args.iter().map(AsRef::as_ref))
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads the reports a run left in `dir` (saving them first if asked).
pub fn gather(dir: &ReportDir, engine: &EngineConfig) -> Collected {
    if let Some(keep) = &engine.keep_reports {
        save_reports(dir.path(), keep);
    }
    collect(dir.path()).unwrap_or_else(|e| {
        eprintln!("racedet: {e}");
        Collected::default()
    })
}

fn save_reports(from: &Path, to: &Path) {
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    for e in entries.flatten() {
        let dest = to.join(e.file_name());
        if let Err(err) = std::fs::copy(e.path(), &dest) {
            eprintln!("racedet: cannot save report {}: {err}", dest.display());
        }
    }
}

/// Aggregates, gates, renders and writes; returns the exit status.
pub fn finish(
    cfg: &Config,
    collected: Collected,
    mode: &Mode,
    target: Option<&TargetStatus>,
) -> i32 {
    for w in &collected.warnings {
        eprintln!("racedet: warning: {w}");
    }
    let verdict = evaluate(aggregate(&collected), &cfg.gate);
    if let Some(s) = &cfg.gate.suppressions {
        for (line, pattern) in &verdict.unused_suppressions {
            eprintln!(
                "racedet: warning: suppression {}:{line} `race:{pattern}` matched no race",
                s.path.display()
            );
        }
    }
    let cx = Context {
        verdict: &verdict,
        out: &cfg.output,
        mode,
        suppressions: cfg.gate.suppressions.as_ref().map(|s| s.path.as_path()),
        baseline: cfg.gate.baseline.as_ref().map(|(p, _)| p.as_path()),
    };
    let text = render::render(&cx);
    write_output(cfg, &text);
    let summary_in_output =
        cfg.output.file.is_none() && cfg.output.format == crate::args::Format::Text;
    if !summary_in_output {
        eprintln!("{}", verdict.summary());
    }
    if let Some(path) = &cfg.gate.write_baseline {
        let b = Baseline::from_races(verdict.shown().map(|(r, _)| &r.report));
        let json = serde_json::to_string_pretty(&b).expect("serialisable") + "\n";
        match std::fs::write(path, json) {
            Ok(()) => eprintln!(
                "racedet: wrote {} race{} to the baseline {}",
                b.races.len(),
                crate::gate::plural(b.races.len() as u64),
                path.display()
            ),
            Err(e) => eprintln!(
                "racedet: cannot write baseline file {}: {e}",
                path.display()
            ),
        }
    }
    exit_status(&verdict, target, cfg.gate.exitcode)
}

/// Writes the report to `--output` or standard output. If the file cannot
/// be written after all, the report goes to standard output instead.
fn write_output(cfg: &Config, text: &str) {
    if let Some((path, _)) = &cfg.output.file {
        match std::fs::write(path, text) {
            Ok(()) => return,
            Err(e) => eprintln!(
                "racedet: cannot write output file {}: {e}; writing the report to standard output",
                path.display()
            ),
        }
    }
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("racedet: cannot write the report to standard output: {e}");
    }
}
