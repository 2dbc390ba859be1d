//! The reference detector: DJIT+ (Pozniansky & Schuster, PPoPP 2003) kept
//! deliberately naive, sharing no code with the engine.
//!
//! Every thread has a full vector clock indexed by its trace id (ids are
//! never reused). Every byte keeps four full vector clocks — plain writes,
//! plain reads, atomic writes, atomic reads — whose entry `u` is `u`'s own
//! clock entry at its last such access. An access by `t` with clock `C`
//! races when one of the histories it conflicts with is not `⊑ C`:
//!
//! | access           | conflicts with                         |
//! |------------------|----------------------------------------|
//! | plain read       | plain writes, atomic writes            |
//! | plain write      | all four                               |
//! | atomic load      | plain writes                           |
//! | atomic store/rmw | plain writes, plain reads              |
//!
//! Synchronisation follows the C++20 model as far as happens-before goes:
//! locks (a write lock acquires the last unlock and every read unlock, a
//! read lock only the last write unlock), annotations, and atomics. For
//! atomics each location carries the clock a load of its latest store
//! acquires; a store replaces it (a Release store with the thread's clock, a
//! Relaxed one with the clock of the thread's last `fence(Release)`), an RMW
//! joins into it (continuing the release sequence it reads from). Acquire
//! loads join it into the thread clock; Relaxed loads into a pending clock
//! that a later `fence(Acquire)` takes. An atomic access is judged after
//! its own acquire (the synchronisation edge ends *at* the load, so what
//! preceded the store it reads from happens-before the load itself) and
//! before its own release.

use std::sync::atomic::Ordering;

use super::trace::{ATOMICS, AtomicOp, Event, LOCKS, MAX_THREADS, MEM, VARS};

/// A full vector clock indexed by trace thread id (a fixed array: the
/// reference runs millions of times in a debug build).
type Vc = [u32; MAX_THREADS];

fn vc() -> Vc {
    [0; MAX_THREADS]
}

fn join_into(dst: &mut Vc, src: &Vc) {
    for i in 0..MAX_THREADS {
        if src[i] > dst[i] {
            dst[i] = src[i];
        }
    }
}

fn leq(a: &Vc, b: &Vc) -> bool {
    for i in 0..MAX_THREADS {
        if a[i] > b[i] {
            return false;
        }
    }
    true
}

fn acquires(o: Ordering) -> bool {
    matches!(o, Ordering::Acquire | Ordering::AcqRel | Ordering::SeqCst)
}

fn releases(o: Ordering) -> bool {
    matches!(o, Ordering::Release | Ordering::AcqRel | Ordering::SeqCst)
}

#[derive(Clone, Copy)]
struct Thread {
    clock: Vc,
    /// Clock at the last `fence(Release)`.
    fence_release: Vc,
    /// Join of what relaxed loads read from.
    pending_acquire: Vc,
}

#[derive(Clone, Copy)]
struct Byte {
    write: Vc,
    read: Vc,
    atomic_write: Vc,
    atomic_read: Vc,
}

impl Byte {
    fn new() -> Byte {
        Byte {
            write: vc(),
            read: vc(),
            atomic_write: vc(),
            atomic_read: vc(),
        }
    }
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
    Load,
    Store,
    Rmw,
}

pub struct Reference {
    threads: Vec<Option<Thread>>,
    finals: Vec<Option<Vc>>,
    bytes: Vec<Byte>,
    last_unlock: Vec<Vc>,
    read_unlocks: Vec<Vc>,
    vars: Vec<Vc>,
    atomics: Vec<Vc>,
}

impl Reference {
    fn new() -> Reference {
        let mut root = vc();
        root[0] = 1;
        Reference {
            threads: vec![Some(Thread {
                clock: root,
                fence_release: vc(),
                pending_acquire: vc(),
            })],
            finals: vec![None],
            bytes: vec![Byte::new(); MEM],
            last_unlock: vec![vc(); LOCKS],
            read_unlocks: vec![vc(); LOCKS],
            vars: vec![vc(); VARS],
            atomics: vec![vc(); ATOMICS.len()],
        }
    }

    /// Runs `trace` and returns one verdict per access event, in order.
    pub fn run(trace: &[Event]) -> Vec<bool> {
        let mut r = Reference::new();
        trace.iter().filter_map(|e| r.step(e)).collect()
    }

    fn thread(&mut self, t: usize) -> &mut Thread {
        self.threads[t]
            .as_mut()
            .expect("trace acts on a running thread")
    }

    fn clock(&mut self, t: usize) -> &mut Vc {
        &mut self.thread(t).clock
    }

    /// A new epoch, so later accesses are not covered by what was published.
    fn tick(&mut self, t: usize) {
        self.clock(t)[t] += 1;
    }

