//! One 8-byte word of shadow memory, and its concurrency discipline.
//!
//! A [`ShadowWord`] holds the [`VarState`] of the 8 application bytes it
//! covers. While every access to the word uses the same byte mask (the
//! overwhelmingly common case: a `u64` read and written whole, or a `u32`
//! field always accessed as such) one state stands for all the bytes in the
//! mask (*uniform* mode). The first access with a different mask *splits* the
//! word into one state per byte, so accesses to disjoint bytes never race and
//! overlapping ones are judged byte by byte, exactly.
//!
//! ## Fast path
//! Two cache words let a thread skip the state entirely when it repeats an
//! access in the same epoch (FastTrack's `[READ SAME EPOCH]` and `[WRITE SAME
//! EPOCH]`, 63–71% of accesses in the paper's benchmarks). Each holds a
//! packed cell or 0:
//!
//! ```text
//!  63            32 31          16 15     8 7       1   0
//! +----------------+--------------+--------+---------+---+
//! |  clock (u32)   |  slot (u16)  |  mask  |    0    | 1 |
//! +----------------+--------------+--------+---------+---+
//! ```
//!
//! * `fast_r == cur|mask`: this thread read (or wrote) the same bytes in this
//!   epoch and nothing else touched the word since; a read needs no work.
//! * `fast_w == cur|mask`: this thread's write is the only access recorded
//!   (no reads, no atomics); a read or a write needs no work.
//!
//! Whenever `fast_w` holds a cell, `fast_r` holds the same one (a write
//! sets both), so a read compares `fast_r` alone and a write `fast_w`
//! alone: one compare per access on the hot path.
//!
//! Every slow-path update rewrites both caches under the word's lock, so a
//! cache names the current thread only while the state is unchanged since
//! that thread's own access. A thread's cell is unique to it (slot and clock
//! together), so a stale cache can only ever *miss*: a reader racing with
//! another thread's update sees either its own old cell (the read takes
//! effect before the update, which it is unordered with anyway) or a cell
//! that is not its own.
//!
//! ## Locking
//! The state is updated under one of [`LOCK_STRIPES`] spin locks chosen by
//! the word's address: no global lock, no lock byte per word. Critical
//! sections are a few dozen instructions and never call user code.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::live::LiveWords;
use super::shared::{Recorded, SharedReads};
use super::state::{Access, AccessKind, Conflict, VarState};
use crate::clock::{Slot, VectorClock};
use crate::site::Site;

/// What the engine needs to know about the accessing thread.
pub struct Accessor<'a> {
    pub slot: Slot,
    pub clock: &'a VectorClock,
    /// `clock[slot] << 32 | slot << 16 | 1`, see [`pack`].
    pub cur: u64,
    /// Lockset id of the locks held (see `locks.rs`).
    pub locks: u8,
}

impl Accessor<'_> {
    /// The record of this thread's access of `size` bytes at `site`, in its
    /// current epoch.
    #[inline(always)]
    pub fn access(&self, site: Site, size: u8) -> Access {
        Access {
            site,
            clock: (self.cur >> 32) as u32,
            slot: self.slot,
            size,
            locks: self.locks,
        }
    }
}

/// Packs a thread's current epoch into the cache-cell layout (mask 0).
#[inline]
pub fn pack(slot: Slot, clock: u32) -> u64 {
    ((clock as u64) << 32) | ((slot.0 as u64) << 16) | 1
}

/// The cell of a whole-word access (mask `0xFF`) by the thread whose packed
/// epoch is `cur`. The fast path keeps this form in its thread-local, so the
/// common 8-byte access compares it unchanged. `whole_cell(0)` (no thread
/// state) has bit 0 clear: it, and [`cell_for`] of it with any nonzero mask,
/// matches no shadow cache.
#[inline(always)]
pub const fn whole_cell(cur: u64) -> u64 {
    cur | 0xFF00
}

/// The cell of an access to the bytes in `mask`, from its [`whole_cell`]
/// (no work for a constant `0xFF`).
#[inline(always)]
pub const fn cell_for(whole: u64, mask: u8) -> u64 {
    whole ^ ((!mask as u64) << 8)
}

