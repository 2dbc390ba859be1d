//! `model(f)`: loom's entry point, run on real threads with racedet on.
//!
//! **Iterations.** `f` runs [`Builder::iterations`] times (default
//! `RACEDET_MODEL_ITERATIONS`, else 100; `max_permutations` caps it,
//! `max_duration` stops early), each time on a fresh thread, inside a
//! [`check`](crate::check) context: every thread it spawns inherits the
//! context, so their races are collected too. A fresh thread per iteration
//! also gives each iteration fresh thread-locals, as loom's executions have.
//!
//! **Interleavings.** Each iteration has a seed; each model thread has a
//! random stream derived from it (a child's from its parent's stream and
//! spawn index). At every sync point ([`hook::maybe_yield`](super::hook))
//! a thread draws from its stream and sometimes yields or sleeps a few
//! microseconds, so successive iterations run different schedules. The
//! OS scheduler still has the last word: replaying a seed
//! (`RACEDET_MODEL_SEED`) repeats the yield decisions, which makes the
//! failing schedule likely, not certain.
//!
//! **End of an iteration.** loom ends an execution when every thread it
//! spawned has finished, joined or not. Here each model thread, as it
//! finishes, releases into the iteration's clock and leaves the live count;
//! the runner waits for the count to reach zero and acquires the clock, so
//! nothing of one iteration can race with the next (whose memory may reuse
//! the same addresses).
//!
//! **Failure.** A race, a panic in any model thread (even one whose
//! `JoinHandle` turned it into an `Err`), or threads still running a minute
//! after the iteration's closure returned (loom reports those as a
//! deadlock) fail the model: it panics with the reports, the iteration and
//! its seed.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use racedet_runtime::SyncVar;
use racedet_runtime::api::var;

/// loom's thread limit, for code that names `loom::MAX_THREADS` (racedet
/// has no limit).
pub const MAX_THREADS: usize = 5;

const DEFAULT_ITERATIONS: usize = 100;
/// How long the runner waits for threads left running after the closure
/// returned before calling it a deadlock.
const STRAGGLER_WAIT: Duration = Duration::from_secs(60);
/// After a panic the iteration failed anyway: wait briefly, then give up.
const PANIC_WAIT: Duration = Duration::from_secs(2);

/// Models running in this process: the hooks' fast path.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Configures a model, as `loom::model::Builder`.
///
/// loom's fields are accepted with loom's types and defaults (read from the
/// same `LOOM_*` variables); those that steer loom's exhaustive search
/// (`max_threads`, `max_branches`, `preemption_bound`, checkpoints,
/// `location`, `expect_explicit_explore`) have no meaning for real threads
/// and are ignored. `max_permutations` caps the iterations, `max_duration`
/// bounds the time, `log` prints each iteration's seed. racedet's own knobs
/// are `iterations` and `seed`.
///
/// ```
/// let mut b = racedet::model::Builder::new();
/// b.preemption_bound = Some(2);
/// b.iterations = 10;
/// b.check(|| {
///     let h = racedet::thread::spawn(|| 1);
///     assert_eq!(h.join().unwrap(), 1);
/// });
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Builder {
    /// loom: threads per execution (ignored).
    pub max_threads: usize,
    /// loom: thread switches per execution (ignored).
    pub max_branches: usize,
    /// loom: executions to explore; caps `iterations`.
    pub max_permutations: Option<usize>,
    /// loom: time to spend; no new iteration starts after it.
    pub max_duration: Option<Duration>,
    /// loom: preemptions per execution (ignored).
    pub preemption_bound: Option<usize>,
    /// loom: checkpoint file (ignored).
    pub checkpoint_file: Option<PathBuf>,
    /// loom: checkpoint interval (ignored).
    pub checkpoint_interval: usize,
    /// loom: explore only on `explore()` (ignored).
    pub expect_explicit_explore: bool,
    /// loom: capture locations (ignored: racedet always reports them).
    pub location: bool,
    /// loom: log executions; here, print each iteration's seed to stderr.
    pub log: bool,
    /// racedet: how many times `f` runs (`RACEDET_MODEL_ITERATIONS`,
    /// default 100).
    pub iterations: usize,
    /// racedet: run one iteration with this seed (`RACEDET_MODEL_SEED`,
    /// decimal or `0x` hex), to replay a failure.
    pub seed: Option<u64>,
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok()?.trim().parse().ok()
}

