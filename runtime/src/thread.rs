//! Threads, slots and their clocks.
//!
//! Every thread that touches instrumented state owns a *slot*: an index into
//! every vector clock. Slots are reused so that clocks stay as long as the
//! number of threads alive at once, not the number ever created. The rule
//! (Miri's, `vector_clock.rs`/`data_race.rs`) is that a finished thread's
//! slot may be handed to a new thread only when the *creating* thread's clock
//! already covers the old owner's last epoch: the new thread inherits that
//! clock, so everything the old owner did happens-before it, and the old
//! entries of the slot can be read as ordered without losing a race. The new
//! owner continues the slot's time from there, so `(slot, clock)` still
//! names one access of one thread; a per-slot *journal* maps it back to the
//! thread for reports.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::{Epoch, Slot, VectorClock};
use crate::shadow::word::{Accessor, pack};
use crate::site::Site;

/// Process-unique id of a thread, never reused (`T0` is the first thread seen).
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct ThreadId(pub u64);

/// A thread's detector state. Owned by the thread itself.
#[derive(Debug)]
pub struct ThreadState {
    pub id: ThreadId,
    pub slot: Slot,
    /// Private so that every change goes through a method that keeps
    /// `version` honest (see [`ClockVersion`]).
    clock: VectorClock,
    version: ClockVersion,
    /// `pack(slot, clock[slot])`, kept in step with `clock` for the fast path.
    pub cur: u64,
    /// Attribution context inherited from the creator (`racedet::check`).
    pub context: u64,
    /// The thread's name was looked up (names are set after start).
    pub name_known: bool,
    /// Clock at the last `fence(Release)`: what a later relaxed store publishes.
    pub fence_release: VectorClock,
    /// Clocks read by relaxed loads since the start: what `fence(Acquire)` takes.
    pub fence_acquire: VectorClock,
    /// Epochs of the stores this thread's Relaxed loads read from (report
    /// hints only; no happens-before meaning).
    pub relaxed_seen: VectorClock,
    /// racedet locks currently held, and their lockset id (for reports).
    pub locks: crate::locks::LockState,
    /// Sites for which this thread has recorded a stack.
    pub sites: crate::stack::SiteCache,
}

/// Names the contents of one thread's clock *outside its own entry*: two
/// equal versions mean equal entries for every other slot. The thread's own
/// entry only grows (`tick`) and is not covered, so a clock published at
/// version `v` differs from the thread's current clock, while its version is
/// still `v`, in the owner's entry alone. Sync objects use this to update a
/// clock published earlier by one entry instead of copying or joining the
/// whole vector (see `sync/mod.rs`).
///
/// `owner` is unique in the process (never reused, unlike slots and unlike
/// [`ThreadId`]s of separate registries), so a version names one thread's
/// clock even after that thread's slot passed to another thread.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct ClockVersion {
    owner: NonZeroU64,
    changes: u64,
}

impl ClockVersion {
    /// Whether both versions belong to the same thread (whose clock never
    /// shrinks, so the later one covers everything the earlier one had).
    #[inline]
    pub fn same_thread(self, other: ClockVersion) -> bool {
        self.owner == other.owner
    }

    /// The owning thread's clock identity alone: unique in the process,
    /// never 0 nor `u64::MAX`.
    #[inline]
    pub fn thread_tag(self) -> u64 {
        self.owner.get()
    }
}

static NEXT_CLOCK_OWNER: AtomicU64 = AtomicU64::new(1);

fn new_clock_version() -> ClockVersion {
    let owner = NEXT_CLOCK_OWNER.fetch_add(1, Ordering::Relaxed);
    ClockVersion {
        owner: NonZeroU64::new(owner)
            .filter(|o| o.get() != u64::MAX)
            .expect("2^64 threads"),
        changes: 0,
    }
}

