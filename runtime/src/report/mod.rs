//! Turning a detected conflict into a report, deduplicating it, and writing
//! it out (TSan's `tsan_rtl_report.cpp`). Everything here is on the cold
//! path: the engine calls `race` only after its checks found a conflict.
//!
//! Outputs, per process:
//! * text on standard error (or `log_path.<pid>`), unless the CLI collects
//!   reports through `report_dir` and prints them itself;
//! * one JSON line per distinct race, appended with a single `write(2)` to
//!   `<report_dir>/racedet-<pid>.jsonl` the moment it is found, so a killed
//!   process still leaves every report it had written.
//!
//! Lock discipline: the report lock is only taken here and never while the
//! registry lock is held; no user code runs under either.

pub mod hint;
pub mod model;
pub mod text;

use std::collections::HashMap;
use std::ffi::CString;
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use model::{
    AccessInfo, Frame, ObjectInfo, ProcessInfo, RaceReport, Record, SCHEMA_VERSION, ThreadInfo,
};

use crate::clock::Epoch;
use crate::rt::{busy, registry, runtime};
use crate::shadow::{AccessKind, Conflict};
use crate::site::Site;
use crate::stack;
use crate::thread::{RunState, ThreadState};

/// What the racing bytes belong to, when racedet knows.
#[derive(Debug, Clone)]
pub struct ObjectDesc {
    pub kind: &'static str,
    pub name: Option<Box<str>>,
    pub created_at: Site,
    pub created_by: Option<u64>,
}

/// The current access of a race, as the engine saw it.
pub(crate) struct CurrentAccess {
    pub kind: AccessKind,
    pub addr: usize,
    pub size: usize,
    pub site: Site,
}

/// Cheap in-process identity of a race: the unordered pair of raw sites and
/// the object kind (the stable string signature is derived from the same).
type QuickKey = (usize, usize, &'static str);

#[derive(Default)]
struct Reporter {
    /// Occurrences per race, and its stable signature once built.
    seen: HashMap<QuickKey, (u64, String)>,
    printed: u64,
    suppressed: u64,
    json: Option<(u32, std::fs::File)>,
    json_failed: bool,
    captured: Vec<(u64, RaceReport)>,
}

static REPORTER: Mutex<Option<Reporter>> = Mutex::new(None);
/// Unsuppressed races reported by this process (for the exit status).
static RACES: AtomicU64 = AtomicU64::new(0);
static OCCURRENCES: AtomicU64 = AtomicU64::new(0);
static HOOKED: AtomicBool = AtomicBool::new(false);

fn reporter() -> MutexGuard<'static, Option<Reporter>> {
    REPORTER.lock().unwrap_or_else(|e| e.into_inner())
}

/// `fork` support: holds the report lock across the fork.
pub(crate) fn lock_for_fork(guards: &mut Vec<Box<dyn std::any::Any>>) {
    guards.push(Box::new(reporter()));
}

/// Number of distinct unsuppressed races this process reported.
pub fn races_reported() -> u64 {
    RACES.load(Ordering::Relaxed)
}

/// Entry from the engine: builds, deduplicates and emits one race.
#[cold]
#[inline(never)]
pub(crate) fn race(
    thr: &ThreadState,
    cur: CurrentAccess,
    conflict: Conflict,
    object: Option<&ObjectDesc>,
) {
    busy(|| {
        let (a, b) = (cur.site.raw(), conflict.previous.site.raw());
        let key: QuickKey = (
            a.min(b),
            a.max(b),
            object.map(|o| o.kind).unwrap_or("memory"),
        );
        if thr.context == 0 && count_repeat(key) {
            return;
        }
        let report = build(thr, &cur, conflict, object);
        emit(key, report, thr.context);
    })
}

/// Counts an occurrence of a race already reported; `false` if it is new.
fn count_repeat(key: QuickKey) -> bool {
    let mut guard = reporter();
    let rep = guard.get_or_insert_with(Reporter::default);
    let Some((n, signature)) = rep.seen.get_mut(&key) else {
        return false;
    };
    *n += 1;
    OCCURRENCES.fetch_add(1, Ordering::Relaxed);
    // Counts are written at powers of two and at exit: bounded output.
    if n.is_power_of_two() {
        let line = Record::Repeat {
            signature: signature.clone(),
            count: *n,
        };
        write_json(rep, &line);
    }
    true
}

