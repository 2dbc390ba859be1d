//! Traces: the event language both detectors consume, a seeded generator,
//! and the schedule rules a trace must respect.
//!
//! A trace is one *observed* interleaving: events run in the listed order.
//! Thread ids are trace-level names (0 is the root thread, each `Fork`
//! names a fresh child); both detectors map them to their own threads.
//! Memory is a small arena of [`MEM`] bytes; a few 1/4/8-byte cells of it
//! are also used as atomic locations, so plain and atomic accesses mix.

use std::sync::atomic::Ordering;

/// Tracked bytes (four 8-byte words).
pub const MEM: usize = 32;
/// Atomic locations as `(offset, size)`: they overlap the plain arena.
pub const ATOMICS: [(usize, usize); 3] = [(0, 8), (12, 4), (24, 8)];
/// Reader-writer locks (a mutex is one only ever write-locked).
pub const LOCKS: usize = 2;
/// Sync variables for raw acquire/release annotations.
pub const VARS: usize = 2;
/// Threads a trace may create in total (ids are never reused).
pub const MAX_THREADS: usize = 8;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AtomicOp {
    Load,
    Store,
    Rmw,
    /// A failed compare-exchange: a load with the failure ordering.
    CasFail,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Fork {
        t: usize,
        child: usize,
    },
    Finish {
        t: usize,
    },
    Join {
        t: usize,
        child: usize,
    },
    Lock {
        t: usize,
        m: usize,
    },
    Unlock {
        t: usize,
        m: usize,
    },
    ReadLock {
        t: usize,
        m: usize,
    },
    ReadUnlock {
        t: usize,
        m: usize,
    },
    Acquire {
        t: usize,
        v: usize,
    },
    Release {
        t: usize,
        v: usize,
    },
    ReleaseStore {
        t: usize,
        v: usize,
    },
    Atomic {
        t: usize,
        loc: usize,
        op: AtomicOp,
        order: Ordering,
    },
    Fence {
        t: usize,
        order: Ordering,
    },
    /// Plain read of `size` bytes at `addr` (sizes above 8 are ranges).
    Read {
        t: usize,
        addr: usize,
        size: usize,
    },
    Write {
        t: usize,
        addr: usize,
        size: usize,
    },
    /// Both detectors forget `[addr, addr + len)` (free / reuse).
    Reset {
        addr: usize,
        len: usize,
    },
}

impl Event {
    /// Events that get a race verdict.
    pub fn is_access(&self) -> bool {
        matches!(
            self,
            Event::Read { .. } | Event::Write { .. } | Event::Atomic { .. }
        )
    }
}

/// Thread status in a schedule.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Status {
    Running,
    Finished,
    Joined,
}

/// Who holds a rwlock: nobody, one writer, or a set of readers (bit = thread).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Holder {
    Free,
    Writer(usize),
    Readers(u32),
}

/// The schedule rules: threads exist and run when they act, joins take
/// finished threads once, locks are mutually exclusive, a thread finishes
/// holding nothing.
#[derive(Clone, Debug)]
pub struct Schedule {
    threads: Vec<Status>,
    locks: [Holder; LOCKS],
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            threads: vec![Status::Running],
            locks: [Holder::Free; LOCKS],
        }
    }
}

impl Schedule {
    fn running(&self, t: usize) -> bool {
        self.threads.get(t) == Some(&Status::Running)
    }

    fn holds_any(&self, t: usize) -> bool {
        self.locks.iter().any(|h| match *h {
            Holder::Free => false,
            Holder::Writer(w) => w == t,
            Holder::Readers(set) => set & (1 << t) != 0,
        })
    }