impl ThreadState {
    /// The thread's vector clock. Read-only: it changes through
    /// [`acquire`](Self::acquire), [`tick`](Self::tick) and the releases.
    #[inline]
    pub fn clock(&self) -> &VectorClock {
        &self.clock
    }

    /// The current [`ClockVersion`] of this thread's clock.
    #[inline]
    pub fn version(&self) -> ClockVersion {
        self.version
    }

    /// The view the shadow needs for one access.
    #[inline]
    pub fn accessor(&self) -> Accessor<'_> {
        debug_assert_eq!(self.cur, pack(self.slot, self.clock.get(self.slot)));
        Accessor {
            slot: self.slot,
            clock: &self.clock,
            cur: self.cur,
            locks: self.locks.id,
        }
    }

    /// `C_t[t]`, read from `cur` (which packs it) rather than the vector.
    #[inline]
    pub(crate) fn own_clock(&self) -> u32 {
        debug_assert_eq!(self.cur, pack(self.slot, self.clock.get(self.slot)));
        (self.cur >> 32) as u32
    }

    pub fn epoch(&self) -> Epoch {
        Epoch::new(self.slot, self.clock.get(self.slot))
    }

    /// Starts a new epoch: called after every release, so that accesses made
    /// after it are not covered by what was just published.
    #[inline]
    pub fn tick(&mut self) {
        // `cur` packs `C_t[t]` in its high half: the new epoch is one add
        // to it and one store into the vector, instead of a load, a store
        // and packing again (every release runs this).
        let own = (self.cur >> 32) as u32;
        if own < u32::MAX && self.clock.set_existing(self.slot, own + 1) {
            self.cur += 1 << 32;
            debug_assert_eq!(self.cur, pack(self.slot, self.clock.get(self.slot)));
            return;
        }
        self.tick_slow();
    }

    /// [`tick`](Self::tick) at the slot's time limit.
    #[cold]
    #[inline(never)]
    fn tick_slow(&mut self) {
        let c = self.clock.tick(self.slot);
        self.cur = pack(self.slot, c);
    }

    /// `C_t := C_t ⊔ src`.
    pub fn acquire(&mut self, src: &VectorClock) {
        if self.clock.join(src) {
            self.version.changes += 1;
        }
        debug_assert_eq!(
            self.cur,
            pack(self.slot, self.clock.get(self.slot)),
            "only the owner advances its slot"
        );
    }

    /// `dst := dst ⊔ C_t`, then a new epoch.
    pub fn release(&mut self, dst: &mut VectorClock) {
        dst.join(&self.clock);
        self.tick();
    }

    /// `dst := C_t`, then a new epoch (TSan's `ReleaseStore`).
    pub fn release_store(&mut self, dst: &mut VectorClock) {
        dst.assign(&self.clock);
        self.tick();
    }

    /// `fence(Release)`: `F_rel := C_t`, then a new epoch.
    pub fn release_fence(&mut self) {
        self.fence_release.clone_from(&self.clock);
        self.tick();
    }

    /// [`release_store`](Self::release_store) into a clock that remembers,
    /// in `stored`, the version it was last stored from (`None` when
    /// anything else changed it since). When that is this thread's current
    /// version, `dst` already equals `C_t` except in this thread's own
    /// entry, and only that entry is written: an unlock of a lock this
    /// thread also unlocked last, with no new knowledge acquired in between,
    /// costs one store instead of a copy of the whole vector.
    #[inline]
    pub fn release_store_tracked(
        &mut self,
        dst: &mut VectorClock,
        stored: &mut Option<ClockVersion>,
    ) {
        if *stored == Some(self.version) {
            let own = self.own_clock();
            debug_assert!(dst.get(self.slot) <= own);
            // The entry exists: `dst` was stored from this clock, which
            // already had it.
            if dst.set_existing(self.slot, own) {
                debug_assert!(
                    dst.le(&self.clock) && self.clock.le(dst),
                    "a tracked clock differs only in the releaser's entry"
                );
                self.tick();
                return;
            }
        }
        self.release_store_untracked(dst, stored);
    }

    #[inline(never)]
    fn release_store_untracked(
        &mut self,
        dst: &mut VectorClock,
        stored: &mut Option<ClockVersion>,
    ) {
        dst.assign(&self.clock);
        *stored = Some(self.version);
        self.tick();
    }

    /// The release of this thread's own entry alone: returns `C_t[t]` and
    /// starts a new epoch. For a clock that already covers the rest of
    /// `C_t` (see `sync/readers.rs`).
    #[inline]
    pub fn release_own(&mut self) -> u32 {
        let own = self.own_clock();
        self.tick();
        own
    }

    /// [`release`](Self::release) into a clock that remembers, in `joined`,
    /// the version last joined into it (`None` when anything else changed
    /// it since). When that is this thread's current version, `dst` already
    /// covers every entry of `C_t` but this thread's own, and only that
    /// entry is raised.
    #[inline]
    pub fn release_tracked(&mut self, dst: &mut VectorClock, joined: &mut Option<ClockVersion>) {
        if *joined == Some(self.version) {
            let own = self.own_clock();
            // The entry exists and is at most `own`: `dst` covered this
            // clock, which already had it, and only this thread raises it.
            debug_assert!(dst.get(self.slot) <= own);
            if dst.set_existing(self.slot, own) {
                debug_assert!(self.clock.le(dst));
                self.tick();
                return;
            }
        }
        self.release_untracked(dst, joined);
    }

    #[inline(never)]
    fn release_untracked(&mut self, dst: &mut VectorClock, joined: &mut Option<ClockVersion>) {
        dst.join(&self.clock);
        *joined = Some(self.version);
        self.tick();
    }
}