    fn step(&mut self, e: &Event) -> Option<bool> {
        match *e {
            Event::Fork { t, child } => {
                let mut clock = *self.clock(t);
                clock[child] = 1;
                self.threads.push(Some(Thread {
                    clock,
                    fence_release: vc(),
                    pending_acquire: vc(),
                }));
                self.finals.push(None);
                self.tick(t);
            }
            Event::Finish { t } => {
                let th = self.threads[t].take().expect("running");
                self.finals[t] = Some(th.clock);
            }
            Event::Join { t, child } => {
                let fin = self.finals[child].expect("finished");
                join_into(self.clock(t), &fin);
            }
            Event::Lock { t, m } => {
                let (l, r) = (self.last_unlock[m], self.read_unlocks[m]);
                join_into(self.clock(t), &l);
                join_into(self.clock(t), &r);
            }
            Event::Unlock { t, m } => {
                let c = *self.clock(t);
                join_into(&mut self.last_unlock[m], &c);
                self.tick(t);
            }
            Event::ReadLock { t, m } => {
                let l = self.last_unlock[m];
                join_into(self.clock(t), &l);
            }
            Event::ReadUnlock { t, m } => {
                let c = *self.clock(t);
                join_into(&mut self.read_unlocks[m], &c);
                self.tick(t);
            }
            Event::Acquire { t, v } => {
                let s = self.vars[v];
                join_into(self.clock(t), &s);
            }
            Event::Release { t, v } => {
                let c = *self.clock(t);
                join_into(&mut self.vars[v], &c);
                self.tick(t);
            }
            Event::ReleaseStore { t, v } => {
                self.vars[v] = *self.clock(t);
                self.tick(t);
            }
            Event::Fence { t, order } => {
                if acquires(order) {
                    let th = self.thread(t);
                    join_into(&mut th.clock, &th.pending_acquire);
                }
                if releases(order) {
                    let th = self.thread(t);
                    th.fence_release = th.clock;
                    self.tick(t);
                }
            }
            Event::Atomic { t, loc, op, order } => return Some(self.atomic(t, loc, op, order)),
            Event::Read { t, addr, size } => return Some(self.access(t, addr, size, Kind::Read)),
            Event::Write { t, addr, size } => {
                return Some(self.access(t, addr, size, Kind::Write));
            }
            Event::Reset { addr, len } => {
                // The engine's contract: the caller owns every word the range
                // touches, so whole words are forgotten.
                let (lo, hi) = if len == 0 {
                    (0, 0)
                } else {
                    (addr & !7, (addr + len).div_ceil(8) * 8)
                };
                for b in &mut self.bytes[lo..hi.min(MEM)] {
                    *b = Byte::new();
                }
                for (i, &(a, _)) in ATOMICS.iter().enumerate() {
                    if a >= addr && a < addr + len {
                        self.atomics[i] = vc();
                    }
                }
            }
        }
        None
    }

    fn atomic(&mut self, t: usize, loc: usize, op: AtomicOp, order: Ordering) -> bool {
        let (addr, size) = ATOMICS[loc];
        let kind = match op {
            AtomicOp::Load | AtomicOp::CasFail => Kind::Load,
            AtomicOp::Store => Kind::Store,
            AtomicOp::Rmw => Kind::Rmw,
        };
        // The load half: what the latest store in modification order carries.
        if matches!(kind, Kind::Load | Kind::Rmw) {
            let from = self.atomics[loc];
            let th = self.thread(t);
            if acquires(order) {
                join_into(&mut th.clock, &from);
            } else {
                join_into(&mut th.pending_acquire, &from);
            }
        }
        let raced = self.access(t, addr, size, kind);
        // The store half.
        if matches!(kind, Kind::Store | Kind::Rmw) {
            let th = self.thread(t);
            let published = if releases(order) {
                th.clock
            } else {
                th.fence_release
            };
            if kind == Kind::Store {
                self.atomics[loc] = published;
            } else {
                join_into(&mut self.atomics[loc], &published);
            }
            if releases(order) {
                self.tick(t);
            }
        }
        raced
    }

    fn access(&mut self, t: usize, addr: usize, size: usize, kind: Kind) -> bool {
        let clock = *self.clock(t);
        let now = clock[t];
        let mut raced = false;
        for b in &mut self.bytes[addr..addr + size] {
            let unordered = |h: &Vc| !leq(h, &clock);
            raced |= match kind {
                Kind::Read => unordered(&b.write) || unordered(&b.atomic_write),
                Kind::Write => {
                    unordered(&b.write)
                        || unordered(&b.read)
                        || unordered(&b.atomic_write)
                        || unordered(&b.atomic_read)
                }
                Kind::Load => unordered(&b.write),
                Kind::Store | Kind::Rmw => unordered(&b.write) || unordered(&b.read),
            };
            match kind {
                Kind::Read => b.read[t] = now,
                Kind::Write => b.write[t] = now,
                Kind::Load => b.atomic_read[t] = now,
                Kind::Store => b.atomic_write[t] = now,
                Kind::Rmw => {
                    b.atomic_read[t] = now;
                    b.atomic_write[t] = now;
                }
            }
        }
        raced
    }
}