    /// Applies `e` if the rules allow it; returns whether they did.
    pub fn apply(&mut self, e: &Event) -> bool {
        use Event::*;
        let actor = match *e {
            Reset { .. } => None,
            Fork { t, .. }
            | Finish { t }
            | Join { t, .. }
            | Lock { t, .. }
            | Unlock { t, .. }
            | ReadLock { t, .. }
            | ReadUnlock { t, .. }
            | Acquire { t, .. }
            | Release { t, .. }
            | ReleaseStore { t, .. }
            | Atomic { t, .. }
            | Fence { t, .. }
            | Read { t, .. }
            | Write { t, .. } => Some(t),
        };
        if actor.is_some_and(|t| !self.running(t)) {
            return false;
        }
        match *e {
            Fork { child, .. } => {
                if child != self.threads.len() || child >= MAX_THREADS {
                    return false;
                }
                self.threads.push(Status::Running);
            }
            Finish { t } => {
                if t == 0 || self.holds_any(t) {
                    return false;
                }
                self.threads[t] = Status::Finished;
            }
            Join { child, .. } => {
                if self.threads.get(child) != Some(&Status::Finished) {
                    return false;
                }
                self.threads[child] = Status::Joined;
            }
            Lock { t, m } => {
                if self.locks[m] != Holder::Free {
                    return false;
                }
                self.locks[m] = Holder::Writer(t);
            }
            Unlock { t, m } => {
                if self.locks[m] != Holder::Writer(t) {
                    return false;
                }
                self.locks[m] = Holder::Free;
            }
            ReadLock { t, m } => match self.locks[m] {
                Holder::Free => self.locks[m] = Holder::Readers(1 << t),
                Holder::Readers(set) if set & (1 << t) == 0 => {
                    self.locks[m] = Holder::Readers(set | 1 << t)
                }
                _ => return false,
            },
            ReadUnlock { t, m } => match self.locks[m] {
                Holder::Readers(set) if set & (1 << t) != 0 => {
                    let rest = set & !(1 << t);
                    self.locks[m] = if rest == 0 {
                        Holder::Free
                    } else {
                        Holder::Readers(rest)
                    };
                }
                _ => return false,
            },
            Read { addr, size, .. } | Write { addr, size, .. } => {
                if size == 0 || addr + size > MEM {
                    return false;
                }
            }
            Reset { addr, len } => {
                if addr + len > MEM {
                    return false;
                }
            }
            Acquire { .. }
            | Release { .. }
            | ReleaseStore { .. }
            | Atomic { .. }
            | Fence { .. } => {}
        }
        true
    }

    /// Whether a whole trace respects the rules (used while shrinking).
    pub fn valid(trace: &[Event]) -> bool {
        let mut s = Schedule::default();
        trace.iter().all(|e| s.apply(e))
    }
}

/// SplitMix64: tiny, seedable, good enough to pick events.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn range(&mut self, lo: usize, hi_inclusive: usize) -> usize {
        lo + self.below(hi_inclusive - lo + 1)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// `true` with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const LOAD_ORDERS: [Ordering; 3] = [Ordering::Relaxed, Ordering::Acquire, Ordering::SeqCst];
const STORE_ORDERS: [Ordering; 3] = [Ordering::Relaxed, Ordering::Release, Ordering::SeqCst];
const RMW_ORDERS: [Ordering; 5] = [
    Ordering::Relaxed,
    Ordering::Acquire,
    Ordering::Release,
    Ordering::AcqRel,
    Ordering::SeqCst,
];
const FENCE_ORDERS: [Ordering; 4] = [
    Ordering::Acquire,
    Ordering::Release,
    Ordering::AcqRel,
    Ordering::SeqCst,
];

/// Generates one trace from `seed`: 20–60 events, 2–5 threads alive at most.
/// One trace in four is *lock-heavy*: four events in ten are then lock
/// operations on lock 0 (the one driven through racedet's lock-free
/// shortcuts), so that a thread's read sections, its own write sections and
/// other threads' come back to back often enough to exercise the read-unlock
/// entries across writers.
pub fn generate(seed: u64) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    let len = rng.range(20, 60);
    let max_live = rng.range(2, 5);
    let lock_heavy = rng.chance(25);
    let mut sched = Schedule::default();
    let mut trace = Vec::with_capacity(len);
    while trace.len() < len {
        // A draw the schedule rejects is simply drawn again.
        let e = if lock_heavy && rng.chance(40) {
            let running: Vec<usize> = (0..sched.threads.len())
                .filter(|&t| sched.running(t))
                .collect();
            let t = rng.pick(&running);
            Some(lock_op_on(rng.chance(50), &sched, t, 0))
        } else {
            candidate(&mut rng, &sched, max_live)
        }
        .filter(|e| sched.apply(e));
        trace.extend(e);
    }
    trace
}

