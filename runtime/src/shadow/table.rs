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
//! memory of freed objects is returned, not just reused. The pages of small
//! objects, shared with their neighbours, go back once every word of their
//! 8 KiB group is empty again and has stayed so while [`RELEASE_DELAY`]
//! more groups emptied (`live.rs`). The groups' live-word counts sit in the
//! middle node, 16 bytes per leaf side by side: at the end of each leaf they
//! took a page per leaf that could never go back (9.8 MB resident after 10M
//! tracked words were freed).

use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use super::live::{GROUP_WORDS, LiveWords};
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
/// the full states. Both are valid as all-zero bytes.
#[repr(C)]
pub(crate) struct Leaf {
    hot: [FastCells; LEAF_LEN],
    cold: [ColdWord; LEAF_LEN],
}

/// The live-word count of each group of one leaf (`live.rs`).
type LeafLive = [LiveWords; GROUPS];

const GROUPS: usize = LEAF_LEN / GROUP_WORDS;
const PAGE: usize = 4096;
// A group's shadow is whole pages in both arrays, so releasing it touches
// no other group's words.
const _: () = assert!(LEAF_LEN.is_multiple_of(GROUP_WORDS));
const _: () = assert!(std::mem::offset_of!(Leaf, hot).is_multiple_of(PAGE));
const _: () = assert!(std::mem::offset_of!(Leaf, cold).is_multiple_of(PAGE));
const _: () = assert!((GROUP_WORDS * std::mem::size_of::<FastCells>()).is_multiple_of(PAGE));
const _: () = assert!((GROUP_WORDS * std::mem::size_of::<ColdWord>()).is_multiple_of(PAGE));

/// A leaf with its groups' live-word counts.
#[derive(Copy, Clone)]
struct LeafRef<'a> {
    leaf: &'a Leaf,
    live: &'a LeafLive,
}

impl<'a> LeafRef<'a> {
    #[inline(always)]
    fn word(self, i: usize) -> WordRef<'a> {
        WordRef::in_table(
            &self.leaf.hot[i],
            &self.leaf.cold[i],
            &self.live[i / GROUP_WORDS],
        )
    }
}

impl Leaf {
    /// Returns group `g`'s pages to the OS.
    ///
    /// # Safety
    /// Every word of the group is empty, and none may be written until
    /// this returns (the group's count is marked releasing, `live.rs`).
    unsafe fn release_group(&self, g: usize) {
        let words = g * GROUP_WORDS..(g + 1) * GROUP_WORDS;
        // SAFETY: forwarded contract.
        unsafe {
            release_pages(&self.hot[words.clone()]);
            release_pages(&self.cold[words]);
        }
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
/// A middle node: its leaves, and the live-word counts of each leaf's
/// groups beside them (see the module docs for why they are not in the
/// leaf).
#[repr(C)]
struct Mid {
    leaves: [AtomicPtr<Leaf>; MID_LEN],
    live: [LeafLive; MID_LEN],
}

/// Lazily populated shadow for the whole address space.
pub struct ShadowTable {
    root: *mut AtomicPtr<Mid>,
    /// Groups that emptied, oldest overwritten first: each is released when
    /// its slot is reused, as many emptyings later as there are slots, if
    /// it is still empty and untouched. An entry is [`group_entry`]; 0 is a
    /// free slot. No slots: groups are never released.
    emptied: Box<[AtomicUsize]>,
    next_emptied: AtomicUsize,
}

/// How many groups must empty after a group before its pages are
/// released, unless the `shadow_release_delay` option says otherwise; a
/// group used again in the meantime is kept (`live.rs`).
pub const RELEASE_DELAY: usize = 256;

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
        Self::with_release_delay(RELEASE_DELAY)
    }

    /// A table that releases an emptied group's pages after `delay` more
    /// groups emptied (never, for 0).
    pub fn with_release_delay(delay: usize) -> ShadowTable {
        ShadowTable {
            // SAFETY: a null `AtomicPtr` is all-zero bytes.
            root: unsafe { map_zeroed(ROOT_LEN) },
            emptied: (0..delay).map(|_| AtomicUsize::new(0)).collect(),
            next_emptied: AtomicUsize::new(0),
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
        // SAFETY: non-null node pointers come from `map_zeroed` in
        // `get_or_create` and stay mapped while `self` lives.
        let mid = unsafe { &*get_or_create(self.root_slot(r)) };
        // SAFETY: as above.
        let leaf = unsafe { &*get_or_create(&mid.leaves[m]) };
        LeafRef {
            leaf,
            live: &mid.live[m],
        }
        .word(l)
    }

    /// The shadow word covering `addr` if one was ever created.
    #[inline]
    pub fn existing(&self, addr: usize) -> Option<WordRef<'_>> {
        Some(self.leaf_ref(addr)?.word(Self::split(addr).2))
    }

    /// The leaf covering `addr` if one was ever created.
    pub(crate) fn leaf(&self, addr: usize) -> Option<*mut Leaf> {
        self.leaf_ref(addr)
            .map(|l| ptr::from_ref(l.leaf).cast_mut())
    }

