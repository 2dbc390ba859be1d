//! Read unlocks without the sync object's spin lock.
//!
//! A read unlock publishes the reader's clock for the next writer:
//! `R_m ⊔= C_t`. Readers unlock at the same time as each other, so the
//! shared vector `R_m` needs the object's spin lock, one atomic
//! read-modify-write per read unlock on a line every reader writes.
//!
//! Most read unlocks add nothing to `R_m` but the reader's own entry: the
//! same thread read-locks again and again without learning anything new in
//! between (the lock-version idea of `sync/mod.rs`, after TSan's
//! `ReleaseStore` shortcut). So each thread whose slot is below
//! [`FAST_READERS`] gets its own entry next to the lock, and `R_m` is
//! represented as
//!
//! ```text
//! R_m = ReadReleased::clock ⊔ { slot i ↦ entries[i].own : i claimed }
//! ```
//!
//! An entry is *joined* by a spin-locked (slow) read unlock, which joins
//! the whole clock into `ReadReleased::clock` and records the thread's clock
//! version in the entry. While the thread's version is unchanged, its clock
//! differs from what `R_m` holds only in its own entry, so its next read
//! unlock just stores its own time into its entry: no spin lock, no shared
//! vector. Its bit in `claimed` says the entry holds time no writer has
//! taken yet.
//!
//! The next writer, under the real lock's exclusive side, folds the claimed
//! entries in and clears `claimed` and `ReadReleased::clock`, but leaves the
//! entries joined: what a joined reader published besides its own time
//! went to that writer, and reaches every later writer through the lock's
//! write-release clock `L_m` (each writer acquires it, and stores into it
//! at its unlock). So after a writer a reader that learnt nothing new keeps
//! the lock-free path, and only sets its bit again (an atomic
//! read-modify-write once per writer, not per read unlock). Before, every
//! writer sent every reader back to the spin lock once: one read unlock in
//! ten of `map_rwlock` took it, for about 240 instructions.
//!
//! The same fact about `L_m` (it only grows, and every writer acquires it)
//! keeps an entry joined in two more cases: a read lock whose acquire of
//! `L_m` was the reader's only clock change since the join
//! ([`FastReaders::learnt_from_writers`]), and the writer's own entry at its
//! write unlock, when its whole clock has just become `L_m`
//! ([`FastReaders::writer_unlocked`]).
//!
//! Only the thread that owns slot `i` writes entry `i` while the lock is
//! read-held (slots pass to a new thread only after the old owner has
//! finished), and writers touch entries only while holding the real lock
//! exclusively; so an entry is never written by two threads at once, and
//! the real lock's release/acquire orders the writer's view of it.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::{Slot, VectorClock};
use crate::per_slot::{PER_SLOT, PerSlot};
use crate::thread::{ClockVersion, ThreadState};

/// Threads with slots below this read-unlock without the spin lock; the
/// others take the slow path every time. Entries are a cache line each (so
/// that readers on different cores never write one line), allocated 16 at
/// a time (`per_slot.rs`), and only for reader-writer locks read-unlocked
/// at least twice between two writers with detection on.
pub(super) const FAST_READERS: usize = PER_SLOT;

/// A bit per claimed entry.
type Claimed = u64;
const _: () = assert!(Claimed::BITS as usize == FAST_READERS);

#[derive(Copy, Clone, Default, Debug)]
struct Entry {
    /// The owner's clock version at its joining (spin-locked) read unlock;
    /// `None` until then, and after a reset.
    joined: Option<ClockVersion>,
    /// The owner's own time at its latest read unlock.
    own: u32,
}

/// The lock-free half of a reader-writer lock's read-release clock.
pub(super) struct FastReaders {
    entries: PerSlot<Entry>,
    /// Entries holding time no writer has taken yet, a bit each. Set by
    /// readers (atomically: several set bits at once), cleared by writers.
    claimed: AtomicU64,
}

impl std::fmt::Debug for FastReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastReaders").finish_non_exhaustive()
    }
}

impl FastReaders {
    pub(super) const fn new() -> FastReaders {
        FastReaders {
            entries: PerSlot::new(),
            claimed: AtomicU64::new(0),
        }
    }