fn build(
    thr: &ThreadState,
    cur: &CurrentAccess,
    conflict: Conflict,
    object: Option<&ObjectDesc>,
) -> RaceReport {
    let prev = conflict.previous;
    let (cur_rec, prev_lite, mut threads, prev_unjoined, creation_stacks) = {
        let reg = registry();
        let cur_rec = reg.record(thr.id).cloned();
        let prev_lite = reg.owner_at(Epoch::new(prev.slot, prev.clock));
        let mut threads = Vec::new();
        // Creation stacks are resolved after the current stack, which
        // teaches the resolver how to shorten paths.
        let mut creation_stacks = Vec::new();
        if let Some(r) = &cur_rec {
            creation_stacks.push(r.created_stack);
            threads.push(ThreadInfo {
                id: r.id.0,
                name: r.name.clone(),
                os_tid: r.os_tid,
                state: "running".into(),
                parent: r.parent.map(|p| p.0),
                created_at: site_frame(r.created_at),
                created_stack: Vec::new(),
            });
        }
        if let Some(p) = &prev_lite
            && p.id != thr.id
        {
            creation_stacks.push(p.created_stack);
            let live = reg.record(p.id);
            let state = match live.map(|r| r.state) {
                Some(RunState::Running) => "running",
                _ => "finished",
            };
            threads.push(ThreadInfo {
                id: p.id.0,
                name: p.name.clone(),
                os_tid: p.os_tid,
                state: state.into(),
                parent: live.and_then(|r| r.parent).map(|p| p.0),
                created_at: site_frame(p.created_at),
                created_stack: Vec::new(),
            });
        }
        // Its handle was dropped (detached): nobody will ever join it.
        let prev_unjoined = prev_lite
            .as_ref()
            .is_some_and(|p| p.id != thr.id && p.detached);
        (cur_rec, prev_lite, threads, prev_unjoined, creation_stacks)
    };
    let cur_site = site_frame(cur.site);
    let stack = stack::with_site(
        stack::capture().map(stack::resolve).unwrap_or_default(),
        cur_site.as_ref(),
    );
    let current = AccessInfo {
        kind: cur.kind.description().into(),
        is_write: cur.kind.is_write(),
        atomic: cur.kind.is_atomic(),
        addr: cur.addr as u64,
        size: cur.size as u64,
        thread: thr.id.0,
        source: cur_site.as_ref().and_then(source_line),
        site: cur_site.clone(),
        stack,
        stack_note: None,
        locks_held: lock_infos(&thr.locks.held),
    };
    let prev_site = site_frame(prev.site);
    let prev_locks = match &prev_lite {
        Some(p) => crate::locks::lookup(p.id, prev.locks),
        None => None,
    };
    let prev_id = prev_lite
        .as_ref()
        .and_then(|p| stack::site_stack(p.id, prev.site));
    let prev_stack = stack::with_site(
        prev_id.map(stack::resolve).unwrap_or_default(),
        prev_site.as_ref(),
    );
    let previous = AccessInfo {
        kind: conflict.previous_kind.description().into(),
        is_write: conflict.previous_kind.is_write(),
        atomic: conflict.previous_kind.is_atomic(),
        addr: cur.addr as u64,
        size: prev.size as u64,
        thread: prev_lite.as_ref().map(|p| p.id.0).unwrap_or(u64::MAX),
        source: prev_site.as_ref().and_then(source_line),
        site: prev_site.clone(),
        stack: prev_stack.clone(),
        stack_note: if prev_id.is_some() {
            Some("stack as first recorded by this thread at this call site".into())
        } else {
            Some(
                "only the exact call site of the earlier access is known; its stack was not kept"
                    .into(),
            )
        },
        locks_held: prev_locks.as_deref().map(lock_infos).unwrap_or_default(),
    };
    let hint = object.and_then(|_| {
        hint::choose(&hint::Facts {
            current_is_write: cur.kind.is_write(),
            previous_is_write: conflict.previous_kind.is_write(),
            current_locks: thr.locks.held.clone(),
            previous_locks: prev_locks.clone(),
            relaxed_publication: thr.relaxed_seen.covers(prev.epoch()),
            previous_thread_unjoined: prev_unjoined,
        })
    });
    let object = match object {
        Some(o) => ObjectInfo {
            kind: o.kind.into(),
            name: o.name.as_ref().map(|n| n.to_string()),
            addr: cur.addr as u64,
            size: 0,
            created_at: site_frame(o.created_at),
            created_by: o.created_by,
        },
        None => match crate::ranges::containing(cur.addr) {
            Some((start, len, o)) => ObjectInfo {
                kind: o.kind.into(),
                name: o.name.as_ref().map(|n| n.to_string()),
                addr: start as u64,
                size: len as u64,
                created_at: site_frame(o.created_at),
                created_by: o.created_by,
            },
            None => ObjectInfo {
                kind: "memory".into(),
                name: None,
                addr: cur.addr as u64,
                size: cur.size as u64,
                created_at: None,
                created_by: None,
            },
        },
    };
    let pos = |f: &Option<Frame>| f.as_ref().map(|f| f.position()).unwrap_or_default();
    let signature = model::signature(&pos(&cur_site), &pos(&prev_site), &object.kind);
    for (t, id) in threads.iter_mut().zip(creation_stacks) {
        let mut frames = id.map(stack::resolve).unwrap_or_default();
        stack::relativize(&mut frames);
        t.created_stack = frames;
    }
    RaceReport {
        schema: SCHEMA_VERSION,
        signature,
        pid: std::process::id(),
        process: exe(),
        current,
        previous,
        object,
        threads,
        test: cur_rec.and_then(|r| r.group),
        occurrences: 1,
        hint,
    }
}

