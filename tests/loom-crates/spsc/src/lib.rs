//! A bounded lock-free single-producer single-consumer ring buffer.
//!
//! The producer writes a slot, then publishes it by advancing `tail` with
//! `Release`; the consumer's `Acquire` load of `tail` makes the slot's write
//! visible. Symmetrically the consumer frees slots by advancing `head`.
//! The `mutant` feature publishes with `Relaxed`: the slot's write and read
//! are then unordered, a data race.

mod sync {
    #[cfg(loom)]
    pub(crate) use loom::{
        cell::UnsafeCell,
        sync::Arc,
        sync::atomic::{AtomicUsize, Ordering},
    };
    #[cfg(not(loom))]
    pub(crate) use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
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

use std::mem::MaybeUninit;

use sync::{Arc, AtomicUsize, Ordering, UnsafeCell};

#[cfg(not(feature = "mutant"))]
const PUBLISH: Ordering = Ordering::Release;
#[cfg(feature = "mutant")]
const PUBLISH: Ordering = Ordering::Relaxed;

struct Ring<T> {
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
    /// Next slot to read (written by the consumer only).
    head: AtomicUsize,
    /// Next slot to write (written by the producer only).
    tail: AtomicUsize,
}

// SAFETY: a slot is accessed by one side at a time, handed over by the
// head/tail indices; values cross threads, so `T: Send`.
unsafe impl<T: Send> Sync for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Ring<T> {}

/// The sending half.
pub struct Producer<T> {
    ring: Arc<Ring<T>>,
}

/// The receiving half.
pub struct Consumer<T> {
    ring: Arc<Ring<T>>,
}

/// A queue holding at most `capacity` items.
///
/// # Panics
/// If `capacity` is 0.
pub fn channel<T>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    assert!(capacity > 0);
    let slots = (0..capacity)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let ring = Arc::new(Ring {
        slots,
        head: AtomicUsize::new(0),
        tail: AtomicUsize::new(0),
    });
    (Producer { ring: ring.clone() }, Consumer { ring })
}

impl<T> Producer<T> {
    /// Appends `v`, or hands it back if the queue is full.
    ///
    /// # Errors
    /// `Err(v)` when full.
    pub fn push(&self, v: T) -> Result<(), T> {
        let r = &*self.ring;
        let tail = r.tail.load(Ordering::Relaxed);
        if tail - r.head.load(Ordering::Acquire) == r.slots.len() {
            return Err(v);
        }
        let slot = &r.slots[tail % r.slots.len()];
        // SAFETY: the slot is free (the consumer advanced past it).
        slot.with_mut(|p| unsafe { (*p).write(v) }); // race: slot written
        r.tail.store(tail + 1, PUBLISH);
        Ok(())
    }
}

impl<T> Consumer<T> {
    /// Removes the oldest item, if any.
    pub fn pop(&self) -> Option<T> {
        let r = &*self.ring;
        let head = r.head.load(Ordering::Relaxed);
        if head == r.tail.load(Ordering::Acquire) {
            return None;
        }
        let slot = &r.slots[head % r.slots.len()];
        // SAFETY: the slot was filled and published by the producer.
        let v = slot.with(|p| unsafe { (*p).assume_init_read() }); // race: slot read
        r.head.store(head + 1, Ordering::Release);
        Some(v)
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        let (head, tail) = (
            self.head.load(Ordering::Relaxed),
            self.tail.load(Ordering::Relaxed),
        );
        for i in head..tail {
            let slot = &self.slots[i % self.slots.len()];
            // SAFETY: slots between head and tail hold values; the last
            // `Arc` owner is ordered after both sides.
            slot.with_mut(|p| unsafe { (*p).assume_init_drop() });
        }
    }
}