/// Whether a thread is still running, for reports.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum RunState {
    Running,
    Finished,
}

/// What the registry knows about a thread.
#[derive(Clone, Debug)]
pub struct ThreadRecord {
    pub id: ThreadId,
    pub name: Option<String>,
    pub os_tid: i64,
    pub parent: Option<ThreadId>,
    pub created_at: Site,
    /// Stack of the creating call, resolved only when reporting.
    pub created_stack: Option<crate::stack::StackId>,
    pub state: RunState,
    pub slot: Slot,
    /// Name of the outermost named ancestor below `main` (the test, under libtest).
    pub group: Option<String>,
    /// Set when the thread finishes: what a join acquires.
    pub final_clock: Option<VectorClock>,
    /// The thread was detached: nobody will join it.
    pub detached: bool,
    /// Attribution context inherited from the parent (`racedet::check`).
    pub context: u64,
}

/// Per-slot bookkeeping.
#[derive(Default, Debug)]
struct SlotRecord {
    owner: Option<ThreadId>,
    /// Highest clock value the slot has used; the next owner starts above it.
    last_clock: u32,
    /// `(first clock, thread)` of the most recent owners, oldest first.
    journal: VecDeque<(u32, ThreadRecordLite)>,
}

/// How many past owners a slot remembers for reports.
const JOURNAL_LEN: usize = 32;

/// The part of a finished thread kept for reports after it is forgotten.
#[derive(Clone, Debug)]
pub struct ThreadRecordLite {
    pub id: ThreadId,
    pub name: Option<String>,
    pub os_tid: i64,
    pub created_at: Site,
    pub created_stack: Option<crate::stack::StackId>,
    /// Its handle was dropped (detached): nobody can join it.
    pub detached: bool,
}

/// The parent's half of a thread creation: what the child starts from.
#[derive(Debug)]
pub struct ForkToken {
    pub id: ThreadId,
    pub slot: Slot,
    pub clock: VectorClock,
    pub context: u64,
}