    /// The read unlock of a thread whose entry is joined at its current
    /// version: stores its own time, claims the entry and starts a new
    /// epoch. `false`, doing nothing, if the slow path must run instead.
    ///
    /// # Safety
    /// The calling thread holds the real lock's shared side (so no writer
    /// touches the entries now), and is `thr`'s thread.
    #[inline]
    pub(super) unsafe fn try_read_unlock(&self, thr: &mut ThreadState) -> bool {
        let i = thr.slot.index();
        if i >= FAST_READERS {
            return false;
        }
        let Some(e) = self.entries.get(i) else {
            return false;
        };
        // SAFETY: entry `i` is written only by the owner of slot `i`, which
        // is this thread (per the contract), or by writers, which the held
        // shared side excludes.
        let e = unsafe { &mut *e.get() };
        if e.joined != Some(thr.version()) {
            return false;
        }
        e.own = thr.release_own();
        self.claim_bit(i);
        true
    }

    /// Keeps `thr`'s entry joined after its read lock acquired `L_m`,
    /// which moved its clock from version `before`. What it learnt there
    /// need not be published again: every later writer acquires `L_m`,
    /// which only grows (each writer acquires it before storing its own
    /// clock over it). So if the entry was joined at `before`, the clock
    /// still differs from what the next writer takes only in its own
    /// entry. Without this, at 4 threads with 10% writes nearly every read
    /// lock follows some writer, and nearly every read unlock took the
    /// spin lock to publish the whole clock again.
    ///
    /// # Safety
    /// As [`try_read_unlock`](Self::try_read_unlock), and `thr`'s only
    /// clock change since version `before` is that acquire of `L_m`.
    #[inline]
    pub(super) unsafe fn learnt_from_writers(&self, thr: &ThreadState, before: ClockVersion) {
        let i = thr.slot.index();
        if i >= FAST_READERS {
            return;
        }
        let Some(e) = self.entries.get(i) else {
            return;
        };
        // SAFETY: as in `try_read_unlock`: only this thread or a writer
        // writes entry `i`, and the held shared side excludes writers.
        let e = unsafe { &mut *e.get() };
        if e.joined == Some(before) {
            e.joined = Some(thr.version());
        }
    }

    /// Marks `thr`'s entry joined at its current version as it unlocks the
    /// real lock's exclusive side: its whole clock is now `L_m`, which every
    /// later writer acquires. So the first read unlock after its own write
    /// section stays lock-free: with other readers about, the write lock
    /// joined their clocks, which changed the writer's version, and that
    /// read unlock used to take the spin lock.
    ///
    /// # Safety
    /// The calling thread holds the real lock exclusively, is `thr`'s
    /// thread, and has just stored its clock into `L_m`.
    #[inline]
    pub(super) unsafe fn writer_unlocked(&self, thr: &ThreadState) {
        let i = thr.slot.index();
        if i >= FAST_READERS {
            return;
        }
        // The writer's lock drained every claimed entry; a claimed one here
        // (never expected) could hold a finished previous owner's time,
        // which must not be overwritten.
        let unclaimed = self.claimed.load(Ordering::Relaxed) & (1 << i) == 0;
        if let (Some(e), true) = (self.entries.get(i), unclaimed) {
            // SAFETY: the exclusive side is held: no reader runs.
            unsafe { (*e.get()).joined = Some(thr.version()) };
        }
    }

    #[inline(always)]
    fn claim_bit(&self, i: usize) {
        let bit = 1 << i;
        // Relaxed: the real lock orders this before the next writer's drain.
        if self.claimed.load(Ordering::Relaxed) & bit == 0 {
            self.claimed.fetch_or(bit, Ordering::Relaxed);
        }
    }

    /// `true` if some entry holds time no writer has taken.
    #[inline(always)]
    pub(super) fn any_claimed(&self) -> bool {
        self.claimed.load(Ordering::Relaxed) != 0
    }

    /// `true` if no entry but `slot`'s holds time no writer has taken.
    #[inline(always)]
    pub(super) fn claimed_at_most(&self, slot: Slot) -> bool {
        let others = match (1 as Claimed).checked_shl(slot.0 as u32) {
            Some(bit) => !bit,
            None => Claimed::MAX,
        };
        self.claimed.load(Ordering::Relaxed) & others == 0
    }

