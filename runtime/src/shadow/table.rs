//! Address → shadow word lookup for raw, address-based accesses.
//!
//! A three-level radix table over the 8-byte word index of a 48-bit address
//! (`addr >> 3`, 45 bits): 15 bits of root, 18 bits of middle, and leaves of
//! 4096 words (32 KiB of application memory each). Every level is mapped
//! lazily with anonymous `mmap` (zero pages: the OS commits memory only for
//! the pages a program actually touches, and all-zero bytes are the empty
//! state of every node) and published with one compare-and-swap, so a lookup
//! is three dependent loads and never takes a lock.
//!
//! Nodes are never unmapped while the table lives (lock-free readers may hold
//! them). `reset_range` clears the words' state, which frees their history,
//! and hands every shadow page wholly inside the range back to the OS with
//! `madvise(MADV_DONTNEED)`: the pages read as zeroes (empty) again, so the
//! memory of freed objects is returned, not just reused.

use std::sync::atomic::{AtomicPtr, Ordering};

use super::word::{ColdWord, FastCells, WordRef};

pub(crate) const LEAF_BITS: u32 = 12;
const MID_BITS: u32 = 18;
const ROOT_BITS: u32 = 45 - LEAF_BITS - MID_BITS;
pub(crate) const LEAF_LEN: usize = 1 << LEAF_BITS;
/// `addr >> LEAF_SHIFT` numbers the leaf covering `addr`.
pub(crate) const LEAF_SHIFT: u32 = 3 + LEAF_BITS;
const MID_LEN: usize = 1 << MID_BITS;
const ROOT_LEN: usize = 1 << ROOT_BITS;

/// 4096 words: the fast-path caches densely packed (16 bytes a word), then
/// the full states. Both halves are valid as all-zero bytes.
pub(crate) struct Leaf {
    hot: [FastCells; LEAF_LEN],
    cold: [ColdWord; LEAF_LEN],
}

impl Leaf {
    #[inline(always)]
    pub(crate) fn word(&self, i: usize) -> WordRef<'_> {
        WordRef::new(&self.hot[i], &self.cold[i])
    }

    /// This leaf's hot cells, shifted down by the word number of the first
    /// address it covers when it covers `addr`: `bias.wrapping_add(addr >>
    /// 3)` is then the cells of any `addr` with the same `addr >>
    /// LEAF_SHIFT`. Saves the per-access masking of the word index. The
    /// result is only dereferenced after that offset brings it back inside
    /// `hot` (the caller compares the leaf key first).
    #[inline]
    pub(crate) fn hot_bias(&self, addr: usize) -> *const FastCells {
        let first_word = (addr >> LEAF_SHIFT) << LEAF_BITS;
        self.hot.as_ptr().wrapping_sub(first_word)
    }
}
type Mid = [AtomicPtr<Leaf>; MID_LEN];

/// Lazily populated shadow for the whole address space.
pub struct ShadowTable {
    root: *mut AtomicPtr<Mid>,
}

// SAFETY: the table is a tree of atomics and `ShadowWord`s (which are
// `Sync`); the raw root pointer is owned and only freed in `Drop`.
unsafe impl Sync for ShadowTable {}
// SAFETY: as above; nothing is tied to the creating thread.
unsafe impl Send for ShadowTable {}

impl Default for ShadowTable {
    fn default() -> Self {
        Self::new()
    }
}

/// Maps `len` zero-filled values of `T`.
///
/// # Safety
/// All-zero bytes must be a valid `T` (true of `AtomicPtr` and of
/// `Leaf`, whose state is plain integers, atomics and `Option<Box<_>>`).
unsafe fn map_zeroed<T>(len: usize) -> *mut T {
    let bytes = len * std::mem::size_of::<T>();
    // SAFETY: an anonymous private mapping with no address hint has no
    // preconditions; the result is checked below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        // Out of address space: there is no way to keep checking.
        eprintln!("racedet: cannot map {bytes} bytes of shadow memory; aborting");
        std::process::abort();
    }
    p.cast()
}