/// What one checked access did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Same-epoch repeat: nothing to record (fast path).
    Repeat,
    /// New history recorded, no race.
    Recorded,
    /// Recorded, and unordered with this earlier access.
    Race(Conflict),
}

/// The state of a word. *Uniform* while `split` is `None`: `state` holds
/// for the bytes in `mask` (0 = nothing recorded). *Split* otherwise: one
/// state per byte. All-zero bytes are the empty uniform word, which lets the
/// shadow table use fresh zero pages and give reset pages back to the OS.
#[derive(Debug)]
struct WordData {
    mask: u8,
    split: Option<Box<[VarState; 8]>>,
    state: VarState,
}

impl WordData {
    const EMPTY: WordData = WordData {
        mask: 0,
        split: None,
        state: VarState::EMPTY,
    };

    /// Nothing recorded (every access records something: a mask, or a
    /// split into bytes).
    fn is_empty(&self) -> bool {
        self.mask == 0 && self.split.is_none()
    }
}

/// The hot half of a shadow word: the two same-epoch caches, all the fast
/// path reads. The address table keeps these in their own dense array, so a
/// loop over memory touches 16 bytes of shadow per 8-byte word.
#[derive(Default, Debug)]
pub struct FastCells {
    fast_r: AtomicU64,
    fast_w: AtomicU64,
}

impl FastCells {
    pub const fn new() -> FastCells {
        FastCells {
            fast_r: AtomicU64::new(0),
            fast_w: AtomicU64::new(0),
        }
    }

    /// The same-epoch fast path alone: `true` if this access, whose cell
    /// (packed epoch and mask) is `cell`, needs no work. Never changes the
    /// state, so it is safe to call from anywhere.
    #[inline(always)]
    pub fn is_repeat(&self, kind: AccessKind, cell: u64) -> bool {
        match kind {
            // `fast_r` mirrors a valid `fast_w` (see the module docs).
            AccessKind::Read => self.fast_r.load(Ordering::Relaxed) == cell,
            AccessKind::Write => self.fast_w.load(Ordering::Relaxed) == cell,
            AccessKind::AtomicLoad | AccessKind::AtomicStore | AccessKind::AtomicRmw => false,
        }
    }
}

/// The cold half: the full state, touched only on the slow path.
pub struct ColdWord {
    data: UnsafeCell<WordData>,
}

// SAFETY: `data` is only touched while holding the stripe lock for this
// word's address (see `WordRef::with_lock`).
unsafe impl Sync for ColdWord {}
// SAFETY: the state owns plain data (boxes of clocks and sites); nothing in it
// is tied to a thread.
unsafe impl Send for ColdWord {}

impl ColdWord {
    pub const fn new() -> ColdWord {
        ColdWord {
            data: UnsafeCell::new(WordData::EMPTY),
        }
    }
}

impl Default for ColdWord {
    fn default() -> Self {
        Self::new()
    }
}

/// Shadow state of one 8-byte application word, both halves together (for
/// objects that embed their shadow).
#[derive(Default)]
pub struct ShadowWord {
    fast: FastCells,
    cold: ColdWord,
}

/// A shadow word wherever its halves live: inline in a [`ShadowWord`], or
/// in the address table's separate hot and cold arrays.
#[derive(Copy, Clone)]
pub struct WordRef<'a> {
    fast: &'a FastCells,
    cold: &'a ColdWord,
    /// For a table word, the live-word count of its group (`live.rs`);
    /// `None` for an object's inline word.
    live: Option<&'a LiveWords>,
}

impl<'a> WordRef<'a> {
    pub(crate) fn in_table(
        fast: &'a FastCells,
        cold: &'a ColdWord,
        live: &'a LiveWords,
    ) -> WordRef<'a> {
        WordRef {
            fast,
            cold,
            live: Some(live),
        }
    }
}

impl std::fmt::Debug for ShadowWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShadowWord").finish_non_exhaustive()
    }
}

// A word costs 11 application words of shadow (2 on the hot path); keep it from growing unnoticed.
const _: () = assert!(std::mem::size_of::<ShadowWord>() <= 88);

/// Number of spin locks guarding shadow state.
pub const LOCK_STRIPES: usize = 1024;
static LOCKS: [AtomicBool; LOCK_STRIPES] = [const { AtomicBool::new(false) }; LOCK_STRIPES];