    fn leaf_ref(&self, addr: usize) -> Option<LeafRef<'_>> {
        let (r, m, _) = Self::split(addr);
        let mid = self.root_slot(r).load(Ordering::Acquire);
        // SAFETY: see `word`.
        let mid = unsafe { mid.as_ref()? };
        let leaf = mid.leaves[m].load(Ordering::Acquire);
        // SAFETY: see `word`.
        let leaf = unsafe { leaf.as_ref()? };
        Some(LeafRef {
            leaf,
            live: &mid.live[m],
        })
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
            if let Some(leaf) = self.leaf_ref(word) {
                let first = Self::split(word).2;
                // `first + count <= LEAF_LEN`: `stop` is at most the leaf's end.
                let count = (stop - word).div_ceil(8);
                let mut left = [0u32; GROUPS];
                for i in first..first + count {
                    if leaf.word(i).reset() {
                        left[i / GROUP_WORDS] += 1;
                    }
                }
                // SAFETY: the words of `first..first + count` were all just
                // reset, and they belong to the freed range: nothing writes
                // them now.
                unsafe {
                    release_pages(&leaf.leaf.hot[first..first + count]);
                    release_pages(&leaf.leaf.cold[first..first + count]);
                }
                for (g, &n) in left.iter().enumerate() {
                    if leaf.live[g].leave(n) {
                        self.defer_release(word, g);
                    }
                }
            }
            word = stop;
        }
    }

    /// Queues group `g` of the leaf covering `addr`, just emptied, and
    /// releases the group queued as many emptyings ago as the ring has
    /// slots, if it is still empty.
    fn defer_release(&self, addr: usize, g: usize) {
        if self.emptied.is_empty() {
            return;
        }
        let i = self.next_emptied.fetch_add(1, Ordering::Relaxed) % self.emptied.len();
        let old = self.emptied[i].swap(group_entry(addr, g), Ordering::AcqRel);
        if old == 0 {
            return;
        }
        let (addr, g) = entry_group(old);
        // Queued leaves are never unmapped while the table lives.
        let leaf = self.leaf_ref(addr).expect("a queued group's leaf exists");
        // SAFETY: `try_release` runs the release only on a group that is
        // still empty, with first accesses to it held off until it returns.
        leaf.live[g].try_release(|| unsafe { leaf.leaf.release_group(g) });
    }
}

/// A ring entry for group `g` of the leaf covering `addr`: the leaf's number
/// above three bits, a set bit 2 (so no entry is 0, a free slot), and `g`.
fn group_entry(addr: usize, g: usize) -> usize {
    const { assert!(GROUPS <= 4) };
    (addr >> LEAF_SHIFT) << 3 | 4 | g
}

/// The first address of the leaf, and the group, of a [`group_entry`].
fn entry_group(entry: usize) -> (usize, usize) {
    ((entry >> 3) << LEAF_SHIFT, entry & 3)
}