/// Unmaps what [`map_zeroed`] mapped.
///
/// # Safety
/// `p` came from `map_zeroed::<T>(len)` and is not used afterwards.
unsafe fn unmap<T>(p: *mut T, len: usize) {
    // SAFETY: per the contract, `p` is a live mapping of exactly this size.
    unsafe { libc::munmap(p.cast(), len * std::mem::size_of::<T>()) };
}

impl ShadowTable {
    pub fn new() -> ShadowTable {
        // SAFETY: a null `AtomicPtr` is all-zero bytes.
        ShadowTable {
            root: unsafe { map_zeroed(ROOT_LEN) },
        }
    }

    fn split(addr: usize) -> (usize, usize, usize) {
        let word = (addr >> 3) & ((1usize << 45) - 1);
        (
            word >> (LEAF_BITS + MID_BITS),
            (word >> LEAF_BITS) & (MID_LEN - 1),
            word & (LEAF_LEN - 1),
        )
    }

    fn root_slot(&self, r: usize) -> &AtomicPtr<Mid> {
        debug_assert!(r < ROOT_LEN);
        // SAFETY: `root` maps `ROOT_LEN` slots for the table's whole life.
        unsafe { &*self.root.add(r) }
    }

    /// The shadow word covering `addr`, created on first use.
    #[inline]
    pub fn word(&self, addr: usize) -> WordRef<'_> {
        let (r, m, l) = Self::split(addr);
        let mid = get_or_create(self.root_slot(r));
        // SAFETY: non-null node pointers come from `map_zeroed` in
        // `get_or_create` and stay mapped while `self` lives.
        let leaf = get_or_create(unsafe { &(*mid)[m] });
        // SAFETY: as above.
        unsafe { (*leaf).word(l) }
    }

    /// The shadow word covering `addr` if one was ever created.
    #[inline]
    pub fn existing(&self, addr: usize) -> Option<WordRef<'_>> {
        let leaf = self.leaf(addr)?;
        // SAFETY: see `word`.
        Some(unsafe { (*leaf).word(Self::split(addr).2) })
    }

    /// The leaf covering `addr` if one was ever created.
    pub(crate) fn leaf(&self, addr: usize) -> Option<*mut Leaf> {
        let (r, m, _) = Self::split(addr);
        let mid = self.root_slot(r).load(Ordering::Acquire);
        if mid.is_null() {
            return None;
        }
        // SAFETY: see `word`.
        let leaf = unsafe { (*mid)[m].load(Ordering::Acquire) };
        (!leaf.is_null()).then_some(leaf)
    }

    /// Clears the shadow of `[addr, addr + len)`. Words only partly inside
    /// the range are cleared whole: the caller owns the entire allocation.
    pub fn reset_range(&self, addr: usize, len: usize) {
        if len == 0 {
            // Rounding down would clear a neighbour's word for nothing.
            return;
        }
        let leaf_span = LEAF_LEN << 3;
        let mut word = addr & !7;
        let end = addr.saturating_add(len);
        while word < end {
            let leaf_end = (word / leaf_span + 1) * leaf_span;
            let stop = leaf_end.min(end);
            if let Some(leaf) = self.leaf(word) {
                let first = Self::split(word).2;
                let count = (stop - word).div_ceil(8);
                // SAFETY: see `word`; `first + count <= LEAF_LEN` because
                // `stop` is at most the leaf's end.
                let leaf = unsafe { &*leaf };
                for i in first..first + count {
                    leaf.word(i).reset();
                }
                release_pages(&leaf.hot[first..first + count]);
                release_pages(&leaf.cold[first..first + count]);
            }
            word = stop;
        }
    }
}

