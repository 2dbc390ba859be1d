//! One entry per thread slot next to a shared object, each on its own cache
//! line, allocated sixteen slots at a time on first use.
//!
//! Two lock-free paths keep per-thread data beside a shared object: the read
//! unlocks of a reader-writer lock (`sync/readers.rs`) and the reads of an
//! object made under its lock's shared side (`shadow/shared.rs`). Each
//! thread writes only its own slot's entry; a cache line per entry keeps
//! readers on different cores from writing the same line. Allocating by
//! chunks keeps a lock or map used by a few threads at 1 KiB, while up to
//! [`PER_SLOT`] threads (a thread pool on a large server) still get an
//! entry each instead of falling back to a spin lock.
//!
//! Who may touch an entry when is the users' contract; this type only owns
//! the memory. A chunk, once installed, stays until the owner is dropped.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::once_ptr;

/// Slots that get an entry.
pub(crate) const PER_SLOT: usize = 64;
const CHUNK: usize = 16;
const CHUNKS: usize = PER_SLOT / CHUNK;

#[repr(align(64))]
struct Padded<T>(UnsafeCell<T>);

struct Chunk<T>([Padded<T>; CHUNK]);

/// The entries of slots `0..PER_SLOT`.
pub(crate) struct PerSlot<T> {
    chunks: [AtomicPtr<Chunk<T>>; CHUNKS],
}

// SAFETY: the entries are plain data behind `UnsafeCell`s; the users'
// contracts say which thread may touch which entry when.
unsafe impl<T: Send> Sync for PerSlot<T> {}
// SAFETY: as above; nothing in an entry is tied to a thread.
unsafe impl<T: Send> Send for PerSlot<T> {}

impl<T: Default> PerSlot<T> {
    pub(crate) const fn new() -> PerSlot<T> {
        PerSlot {
            chunks: [const { AtomicPtr::new(std::ptr::null_mut()) }; CHUNKS],
        }
    }

    /// Entry `i`, if its chunk exists. `i < PER_SLOT`.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> Option<&UnsafeCell<T>> {
        debug_assert!(i < PER_SLOT);
        // SAFETY: chunks are only set by `install` and freed by `Drop`.
        unsafe { once_ptr::get(&self.chunks[i / CHUNK]) }.map(|c| &c.0[i % CHUNK].0)
    }

    /// Entry `i`, allocating its chunk if this is its first use.
    /// `i < PER_SLOT`.
    #[inline]
    pub(crate) fn get_or_alloc(&self, i: usize) -> &UnsafeCell<T> {
        if let Some(e) = self.get(i) {
            return e;
        }
        let make = || {
            Chunk(std::array::from_fn(|_| {
                Padded(UnsafeCell::new(T::default()))
            }))
        };
        // SAFETY: as in `get`.
        let chunk = unsafe { once_ptr::install(&self.chunks[i / CHUNK], make) };
        &chunk.0[i % CHUNK].0
    }

    /// Every allocated entry; the caller's contract says it may touch them.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&UnsafeCell<T>)) {
        for c in &self.chunks {
            let p = c.load(Ordering::Acquire);
            if !p.is_null() {
                // SAFETY: as in `get`.
                for e in unsafe { &(*p).0 } {
                    f(&e.0);
                }
            }
        }
    }

    /// Every allocated entry, mutably (exclusive by `&mut self`).
    pub(crate) fn for_each_mut(&mut self, mut f: impl FnMut(&mut T)) {
        for c in &mut self.chunks {
            let p = *c.get_mut();
            if !p.is_null() {
                // SAFETY: as in `get`; `&mut self` excludes every other use.
                for e in unsafe { &mut (*p).0 } {
                    f(e.0.get_mut());
                }
            }
        }
    }

    /// Whether any chunk is allocated.
    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        self.chunks
            .iter()
            .any(|c| !c.load(Ordering::Acquire).is_null())
    }
}

impl<T> Drop for PerSlot<T> {
    fn drop(&mut self) {
        for c in &mut self.chunks {
            once_ptr::free(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_allocated_on_first_use_and_entries_are_lines_apart() {
        let s: PerSlot<u64> = PerSlot::new();
        assert!(!s.is_allocated());
        assert!(s.get(3).is_none());
        let a = s.get_or_alloc(3).get() as usize;
        let b = s.get_or_alloc(4).get() as usize;
        assert_eq!(b - a, 64, "a cache line per entry");
        assert!(s.get(0).is_some(), "the chunk holds slots 0..16");
        assert!(s.get(PER_SLOT - 1).is_none(), "later chunks are not");
        assert!(s.get_or_alloc(PER_SLOT - 1).get() as usize != a);
    }
}