struct StripeGuard(&'static AtomicBool);

impl Drop for StripeGuard {
    fn drop(&mut self) {
        crate::spin::release(self.0);
    }
}

/// `fork` support: takes every stripe lock (in index order).
pub(crate) fn lock_all_stripes() {
    for lock in LOCKS.iter() {
        crate::spin::acquire(lock);
    }
}

/// Releases what [`lock_all_stripes`] took.
pub(crate) fn unlock_all_stripes() {
    for lock in LOCKS.iter() {
        crate::spin::release(lock);
    }
}

fn lock_stripe(addr: usize) -> StripeGuard {
    // Fibonacci hashing spreads neighbouring words over different stripes.
    let index = (addr >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (usize::BITS - 10);
    let lock = &LOCKS[index % LOCK_STRIPES];
    crate::spin::acquire(lock);
    StripeGuard(lock)
}

impl ShadowWord {
    pub const fn new() -> ShadowWord {
        ShadowWord {
            fast: FastCells::new(),
            cold: ColdWord::new(),
        }
    }

    #[inline(always)]
    pub fn as_ref(&self) -> WordRef<'_> {
        WordRef {
            fast: &self.fast,
            cold: &self.cold,
            live: None,
        }
    }

    /// See [`WordRef::access`].
    #[inline]
    pub fn access(
        &self,
        thr: &Accessor<'_>,
        kind: AccessKind,
        mask: u8,
        size: u8,
        site: Site,
    ) -> Option<Conflict> {
        self.as_ref().access(thr, kind, mask, size, site)
    }

    /// See [`FastCells::is_repeat`].
    #[inline(always)]
    pub fn is_repeat(&self, kind: AccessKind, cell: u64) -> bool {
        self.fast.is_repeat(kind, cell)
    }

    /// See [`WordRef::check`].
    #[inline]
    pub fn check(
        &self,
        thr: &Accessor<'_>,
        kind: AccessKind,
        mask: u8,
        size: u8,
        site: Site,
    ) -> Outcome {
        self.as_ref().check(thr, kind, mask, size, site)
    }

    /// [`check`](Self::check) of a whole-word access by an object
    /// (`object.rs`), past the same-epoch fast path, under the word's lock;
    /// `reads` (the object's shared reads) are folded in first.
    ///
    /// # Safety
    /// No shared read of this word ([`check_read_shared`]) runs now (the
    /// contract of that function makes every object check that is not one
    /// exclude them).
    ///
    /// [`check_read_shared`]: Self::check_read_shared
    #[inline]
    pub unsafe fn check_whole_locked(
        &self,
        thr: &Accessor<'_>,
        kind: AccessKind,
        site: Site,
        reads: &SharedReads,
    ) -> Outcome {
        let word = self.as_ref();
        // SAFETY: forwarded contract.
        word.with_lock(|data| unsafe { word.update_object(data, thr, kind, site, reads) })
    }

    /// [`check_whole_locked`](Self::check_whole_locked) without the
    /// word's lock.
    ///
    /// # Safety
    /// No other thread may use this word's state until this returns: the
    /// caller holds a lock that every check of this word takes (shared for
    /// [`check_read_shared`](Self::check_read_shared), exclusively for every
    /// other), exclusively.
    #[inline]
    pub unsafe fn check_whole_exclusive(
        &self,
        thr: &Accessor<'_>,
        kind: AccessKind,
        site: Site,
        reads: &SharedReads,
    ) -> Outcome {
        let word = self.as_ref();
        // SAFETY: exclusive by this function's contract.
        let data = unsafe { &mut *word.cold.data.get() };
        // SAFETY: as above, no shared read runs.
        unsafe { word.update_object(data, thr, kind, site, reads) }
    }

    /// A whole-word read by the thread whose read is the only one recorded,
    /// in a later epoch of its own (FastTrack's `[READ EXCLUSIVE]` on an
    /// object's own thread: the common case of a map read again and again
    /// by one thread between releases). `false`, changing nothing, when any
    /// other rule may apply; the caller then runs
    /// [`check_whole_exclusive`](Self::check_whole_exclusive).
    ///
    /// # Safety
    /// As [`check_whole_exclusive`](Self::check_whole_exclusive).
    #[inline]
    pub unsafe fn reread_exclusive(
        &self,
        thr: &Accessor<'_>,
        site: Site,
        reads: &SharedReads,
    ) -> bool {
        let word = self.as_ref();
        // SAFETY: exclusive by this function's contract.
        let data = unsafe { &mut *word.cold.data.get() };
        if data.split.is_some() || data.mask != 0xFF || reads.pending() {
            return false;
        }
        let access = || thr.access(site, 8);
        if !data.state.reread_own(thr.slot, access, thr.clock) {
            return false;
        }
        word.fast
            .fast_r
            .store(whole_cell(thr.cur), Ordering::Relaxed);
        word.fast.fast_w.store(0, Ordering::Relaxed);
        true
    }

    /// A whole-word read made while the caller holds its object's lock
    /// shared, recorded in `reads` without the word's lock (`shared.rs`).
    /// The same-epoch caches are not refilled (readers on other cores would
    /// take turns writing their line); `fast_w` is cleared, since the
    /// writer it names is no longer the only accessor.
    ///
    /// # Safety
    /// The caller holds a lock that every check of this word takes: shared
    /// for this function, exclusively for every other. `thr` is the calling
    /// thread's.
    #[inline]
    pub unsafe fn check_read_shared(
        &self,
        thr: &Accessor<'_>,
        site: Site,
        reads: &SharedReads,
    ) -> Outcome {
        let word = self.as_ref();
        // SAFETY: only shared reads run now (contract), and they never
        // write `data`: every writer of it holds the lock exclusively.
        let data = unsafe { &*word.cold.data.get() };
        debug_assert!(data.split.is_none(), "objects are accessed whole");
        let conflict = data.state.check(AccessKind::Read, thr.clock);
        let access = thr.access(site, 8);
        // SAFETY: forwarded contract; this thread owns `thr.slot`.
        let recorded = match unsafe { reads.record(access) } {
            Some(r) => r,
            None => {
                // SAFETY: the stripe lock guards the overflow history.
                word.with_stripe(|| unsafe { reads.record_overflow(access, thr.clock) });
                Recorded::New
            }
        };
        if word.fast.fast_w.load(Ordering::Relaxed) != 0 {
            word.fast.fast_w.store(0, Ordering::Relaxed);
        }
        match (conflict, recorded) {
            (Some(c), _) => Outcome::Race(c),
            (None, Recorded::Repeat) => Outcome::Repeat,
            (None, Recorded::New) => Outcome::Recorded,
        }
    }

    /// See [`WordRef::reset`].
    pub fn reset(&self) {
        self.as_ref().reset();
    }

    /// See [`WordRef::is_empty`].
    pub fn is_empty(&self) -> bool {
        self.as_ref().is_empty()
    }
}

impl WordRef<'_> {
    /// Runs `f` under this word's stripe lock, without touching the state.
    fn with_stripe<R>(self, f: impl FnOnce() -> R) -> R {
        let _guard = lock_stripe(self.cold as *const ColdWord as usize);
        f()
    }

    fn with_lock<R>(self, f: impl FnOnce(&mut WordData) -> R) -> R {
        let _guard = lock_stripe(self.cold as *const ColdWord as usize);
        // SAFETY: the stripe lock for this address is held until `_guard`
        // drops, and every access to `data` goes through `with_lock`.
        f(unsafe { &mut *self.cold.data.get() })
    }

    /// Checks and records one access to the bytes in `mask` (bit i = byte i).
    #[inline]
    pub fn access(
        self,
        thr: &Accessor<'_>,
        kind: AccessKind,
        mask: u8,
        size: u8,
        site: Site,
    ) -> Option<Conflict> {
        match self.check(thr, kind, mask, size, site) {
            Outcome::Repeat | Outcome::Recorded => None,
            Outcome::Race(c) => Some(c),
        }
    }

    /// See [`FastCells::is_repeat`]; `cur` is the thread's packed epoch.
    #[inline(always)]
    pub fn is_repeat(self, kind: AccessKind, cur: u64, mask: u8) -> bool {
        self.fast.is_repeat(kind, cur | ((mask as u64) << 8))
    }

    /// Like [`access`](Self::access), but also says whether the state was
    /// updated (the caller records a stack for new history only).
    #[inline]
    pub fn check(
        self,
        thr: &Accessor<'_>,
        kind: AccessKind,
        mask: u8,
        size: u8,
        site: Site,
    ) -> Outcome {
        debug_assert_ne!(mask, 0);
        if self.is_repeat(kind, thr.cur, mask) {
            return Outcome::Repeat;
        }
        let cell = thr.cur | ((mask as u64) << 8);
        match self.access_slow(thr, kind, mask, size, site, cell) {
            Some(c) => Outcome::Race(c),
            None => Outcome::Recorded,
        }
    }

    #[inline(never)]
    fn access_slow(
        self,
        thr: &Accessor<'_>,
        kind: AccessKind,
        mask: u8,
        size: u8,
        site: Site,
        cell: u64,
    ) -> Option<Conflict> {
        self.with_lock(|data| {
            if let Some(live) = self.live
                && data.is_empty()
            {
                live.enter();
            }
            self.update(data, thr, kind, mask, size, site, cell)
        })
    }

    /// The slow path proper, on the locked (or otherwise exclusive) state:
    /// apply the rules, then refill the same-epoch caches.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn update(
        self,
        data: &mut WordData,
        thr: &Accessor<'_>,
        kind: AccessKind,
        mask: u8,
        size: u8,
        site: Site,
        cell: u64,
    ) -> Option<Conflict> {
        // Built where it is stored, not once for both branches: a copy of
        // a struct assembled on the stack by narrow stores is a wide load
        // that store forwarding cannot serve (half the cycles of this path).
        let access = move || thr.access(site, size);
        // FastTrack's common transitions inline (a uniform word, one-entry
        // histories, all ordered); every other case out of line in `apply`.
        let conflict = if data.split.is_none()
            && (data.mask == mask || data.mask == 0)
            && data.state.ordered_plain_access(kind, access, thr.clock)
        {
            data.mask = mask;
            None
        } else {
            apply(data, kind, access(), mask, thr.clock)
        };
        let (r, w) = match &*data {
            // After a race the same access must be judged again next time.
            _ if conflict.is_some() => (0, 0),
            WordData {
                mask: m,
                split: None,
                state,
            } if *m == mask => match kind {
                AccessKind::Read => (cell, 0),
                AccessKind::Write
                    if state.read.is_empty()
                        && state.atomic.is_none()
                        && state.write.accesses().len() == 1 =>
                {
                    // A read by the writer in this epoch is a repeat too.
                    (cell, cell)
                }
                _ => (0, 0),
            },
            _ => (0, 0),
        };
        self.fast.fast_r.store(r, Ordering::Relaxed);
        self.fast.fast_w.store(w, Ordering::Relaxed);
        conflict
    }

    /// An object's whole-word check on its (locked or exclusive) state:
    /// its shared reads folded in, then the rules.
    ///
    /// # Safety
    /// No shared read of this word runs now (as [`SharedReads::fold_into`]).
    #[inline(always)]
    unsafe fn update_object(
        self,
        data: &mut WordData,
        thr: &Accessor<'_>,
        kind: AccessKind,
        site: Site,
        reads: &SharedReads,
    ) -> Outcome {
        // SAFETY: forwarded contract.
        unsafe { fold(data, reads) };
        match self.update(data, thr, kind, 0xFF, 8, site, whole_cell(thr.cur)) {
            Some(c) => Outcome::Race(c),
            None => Outcome::Recorded,
        }
    }

    /// Forgets all history (the memory was freed or reused).
    ///
    /// Returns whether the word held any history. An empty word is left
    /// untouched, so resetting never-used shadow does not fault its pages in.
    pub fn reset(self) -> bool {
        self.with_lock(|data| {
            if data.is_empty() {
                debug_assert_eq!(self.fast.fast_r.load(Ordering::Relaxed), 0);
                debug_assert_eq!(self.fast.fast_w.load(Ordering::Relaxed), 0);
                return false;
            }
            *data = WordData::EMPTY;
            self.fast.fast_r.store(0, Ordering::Relaxed);
            self.fast.fast_w.store(0, Ordering::Relaxed);
            true
        })
    }

    /// `true` if no access is recorded.
    pub fn is_empty(self) -> bool {
        self.with_lock(|data| data.is_empty())
    }
}