fn exe() -> String {
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

fn lock_infos(locks: &[crate::locks::HeldLock]) -> Vec<model::LockInfo> {
    locks
        .iter()
        .map(|l| model::LockInfo {
            addr: l.addr as u64,
            kind: if l.exclusive {
                "write lock"
            } else {
                "read lock"
            }
            .into(),
            created_at: None,
        })
        .collect()
}

/// The frame of a call site (function names come from the stack).
pub(crate) fn site_frame(site: Site) -> Option<Frame> {
    if let Some(loc) = site.location() {
        return Some(Frame {
            function: None,
            file: Some(loc.file().to_string()),
            line: Some(loc.line()),
            column: Some(loc.column()),
        });
    }
    let pc = site.pc()?;
    if crate::fork::in_forked_child() {
        return Some(Frame::default());
    }
    let mut frame = Frame::default();
    backtrace::resolve(pc as *mut std::ffi::c_void, |sym| {
        if frame.function.is_none() {
            frame.function = sym.name().map(|n| format!("{n:#}"));
            frame.file = sym.filename().map(|f| f.display().to_string());
            frame.line = sym.lineno();
            frame.column = sym.colno();
        }
    });
    Some(frame)
}

fn source_line(f: &Frame) -> Option<String> {
    let (file, line) = (f.file.as_ref()?, f.line? as usize);
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .nth(line.checked_sub(1)?)
        .map(|l| l.to_string())
}

fn emit(key: QuickKey, report: RaceReport, context: u64) {
    let opts = &runtime().options;
    let mut guard = reporter();
    let rep = guard.get_or_insert_with(Reporter::default);
    if context != 0 {
        rep.captured.push((context, report));
        return;
    }
    if rep.seen.contains_key(&key) {
        // Another thread reported the same race while this one built it.
        drop(guard);
        count_repeat(key);
        return;
    }
    rep.seen.insert(key, (1, report.signature.clone()));
    OCCURRENCES.fetch_add(1, Ordering::Relaxed);
    if crate::suppress::is_suppressed(&report) {
        rep.suppressed += 1;
        return;
    }
    RACES.fetch_add(1, Ordering::Relaxed);
    write_json(rep, &Record::Race(Box::new(report.clone())));
    let print = opts.max_reports == 0 || rep.printed < opts.max_reports;
    if print {
        rep.printed += 1;
        let text = text::render(
            &report,
            &text::TextOptions {
                strip_path_prefix: opts.strip_path_prefix.clone(),
                color: false,
                occurrences: None,
                show_test: false,
            },
        );
        // The CLI prints what it collects; if the report file could not be
        // written, standard error is the only place left for the report.
        write_text(&text, rep.json_failed);
    }
    if opts.halt_on_error {
        drop(guard);
        finish_process(true);
        // SAFETY: `_exit` ends the process at once; reports are on disk.
        unsafe { libc::_exit(opts.exitcode) };
    }
}

fn write_text(text: &str, json_failed: bool) {
    let opts = &runtime().options;
    if !opts.log_path.is_empty() {
        let path = format!("{}.{}", opts.log_path, std::process::id());
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            let _ = f.write_all(text.as_bytes());
            return;
        }
    } else if !opts.report_dir.is_empty() && !json_failed {
        // The CLI prints collected reports itself.
        return;
    }
    write_stderr(text);
}

/// Writes to file descriptor 2 directly. Not through `std::io::stderr()`:
/// its lock may be held by a thread that is itself racing (an `eprintln!`
/// whose `Display` reads a shared cell) and waiting for the report lock held
/// here, which would deadlock the host.
pub(crate) fn write_stderr(text: &str) {
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        // SAFETY: `rest` is a valid readable buffer of `rest.len()` bytes.
        let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        rest = &rest[n as usize..];
    }
}