    /// Claims `thr`'s entry after a slow read unlock joined its clock into
    /// `clock` (the spin-locked half of `R_m`). Any earlier claim of the
    /// entry, by a finished previous owner of the slot, is folded into
    /// `clock` first. `own` is `thr`'s own time before that unlock's new
    /// epoch. `repeated` says whether another read unlock came since the
    /// last writer: the entries are allocated only then, so that a lock
    /// read once between writes (one of many per-item locks) costs no
    /// memory.
    ///
    /// # Safety
    /// The caller holds the sync object's spin lock (or the real lock
    /// exclusively), and is `thr`'s thread.
    pub(super) unsafe fn claim(
        &self,
        thr: &ThreadState,
        own: u32,
        repeated: bool,
        clock: &mut VectorClock,
    ) {
        let i = thr.slot.index();
        if i >= FAST_READERS {
            return;
        }
        let e = match self.entries.get(i) {
            Some(e) => e,
            None if repeated => self.entries.get_or_alloc(i),
            None => return,
        };
        // SAFETY: as in `try_read_unlock`: entry `i` belongs to this thread.
        let e = unsafe { &mut *e.get() };
        if self.claimed.load(Ordering::Relaxed) & (1 << i) != 0 {
            fold(clock, Slot(i as u16), e.own);
        }
        *e = Entry {
            joined: Some(thr.version()),
            own,
        };
        self.claim_bit(i);
    }

    /// Folds every claimed entry into `clock` (if `into` is given) and
    /// unclaims them: a writer has taken `R_m`. The entries stay joined
    /// (see the module docs) unless `forget` (a reset: no later writer
    /// inherits what this one knew).
    ///
    /// # Safety
    /// The caller holds the real lock exclusively (no reader runs), or the
    /// spin lock while no reader uses the lock-free path.
    pub(super) unsafe fn drain(&self, into: Option<&mut VectorClock>, forget: bool) {
        let claimed = self.claimed.load(Ordering::Relaxed);
        if claimed == 0 && !forget {
            return;
        }
        if let Some(into) = into {
            let mut bits = claimed;
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let Some(e) = self.entries.get(i) else {
                    debug_assert!(false, "claimed entries exist");
                    continue;
                };
                // SAFETY: no reader touches the entries now (contract).
                fold(into, Slot(i as u16), unsafe { (*e.get()).own });
            }
        }
        if forget {
            self.entries.for_each(|e| {
                // SAFETY: as above.
                unsafe { (*e.get()).joined = None };
            });
        }
        self.claimed.store(0, Ordering::Relaxed);
    }
}

/// `clock[slot] := max(clock[slot], own)`.
fn fold(clock: &mut VectorClock, slot: Slot, own: u32) {
    if own > clock.get(slot) {
        clock.set(slot, own);
    }
}

#[cfg(test)]
mod tests {
    use crate::sync::SyncVar;
    use crate::thread::Registry;

    fn read_section(l: &SyncVar, t: &mut crate::thread::ThreadState) {
        // SAFETY: one thread, so every call runs as if under the matching
        // side of a real lock.
        unsafe {
            let held = l.read_lock_acquired_shared(t);
            l.read_unlock_shared(held, t);
        }
    }

    #[test]
    fn entries_are_allocated_only_for_locks_read_twice_between_writers() {
        let mut reg = Registry::default();
        let mut t = reg.register_root(None, 0);
        let once = SyncVar::new();
        read_section(&once, &mut t);
        // SAFETY: as above.
        unsafe {
            once.lock_acquired_exclusive(&mut t);
            once.unlock_exclusive(&mut t);
        }
        read_section(&once, &mut t);
        assert!(!once.clocks().fast.entries.is_allocated());

        let twice = SyncVar::new();
        read_section(&twice, &mut t);
        read_section(&twice, &mut t);
        assert!(twice.clocks().fast.entries.is_allocated());
    }

    /// After a writer that taught it nothing (here: itself), a reader
    /// keeps the lock-free path; after a reset it must join again.
    #[test]
    fn a_writer_leaves_entries_joined_and_a_reset_forgets_them() {
        let mut reg = Registry::default();
        let mut t = reg.register_root(None, 0);
        let l = SyncVar::new();
        read_section(&l, &mut t);
        read_section(&l, &mut t);
        // SAFETY: one thread, as in `read_section`.
        unsafe {
            l.lock_acquired_exclusive(&mut t);
            l.write_unlock_exclusive(&mut t);
            let held = l.read_lock_acquired_shared(&mut t);
            assert!(l.clocks().fast.try_read_unlock(&mut t), "still joined");
            assert!(l.clocks().fast.any_claimed(), "and claimed again");
            let _ = held;
        }
        l.reset();
        assert!(!l.clocks().fast.any_claimed());
        // SAFETY: as above.
        unsafe {
            let _ = l.read_lock_acquired_shared(&mut t);
            assert!(!l.clocks().fast.try_read_unlock(&mut t), "forgotten");
        }
    }
}