fn parse_seed(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

impl Builder {
    /// loom's defaults and environment, plus racedet's.
    pub fn new() -> Builder {
        Builder {
            max_threads: MAX_THREADS,
            max_branches: env("LOOM_MAX_BRANCHES").unwrap_or(1_000),
            max_permutations: env("LOOM_MAX_PERMUTATIONS"),
            max_duration: env::<u64>("LOOM_MAX_DURATION").map(Duration::from_secs),
            preemption_bound: env("LOOM_MAX_PREEMPTIONS"),
            checkpoint_file: env::<String>("LOOM_CHECKPOINT_FILE").map(PathBuf::from),
            checkpoint_interval: env("LOOM_CHECKPOINT_INTERVAL").unwrap_or(20_000),
            expect_explicit_explore: false,
            location: std::env::var_os("LOOM_LOCATION").is_some(),
            log: std::env::var_os("LOOM_LOG").is_some(),
            iterations: env("RACEDET_MODEL_ITERATIONS").unwrap_or(DEFAULT_ITERATIONS),
            seed: std::env::var("RACEDET_MODEL_SEED")
                .ok()
                .and_then(|s| parse_seed(&s)),
        }
    }

    /// Sets the checkpoint file (accepted for loom compatibility; unused).
    pub fn checkpoint_file(&mut self, file: &str) -> &mut Self {
        self.checkpoint_file = Some(file.into());
        self
    }

    /// Runs the model: `f` once per iteration with racedet on.
    ///
    /// # Panics
    /// If an iteration has a race or a panicking thread, with the reports
    /// and the seed that replays it.
    #[track_caller]
    pub fn check<F>(&self, f: F)
    where
        F: Fn() + Sync + Send + 'static,
    {
        let f = Arc::new(f);
        let (count, seeds) = match self.seed {
            Some(seed) => (1, Seeds::Replay(seed)),
            None => {
                let cap = self.max_permutations.unwrap_or(usize::MAX);
                let base = RandomState::new().hash_one(0x5eed_u64);
                (self.iterations.clamp(1, cap.max(1)), Seeds::From(base))
            }
        };
        let _running = Running::enter();
        let start = Instant::now();
        for i in 0..count {
            if i > 0 && self.max_duration.is_some_and(|d| start.elapsed() >= d) {
                break;
            }
            let seed = seeds.get(i);
            if self.log {
                eprintln!(
                    "racedet::model: iteration {} of {count}, seed {seed:#x}",
                    i + 1
                );
            }
            if let Err(failure) = run_once(&f, seed) {
                panic!(
                    "{failure}racedet::model: iteration {} of {count} failed (seed {seed:#x}); \
                     replay it with RACEDET_MODEL_SEED={seed:#x}",
                    i + 1
                );
            }
        }
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

/// Runs `f` as a model with the default [`Builder`], as `loom::model`.
///
/// # Panics
/// If an iteration has a race or a panicking thread.
///
/// ```
/// use racedet::sync::Arc;
/// use racedet::sync::atomic::{AtomicUsize, Ordering};
///
/// racedet::model(|| {
///     let n = Arc::new(AtomicUsize::new(0));
///     let m = n.clone();
///     let h = racedet::thread::spawn(move || m.fetch_add(1, Ordering::AcqRel));
///     n.fetch_add(1, Ordering::AcqRel);
///     h.join().unwrap();
///     assert_eq!(n.load(Ordering::Acquire), 2);
/// });
/// ```
#[track_caller]
pub fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    Builder::new().check(f);
}

enum Seeds {
    Replay(u64),
    From(u64),
}

impl Seeds {
    fn get(&self, i: usize) -> u64 {
        match *self {
            Seeds::Replay(s) => s,
            Seeds::From(base) => splitmix(base.wrapping_add(i as u64)),
        }
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Counts this model in [`RUNNING`] while it runs (also on a panic).
struct Running;

impl Running {
    fn enter() -> Running {
        RUNNING.fetch_add(1, Ordering::Relaxed);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One iteration, as seen by its threads.
struct Iteration {
    /// Model threads not finished yet (std's lock: bookkeeping the
    /// detector must not see).
    live: Mutex<usize>,
    idle: Condvar,
    /// Every model thread releases here as it finishes.
    end: SyncVar,
    panicked: AtomicBool,
}

impl Iteration {
    /// Waits until no model thread runs, at most `limit`; `false` on timeout.
    fn wait_idle(&self, limit: Duration) -> bool {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let (live, _) = self
            .idle
            .wait_timeout_while(live, limit, |n| *n > 0)
            .unwrap_or_else(|e| e.into_inner());
        *live == 0
    }
}

fn run_once<F: Fn() + Sync + Send + 'static>(f: &Arc<F>, seed: u64) -> Result<(), String> {
    let iteration = Arc::new(Iteration {
        live: Mutex::new(0),
        idle: Condvar::new(),
        end: SyncVar::new(),
        panicked: AtomicBool::new(false),
    });
    let checked = crate::check(|| {
        let member = Member::join(Arc::clone(&iteration), seed);
        let f = Arc::clone(f);
        let root = std::thread::Builder::new()
            .name("racedet-model".into())
            .spawn(move || {
                let _member = member.enter();
                f();
            });
        let root_ok = match root {
            Ok(h) => h.join().is_ok(),
            Err(e) => return Err(format!("racedet::model: cannot spawn a thread: {e}\n")),
        };
        let limit = if root_ok { STRAGGLER_WAIT } else { PANIC_WAIT };
        let all_done = iteration.wait_idle(limit);
        var::acquire(&iteration.end);
        Ok(all_done)
    });
    let mut failure = String::new();
    let all_done = match checked {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return Err(e),
        Err(races) => {
            let _ = write!(failure, "{races}");
            true
        }
    };
    if iteration.panicked.load(Ordering::Relaxed) {
        failure.push_str("racedet::model: a model thread panicked (its message is above)\n");
    }
    if !all_done {
        let _ = writeln!(
            failure,
            "racedet::model: model threads still running {}s after the iteration's closure \
             returned (a deadlock, or a thread waiting for a notification that never comes)",
            STRAGGLER_WAIT.as_secs()
        );
    }
    if failure.is_empty() {
        Ok(())
    } else {
        Err(failure)
    }
}

// ===== model threads =====

/// A model thread's yield stream.
struct ThreadCtx {
    iteration: Arc<Iteration>,
    rng: Cell<u64>,
    children: Cell<u64>,
}

impl ThreadCtx {
    fn next(&self) -> u64 {
        let x = self.rng.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.rng.set(x);
        splitmix(x)
    }
}

std::thread_local! {
    static CTX: RefCell<Option<ThreadCtx>> = const { RefCell::new(None) };
}

/// A thread's membership in an iteration, from spawn to finish. Dropped
/// unentered (the spawn failed), it only leaves the live count.
struct Member {
    iteration: Arc<Iteration>,
    seed: u64,
    entered: bool,
}

impl Member {
    fn join(iteration: Arc<Iteration>, seed: u64) -> Member {
        *iteration.live.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        Member {
            iteration,
            seed,
            entered: false,
        }
    }

    /// Called first thing on the new thread.
    fn enter(mut self) -> Member {
        self.entered = true;
        let ctx = ThreadCtx {
            iteration: Arc::clone(&self.iteration),
            rng: Cell::new(self.seed),
            children: Cell::new(0),
        };
        let _ = CTX.try_with(|c| *c.borrow_mut() = Some(ctx));
        self
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if self.entered {
            if std::thread::panicking() {
                self.iteration.panicked.store(true, Ordering::Relaxed);
            }
            var::release(&self.iteration.end);
            let _ = CTX.try_with(|c| c.borrow_mut().take());
        }
        let mut live = self
            .iteration
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *live -= 1;
        if *live == 0 {
            self.iteration.idle.notify_all();
        }
    }
}

/// See [`hook::wrap_spawn`](super::hook::wrap_spawn).
pub(crate) fn wrap_spawn<F, T>(f: F) -> impl FnOnce() -> T + Send + 'static
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let member = if RUNNING.load(Ordering::Relaxed) == 0 {
        None
    } else {
        CTX.try_with(|c| {
            let c = c.borrow();
            let parent = c.as_ref()?;
            let k = parent.children.get() + 1;
            parent.children.set(k);
            let seed = splitmix(parent.rng.get() ^ k.wrapping_mul(0xa076_1d64_78bd_642f));
            Some(Member::join(Arc::clone(&parent.iteration), seed))
        })
        .ok()
        .flatten()
    };
    move || {
        let _member = member.map(Member::enter);
        f()
    }
}

/// Out of 64 draws: how many yield, and how many of those sleep instead.
const YIELD_IN_64: u64 = 16;
const SLEEP_IN_64: u64 = 1;

/// See [`hook::maybe_yield`](super::hook::maybe_yield).
#[inline]
pub(crate) fn maybe_yield() {
    if RUNNING.load(Ordering::Relaxed) == 0 {
        return;
    }
    yield_slow();
}

#[cold]
fn yield_slow() {
    let Some(r) = CTX
        .try_with(|c| c.borrow().as_ref().map(ThreadCtx::next))
        .ok()
        .flatten()
    else {
        return;
    };
    match r % 64 {
        x if x < SLEEP_IN_64 => std::thread::sleep(Duration::from_micros(1 + (r >> 32) % 50)),
        x if x < YIELD_IN_64 => std::thread::yield_now(),
        _ => {}
    }
}
