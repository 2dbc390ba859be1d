//! Which racedet locks this thread holds, kept with detection on or off, for
//! the lock elision of [`RaceMap`](crate::collections::RaceMap) reads
//! (`biased_lock/elision.rs`).
//!
//! The detector's own lockset (for reports) is kept only while detection is
//! on, so it can be stale after detection was switched on or off with locks
//! held. Elision decides memory safety, so it needs a record that is never
//! wrong in the unsafe direction: this one may miss locks that are held,
//! but it never names a lock that is not.
//!
//! A lock is named by a *tag*: its address, with the low bit set for
//! exclusive holds (a racedet lock is at least 8-aligned, so the bit is
//! free). A guard adds its tag when it is created, if recording has started
//! and the record has room, remembers whether it did, and if so removes one
//! entry with that tag when it is dropped (guards are not `Send`, so both
//! happen on this thread). Entries with equal tags are interchangeable: for
//! every tag, the entries are exactly the recorded live guards with that
//! tag, however guards are dropped (out of order, or never, after
//! `mem::forget`). So an entry always stands for a guard that is alive,
//! and a live guard holds its lock. Guards created before recording started
//! (see [`start`]) or past [`CAP`] are simply not known.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// Entries kept per thread; deeper nesting is not recorded.
const CAP: usize = 8;

/// Set once some lock may elide by this record (the first `RaceMap` whose
/// bias was revoked for good): until then guards skip it, and programs
/// without such maps pay one load per lock operation.
static RECORDING: AtomicBool = AtomicBool::new(false);

struct Held {
    tags: [Cell<usize>; CAP],
    len: Cell<usize>,
}

thread_local! {
    static HELD: Held = const {
        Held {
            tags: [const { Cell::new(0) }; CAP],
            len: Cell::new(0),
        }
    };
}

#[inline(always)]
fn tag(addr: usize, exclusive: bool) -> usize {
    debug_assert_eq!(addr & 1, 0, "racedet locks are at least 2-aligned");
    addr | exclusive as usize
}

/// Whether guards record themselves yet.
#[inline(always)]
pub(crate) fn recording() -> bool {
    RECORDING.load(Ordering::Relaxed)
}

/// Starts recording (idempotent). Guards created before miss the record,
/// which only makes it name fewer locks.
pub(crate) fn start() {
    if !RECORDING.load(Ordering::Relaxed) {
        RECORDING.store(true, Ordering::Relaxed);
    }
}

/// A guard of the lock at `addr` was created on this thread: records it
/// if recording has started and there is room. Returns whether it did; the
/// guard passes that to [`released`].
#[inline(always)]
pub(crate) fn acquired(addr: usize, exclusive: bool) -> bool {
    // The test stays inline and the work out of line: a lock's guard must
    // stay small enough to be inlined into its caller.
    RECORDING.load(Ordering::Relaxed) && record(tag(addr, exclusive))
}

#[inline(never)]
fn record(t: usize) -> bool {
    // `Held` has no destructor, so the thread-local is never gone.
    HELD.with(|h| {
        let n = h.len.get();
        if n == CAP {
            return false;
        }
        h.tags[n].set(t);
        h.len.set(n + 1);
        true
    })
}

/// A guard of the lock at `addr` that [`acquired`] recorded (`recorded`) is
/// being dropped, before the real unlock. Unrecorded guards skip all of
/// it: an eliding read relies on a lock found in the record, so releasing
/// a lock that is not in it needs no conversion either.
#[inline(always)]
pub(crate) fn released(recorded: bool, addr: usize, exclusive: bool) {
    if recorded {
        forget(tag(addr, exclusive));
    }
}

#[inline(never)]
fn forget(t: usize) {
    crate::biased_lock::elision::lock_released();
    HELD.with(|h| {
        let n = h.len.get();
        // Usually the last one taken; otherwise any entry with the tag
        // will do, and the last entry fills its place.
        let Some(i) = h.tags[..n].iter().rposition(|c| c.get() == t) else {
            debug_assert!(false, "a recorded guard's entry is missing");
            return;
        };
        h.tags[i].set(h.tags[n - 1].get());
        h.len.set(n - 1);
    });
}

