//! [`Barrier`]: a generation-counting barrier with one clock per generation.
//!
//! | operation                   | happens-before effect                                       |
//! |-----------------------------|-------------------------------------------------------------|
//! | `wait` (entering)           | joins the thread's clock into its generation's clock         |
//! | `wait` (returning)          | acquires its generation's clock: every waiter's pre-wait accesses |
//!
//! So all `n` waiters of one generation are ordered before every one of them
//! returns, as std promises. Each generation has its own clock (allocated
//! only while detection is on): a fast thread that already entered the next
//! generation releases into the *next* clock, so it cannot leak its later
//! accesses into a slow thread that is still leaving the previous one.
//!
//! std's `Barrier` gives no hook between "everyone arrived" and "everyone
//! leaves", so this is a re-implementation with std's `Mutex` and `Condvar`
//! (invisible to the detector) and std's semantics: the `n`-th arrival is
//! the leader and wakes the others.
//!
//! If detection is switched on while a generation is half full, the waiters
//! that arrived before have no clock to acquire; detection starting mid-way
//! through a barrier phase is not modelled.

use std::fmt;
use std::sync::Arc;

use racedet_runtime::SyncVar;
use racedet_runtime::api::var;

/// A barrier with the API of [`std::sync::Barrier`].
///
/// # Examples
///
/// ```
/// use racedet::sync::{Arc, Barrier};
///
/// let barrier = Arc::new(Barrier::new(3));
/// let handles: Vec<_> = (0..3)
///     .map(|_| {
///         let b = Arc::clone(&barrier);
///         racedet::thread::spawn(move || b.wait().is_leader())
///     })
///     .collect();
/// let leaders = handles.into_iter().map(|h| h.join().unwrap()).filter(|&l| l).count();
/// assert_eq!(leaders, 1);
/// ```
pub struct Barrier {
    state: std::sync::Mutex<State>,
    cvar: std::sync::Condvar,
    n: usize,
}

struct State {
    count: usize,
    generation: u64,
    /// The current generation's clock, created by its first waiter while
    /// detection is on.
    clock: Option<Arc<SyncVar>>,
}

/// Returned by [`Barrier::wait`]: whether this thread was the leader.
pub struct BarrierWaitResult(bool);

impl Barrier {
    /// A barrier that releases its waiters in groups of `n` (`0` acts as `1`).
    #[must_use]
    #[inline]
    pub const fn new(n: usize) -> Barrier {
        Barrier {
            state: std::sync::Mutex::new(State {
                count: 0,
                generation: 0,
                clock: None,
            }),
            cvar: std::sync::Condvar::new(),
            n,
        }
    }

    /// Blocks until `n` threads have called `wait` in this generation.
    pub fn wait(&self) -> BarrierWaitResult {
        // No user code runs under this lock, so it is never poisoned.
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let clock = if racedet_runtime::enabled() {
            let c = Arc::clone(st.clock.get_or_insert_with(Default::default));
            var::release(&c);
            Some(c)
        } else {
            None
        };
        let generation = st.generation;
        st.count += 1;
        let leader = st.count >= self.n;
        if leader {
            st.count = 0;
            st.generation = st.generation.wrapping_add(1);
            st.clock = None;
            self.cvar.notify_all();
        } else {
            while st.generation == generation {
                st = self.cvar.wait(st).unwrap_or_else(|e| e.into_inner());
            }
        }
        drop(st);
        if let Some(c) = clock {
            var::acquire(&c);
        }
        BarrierWaitResult(leader)
    }
}

impl BarrierWaitResult {
    /// `true` for exactly one thread of each generation.
    #[must_use]
    #[inline]
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").finish_non_exhaustive()
    }
}

impl fmt::Debug for BarrierWaitResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWaitResult")
            .field("is_leader", &self.0)
            .finish()
    }
}
