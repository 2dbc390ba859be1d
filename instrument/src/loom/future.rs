//! `loom::future`: [`block_on`] and [`AtomicWaker`], over racedet's thread
//! parking and mutex, so that a wake-up orders the waker before the woken.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::sync::Mutex;
use crate::thread::{self, Thread};

/// Runs `f` to completion on the current thread, parking while it is
/// pending, as `loom::future::block_on`. A wake unparks the thread:
/// everything before the wake happens-before the next poll.
///
/// ```
/// assert_eq!(racedet::future::block_on(async { 6 * 7 }), 42);
/// ```
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A registered waker that another thread can wake, as
/// `loom::future::AtomicWaker` (and `futures`' `AtomicWaker`): register →
/// wake and wake → the next register are ordered, as the real one's
/// acquire/release state transitions order them.
#[derive(Default)]
pub struct AtomicWaker {
    waker: Mutex<Option<Waker>>,
}

impl AtomicWaker {
    /// No waker registered.
    pub fn new() -> AtomicWaker {
        AtomicWaker::default()
    }

    /// Registers `waker`, replacing the previous one.
    pub fn register(&self, waker: Waker) {
        *self.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(waker);
    }

    /// Registers a clone of `waker` (unless it would wake the same task).
    pub fn register_by_ref(&self, waker: &Waker) {
        let mut slot = self.waker.lock().unwrap_or_else(|e| e.into_inner());
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    /// Wakes the registered waker, if any (it is consumed).
    pub fn wake(&self) {
        if let Some(w) = self.take_waker() {
            w.wake();
        }
    }

    /// Takes the registered waker.
    pub fn take_waker(&self) -> Option<Waker> {
        self.waker.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl fmt::Debug for AtomicWaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtomicWaker").finish_non_exhaustive()
    }
}
