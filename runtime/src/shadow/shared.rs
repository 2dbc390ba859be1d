//! Reads of a racedet object recorded without the shadow word's lock, while
//! the object's own reader-writer lock is held shared.
//!
//! A `RaceMap` read by several threads at once holds its internal lock's
//! shared side, so its shadow word is checked by concurrent readers. Through
//! the word's stripe lock those checks serialise, and on a machine with
//! fewer cores than threads a reader preempted inside the stripe lock stalls
//! every other reader of the map (13% of the samples of `map_rwlock` at 4
//! threads were spent spinning there).
//!
//! The exclusion the object's lock already provides makes that lock
//! unnecessary. FastTrack's read-shared state is a vector clock: one entry
//! per thread, which only that thread writes. So each of the first
//! [`SHARED_READERS`] thread slots gets its own entry (its own cache line)
//! next to the object, and while the object's lock is held shared:
//!
//! * the write history is read-only (only writers, who hold the lock
//!   exclusively, change it), so a reader checks its read against it
//!   without a lock (`[READ SHARED]`'s `W_x ⊑ C_t` test);
//! * a reader records its read in its own slot's entry, a plain store, and
//!   sets the slot's bit in `claimed` the first time (one atomic per slot
//!   per writer, not per read).
//!
//! Every check made while the lock is held exclusively first *folds* the
//! claimed entries into the word's read history and clears them, so the
//! history it judges is exactly the one a locked reader would have built:
//! the latest read of each slot. (The fold keeps one entry per slot rather
//! than collapsing reads ordered before later ones; a write that is ordered
//! after the later read is ordered after the earlier, and one that is not
//! races with both, so the verdicts are the same.) Threads whose slot is
//! past the entries record into an overflow history under the word's stripe
//! lock, folded the same way.
//!
//! The object's lock orders every hand-over: a writer's fold happens after
//! the readers' shared sections (its acquire synchronises with their
//! release), and a slot passes to a new thread only after its previous
//! owner finished.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use super::state::{Access, History};
use crate::clock::VectorClock;
use crate::once_ptr;
use crate::per_slot::{PER_SLOT, PerSlot};

/// Thread slots below this record shared reads without any lock.
pub const SHARED_READERS: usize = PER_SLOT;

/// The shared-read half of an object's read history (see the module docs).
/// Two words per object; the rest is allocated on the first shared read,
/// and its entries (a cache line each) 16 slots at a time (`per_slot.rs`).
pub struct SharedReads {
    /// A bit per entry holding an unfolded read.
    claimed: AtomicU64,
    block: AtomicPtr<Block>,
}

struct Block {
    entries: PerSlot<Access>,
    /// Whether `overflow` holds an unfolded read.
    overflow_claimed: AtomicBool,
    /// Reads by threads past the entries, under the word's stripe lock.
    overflow: UnsafeCell<History>,
}

const _: () = assert!(u64::BITS as usize == SHARED_READERS);

// SAFETY: the entries and the overflow history are plain data; which thread
// may touch them when is the contract of the unsafe methods below.
unsafe impl Sync for SharedReads {}
// SAFETY: as above; nothing in them is tied to a thread.
unsafe impl Send for SharedReads {}