/// One random event for a random running thread; `None` or an event the
/// schedule rejects just means "draw again".
fn candidate(rng: &mut Rng, s: &Schedule, max_live: usize) -> Option<Event> {
    let running: Vec<usize> = (0..s.threads.len()).filter(|&t| s.running(t)).collect();
    let t = rng.pick(&running);
    let roll = rng.below(100);
    Some(match roll {
        0..=39 => access(rng, t),
        40..=59 => {
            let loc = rng.below(ATOMICS.len());
            let op = rng.pick(&[
                AtomicOp::Load,
                AtomicOp::Load,
                AtomicOp::Store,
                AtomicOp::Store,
                AtomicOp::Rmw,
                AtomicOp::Rmw,
                AtomicOp::CasFail,
            ]);
            let order = match op {
                AtomicOp::Load | AtomicOp::CasFail => rng.pick(&LOAD_ORDERS),
                AtomicOp::Store => rng.pick(&STORE_ORDERS),
                AtomicOp::Rmw => rng.pick(&RMW_ORDERS),
            };
            Event::Atomic { t, loc, op, order }
        }
        60..=65 => Event::Fence {
            t,
            order: rng.pick(&FENCE_ORDERS),
        },
        66..=77 => lock_op(rng, s, t),
        78..=83 => {
            if running.len() >= max_live {
                return None;
            }
            Event::Fork {
                t,
                child: s.threads.len(),
            }
        }
        84..=87 => Event::Finish { t },
        88..=91 => {
            let done: Vec<usize> = (0..s.threads.len())
                .filter(|&c| s.threads[c] == Status::Finished)
                .collect();
            if done.is_empty() {
                return None;
            }
            Event::Join {
                t,
                child: rng.pick(&done),
            }
        }
        92..=96 => {
            let v = rng.below(VARS);
            match rng.below(3) {
                0 => Event::Acquire { t, v },
                1 => Event::Release { t, v },
                _ => Event::ReleaseStore { t, v },
            }
        }
        _ => {
            let addr = rng.below(MEM);
            Event::Reset {
                addr,
                len: rng.range(0, MEM - addr),
            }
        }
    })
}

fn access(rng: &mut Rng, t: usize) -> Event {
    let size = if rng.chance(15) {
        rng.range(1, 20)
    } else {
        rng.pick(&[1, 2, 4, 8, 8])
    };
    let addr = if size <= 8 && rng.chance(50) {
        rng.below(MEM / size) * size
    } else {
        rng.below(MEM - size + 1)
    };
    if rng.chance(50) {
        Event::Read { t, addr, size }
    } else {
        Event::Write { t, addr, size }
    }
}

/// A lock operation that fits the lock's current holder, if any does.
fn lock_op(rng: &mut Rng, s: &Schedule, t: usize) -> Event {
    let m = rng.below(LOCKS);
    lock_op_on(rng.chance(50), s, t, m)
}

/// [`lock_op`] on lock `m`; `exclusive` picks a write lock when the lock is
/// free.
fn lock_op_on(exclusive: bool, s: &Schedule, t: usize, m: usize) -> Event {
    match s.locks[m] {
        Holder::Writer(w) if w == t => Event::Unlock { t, m },
        Holder::Readers(set) if set & (1 << t) != 0 => Event::ReadUnlock { t, m },
        Holder::Free if exclusive => Event::Lock { t, m },
        // Readers may join readers; anything else is rejected and redrawn.
        _ => Event::ReadLock { t, m },
    }
}
