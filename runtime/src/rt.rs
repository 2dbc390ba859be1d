//! The process-wide detector: global state, the current thread, start-up
//! and exit.
//!
//! Detection is on when the environment has `RACEDET=1` or
//! `RACEDET_OPTIONS`, or while a `racedet::check` is running. Every
//! instrumented operation first reads [`enabled`]: one relaxed load and a
//! branch when off. Raw accesses read it only after missing the fast path
//! (see `FastTls`). Thread lifecycle (creation, exit, join) is tracked even
//! when off, so that turning detection on mid-run keeps fork and join edges.
//!
//! Re-entrancy: while the runtime works on behalf of a thread (reporting,
//! registering) that thread's instrumented operations are ignored, so the
//! runtime never recurses into itself or waits on a lock it holds.

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::options::Options;
use crate::shadow::ShadowTable;
use crate::shadow::word::{FastCells, whole_cell};
use crate::sync::SyncTable;
use crate::thread::{ForkToken, Registry, ThreadId, ThreadState};

const UNINIT: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNINIT);
/// Detection requested by the environment.
static ENV_ON: AtomicU8 = AtomicU8::new(0);
/// Running `racedet::check` scopes.
static CHECKS: AtomicUsize = AtomicUsize::new(0);
static NEXT_CONTEXT: AtomicU64 = AtomicU64::new(1);

/// Process-wide detector state.
pub(crate) struct Runtime {
    pub registry: Mutex<Registry>,
    pub shadow: ShadowTable,
    pub sync: SyncTable,
    pub options: Options,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

pub(crate) fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        crate::fork::install();
        let options = load_options();
        Runtime {
            registry: Mutex::new(Registry::new()),
            shadow: ShadowTable::with_release_delay(options.shadow_release_delay as usize),
            sync: SyncTable::new(),
            options,
        }
    })
}

/// The runtime, if anything ever created it (detection was on at some point).
pub(crate) fn started() -> Option<&'static Runtime> {
    RUNTIME.get()
}

pub(crate) fn registry() -> MutexGuard<'static, Registry> {
    runtime().registry.lock().unwrap_or_else(|e| e.into_inner())
}

/// `fork` support: holds the switch lock and the registry lock across the
/// fork (the switch lock is a leaf: nothing is taken while it is held).
pub(crate) fn lock_for_fork(guards: &mut Vec<Box<dyn std::any::Any>>) {
    guards.push(Box::new(SWITCH.lock().unwrap_or_else(|e| e.into_inner())));
    if let Some(rt) = RUNTIME.get() {
        guards.push(Box::new(
            rt.registry.lock().unwrap_or_else(|e| e.into_inner()),
        ));
    }
}

/// Reads `RACEDET_OPTIONS`; a bad value ends the process with status 2
/// before any user code can rely on a half-configured detector.
fn load_options() -> Options {
    let text = std::env::var("RACEDET_OPTIONS").unwrap_or_default();
    match Options::parse(&text) {
        Ok(o) => {
            if o.help {
                eprint!("{}", Options::help_text());
                // SAFETY: `_exit` ends the process without running anything else.
                unsafe { libc::_exit(0) };
            }
            o
        }
        Err(e) => {
            eprintln!("racedet: {e}");
            // SAFETY: as above; status 2 is the documented configuration error.
            unsafe { libc::_exit(2) };
        }
    }
}

/// Is detection on? One load and a branch in the common case.
#[inline]
pub fn enabled() -> bool {
    // Acquire (a plain load on x86-64): a thread that sees detection on
    // also sees the detection period started before it was switched on
    // (`switch`), so it never checks in the previous one.
    match STATE.load(Ordering::Acquire) {
        ON => true,
        OFF => false,
        _ => init(),
    }
}

