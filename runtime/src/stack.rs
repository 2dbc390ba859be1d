//! Stacks: capture, interning (the *stack depot*), per-site caching and
//! symbolisation (TSan's `sanitizer_stackdepot`, `StackTrace`).
//!
//! Recording a full stack on every access would cost an unwind (about
//! 0.8 µs with the system unwinder) per operation. racedet records a stack
//! only when an access reaches the slow path *and* its thread has not yet
//! recorded a stack for that call site: the stack leading to a given
//! `#[track_caller]` site from a given thread is almost always the same, so
//! one capture per (thread, site) serves every later access there. A report
//! then shows, for the previous access, its exact call site (always) and the
//! stack recorded for that site by that thread, labelled as such.
//!
//! Captures are raw return addresses, interned in a global depot
//! (deduplicated; bounded by `history_size`) and referenced by [`StackId`].
//! Symbolisation happens only when a report is built.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Mutex, MutexGuard};

use crate::report::model::Frame;
use crate::site::Site;
use crate::thread::ThreadId;

/// An interned stack.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct StackId(pub u32);

/// Deepest stack kept.
const MAX_FRAMES: usize = 48;

#[derive(Default)]
struct Depot {
    by_hash: HashMap<u64, Vec<u32>>,
    stacks: Vec<Box<[usize]>>,
    /// (thread, site) → stack recorded there.
    site_stacks: HashMap<ThreadId, HashMap<Site, StackId>>,
    /// Symbolised frames per return address (reports only).
    symbols: HashMap<usize, Vec<Frame>>,
}

static DEPOT: Mutex<Option<Depot>> = Mutex::new(None);

fn depot() -> MutexGuard<'static, Option<Depot>> {
    DEPOT.lock().unwrap_or_else(|e| e.into_inner())
}

/// `fork` support: holds the depot and path locks across the fork.
pub(crate) fn lock_for_fork(guards: &mut Vec<Box<dyn std::any::Any>>) {
    guards.push(Box::new(depot()));
    guards.push(Box::new(
        SOURCE_ROOT.lock().unwrap_or_else(|e| e.into_inner()),
    ));
}

/// Most stacks the depot keeps: `4096 << history_size`.
fn capacity() -> usize {
    4096usize << crate::rt::runtime().options.history_size.min(7)
}

/// Captures the current stack (raw return addresses) into the depot.
pub fn capture() -> Option<StackId> {
    if crate::fork::in_forked_child() {
        return None;
    }
    let mut pcs = Vec::with_capacity(MAX_FRAMES);
    backtrace::trace(|f| {
        pcs.push(f.ip() as usize);
        pcs.len() < MAX_FRAMES
    });
    intern(&pcs)
}

fn intern(pcs: &[usize]) -> Option<StackId> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for pc in pcs {
        h = (h ^ *pc as u64).wrapping_mul(0x100_0000_01b3);
    }
    let cap = capacity();
    let mut guard = depot();
    let d = guard.get_or_insert_with(Depot::default);
    if let Some(ids) = d.by_hash.get(&h)
        && let Some(id) = ids.iter().find(|id| &*d.stacks[**id as usize] == pcs)
    {
        return Some(StackId(*id));
    }
    if d.stacks.len() >= cap {
        return None;
    }
    let id = d.stacks.len() as u32;
    d.stacks.push(pcs.into());
    d.by_hash.entry(h).or_default().push(id);
    Some(StackId(id))
}

/// Per-thread memo of the sites that already have a recorded stack: a
/// direct-mapped table, so the check on the slow path is one compare.
#[derive(Debug)]
pub struct SiteCache {
    seen: Box<[usize; SITE_CACHE]>,
}

const SITE_CACHE: usize = 128;

impl Default for SiteCache {
    fn default() -> Self {
        SiteCache {
            seen: Box::new([0; SITE_CACHE]),
        }
    }
}

impl SiteCache {
    /// Makes sure `thread` has a stack recorded for `site`.
    #[inline]
    pub fn note(&mut self, thread: ThreadId, site: Site) {
        let raw = site.raw();
        let i = (raw >> 3).wrapping_mul(0x9E37_79B9) % SITE_CACHE;
        if self.seen[i] == raw || raw == 0 {
            return;
        }
        self.seen[i] = raw;
        record_site(thread, site);
    }
}

#[cold]
fn record_site(thread: ThreadId, site: Site) {
    {
        let guard = depot();
        if let Some(d) = guard.as_ref()
            && d.site_stacks
                .get(&thread)
                .is_some_and(|m| m.contains_key(&site))
        {
            return;
        }
    }
    let Some(id) = capture() else { return };
    let mut guard = depot();
    let d = guard.get_or_insert_with(Depot::default);
    d.site_stacks
        .entry(thread)
        .or_default()
        .entry(site)
        .or_insert(id);
}

/// The stack `thread` recorded for `site`, if any.
pub fn site_stack(thread: ThreadId, site: Site) -> Option<StackId> {
    let guard = depot();
    guard
        .as_ref()?
        .site_stacks
        .get(&thread)?
        .get(&site)
        .copied()
}