/// Opens `<report_dir>/racedet-<pid>.jsonl` for this process: created
/// exclusively, never through a symlink, closed on exec.
fn open_report_file(dir: &str, pid: u32) -> std::io::Result<std::fs::File> {
    let path = std::path::Path::new(dir).join(format!("racedet-{pid}.jsonl"));
    let c = CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: `c` is a valid NUL-terminated path; the flags and mode are plain ints.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_WRONLY
                | libc::O_CREAT
                | libc::O_EXCL
                | libc::O_NOFOLLOW
                | libc::O_CLOEXEC
                | libc::O_APPEND,
            0o600,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    Ok(std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

fn write_json(rep: &mut Reporter, record: &Record) {
    let dir = &runtime().options.report_dir;
    if dir.is_empty() || rep.json_failed {
        return;
    }
    let pid = std::process::id();
    if rep.json.as_ref().map(|(p, _)| *p) != Some(pid) {
        // First report of this process (or of a forked child).
        match open_report_file(dir, pid) {
            Ok(f) => {
                rep.json = Some((pid, f));
                let start = Record::Process(ProcessInfo {
                    schema: SCHEMA_VERSION,
                    pid,
                    exe: exe(),
                    event: "start".into(),
                    ..Default::default()
                });
                write_line(rep, &start);
            }
            Err(e) => {
                rep.json_failed = true;
                write_stderr(&format!(
                    "racedet: cannot write reports to {dir}: {e}; reports go to standard error only\n"
                ));
                return;
            }
        }
    }
    write_line(rep, record);
}

fn write_line(rep: &mut Reporter, record: &Record) {
    let Some((_, f)) = rep.json.as_mut().filter(|_| !rep.json_failed) else {
        return;
    };
    let Ok(mut line) = serde_json::to_string(record) else {
        return;
    };
    line.push('\n');
    // One write per line: a killed process leaves whole lines behind.
    if let Err(e) = f.write_all(line.as_bytes()) {
        rep.json_failed = true;
        write_stderr(&format!(
            "racedet: writing a report failed: {e}; reports go to standard error only\n"
        ));
    }
}

/// Writes final counts; with `force_exit_record` also when no race was seen.
fn finish_process(force_exit_record: bool) {
    let mut guard = reporter();
    let Some(rep) = guard.as_mut() else {
        return;
    };
    let counts: Vec<(String, u64)> = rep
        .seen
        .values()
        .filter(|(n, _)| *n > 1 && !n.is_power_of_two())
        .map(|(n, s)| (s.clone(), *n))
        .collect();
    for (signature, count) in counts {
        write_json(rep, &Record::Repeat { signature, count });
    }
    if force_exit_record || rep.json.is_some() {
        let exit = Record::Process(ProcessInfo {
            schema: SCHEMA_VERSION,
            pid: std::process::id(),
            exe: exe(),
            event: "exit".into(),
            races: RACES.load(Ordering::Relaxed),
            occurrences: OCCURRENCES.load(Ordering::Relaxed),
        });
        if rep.json.is_some() {
            write_line(rep, &exit);
        }
    }
}

/// Races collected for a `racedet::check` context.
pub(crate) fn take_captured(context: u64) -> Vec<RaceReport> {
    let mut guard = reporter();
    let Some(rep) = guard.as_mut() else {
        return Vec::new();
    };
    let (mine, rest) = std::mem::take(&mut rep.captured)
        .into_iter()
        .partition(|(c, _)| *c == context);
    rep.captured = rest;
    let mut out: Vec<RaceReport> = Vec::new();
    for (_, r) in mine {
        match out.iter_mut().find(|o| o.signature == r.signature) {
            Some(o) => o.occurrences += 1,
            None => out.push(r),
        }
    }
    out
}

unsafe extern "C" {
    /// glibc's `on_exit`: like `atexit`, but the handler sees the exit status.
    fn on_exit(
        f: extern "C" fn(libc::c_int, *mut libc::c_void),
        arg: *mut libc::c_void,
    ) -> libc::c_int;
}

extern "C" fn at_exit(status: libc::c_int, _arg: *mut libc::c_void) {
    busy(|| {
        finish_process(false);
        let opts = &runtime().options;
        if opts.verbosity >= 1 {
            let s = crate::rt::stats();
            eprintln!(
                "racedet: {} distinct races ({} occurrences); {} thread slots, {} thread records",
                RACES.load(Ordering::Relaxed),
                OCCURRENCES.load(Ordering::Relaxed),
                s.slots,
                s.threads
            );
        }
        if status == 0 && RACES.load(Ordering::Relaxed) > 0 {
            // SAFETY: flushing C stdio and exiting has no preconditions; Rust's
            // own stdout was flushed when `main` returned.
            unsafe {
                libc::fflush(std::ptr::null_mut());
                libc::_exit(opts.exitcode);
            }
        }
    })
}

/// Registers the exit hook that turns status 0 into `exitcode` after a race.
pub(crate) fn install_exit_hook() {
    if !HOOKED.swap(true, Ordering::SeqCst) {
        // SAFETY: `at_exit` is a plain `extern "C"` function valid for the
        // whole process; the argument is unused.
        unsafe { on_exit(at_exit, std::ptr::null_mut()) };
    }
}
