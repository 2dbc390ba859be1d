//! A one-shot channel: one value, sent once, received once.
//!
//! The sender writes the value into the slot, then publishes it by storing
//! `FULL` with `Release`; the receiver claims it with an `Acquire` CAS
//! `FULL` → `TAKEN` and moves the value out. The `mutant` feature publishes
//! with `Relaxed`: the receiver's take then races with the sender's write.

mod sync {
    #[cfg(loom)]
    pub(crate) use loom::{
        cell::UnsafeCell,
        sync::atomic::{AtomicU8, Ordering},
        thread::yield_now,
    };
    #[cfg(not(loom))]
    pub(crate) use std::{
        sync::atomic::{AtomicU8, Ordering},
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

use sync::{AtomicU8, Ordering, UnsafeCell, yield_now};

#[cfg(loom)]
use loom::sync::Arc;
#[cfg(not(loom))]
use std::sync::Arc;

#[cfg(not(feature = "mutant"))]
const PUBLISH: Ordering = Ordering::Release;
#[cfg(feature = "mutant")]
const PUBLISH: Ordering = Ordering::Relaxed;

const EMPTY: u8 = 0;
const FULL: u8 = 1;
const TAKEN: u8 = 2;

struct Slot<T> {
    state: AtomicU8,
    value: UnsafeCell<Option<T>>,
}

// SAFETY: the value is handed over once, through `state`.
unsafe impl<T: Send> Sync for Slot<T> {}

/// The sending half.
pub struct Sender<T> {
    slot: Arc<Slot<T>>,
}

/// The receiving half.
pub struct Receiver<T> {
    slot: Arc<Slot<T>>,
}

/// A new channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Slot {
        state: AtomicU8::new(EMPTY),
        value: UnsafeCell::new(None),
    });
    (Sender { slot: slot.clone() }, Receiver { slot })
}

impl<T> Sender<T> {
    /// Sends `v` (consuming the sender: one value per channel).
    pub fn send(self, v: T) {
        // SAFETY: only the sender touches the slot before `FULL`.
        self.slot.value.with_mut(|p| unsafe { *p = Some(v) }); // race: value written
        self.slot.state.store(FULL, PUBLISH);
    }
}

impl<T> Receiver<T> {
    /// The value, if it has been sent and not yet received.
    pub fn try_recv(&self) -> Option<T> {
        self.slot
            .state
            .compare_exchange(FULL, TAKEN, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        // SAFETY: the CAS gave this receiver the slot, after the send.
        self.slot.value.with_mut(|p| unsafe { (*p).take() }) // race: value taken
    }

    /// Waits for the value.
    pub fn recv(self) -> T {
        loop {
            if let Some(v) = self.try_recv() {
                return v;
            }
            yield_now();
        }
    }
}