/// Whether this thread holds the lock at `addr`: `Some(true)` exclusively,
/// `Some(false)` shared, `None` not as far as the record knows.
#[inline]
pub(crate) fn holds(addr: usize) -> Option<bool> {
    HELD.with(|h| {
        let n = h.len.get();
        let mut shared = false;
        for c in h.tags[..n].iter().rev() {
            let t = c.get();
            if t & !1 == addr {
                if t & 1 == 1 {
                    return Some(true);
                }
                shared = true;
            }
        }
        shared.then_some(false)
    })
}

/// The last recorded lock this thread holds exclusively, if any.
#[inline]
pub(crate) fn exclusive() -> Option<usize> {
    HELD.with(|h| {
        let n = h.len.get();
        h.tags[..n]
            .iter()
            .rev()
            .map(Cell::get)
            .find(|t| t & 1 == 1)
            .map(|t| t & !1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` on a fresh thread (an empty record) with recording on.
    fn on_thread(f: impl FnOnce() + Send + 'static) {
        start();
        std::thread::spawn(f).join().unwrap();
    }

    #[test]
    fn records_modes_and_forgets_on_release() {
        on_thread(|| {
            assert_eq!(holds(0x1000), None);
            let a = acquired(0x1000, false);
            assert!(a);
            assert_eq!(holds(0x1000), Some(false));
            assert_eq!(exclusive(), None);
            let b = acquired(0x2000, true);
            assert_eq!(holds(0x2000), Some(true));
            assert_eq!(exclusive(), Some(0x2000));
            released(b, 0x2000, true);
            assert_eq!(holds(0x2000), None);
            released(a, 0x1000, false);
            assert_eq!(holds(0x1000), None);
        });
    }

    #[test]
    fn out_of_order_release_keeps_the_others() {
        on_thread(|| {
            let a = acquired(0x1000, true);
            let b = acquired(0x2000, false);
            let c = acquired(0x3000, true);
            released(a, 0x1000, true);
            assert_eq!(holds(0x1000), None);
            assert_eq!(holds(0x2000), Some(false));
            assert_eq!(holds(0x3000), Some(true));
            released(c, 0x3000, true);
            released(b, 0x2000, false);
            assert_eq!(holds(0x2000), None);
        });
    }

    #[test]
    fn a_lock_held_twice_stays_held_until_both_go() {
        on_thread(|| {
            let a = acquired(0x1000, false);
            let b = acquired(0x1000, false);
            released(a, 0x1000, false);
            assert_eq!(holds(0x1000), Some(false));
            released(b, 0x1000, false);
            assert_eq!(holds(0x1000), None);
        });
    }

    #[test]
    fn past_the_capacity_guards_are_not_recorded_and_nothing_is_lost() {
        on_thread(|| {
            let guards: Vec<_> = (0..CAP + 4)
                .map(|i| (0x1000 * (i + 1), acquired(0x1000 * (i + 1), true)))
                .collect();
            assert!(guards[..CAP].iter().all(|g| g.1));
            assert!(guards[CAP..].iter().all(|g| !g.1));
            // The unrecorded ones are simply not known.
            assert_eq!(holds(0x1000 * (CAP + 1)), None);
            for &(addr, recorded) in guards.iter().rev() {
                released(recorded, addr, true);
                assert_eq!(holds(addr), None);
            }
            // Room again.
            assert!(acquired(0x1000, true));
        });
    }

    #[test]
    fn guards_from_before_recording_started_are_not_known() {
        std::thread::spawn(|| {
            // A guard from before recording, as `RECORDING` stands now or
            // not: released with what it was told.
            let early = false;
            start();
            let late = acquired(0x1000, true);
            released(early, 0x5000, false);
            assert_eq!(holds(0x1000), Some(true));
            released(late, 0x1000, true);
            assert_eq!(holds(0x1000), None);
        })
        .join()
        .unwrap();
    }
}
