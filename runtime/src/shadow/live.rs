//! Live-word counts for the address table's shadow pages.
//!
//! `reset_range` (an object freed) clears its words and returns the shadow
//! pages wholly inside the range to the OS. A small object shares its
//! shadow pages with its neighbours, so its pages used to stay resident
//! after it was freed, and a program churning small objects over a
//! spreading heap kept the shadow of every address its heap had ever used
//! (`reliability_churn`: +40–70% RSS over 20 rounds, still climbing in some
//! runs).
//!
//! So each leaf counts, per *group* of [`GROUP_WORDS`] words, the words
//! holding any history. A word enters the count when its first access is
//! recorded (under its stripe lock, before its state is written) and leaves
//! it when a reset clears it. A group whose count falls to zero becomes a
//! *candidate*; the table releases a candidate's shadow pages (the dense
//! fast-path cells and the full states, each a whole number of pages) with
//! `madvise(MADV_DONTNEED)` only after many more groups have emptied
//! (`table.rs`), and only if no word of it was used again in between.
//! Releasing at once made a churn test 9x slower: a batch of small objects
//! empties and refills the same group over and over, and every release
//! cost a system call and then a page fault per page on the next use.
//!
//! A release must not zero a word that another thread is filling at that
//! moment (a new object allocated in the same 8 KiB): the releaser turns
//! the candidate mark into [`RELEASING`] with a compare-and-swap, and a
//! first access waits for that mark to clear before it counts itself in
//! and writes. A first access that came first clears the candidate mark,
//! and the releaser's compare-and-swap fails.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Held across every release, so that `fork` (which takes it, `fork.rs`)
/// never leaves a child with a group marked [`RELEASING`] by a thread that
/// does not exist there: its first access to that group would wait forever.
static RELEASE_LOCK: AtomicBool = AtomicBool::new(false);

/// `fork` support: no release runs from here until [`unlock_after_fork`].
pub(crate) fn lock_for_fork() {
    crate::spin::acquire(&RELEASE_LOCK);
}

/// Releases what [`lock_for_fork`] took (in the parent and in the child).
pub(crate) fn unlock_after_fork() {
    crate::spin::release(&RELEASE_LOCK);
}

/// Words per group: 8 KiB of application memory, whose shadow is 4 pages
/// of fast-path cells (16 bytes a word) and 18 pages of states (72 bytes a
/// word); `table.rs` asserts both are whole pages.
pub(crate) const GROUP_WORDS: usize = 1024;

/// Set (with a count of zero) while the group waits to be released.
const CANDIDATE: u32 = 1 << 30;
/// Set (with a count of zero) while the group's pages are being released.
const RELEASING: u32 = 1 << 31;

/// The number of words of one group that hold history, with the two marks
/// above. All-zero bytes are a valid (empty) count, as the table's
/// zero-mapped leaves need.
#[derive(Default)]
pub(crate) struct LiveWords(AtomicU32);

impl LiveWords {
    /// A word of the group is about to record its first access. Called
    /// under that word's stripe lock, before its state is written; waits
    /// while the group's pages are being released, and withdraws the group
    /// from release.
    pub(crate) fn enter(&self) {
        let mut c = self.0.load(Ordering::Relaxed);
        loop {
            if c & RELEASING != 0 {
                std::hint::spin_loop();
                c = self.0.load(Ordering::Relaxed);
                continue;
            }
            // Acquire: the state written after this comes after a release
            // that finished before the count read here.
            match self.0.compare_exchange_weak(
                c,
                (c & !CANDIDATE) + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => c = now,
            }
        }
    }

    /// `n` words of the group were reset (they held history and are empty
    /// now). Returns `true` if that emptied the group and made it a
    /// candidate: the caller queues it for [`try_release`](Self::try_release).
    pub(crate) fn leave(&self, n: u32) -> bool {
        if n == 0 {
            return false;
        }
        let before = self.0.fetch_sub(n, Ordering::AcqRel);
        debug_assert!(
            before & !(CANDIDATE | RELEASING) >= n,
            "more words left than entered"
        );
        before == n
            && self
                .0
                .compare_exchange(0, CANDIDATE, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Runs `release` (which returns the group's pages) if the group is
    /// still an untouched candidate, with every first access to it held
    /// off until `release` returns. Returns whether it ran.
    pub(crate) fn try_release(&self, release: impl FnOnce()) -> bool {
        if self.0.load(Ordering::Relaxed) != CANDIDATE {
            return false;
        }
        crate::spin::acquire(&RELEASE_LOCK);
        let won = self
            .0
            .compare_exchange(CANDIDATE, RELEASING, Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
        if won {
            release();
            // Release: first accesses waiting in `enter` write after the
            // pages were zeroed.
            self.0.store(0, Ordering::Release);
        }
        crate::spin::release(&RELEASE_LOCK);
        won
    }

    #[cfg(test)]
    pub(crate) fn raw(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_word_to_leave_makes_the_group_a_candidate() {
        let live = LiveWords::default();
        live.enter();
        live.enter();
        assert!(!live.leave(1), "one word still holds history");
        assert!(!live.leave(0), "leaving nothing changes nothing");
        assert!(live.leave(1));
        let mut released = 0;
        assert!(live.try_release(|| released += 1));
        assert_eq!((released, live.raw()), (1, 0));
        assert!(!live.try_release(|| released += 1), "released once");
    }

    #[test]
    fn a_word_used_again_withdraws_the_candidate() {
        let live = LiveWords::default();
        live.enter();
        assert!(live.leave(1));
        live.enter();
        assert_eq!(live.raw(), 1, "the mark is gone, the word counted");
        assert!(!live.try_release(|| panic!("a live group was released")));
        // Emptied again: a candidate again.
        assert!(live.leave(1));
        assert!(live.try_release(|| {}));
    }

    #[test]
    fn a_first_access_during_a_release_waits_for_it() {
        use std::sync::atomic::AtomicBool;
        let live = LiveWords::default();
        live.enter();
        assert!(live.leave(1));
        let zeroed = AtomicBool::new(false);
        std::thread::scope(|s| {
            let mut waiter = None;
            live.try_release(|| {
                // A first access arriving now must wait until the pages are
                // zeroed, or its state would be wiped with them.
                waiter = Some(s.spawn(|| {
                    live.enter();
                    zeroed.load(Ordering::Acquire)
                }));
                std::thread::sleep(std::time::Duration::from_millis(50));
                zeroed.store(true, Ordering::Release);
            });
            let saw_zeroed = waiter.expect("released").join().unwrap();
            assert!(saw_zeroed, "a first access got in during the release");
        });
        assert_eq!(live.raw(), 1);
    }
}