/// Folds an object's shared reads into its (uniform) read history.
///
/// # Safety
/// As [`SharedReads::fold_into`].
#[inline(always)]
unsafe fn fold(data: &mut WordData, reads: &SharedReads) {
    if reads.pending() {
        debug_assert!(data.split.is_none(), "objects are accessed whole");
        if data.mask == 0 {
            data.mask = 0xFF;
        }
        // SAFETY: forwarded contract.
        unsafe { reads.fold_into(&mut data.state.read) };
    }
}

fn apply(
    data: &mut WordData,
    kind: AccessKind,
    access: Access,
    mask: u8,
    clock: &VectorClock,
) -> Option<Conflict> {
    if data.split.is_none() {
        if data.mask == mask || data.mask == 0 {
            data.mask = mask;
            return data.state.access(kind, access, clock);
        }
        // Different bytes than before: give every byte its own state.
        let old = std::mem::take(&mut data.state);
        let held = std::mem::replace(&mut data.mask, 0);
        let bytes: [VarState; 8] = std::array::from_fn(|i| {
            if held & (1 << i) != 0 {
                old.clone()
            } else {
                VarState::default()
            }
        });
        data.split = Some(Box::new(bytes));
    }
    let Some(bytes) = data.split.as_mut() else {
        unreachable!("uniform words returned above")
    };
    let mut first = None;
    for (i, state) in bytes.iter_mut().enumerate() {
        if mask & (1 << i) != 0 {
            let c = state.access(kind, access, clock);
            first = first.or(c);
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thr(slot: u16, clock: &VectorClock) -> Accessor<'_> {
        Accessor {
            slot: Slot(slot),
            clock,
            cur: pack(Slot(slot), clock.get(Slot(slot))),
            locks: 0,
        }
    }

    #[test]
    fn disjoint_bytes_do_not_race() {
        let w = ShadowWord::new();
        let (c0, c1) = (
            VectorClock::from_slice(&[1]),
            VectorClock::from_slice(&[0, 1]),
        );
        assert!(
            w.access(&thr(0, &c0), AccessKind::Write, 0x0F, 4, Site::UNKNOWN)
                .is_none()
        );
        assert!(
            w.access(&thr(1, &c1), AccessKind::Write, 0xF0, 4, Site::UNKNOWN)
                .is_none()
        );
        // Overlapping bytes do.
        assert!(
            w.access(&thr(1, &c1), AccessKind::Read, 0x01, 1, Site::UNKNOWN)
                .is_some()
        );
    }

    #[test]
    fn same_epoch_fast_path_hits_and_stays_exact() {
        let w = ShadowWord::new();
        let c0 = VectorClock::from_slice(&[1]);
        let c1 = VectorClock::from_slice(&[0, 1]);
        let t0 = thr(0, &c0);
        assert!(
            w.access(&t0, AccessKind::Read, 0xFF, 8, Site::UNKNOWN)
                .is_none()
        );
        assert_eq!(w.fast.fast_r.load(Ordering::Relaxed), t0.cur | 0xFF00);
        // A racing write by another thread invalidates the cache ...
        assert!(
            w.access(&thr(1, &c1), AccessKind::Write, 0xFF, 8, Site::UNKNOWN)
                .is_some()
        );
        // ... so thread 0's repeated read is checked again and races.
        assert!(
            w.access(&t0, AccessKind::Read, 0xFF, 8, Site::UNKNOWN)
                .is_some()
        );
    }

    #[test]
    fn reset_forgets() {
        let w = ShadowWord::new();
        let c0 = VectorClock::from_slice(&[1]);
        let c1 = VectorClock::from_slice(&[0, 1]);
        w.access(&thr(0, &c0), AccessKind::Write, 0xFF, 8, Site::UNKNOWN);
        w.reset();
        assert!(w.is_empty());
        assert!(
            w.access(&thr(1, &c1), AccessKind::Write, 0xFF, 8, Site::UNKNOWN)
                .is_none()
        );
    }
}
