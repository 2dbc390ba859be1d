//! Address → shadow word lookup for raw, address-based accesses.
//!
//! A three-level radix table over the 8-byte word index of a 48-bit address
//! (`addr >> 3`, 45 bits): 15 bits of root, 18 bits of middle, and leaves of
//! 4096 words (32 KiB of application memory each). Every level is allocated
//! lazily and published with one compare-and-swap, so a lookup is three
//! dependent loads and never takes a lock. Nodes are never freed while the
//! process runs (lock-free readers may hold them); `reset_range` clears the
//! words' state, which frees the per-word history.

use std::sync::atomic::{AtomicPtr, Ordering};

use super::word::ShadowWord;

const LEAF_BITS: u32 = 12;
const MID_BITS: u32 = 18;
const ROOT_BITS: u32 = 45 - LEAF_BITS - MID_BITS;
const LEAF_LEN: usize = 1 << LEAF_BITS;
const MID_LEN: usize = 1 << MID_BITS;
const ROOT_LEN: usize = 1 << ROOT_BITS;

type Leaf = [ShadowWord; LEAF_LEN];
type Mid = [AtomicPtr<Leaf>; MID_LEN];

/// Lazily populated shadow for the whole address space.
pub struct ShadowTable {
    root: Box<[AtomicPtr<Mid>]>,
}

impl Default for ShadowTable {
    fn default() -> Self {
        Self::new()
    }
}

impl ShadowTable {
    pub fn new() -> ShadowTable {
        ShadowTable {
            root: (0..ROOT_LEN)
                .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                .collect(),
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

    /// The shadow word covering `addr`, created on first use.
    #[inline]
    pub fn word(&self, addr: usize) -> &ShadowWord {
        let (r, m, l) = Self::split(addr);
        let mid = get_or_create(&self.root[r], new_mid);
        // SAFETY: non-null node pointers come from `Box::into_raw` in
        // `get_or_create` and are never freed while `self` lives.
        let leaf = get_or_create(unsafe { &(*mid)[m] }, new_leaf);
        // SAFETY: as above.
        unsafe { &(*leaf)[l] }
    }

    /// The shadow word covering `addr` if one was ever created.
    #[inline]
    pub fn existing(&self, addr: usize) -> Option<&ShadowWord> {
        let (r, m, l) = Self::split(addr);
        let mid = self.root[r].load(Ordering::Acquire);
        if mid.is_null() {
            return None;
        }
        // SAFETY: see `word`.
        let leaf = unsafe { (*mid)[m].load(Ordering::Acquire) };
        if leaf.is_null() {
            return None;
        }
        // SAFETY: see `word`.
        Some(unsafe { &(*leaf)[l] })
    }

    /// Clears the shadow of `[addr, addr + len)`. Words only partly inside
    /// the range are cleared whole: the caller owns the entire allocation.
    pub fn reset_range(&self, addr: usize, len: usize) {
        if len == 0 {
            // Rounding down would clear a neighbour's word for nothing.
            return;
        }
        let mut word = addr & !7;
        let end = addr.saturating_add(len);
        while word < end {
            match self.existing(word) {
                Some(w) => {
                    w.reset();
                    word += 8;
                }
                None => {
                    // Skip to the next leaf: nothing was ever recorded here.
                    let leaf_span = LEAF_LEN << 3;
                    word = (word / leaf_span + 1) * leaf_span;
                }
            }
        }
    }
}

impl Drop for ShadowTable {
    fn drop(&mut self) {
        for mid in self.root.iter() {
            let mid = mid.load(Ordering::Acquire);
            if mid.is_null() {
                continue;
            }
            // SAFETY: `&mut self` proves no reader remains; the pointers came
            // from `Box::into_raw`.
            let mid = unsafe { Box::from_raw(mid) };
            for leaf in mid.iter() {
                let leaf = leaf.load(Ordering::Acquire);
                if !leaf.is_null() {
                    // SAFETY: as above.
                    drop(unsafe { Box::from_raw(leaf) });
                }
            }
        }
    }
}

fn new_mid() -> Box<Mid> {
    let v: Vec<AtomicPtr<Leaf>> = (0..MID_LEN)
        .map(|_| AtomicPtr::new(std::ptr::null_mut()))
        .collect();
    v.into_boxed_slice()
        .try_into()
        .unwrap_or_else(|_| unreachable!())
}

fn new_leaf() -> Box<Leaf> {
    let v: Vec<ShadowWord> = (0..LEAF_LEN).map(|_| ShadowWord::new()).collect();
    v.into_boxed_slice()
        .try_into()
        .unwrap_or_else(|_| unreachable!())
}

#[inline]
fn get_or_create<T>(slot: &AtomicPtr<T>, make: fn() -> Box<T>) -> *mut T {
    let p = slot.load(Ordering::Acquire);
    if !p.is_null() {
        return p;
    }
    create(slot, make)
}

#[cold]
fn create<T>(slot: &AtomicPtr<T>, make: fn() -> Box<T>) -> *mut T {
    let fresh = Box::into_raw(make());
    match slot.compare_exchange(
        std::ptr::null_mut(),
        fresh,
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => fresh,
        Err(winner) => {
            // SAFETY: `fresh` was never published; we still own it.
            drop(unsafe { Box::from_raw(fresh) });
            winner
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_word_same_shadow() {
        let t = ShadowTable::new();
        let a = t.word(0x7f00_0000_1000) as *const ShadowWord;
        assert_eq!(a, t.word(0x7f00_0000_1007) as *const _);
        assert_ne!(a, t.word(0x7f00_0000_1008) as *const _);
        assert!(t.existing(0x1000).is_none());
    }
}