/// Returns the OS pages lying wholly inside `words` (already reset) to the
/// kernel; they read back as zeroes, the empty state.
fn release_pages<T>(words: &[T]) {
    const PAGE: usize = 4096;
    let start = words.as_ptr() as usize;
    let end = start + std::mem::size_of_val(words);
    let lo = start.next_multiple_of(PAGE);
    let hi = end & !(PAGE - 1);
    if hi > lo {
        // SAFETY: `[lo, hi)` lies inside a live leaf mapping and holds only
        // words of the reset range, whose state owns nothing any more, so
        // zero-filling them loses nothing and leaves valid (empty) words.
        unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_DONTNEED) };
    }
}

impl Drop for ShadowTable {
    fn drop(&mut self) {
        for r in 0..ROOT_LEN {
            let mid = self.root_slot(r).load(Ordering::Acquire);
            if mid.is_null() {
                continue;
            }
            for m in 0..MID_LEN {
                // SAFETY: `&mut self` proves no reader remains.
                let leaf = unsafe { (*mid)[m].load(Ordering::Acquire) };
                if leaf.is_null() {
                    continue;
                }
                // SAFETY: the words own their histories: drop them in place,
                // then unmap the leaf, which nothing references any more.
                unsafe {
                    std::ptr::drop_in_place(leaf);
                    unmap(leaf, 1);
                }
            }
            // SAFETY: as above.
            unsafe { unmap(mid, 1) };
        }
        // SAFETY: as above.
        unsafe { unmap(self.root, ROOT_LEN) };
    }
}

#[inline]
fn get_or_create<T>(slot: &AtomicPtr<T>) -> *mut T {
    let p = slot.load(Ordering::Acquire);
    if !p.is_null() {
        return p;
    }
    create(slot)
}

#[cold]
fn create<T>(slot: &AtomicPtr<T>) -> *mut T {
    // SAFETY: `T` is `Mid` or `Leaf`, both valid as all-zero bytes.
    let fresh: *mut T = unsafe { map_zeroed(1) };
    match slot.compare_exchange(
        std::ptr::null_mut(),
        fresh,
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => fresh,
        Err(winner) => {
            // SAFETY: `fresh` was never published; it holds only zeroes.
            unsafe { unmap(fresh, 1) };
            winner
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Slot, VectorClock};
    use crate::shadow::AccessKind;
    use crate::shadow::word::{Accessor, pack};
    use crate::site::Site;

    #[test]
    fn same_word_same_shadow() {
        let t = ShadowTable::new();
        let c = VectorClock::from_slice(&[1]);
        let thr = Accessor {
            slot: Slot(0),
            clock: &c,
            cur: pack(Slot(0), 1),
            locks: 0,
        };
        t.word(0x7f00_0000_1000)
            .access(&thr, AccessKind::Write, 0xFF, 8, Site::UNKNOWN);
        assert!(!t.word(0x7f00_0000_1007).is_empty(), "same word");
        assert!(t.word(0x7f00_0000_1008).is_empty(), "next word");
        assert!(t.existing(0x1000).is_none());
    }

    #[test]
    fn zeroed_words_are_empty_and_reset_pages_work_again() {
        let t = ShadowTable::new();
        let c = VectorClock::from_slice(&[1]);
        let thr = Accessor {
            slot: Slot(0),
            clock: &c,
            cur: pack(Slot(0), 1),
            locks: 0,
        };
        let base = 0x5000_0000usize;
        for i in 0..LEAF_LEN {
            let w = t.word(base + i * 8);
            assert!(w.is_empty() || i > 0);
            w.access(&thr, AccessKind::Write, 0xFF, 8, Site::UNKNOWN);
        }
        t.reset_range(base, LEAF_LEN * 8);
        let c1 = VectorClock::from_slice(&[0, 1]);
        let other = Accessor {
            slot: Slot(1),
            clock: &c1,
            cur: pack(Slot(1), 1),
            locks: 0,
        };
        for i in 0..LEAF_LEN {
            let w = t.word(base + i * 8);
            assert!(w.is_empty(), "word {i} kept history after reset");
            assert!(
                w.access(&other, AccessKind::Write, 0xFF, 8, Site::UNKNOWN)
                    .is_none()
            );
        }
    }
}