impl Default for SharedReads {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SharedReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedReads")
            .field("claimed", &self.claimed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// What a shared read did to the record.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The slot already held this thread's read in this epoch.
    Repeat,
    /// Stored.
    New,
}

impl SharedReads {
    pub const fn new() -> SharedReads {
        SharedReads {
            claimed: AtomicU64::new(0),
            block: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The block, if allocated.
    #[inline(always)]
    fn existing(&self) -> Option<&Block> {
        // SAFETY: `block` is only set by `install` and freed by `Drop`.
        unsafe { once_ptr::get(&self.block) }
    }

    fn block(&self) -> &Block {
        if let Some(b) = self.existing() {
            return b;
        }
        let make = || Block {
            entries: PerSlot::new(),
            overflow_claimed: AtomicBool::new(false),
            overflow: UnsafeCell::new(History::EMPTY),
        };
        // SAFETY: as in `existing`.
        unsafe { once_ptr::install(&self.block, make) }
    }

    /// `true` if some read waits to be folded.
    #[inline(always)]
    pub fn pending(&self) -> bool {
        self.claimed.load(Ordering::Relaxed) != 0
            || self
                .existing()
                .is_some_and(|b| b.overflow_claimed.load(Ordering::Relaxed))
    }

    /// Records `access`, a read by the thread that owns `access.slot`, in
    /// its slot's entry. `None` if the slot has no entry: the caller records
    /// it with [`record_overflow`](Self::record_overflow) instead.
    ///
    /// # Safety
    /// The object's lock is held shared by the calling thread, which owns
    /// `access.slot`, and every fold runs under the lock's exclusive side.
    #[inline]
    pub unsafe fn record(&self, access: Access) -> Option<Recorded> {
        let i = access.slot.index();
        if i >= SHARED_READERS {
            return None;
        }
        // SAFETY: entry `i` is written only by the owner of slot `i` while
        // the lock is held shared (this thread, per the contract) and by
        // folds, which the held shared side excludes.
        let entry = unsafe { &mut *self.block().entries.get_or_alloc(i).get() };
        if entry.clock == access.clock && entry.slot == access.slot {
            return Some(Recorded::Repeat);
        }
        *entry = access;
        let bit = 1 << i;
        // Relaxed: the object's lock orders this before the next fold.
        if self.claimed.load(Ordering::Relaxed) & bit == 0 {
            self.claimed.fetch_or(bit, Ordering::Relaxed);
        }
        Some(Recorded::New)
    }

    /// Records a read by a thread without an entry, with its `clock`.
    ///
    /// # Safety
    /// As [`record`](Self::record), and the caller holds the word's stripe
    /// lock, which every other use of the overflow history also holds or
    /// excludes.
    pub unsafe fn record_overflow(&self, access: Access, clock: &VectorClock) {
        let block = self.block();
        // SAFETY: guarded by the stripe lock (contract).
        unsafe { &mut *block.overflow.get() }.record(access, clock);
        block.overflow_claimed.store(true, Ordering::Relaxed);
    }

    /// Moves every recorded read into `read` (the word's read history) and
    /// clears the record.
    ///
    /// # Safety
    /// No shared read of the object runs now: the caller holds the object's
    /// lock exclusively (or, for the word's locked path, the object is not
    /// being read shared, per [`record`](Self::record)'s contract).
    #[inline(never)]
    pub unsafe fn fold_into(&self, read: &mut History) {
        let Some(block) = self.existing() else {
            return;
        };
        let mut bits = self.claimed.load(Ordering::Relaxed);
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let Some(entry) = block.entries.get(i) else {
                debug_assert!(false, "claimed entries exist");
                continue;
            };
            // SAFETY: no shared reader runs (contract), so no one else
            // touches the entry.
            read.merge(std::mem::replace(
                unsafe { &mut *entry.get() },
                Access::NONE,
            ));
        }
        self.claimed.store(0, Ordering::Relaxed);
        if block.overflow_claimed.load(Ordering::Relaxed) {
            // SAFETY: as above.
            let overflow = std::mem::take(unsafe { &mut *block.overflow.get() });
            for &a in overflow.accesses() {
                read.merge(a);
            }
            block.overflow_claimed.store(false, Ordering::Relaxed);
        }
    }

    /// Forgets every recorded read (exclusive by `&mut`).
    pub fn reset(&mut self) {
        let p = *self.block.get_mut();
        if !p.is_null() {
            // SAFETY: as in `existing`; `&mut self` excludes every other use.
            let block = unsafe { &mut *p };
            block.entries.for_each_mut(|e| *e = Access::NONE);
            *block.overflow.get_mut() = History::EMPTY;
            *block.overflow_claimed.get_mut() = false;
        }
        *self.claimed.get_mut() = 0;
    }
}

impl Drop for SharedReads {
    fn drop(&mut self) {
        once_ptr::free(&mut self.block);
    }
}