/// All threads and slots of one detector instance.
#[derive(Default, Debug)]
pub struct Registry {
    slots: Vec<SlotRecord>,
    /// Slots whose owner finished, in the order they became free.
    free: Vec<Slot>,
    threads: HashMap<ThreadId, ThreadRecord>,
    next_id: u64,
    /// Threads dropped from every journal since the last `take_evicted`.
    evicted: Vec<ThreadId>,
}

/// Spawners scan at most this many free slots for a reusable one.
const FREE_SCAN: usize = 64;

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    fn next_id(&mut self) -> ThreadId {
        let id = ThreadId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Picks a slot for a thread created by a thread with `parent_clock`.
    fn take_slot(&mut self, parent_clock: Option<&VectorClock>) -> Slot {
        if let Some(parent) = parent_clock {
            let start = self.free.len().saturating_sub(FREE_SCAN);
            let reusable = self.free[start..]
                .iter()
                .rposition(|s| parent.get(*s) >= self.slots[s.index()].last_clock);
            if let Some(i) = reusable {
                return self.free.remove(start + i);
            }
        }
        let slot =
            Slot(u16::try_from(self.slots.len()).expect("racedet: more than 65535 live threads"));
        self.slots.push(SlotRecord::default());
        slot
    }

    fn claim(&mut self, slot: Slot, record: ThreadRecord, clock: &mut VectorClock) {
        let s = &mut self.slots[slot.index()];
        let start = clock.get(slot).max(s.last_clock) + 1;
        clock.set(slot, start);
        s.last_clock = start;
        s.owner = Some(record.id);
        if s.journal.len() == JOURNAL_LEN
            && let Some((_, old)) = s.journal.pop_front()
        {
            self.evicted.push(old.id);
        }
        s.journal.push_back((start, lite(&record)));
        self.threads.insert(record.id, record);
    }

    /// Registers a thread that appeared without a known parent (the main
    /// thread, or a thread created by uninstrumented code).
    pub fn register_root(&mut self, name: Option<String>, os_tid: i64) -> ThreadState {
        let id = self.next_id();
        let slot = self.take_slot(None);
        let mut clock = VectorClock::new();
        let record = new_record(id, name, os_tid, None, Site::UNKNOWN, slot, 0);
        self.claim(slot, record, &mut clock);
        new_state(id, slot, clock, 0)
    }

    /// The parent's side of thread creation: allocates the child's slot and
    /// publishes the parent's clock to it (the fork edge).
    pub fn fork(&mut self, parent: &mut ThreadState, site: Site, context: u64) -> ForkToken {
        let id = self.next_id();
        let slot = self.take_slot(Some(&parent.clock));
        let mut clock = parent.clock.clone();
        let mut record = new_record(id, None, 0, Some(parent.id), site, slot, context);
        record.group = self.threads.get(&parent.id).and_then(|p| {
            p.group
                .clone()
                .or_else(|| p.name.clone().filter(|n| n != "main"))
        });
        self.claim(slot, record, &mut clock);
        parent.tick();
        ForkToken {
            id,
            slot,
            clock,
            context,
        }
    }

    /// The child's side: builds its state from the token.
    pub fn start(&mut self, token: ForkToken, name: Option<String>, os_tid: i64) -> ThreadState {
        if let Some(rec) = self.threads.get_mut(&token.id) {
            rec.name = name.clone();
            rec.os_tid = os_tid;
            if let Some((_, lite)) = self.slots[token.slot.index()].journal.back_mut() {
                lite.name = name;
                lite.os_tid = os_tid;
            }
        }
        new_state(token.id, token.slot, token.clock, token.context)
    }

    /// A fork that never started (thread creation failed): frees the slot.
    pub fn abandon(&mut self, token: ForkToken) {
        self.finish_clock(token.id, token.clock);
        self.forget(token.id);
    }

    /// The thread ended: its final clock becomes joinable and its slot free.
    pub fn finish(&mut self, thread: ThreadState) {
        self.finish_clock(thread.id, thread.clock);
    }

    fn finish_clock(&mut self, id: ThreadId, clock: VectorClock) {
        let Some(rec) = self.threads.get_mut(&id) else {
            return;
        };
        let slot = rec.slot;
        rec.state = RunState::Finished;
        let s = &mut self.slots[slot.index()];
        s.last_clock = s.last_clock.max(clock.get(slot));
        s.owner = None;
        self.free.push(slot);
        let detached = rec.detached;
        rec.final_clock = Some(clock);
        if detached {
            self.threads.remove(&id);
        }
    }

    /// The join edge: `joiner` acquires the final clock of `child`. Returns
    /// `false` if the child is unknown or not finished.
    pub fn join(&mut self, joiner: &mut ThreadState, child: ThreadId) -> bool {
        let Some(rec) = self.threads.get(&child) else {
            return false;
        };
        let Some(final_clock) = &rec.final_clock else {
            return false;
        };
        joiner.acquire(final_clock);
        self.threads.remove(&child);
        true
    }

    /// Nobody will join `child`: forget it as soon as it finishes.
    pub fn detach(&mut self, child: ThreadId) {
        if let Some(lite) = self.journal_entry(child) {
            lite.detached = true;
        }
        if let Some(rec) = self.threads.get_mut(&child) {
            if rec.state == RunState::Finished {
                self.threads.remove(&child);
            } else {
                rec.detached = true;
            }
        }
    }

    /// Sets the name of `id` (looked up after the thread started), in its
    /// record and its journal entry, unless it already has one.
    pub fn set_name(&mut self, id: ThreadId, name: String) {
        let Some(rec) = self.threads.get_mut(&id) else {
            return;
        };
        if rec.name.is_some() {
            return;
        }
        rec.name = Some(name.clone());
        if rec.group.is_none() && name != "main" {
            // A named thread with no named ancestor is a root of
            // attribution (a libtest test thread).
            rec.group = Some(name.clone());
        }
        if let Some(lite) = self.journal_entry(id) {
            lite.name = Some(name);
        }
    }

    /// Records the stack that created `id` (kept for reports after the
    /// thread is gone).
    pub fn set_created_stack(&mut self, id: ThreadId, stack: Option<crate::stack::StackId>) {
        if let Some(rec) = self.threads.get_mut(&id) {
            rec.created_stack = stack;
        }
        if let Some(lite) = self.journal_entry(id) {
            lite.created_stack = stack;
        }
    }

    fn journal_entry(&mut self, id: ThreadId) -> Option<&mut ThreadRecordLite> {
        let slot = self.threads.get(&id)?.slot;
        let s = self.slots.get_mut(slot.index())?;
        s.journal
            .iter_mut()
            .rev()
            .map(|(_, l)| l)
            .find(|l| l.id == id)
    }

    fn forget(&mut self, id: ThreadId) {
        self.threads.remove(&id);
    }

    pub fn record(&self, id: ThreadId) -> Option<&ThreadRecord> {
        self.threads.get(&id)
    }

    pub fn record_mut(&mut self, id: ThreadId) -> Option<&mut ThreadRecord> {
        self.threads.get_mut(&id)
    }

    /// The thread that made the access at `epoch`, from the slot's journal.
    pub fn owner_at(&self, epoch: Epoch) -> Option<ThreadRecordLite> {
        let s = self.slots.get(epoch.slot.index())?;
        let (_, lite) = s
            .journal
            .iter()
            .rev()
            .find(|(start, _)| *start <= epoch.clock)?;
        let mut lite = lite.clone();
        // Prefer live data (the name may have been set after start).
        if let Some(rec) = self.threads.get(&lite.id) {
            lite.name = rec.name.clone();
            lite.os_tid = rec.os_tid;
        }
        Some(lite)
    }

    /// Threads no report can name any more (their per-site stacks can go).
    pub fn take_evicted(&mut self) -> Vec<ThreadId> {
        std::mem::take(&mut self.evicted)
    }

    /// Number of slots ever allocated (bounded by live threads, not total).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Number of thread records held (running, or finished and not joined).
    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }
}