/// Initialises the runtime (idempotent). Returns whether detection is on.
#[cold]
pub fn init() -> bool {
    // `RACEDET=` (empty) and `RACEDET=0` mean off, as an unset variable.
    let env = std::env::var_os("RACEDET").is_some_and(|v| !v.is_empty() && v != "0")
        || std::env::var_os("RACEDET_OPTIONS").is_some();
    if env {
        ENV_ON.store(1, Ordering::Relaxed);
        // Parse options (and the suppression file) now: errors must stop
        // the process at start-up.
        runtime();
        crate::suppress::preload();
        crate::report::install_exit_hook();
    }
    update_state();
    STATE.load(Ordering::Relaxed) == ON
}

/// Serialises switching detection on and off: the check count, the start
/// of a new detection period and the state byte change together, so no
/// thread sees detection on before the period that goes with it, and no
/// thread stores a verdict computed from a stale count last. A leaf lock.
static SWITCH: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` (which may change the check count) and then sets the state
/// byte from the count, under [`SWITCH`].
fn switch(f: impl FnOnce()) {
    let _g = SWITCH.lock().unwrap_or_else(|e| e.into_inner());
    f();
    let on = ENV_ON.load(Ordering::Relaxed) == 1 || CHECKS.load(Ordering::SeqCst) > 0;
    STATE.store(if on { ON } else { OFF }, Ordering::SeqCst);
}

fn update_state() {
    switch(|| {});
}

/// Starts a `racedet::check` scope on the current thread: detection is on
/// until the matching [`end_check`], and races of this thread and the threads
/// it creates are collected under the returned context.
pub fn begin_check() -> u64 {
    if STATE.load(Ordering::Relaxed) == UNINIT {
        init();
    }
    runtime();
    let ctx = NEXT_CONTEXT.fetch_add(1, Ordering::Relaxed);
    switch(|| {
        if CHECKS.fetch_add(1, Ordering::SeqCst) == 0 && ENV_ON.load(Ordering::Relaxed) == 0 {
            // Detection was off: what was recorded before is from an
            // earlier period. Before the state says on, so threads that see
            // it on find the new period.
            crate::period::begin();
        }
    });
    let outer = with_thread(|t| std::mem::replace(&mut t.context, ctx)).unwrap_or(0);
    let _ = OUTER_CHECKS.try_with(|s| s.borrow_mut().push((ctx, outer)));
    ctx
}

/// Ends a check scope and returns the races collected under it. The
/// thread's races go back to the enclosing check, if any.
pub fn end_check(ctx: u64) -> Vec<crate::report::model::RaceReport> {
    let outer = OUTER_CHECKS
        .try_with(|s| {
            let mut s = s.borrow_mut();
            let i = s.iter().rposition(|(c, _)| *c == ctx)?;
            Some(s.remove(i).1)
        })
        .ok()
        .flatten()
        .unwrap_or(0);
    with_thread(|t| t.context = outer);
    switch(|| {
        CHECKS.fetch_sub(1, Ordering::SeqCst);
    });
    crate::report::take_captured(ctx)
}

thread_local! {
    /// `(check, context it replaced)` for the checks open on this thread.
    static OUTER_CHECKS: std::cell::RefCell<Vec<(u64, u64)>> = const { std::cell::RefCell::new(Vec::new()) };
    static CURRENT: Cell<*mut ThreadState> = const { Cell::new(ptr::null_mut()) };
    /// What the per-access fast path reads, in one place (see [`FastTls`]).
    static FAST: FastTls = const { FastTls::new() };
    /// `CURRENT` while `with_thread` may hand it out without further checks
    /// (the thread's name was looked up, the runtime is not busy on it);
    /// null otherwise, and then `with_thread_slow` sorts out why. One load
    /// and a test on the path of every lock operation.
    static READY: Cell<*mut ThreadState> = const { Cell::new(ptr::null_mut()) };
    /// Set while the runtime works for this thread.
    static IN_RUNTIME: Cell<bool> = const { Cell::new(false) };
    /// The thread's state was torn down (TLS destruction).
    static DEAD: Cell<bool> = const { Cell::new(false) };
    static EXIT_GUARD: ExitGuard = const { ExitGuard };
}

/// Finishes a thread that ends without passing through racedet's thread
/// start routine (the main thread, or threads of uninstrumented code).
struct ExitGuard;

impl Drop for ExitGuard {
    fn drop(&mut self) {
        finish_current();
        let _ = DEAD.try_with(|d| d.set(true));
    }
}

fn os_tid() -> i64 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as i64 }
}

/// Runs `f` on the current thread's state, registering the thread on first
/// use. Returns `None` while the runtime is busy on this thread or after the
/// thread's state was torn down.
#[inline]
pub(crate) fn with_thread<R>(f: impl FnOnce(&mut ThreadState) -> R) -> Option<R> {
    with_thread_in::<R, true, false>(f)
}

/// [`with_thread`] for an `f` that never starts a new epoch (an access
/// check, an acquire): the fast cell already holds the current epoch, so it
/// is not stored again (five instructions on every object check).
#[inline]
pub(crate) fn with_thread_same_epoch<R>(f: impl FnOnce(&mut ThreadState) -> R) -> Option<R> {
    with_thread_in::<R, false, false>(f)
}

/// [`with_thread_same_epoch`] for an `f` that checks and records accesses
/// in the shadow: the thread first enters the current detection period if
/// it has not yet (`period.rs`). Only recorded accesses need that; a
/// release or an acquire made before it is harmless (it publishes or
/// learns times that the period's entry then covers).
#[inline]
pub(crate) fn with_thread_checking<R>(f: impl FnOnce(&mut ThreadState) -> R) -> Option<R> {
    with_thread_in::<R, false, true>(f)
}

/// [`with_thread_checking`] for an `f` that may also start a new epoch
/// (an atomic access of raw memory).
#[inline]
pub(crate) fn with_thread_checking_new_epoch<R>(
    f: impl FnOnce(&mut ThreadState) -> R,
) -> Option<R> {
    with_thread_in::<R, true, true>(f)
}

/// `NEW_EPOCH`: whether `f` may start a new epoch, so that the fast cell
/// must be stored again afterwards. `CHECKING`: whether `f` records
/// accesses (see [`with_thread_checking`]).
#[inline(always)]
fn with_thread_in<R, const NEW_EPOCH: bool, const CHECKING: bool>(
    f: impl FnOnce(&mut ThreadState) -> R,
) -> Option<R> {
    let p = READY.with(|c| c.get());
    if p.is_null() {
        return with_thread_slow(f);
    }
    // SAFETY: a non-null `READY` is `CURRENT`, which came from `Box::into_raw`
    // in `register_current`/`start_thread` and is only freed by
    // `finish_current` on this same thread, which nulls both first. Only
    // this thread dereferences it, and `READY` is null while the runtime is
    // busy on this thread (`busy`), so no other borrow of it is live here.
    let thr = unsafe { &mut *p };
    if CHECKING && thread_period() != crate::period::current() {
        enter_period(thr);
    }
    let before = thr.cur;
    let r = f(thr);
    if NEW_EPOCH {
        set_fast_cell(thr.cur);
    } else {
        debug_assert_eq!(
            before, thr.cur,
            "with_thread_same_epoch: f started an epoch"
        );
    }
    Some(r)
}

/// The per-thread values the same-epoch fast path of a raw access needs,
/// in one thread-local: one TLS base, no pointer chase, and no separate
/// check of [`enabled`]. A thread that never ran the slow path while
/// detection was on has no cached leaf (and no cell), so every check misses
/// and falls to the slow path, which checks [`enabled`] there. A hit while
/// detection is off is harmless: a hit does nothing, like an access while off.
pub(crate) struct FastTls {
    /// `whole_cell` of the current thread's packed epoch
    /// (`ThreadState::cur`); `whole_cell(0)`, which matches no shadow cell,
    /// when the thread has no state.
    pub cell: Cell<u64>,
    /// `addr >> LEAF_SHIFT` of the leaf last used by this thread, or
    /// `usize::MAX` (no address has that key).
    pub leaf_key: Cell<usize>,
    /// That leaf's hot cells, biased by the leaf's first word (see
    /// `Leaf::hot_bias`): `hot_bias + (addr >> 3)` is the cells of `addr`.
    pub hot_bias: Cell<*const FastCells>,
    /// The detection period this thread entered last (`period.rs`; 0:
    /// none), and so the one `cell` belongs to. A thread that has not
    /// checked an access since detection was switched off and on again
    /// must not take its accesses to racedet objects for repeats of the
    /// ones it recorded before: those count as history now, and the new
    /// access must be recorded ([`fast_cell`]; raw accesses skip the test,
    /// see `api.rs`).
    pub period: Cell<u32>,
}

impl FastTls {
    const fn new() -> FastTls {
        FastTls {
            cell: Cell::new(whole_cell(0)),
            leaf_key: Cell::new(usize::MAX),
            hot_bias: Cell::new(ptr::null()),
            period: Cell::new(0),
        }
    }
}

/// Runs `f` on this thread's [`FastTls`].
#[inline(always)]
pub(crate) fn with_fast<R>(f: impl FnOnce(&FastTls) -> R) -> R {
    FAST.with(f)
}

/// The cell of a whole-word access by the current thread (see `FastTls::cell`).
#[inline(always)]
pub(crate) fn fast_cell() -> u64 {
    FAST.with(|f| {
        if f.period.get() == crate::period::current() {
            f.cell.get()
        } else {
            whole_cell(0)
        }
    })
}

/// `cur`: the thread's packed epoch, 0 when it has no state.
#[inline(always)]
fn set_fast_cell(cur: u64) {
    let _ = FAST.try_with(|f| f.cell.set(whole_cell(cur)));
}

#[cold]
fn with_thread_slow<R>(f: impl FnOnce(&mut ThreadState) -> R) -> Option<R> {
    if IN_RUNTIME.try_with(|b| b.get()).unwrap_or(true)
        || DEAD.try_with(|d| d.get()).unwrap_or(true)
    {
        return None;
    }
    let mut p = CURRENT.try_with(|c| c.get()).ok()?;
    if p.is_null() {
        crate::interpose::linked();
        p = register_current()?;
    }
    // SAFETY: as in `with_thread`: `IN_RUNTIME` is false, so no other borrow
    // of the state is live on this thread.
    let thr = unsafe { &mut *p };
    if !thr.name_known {
        refresh_name(thr);
    }
    let _ = READY.try_with(|c| c.set(p));
    // Cold: enter on any kind of operation (harmless for the ones that
    // record nothing, see `with_thread_checking`).
    if thread_period() != crate::period::current() {
        enter_period(thr);
    }
    let r = f(thr);
    set_fast_cell(thr.cur);
    Some(r)
}

/// The thread's first access check in this detection period: notes the time
/// its slot enters with, before which all its recorded accesses lie, and
/// starts a new epoch so that its accesses from now on are later
/// (`period.rs`).
#[cold]
#[inline(never)]
fn enter_period(thr: &mut ThreadState) {
    let period = crate::period::current();
    crate::period::enter(thr.slot, thr.own_clock(), period);
    thr.tick();
    let _ = FAST.try_with(|f| f.period.set(period));
    set_fast_cell(thr.cur);
}

/// The detection period this thread entered last (0: none).
#[inline(always)]
pub(crate) fn thread_period() -> u32 {
    FAST.try_with(|f| f.period.get()).unwrap_or(0)
}

fn register_current() -> Option<*mut ThreadState> {
    let name = current_name();
    let thr = busy(|| registry().register_root(name, os_tid()));
    let p = Box::into_raw(Box::new(thr));
    CURRENT.try_with(|c| c.set(p)).ok()?;
    // Make sure the exit guard's destructor will run for this thread.
    let _ = EXIT_GUARD.try_with(|_| ());
    Some(p)
}

fn current_name() -> Option<String> {
    if DEAD.try_with(|d| d.get()).unwrap_or(true) {
        return None;
    }
    std::thread::current().name().map(str::to_string)
}

fn refresh_name(thr: &mut ThreadState) {
    thr.name_known = true;
    if let Some(name) = current_name() {
        busy(|| {
            registry().set_name(thr.id, name);
        });
    }
}

/// Runs `f` with this thread's instrumented operations ignored.
pub(crate) fn busy<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool, *mut ThreadState);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = IN_RUNTIME.try_with(|b| b.set(self.0));
            let _ = READY.try_with(|c| c.set(self.1));
        }
    }
    let prev = IN_RUNTIME.try_with(|b| b.replace(true)).unwrap_or(true);
    let ready = READY
        .try_with(|c| c.replace(ptr::null_mut()))
        .unwrap_or(ptr::null_mut());
    let _reset = Reset(prev, ready);
    f()
}

thread_local! {
    /// Call site of a `racedet::thread::spawn` in progress on this thread.
    static SPAWN_SITE: Cell<crate::site::Site> = const { Cell::new(crate::site::Site::UNKNOWN) };
}

/// Runs `f` (which creates a thread) with `site` recorded as the creation
/// site of the thread(s) it creates through `pthread_create`.
pub fn with_spawn_site<R>(site: crate::site::Site, f: impl FnOnce() -> R) -> R {
    let prev = SPAWN_SITE.try_with(|s| s.replace(site)).unwrap_or_default();
    let r = f();
    let _ = SPAWN_SITE.try_with(|s| s.set(prev));
    r
}

/// The parent's side of creating a thread. `None` if the runtime cannot
/// track this thread (the creating thread is being torn down).
pub fn fork(site: crate::site::Site) -> Option<ForkToken> {
    let site = if site.is_known() {
        site
    } else {
        SPAWN_SITE.try_with(|s| s.get()).unwrap_or_default()
    };
    let on = enabled();
    with_thread(|parent| {
        let ctx = parent.context;
        busy(|| {
            // Creation stacks are for reports: only worth an unwind when on.
            let stack = if on { crate::stack::capture() } else { None };
            let (token, evicted) = {
                let mut reg = registry();
                let token = reg.fork(parent, site, ctx);
                reg.set_created_stack(token.id, stack);
                (token, reg.take_evicted())
            };
            crate::stack::forget_threads(&evicted);
            crate::locks::forget_threads(&evicted);
            token
        })
    })
}

/// The child's side: installs the thread's state. Call first thing in the
/// new thread.
pub fn start_thread(token: ForkToken) {
    let thr = busy(|| registry().start(token, None, os_tid()));
    set_fast_cell(thr.cur);
    let p = Box::into_raw(Box::new(thr));
    let _ = CURRENT.try_with(|c| c.set(p));
    let _ = EXIT_GUARD.try_with(|_| ());
}

/// A created thread failed to start: release its slot.
pub fn abandon_fork(token: ForkToken) {
    busy(|| registry().abandon(token));
}

/// The current thread is ending: publishes its final clock for joiners.
/// Idempotent; later instrumented operations of this thread are ignored.
pub fn finish_current() {
    let _ = READY.try_with(|c| c.set(ptr::null_mut()));
    let Ok(p) = CURRENT.try_with(|c| c.replace(ptr::null_mut())) else {
        return;
    };
    if p.is_null() {
        return;
    }
    set_fast_cell(0);
    let _ = DEAD.try_with(|d| d.set(true));
    // SAFETY: `p` came from `Box::into_raw` on this thread and `CURRENT` no
    // longer refers to it, so this is the only owner.
    let thr = unsafe { Box::from_raw(p) };
    busy(|| registry().finish(*thr));
}

/// The join edge: the current thread acquires `child`'s final clock.
pub fn join(child: ThreadId) -> bool {
    with_thread(|thr| busy(|| registry().join(thr, child))).unwrap_or(false)
}

/// Nobody will join `child`.
pub fn detach(child: ThreadId) {
    busy(|| registry().detach(child));
}

/// racedet's id of the current thread.
pub fn current_thread_id() -> Option<ThreadId> {
    with_thread(|t| t.id)
}

/// Per-process counters for `verbosity=1` and tests.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub slots: usize,
    pub threads: usize,
}

pub fn stats() -> Stats {
    let reg = registry();
    Stats {
        slots: reg.slot_count(),
        threads: reg.thread_count(),
    }
}
