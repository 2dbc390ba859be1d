//! The engine side: the same trace driven through racedet's instance-level
//! types (`Registry` with slot reuse, `ThreadState`, a `ShadowTable`,
//! `SyncVar`s, `atomic`), composed the way `api.rs` composes them.

use racedet_runtime::atomic;
use racedet_runtime::shadow::{AccessKind, ShadowTable, word_masks};
use racedet_runtime::site::Site;
use racedet_runtime::sync::{ReadHeld, SyncVar};
use racedet_runtime::thread::{Registry, ThreadId, ThreadState};

use super::trace::{ATOMICS, AtomicOp, Event, LOCKS, MAX_THREADS, MEM, VARS};

pub struct Engine<'a> {
    table: &'a ShadowTable,
    base: usize,
    reg: Registry,
    threads: Vec<Option<ThreadState>>,
    ids: Vec<Option<ThreadId>>,
    locks: Vec<SyncVar>,
    vars: Vec<SyncVar>,
    atomics: Vec<SyncVar>,
}

impl<'a> Engine<'a> {
    /// Runs `trace` on the arena at `base` of `table` (whose history is
    /// cleared first) and returns one verdict per access event.
    pub fn run(table: &'a ShadowTable, base: usize, trace: &[Event]) -> Vec<bool> {
        Self::run_counting_reuse(table, base, trace).0
    }

    /// Like [`Engine::run`], also counting threads that got a reused slot.
    pub fn run_counting_reuse(
        table: &'a ShadowTable,
        base: usize,
        trace: &[Event],
    ) -> (Vec<bool>, usize) {
        table.reset_range(base, MEM);
        let mut reg = Registry::new();
        let root = reg.register_root(None, 0);
        let mut e = Engine {
            table,
            base,
            ids: vec![Some(root.id)],
            threads: vec![Some(root)],
            reg,
            locks: (0..LOCKS).map(|_| SyncVar::new()).collect(),
            vars: (0..VARS).map(|_| SyncVar::new()).collect(),
            atomics: (0..ATOMICS.len()).map(|_| SyncVar::new()).collect(),
        };
        e.threads.reserve(MAX_THREADS);
        let verdicts = trace.iter().filter_map(|ev| e.step(ev)).collect();
        (verdicts, e.threads.len() - e.reg.slot_count())
    }

    fn thr(&mut self, t: usize) -> &mut ThreadState {
        self.threads[t]
            .as_mut()
            .expect("trace acts on a running thread")
    }

