//! A sequence lock: writers serialise on an odd/even sequence number,
//! readers copy the data optimistically and retry if a writer intervened.
//!
//! Readers see only relaxed atomic words (Boehm's seqlock: `Acquire` load of
//! the sequence, relaxed data loads, `fence(Acquire)`, relaxed re-load), so
//! they never race. Writers also keep the authoritative value in an
//! `UnsafeCell` for `update`'s read-modify-write: a writer takes the lock
//! with an `Acquire` CAS (even → odd) and releases it with a `Release` store
//! of the next even number, which orders one writer's cell accesses before
//! the next writer's. The `mutant` feature releases with `Relaxed`: two
//! writers' cell accesses then race.

mod sync {
    #[cfg(loom)]
    pub(crate) use loom::{
        cell::UnsafeCell,
        sync::atomic::{AtomicUsize, Ordering, fence},
        thread::yield_now,
    };
    #[cfg(not(loom))]
    pub(crate) use std::{
        sync::atomic::{AtomicUsize, Ordering, fence},
        thread::yield_now,
    };

    /// std's cell with loom's closure API.
    #[cfg(not(loom))]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    #[cfg(not(loom))]
    impl<T> UnsafeCell<T> {
        pub(crate) fn new(v: T) -> Self {
            Self(std::cell::UnsafeCell::new(v))
        }
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

use sync::{AtomicUsize, Ordering, UnsafeCell, fence, yield_now};

#[cfg(not(feature = "mutant"))]
const UNLOCK: Ordering = Ordering::Release;
#[cfg(feature = "mutant")]
const UNLOCK: Ordering = Ordering::Relaxed;

/// A pair of numbers read consistently without locking.
pub struct SeqLock {
    seq: AtomicUsize,
    a: AtomicUsize,
    b: AtomicUsize,
    /// The writers' copy, accessed only under the write lock.
    master: UnsafeCell<(usize, usize)>,
}

// SAFETY: `master` is only accessed by the writer holding the sequence
// lock; everything else is atomic.
unsafe impl Sync for SeqLock {}

impl SeqLock {
    /// A lock holding `(a, b)`.
    pub fn new(a: usize, b: usize) -> SeqLock {
        SeqLock {
            seq: AtomicUsize::new(0),
            a: AtomicUsize::new(a),
            b: AtomicUsize::new(b),
            master: UnsafeCell::new((a, b)),
        }
    }

    /// Replaces the pair with `f(a, b)`.
    pub fn update(&self, f: impl FnOnce(usize, usize) -> (usize, usize)) {
        let mut s = self.seq.load(Ordering::Relaxed);
        loop {
            if s % 2 == 1 {
                yield_now();
                s = self.seq.load(Ordering::Relaxed);
                continue;
            }
            match self
                .seq
                .compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        // Orders the odd sequence number before the data stores below.
        fence(Ordering::Release);
        // SAFETY: we hold the write lock.
        let (a, b) = self.master.with(|p| unsafe { *p }); // race: master read
        let (a, b) = f(a, b);
        // SAFETY: as above.
        self.master.with_mut(|p| unsafe { *p = (a, b) }); // race: master written
        self.a.store(a, Ordering::Relaxed);
        self.b.store(b, Ordering::Relaxed);
        self.seq.store(s + 2, UNLOCK);
    }

    /// A consistent copy of the pair.
    pub fn read(&self) -> (usize, usize) {
        loop {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 % 2 == 1 {
                yield_now();
                continue;
            }
            let a = self.a.load(Ordering::Relaxed);
            let b = self.b.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s1 {
                return (a, b);
            }
        }
    }
}