/// Returns the OS pages lying wholly inside `words` to the kernel; they read
/// back as zeroes, the empty state.
///
/// # Safety
/// Those pages hold only empty words, which no thread writes until this
/// returns.
unsafe fn release_pages<T>(words: &[T]) {
    let start = words.as_ptr() as usize;
    let end = start + std::mem::size_of_val(words);
    let lo = start.next_multiple_of(PAGE);
    let hi = end & !(PAGE - 1);
    if hi > lo {
        // SAFETY: `[lo, hi)` lies inside a live leaf mapping and holds only
        // empty words (contract), whose state owns nothing, so zero-filling
        // them loses nothing and leaves valid (empty) words.
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
                let leaf = unsafe { (*mid).leaves[m].load(Ordering::Acquire) };
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

    /// Slot `slot`'s accessor with clock `c` (its own entry 1).
    fn thread(slot: u16, c: &VectorClock) -> Accessor<'_> {
        Accessor {
            slot: Slot(slot),
            clock: c,
            cur: pack(Slot(slot), 1),
            locks: 0,
        }
    }

    #[test]
    fn same_word_same_shadow() {
        let t = ShadowTable::new();
        let c = VectorClock::from_slice(&[1]);
        let thr = thread(0, &c);
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
        let thr = thread(0, &c);
        let base = 0x5000_0000usize;
        for i in 0..LEAF_LEN {
            let w = t.word(base + i * 8);
            assert!(w.is_empty() || i > 0);
            w.access(&thr, AccessKind::Write, 0xFF, 8, Site::UNKNOWN);
        }
        t.reset_range(base, LEAF_LEN * 8);
        let c1 = VectorClock::from_slice(&[0, 1]);
        let other = thread(1, &c1);
        for i in 0..LEAF_LEN {
            let w = t.word(base + i * 8);
            assert!(w.is_empty(), "word {i} kept history after reset");
            assert!(
                w.access(&other, AccessKind::Write, 0xFF, 8, Site::UNKNOWN)
                    .is_none()
            );
        }
    }

    /// Whether the shadow page holding `word`'s state is resident.
    fn state_resident(t: &ShadowTable, addr: usize) -> bool {
        let leaf = t.leaf(addr).expect("leaf exists");
        let i = ShadowTable::split(addr).2;
        // SAFETY: the leaf is live while `t` is.
        let p = unsafe { &(*leaf).cold[i] } as *const ColdWord as usize & !(PAGE - 1);
        let mut vec = 0u8;
        // SAFETY: `p` is a page of a live mapping; `vec` holds its one byte.
        let rc = unsafe { libc::mincore(p as *mut libc::c_void, PAGE, &mut vec) };
        assert_eq!(rc, 0, "mincore");
        vec & 1 == 1
    }

    /// Freeing everything a leaf covers leaves none of its pages resident:
    /// nothing of the table's bookkeeping sits in the leaf's own mapping
    /// (the groups' counts used to, a page per leaf for good).
    #[test]
    fn a_wholly_freed_leaf_keeps_no_page() {
        let t = ShadowTable::new();
        let c = VectorClock::from_slice(&[1]);
        let thr = thread(0, &c);
        let base = 0x4000_0000usize;
        for i in 0..LEAF_LEN {
            t.word(base + i * 8)
                .access(&thr, AccessKind::Write, 0xFF, 8, Site::UNKNOWN);
        }
        t.reset_range(base, LEAF_LEN * 8);
        let leaf = t.leaf(base).expect("leaf exists") as usize;
        let pages = std::mem::size_of::<Leaf>().div_ceil(PAGE);
        let mut vec = vec![0u8; pages];
        // SAFETY: the leaf's mapping is `pages` pages from `leaf`, live
        // while `t` is; `vec` holds a byte per page.
        let rc =
            unsafe { libc::mincore(leaf as *mut libc::c_void, pages * PAGE, vec.as_mut_ptr()) };
        assert_eq!(rc, 0, "mincore");
        let resident = vec.iter().filter(|&&b| b & 1 == 1).count();
        assert_eq!(resident, 0, "{resident} of {pages} pages still resident");
    }

    /// Groups (`live.rs`): a small object's shadow goes back to the OS once
    /// its group stayed empty while `delay` more groups emptied; a group
    /// used again in between keeps its pages and its history.
    #[test]
    fn an_emptied_group_is_released_later_unless_used_again() {
        let t = ShadowTable::with_release_delay(1);
        let c = VectorClock::from_slice(&[1]);
        let thr = thread(0, &c);
        let group_span = GROUP_WORDS * 8;
        let (a, b, d) = (
            0x6000_0000usize,
            0x6000_0000 + group_span,
            0x6000_0000 + 2 * group_span,
        );
        let touch = |addr: usize| {
            t.word(addr)
                .access(&thr, AccessKind::Write, 0xFF, 8, Site::UNKNOWN);
        };
        // A one-word object in group `a`, freed: a candidate, still mapped.
        touch(a);
        assert!(state_resident(&t, a));
        t.reset_range(a, 8);
        assert!(state_resident(&t, a), "released before the delay");
        // Another group empties: `a`'s turn comes, and its pages go.
        touch(b);
        t.reset_range(b, 8);
        assert!(!state_resident(&t, a), "an emptied group kept its pages");
        assert!(t.word(a).is_empty());
        // `b` is used again (a new object, another word) before its turn:
        // kept, with the new object's history.
        touch(b + 8);
        touch(d);
        t.reset_range(d, 8);
        assert!(state_resident(&t, b), "a group in use lost its pages");
        assert!(!t.word(b + 8).is_empty(), "a live word lost its history");
        // With no delay slots, nothing is ever released.
        let never = ShadowTable::with_release_delay(0);
        for g in 0..4 {
            never
                .word(a + g * group_span)
                .access(&thr, AccessKind::Write, 0xFF, 8, Site::UNKNOWN);
            never.reset_range(a + g * group_span, 8);
        }
        assert!(state_resident(&never, a));
    }

    /// Releases racing with first accesses: four threads each record and
    /// reset their own word of one group, over and over, with the shortest
    /// delay, so the group empties, waits and is released while the others
    /// write. A word must never lose the history it just recorded.
    #[test]
    fn a_release_never_wipes_a_word_being_used() {
        let t = ShadowTable::with_release_delay(1);
        let base = 0x7000_0000usize;
        std::thread::scope(|s| {
            for k in 0..4u16 {
                let t = &t;
                s.spawn(move || {
                    let c = VectorClock::from_slice(&[1, 1, 1, 1]);
                    let thr = thread(k, &c);
                    let addr = base + k as usize * 64;
                    for i in 0..20_000 {
                        t.word(addr)
                            .access(&thr, AccessKind::Write, 0xFF, 8, Site::UNKNOWN);
                        assert!(
                            !t.word(addr).is_empty(),
                            "thread {k}, round {i}: history wiped"
                        );
                        t.reset_range(addr, 8);
                    }
                });
            }
        });
    }
}