/// Forgets the per-site stacks of threads no report can name any more.
pub fn forget_threads(threads: &[ThreadId]) {
    if threads.is_empty() {
        return;
    }
    let mut guard = depot();
    if let Some(d) = guard.as_mut() {
        for t in threads {
            d.site_stacks.remove(t);
        }
    }
}

/// Prefixes of functions that belong to racedet, the standard library's
/// thread start-up, the test harness or the unwinder.
const TRIMMED: &[&str] = &[
    "racedet_runtime::",
    "racedet::",
    "<racedet",
    "backtrace::",
    "std::",
    "core::",
    "alloc::",
    "test::",
    "<std::",
    "<core::",
    "<alloc::",
    "<F as test::",
    "__rust",
    "_start",
    "__libc",
    "start_thread",
    "clone",
    "pthread_create",
    "trampoline",
];

fn is_trimmed(function: &str) -> bool {
    TRIMMED.iter().any(|p| function.starts_with(p))
}

fn symbolize(d: &mut Depot, pc: usize) -> Vec<Frame> {
    if let Some(f) = d.symbols.get(&pc) {
        return f.clone();
    }
    let mut frames = Vec::new();
    // Return addresses point after the call: look up the call itself.
    backtrace::resolve(pc.saturating_sub(1) as *mut c_void, |sym| {
        let file = sym.filename().map(|p| p.display().to_string());
        frames.push(Frame {
            function: sym.name().map(|n| format!("{n:#}")),
            file,
            line: sym.lineno(),
            column: sym.colno(),
        });
    });
    d.symbols.insert(pc, frames.clone());
    frames
}

/// The user frames of a stack, innermost first: racedet's own frames, the
/// standard library's and the test harness's are trimmed, and everything
/// from `main` outwards (process start-up) is dropped.
pub fn resolve(id: StackId) -> Vec<Frame> {
    if crate::fork::in_forked_child() {
        return Vec::new();
    }
    let mut guard = depot();
    let Some(d) = guard.as_mut() else {
        return Vec::new();
    };
    let Some(pcs) = d.stacks.get(id.0 as usize).cloned() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for pc in pcs.iter() {
        for f in symbolize(d, *pc) {
            let std_source = f.file.as_deref().is_some_and(|p| p.starts_with("/rustc/"));
            match f.function.as_deref() {
                Some("main") => return out,
                Some(name) if is_trimmed(name) || std_source => {}
                None => {}
                Some(_) => out.push(f),
            }
        }
    }
    out
}

/// Aligns a resolved stack with the exact call site: the first user frame
/// gets the site's column (symbolisation gives lines), or the site is put on
/// top when it is not in the stack (an inlined caller).
pub fn with_site(mut frames: Vec<Frame>, site: Option<&Frame>) -> Vec<Frame> {
    let Some(site) = site else { return frames };
    match frames.first_mut() {
        // Same file: the unwinder's line can be off by inlining; the site is exact.
        Some(first) if same_file(first.file.as_deref(), site.file.as_deref()) => {
            if let (Some(abs), Some(rel)) = (first.file.as_deref(), site.file.as_deref()) {
                learn_source_root(abs, rel);
            }
            first.file = site.file.clone();
            first.line = site.line;
            first.column = site.column;
        }
        Some(_) => frames.insert(0, site.clone()),
        None => frames.push(site.clone()),
    }
    relativize(&mut frames);
    frames
}

/// The directory `#[track_caller]` paths are relative to (the workspace
/// root), learned from the first frame whose debug-info path ends with its
/// call site's path.
static SOURCE_ROOT: Mutex<Option<String>> = Mutex::new(None);

fn learn_source_root(abs: &str, rel: &str) {
    if abs.len() > rel.len() && abs.starts_with('/') && !rel.starts_with('/') {
        let root = &abs[..abs.len() - rel.len()];
        let mut g = SOURCE_ROOT.lock().unwrap_or_else(|e| e.into_inner());
        g.get_or_insert_with(|| root.to_string());
    }
}

/// Shows absolute paths under the source root (or, before it is known, the
/// working directory) relative to it, like the call sites.
pub fn relativize(frames: &mut [Frame]) {
    let root = SOURCE_ROOT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .or_else(|| {
            std::env::current_dir()
                .ok()
                .map(|c| format!("{}/", c.display()))
        });
    let Some(root) = root else { return };
    for f in frames {
        if let Some(file) = &mut f.file
            && let Some(rest) = file.strip_prefix(root.as_str())
        {
            *file = rest.to_string();
        }
    }
}

/// `#[track_caller]` paths are relative to the workspace, debug info paths
/// absolute: the same file when one ends with the other at a `/`.
fn same_file(a: Option<&str>, b: Option<&str>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return false;
    };
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    long == short || (long.ends_with(short) && long[..long.len() - short.len()].ends_with('/'))
}

/// Number of stacks interned (for statistics and tests).
pub fn depot_len() -> usize {
    depot().as_ref().map_or(0, |d| d.stacks.len())
}