fn new_record(
    id: ThreadId,
    name: Option<String>,
    os_tid: i64,
    parent: Option<ThreadId>,
    created_at: Site,
    slot: Slot,
    context: u64,
) -> ThreadRecord {
    ThreadRecord {
        id,
        name,
        os_tid,
        parent,
        created_at,
        created_stack: None,
        state: RunState::Running,
        slot,
        group: None,
        final_clock: None,
        detached: false,
        context,
    }
}

fn lite(r: &ThreadRecord) -> ThreadRecordLite {
    ThreadRecordLite {
        id: r.id,
        name: r.name.clone(),
        os_tid: r.os_tid,
        created_at: r.created_at,
        created_stack: r.created_stack,
        detached: r.detached,
    }
}

fn new_state(id: ThreadId, slot: Slot, clock: VectorClock, context: u64) -> ThreadState {
    ThreadState {
        id,
        slot,
        cur: pack(slot, clock.get(slot)),
        clock,
        version: new_clock_version(),
        context,
        name_known: false,
        fence_release: VectorClock::new(),
        fence_acquire: VectorClock::new(),
        relaxed_seen: VectorClock::new(),
        locks: Default::default(),
        sites: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fork_and_join_edges() {
        let mut reg = Registry::new();
        let mut main = reg.register_root(Some("main".into()), 1);
        let before = main.epoch();
        let token = reg.fork(&mut main, Site::UNKNOWN, 0);
        let child = reg.start(token, None, 2);
        assert!(
            child.clock().covers(before),
            "fork: parent's past flows into the child"
        );
        assert!(
            !child.clock().covers(main.epoch()),
            "parent's later epoch is not covered"
        );
        let child_epoch = child.epoch();
        let id = child.id;
        reg.finish(child);
        assert!(!main.clock().covers(child_epoch));
        assert!(reg.join(&mut main, id));
        assert!(
            main.clock().covers(child_epoch),
            "join: child's past flows into the joiner"
        );
    }

    #[test]
    fn slots_are_reused_when_dominated() {
        let mut reg = Registry::new();
        let mut main = reg.register_root(None, 1);
        for _ in 0..1000 {
            let t = reg.fork(&mut main, Site::UNKNOWN, 0);
            let child = reg.start(t, None, 0);
            let id = child.id;
            reg.finish(child);
            reg.join(&mut main, id);
        }
        assert_eq!(reg.slot_count(), 2, "main + one reused slot");
        assert_eq!(reg.thread_count(), 1);
    }

    #[test]
    fn undominated_slot_is_not_reused() {
        let mut reg = Registry::new();
        let mut main = reg.register_root(None, 1);
        let t = reg.fork(&mut main, Site::UNKNOWN, 0);
        let child = reg.start(t, None, 0);
        reg.finish(child); // finished but never joined: main does not cover it
        let t2 = reg.fork(&mut main, Site::UNKNOWN, 0);
        assert_eq!(t2.slot, Slot(2));
    }

    #[test]
    fn journal_names_the_owner_of_an_epoch() {
        let mut reg = Registry::new();
        let mut main = reg.register_root(Some("main".into()), 1);
        let t = reg.fork(&mut main, Site::UNKNOWN, 0);
        let a = reg.start(t, Some("a".into()), 0);
        let (ea, ida) = (a.epoch(), a.id);
        reg.finish(a);
        reg.join(&mut main, ida);
        let t = reg.fork(&mut main, Site::UNKNOWN, 0);
        let b = reg.start(t, Some("b".into()), 0);
        assert_eq!(b.slot, ea.slot);
        assert_eq!(reg.owner_at(ea).unwrap().name.as_deref(), Some("a"));
        assert_eq!(reg.owner_at(b.epoch()).unwrap().name.as_deref(), Some("b"));
    }
}