    fn step(&mut self, e: &Event) -> Option<bool> {
        match *e {
            Event::Fork { t, child } => {
                let parent = self.threads[t].as_mut().expect("running");
                let token = self.reg.fork(parent, Site::UNKNOWN, 0);
                let state = self.reg.start(token, None, 0);
                debug_assert_eq!(self.threads.len(), child);
                self.ids.push(Some(state.id));
                self.threads.push(Some(state));
            }
            Event::Finish { t } => {
                let state = self.threads[t].take().expect("running");
                self.reg.finish(state);
            }
            Event::Join { t, child } => {
                let id = self.ids[child].take().expect("joined once");
                let joiner = self.threads[t].as_mut().expect("running");
                assert!(self.reg.join(joiner, id), "join of a finished thread");
            }
            // Lock 0 is driven as racedet's `Mutex` and `RwLock` drive their
            // clocks (the shortcuts that skip the sync object's spin lock,
            // valid because a trace respects the lock's sides); the others
            // through the spin-locked calls of raw annotations.
            Event::Lock { t, m } => {
                let thr = self.threads[t].as_mut().expect("running");
                if m == 0 {
                    // SAFETY: the trace holds lock 0 exclusively here.
                    unsafe { self.locks[m].lock_acquired_exclusive(thr) };
                } else {
                    self.locks[m].lock_acquired(thr);
                }
            }
            Event::Unlock { t, m } => {
                let thr = self.threads[t].as_mut().expect("running");
                if m == 0 {
                    // SAFETY: as above, until this unlock.
                    unsafe { self.locks[m].write_unlock_exclusive(thr) };
                } else {
                    self.locks[m].unlock(thr);
                }
            }
            Event::ReadLock { t, m } => {
                let thr = self.threads[t].as_mut().expect("running");
                if m == 0 {
                    // SAFETY: the trace holds lock 0's shared side here, and
                    // its writer-side events come only while it is held
                    // exclusively.
                    unsafe { self.locks[m].read_lock_acquired_shared(thr) };
                } else {
                    self.locks[m].read_lock_acquired(thr);
                }
            }
            Event::ReadUnlock { t, m } => {
                let thr = self.threads[t].as_mut().expect("running");
                if m == 0 {
                    // SAFETY: as above, until this read unlock. (Without the
                    // lock's handle, the unlock finds the clocks itself.)
                    unsafe { self.locks[m].read_unlock_shared(ReadHeld::NONE, thr) };
                } else {
                    self.locks[m].read_unlock(thr);
                }
            }
            Event::Acquire { t, v } => {
                let thr = self.threads[t].as_mut().expect("running");
                self.vars[v].acquire(thr);
            }
            Event::Release { t, v } => {
                let thr = self.threads[t].as_mut().expect("running");
                self.vars[v].release(thr);
            }
            Event::ReleaseStore { t, v } => {
                let thr = self.threads[t].as_mut().expect("running");
                self.vars[v].release_store(thr);
            }
            Event::Fence { t, order } => atomic::fence(self.thr(t), order),
            Event::Atomic { t, loc, op, order } => {
                let kind = match op {
                    AtomicOp::Load | AtomicOp::CasFail => AccessKind::AtomicLoad,
                    AtomicOp::Store => AccessKind::AtomicStore,
                    AtomicOp::Rmw => AccessKind::AtomicRmw,
                };
                let (addr, size) = ATOMICS[loc];
                let thr = self.threads[t].as_mut().expect("running");
                // As `api::atomic_op`: the acquire half, the shadow access,
                // the release half, all under the location's lock.
                let table = self.table;
                let raced = self.atomics[loc].locked(|clock| {
                    atomic::before_access(clock, thr, kind, order);
                    let raced = access(table, thr, self.base + addr, size, kind);
                    atomic::after_access(clock, thr, kind, order);
                    raced
                });
                return Some(raced);
            }
            Event::Read { t, addr, size } => {
                let thr = self.threads[t].as_ref().expect("running");
                return Some(access(
                    self.table,
                    thr,
                    self.base + addr,
                    size,
                    AccessKind::Read,
                ));
            }
            Event::Write { t, addr, size } => {
                let thr = self.threads[t].as_ref().expect("running");
                return Some(access(
                    self.table,
                    thr,
                    self.base + addr,
                    size,
                    AccessKind::Write,
                ));
            }
            Event::Reset { addr, len } => {
                // As `api::reset_range`: shadow and sync objects in the range.
                self.table.reset_range(self.base + addr, len);
                for (i, &(a, _)) in ATOMICS.iter().enumerate() {
                    if a >= addr && a < addr + len {
                        self.atomics[i] = SyncVar::new();
                    }
                }
            }
        }
        None
    }
}

/// As `api::access_in`: every word of the access is checked and recorded,
/// even after a race on an earlier one; the verdict is "any word raced".
fn access(
    table: &ShadowTable,
    thr: &ThreadState,
    addr: usize,
    size: usize,
    kind: AccessKind,
) -> bool {
    let acc = thr.accessor();
    let clipped = size.min(u8::MAX as usize) as u8;
    let mut raced = false;
    for (word, mask, _) in word_masks(addr, size) {
        raced |= table
            .word(word)
            .access(&acc, kind, mask, clipped, Site::UNKNOWN)
            .is_some();
    }
    raced
}
