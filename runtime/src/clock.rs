//! Vector clocks and epochs (Lamport 1978; Mattern 1989; the epoch
//! optimisation of FastTrack, Flanagan & Freund, PLDI 2009).
//!
//! A [`VectorClock`] maps each thread *slot* to the last logical time of that
//! slot that the owner has observed. An [`Epoch`] `c@s` is a single entry of a
//! clock: "time `c` of slot `s`". An access made at epoch `c@s` happens-before
//! a thread whose clock is `C` exactly when `c <= C[s]`.
//!
//! Invariants:
//! * clock value 0 never names a live epoch: a thread's own entry starts at 1,
//!   so a packed shadow cell of all zeroes means "no access recorded";
//! * a clock never has trailing zero entries beyond what was explicitly set
//!   (missing entries read as 0), so clocks stay as short as the highest slot
//!   they have heard of.

use smallvec::SmallVec;

/// Index of a thread slot. Slots are reused once a finished thread's history
/// is dominated by the thread that takes the slot over (see `thread.rs`).
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Default)]
pub struct Slot(pub u16);

impl Slot {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A point in one slot's history: `clock @ slot`.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Epoch {
    pub slot: Slot,
    pub clock: u32,
}

impl Epoch {
    pub const fn new(slot: Slot, clock: u32) -> Epoch {
        Epoch { slot, clock }
    }
}

#[cold]
fn saturated_warning() {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        // Not `eprintln!`: this can run under a sync-object lock, and std's
        // stderr lock may be held by a thread waiting for that lock.
        crate::report::write_stderr(
            "racedet: a thread slot's clock reached its limit (2^32 releases); \
             races involving it may go unreported from now on\n",
        );
    }
}

/// Clocks of up to 8 slots live inline, which covers most programs without
/// any allocation (the thread count of a typical test is small).
const INLINE: usize = 8;

/// A vector clock indexed by [`Slot`]. Missing entries are 0.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct VectorClock {
    entries: SmallVec<[u32; INLINE]>,
}

impl std::fmt::Debug for VectorClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries.iter()).finish()
    }
}

impl VectorClock {
    pub const fn new() -> VectorClock {
        VectorClock {
            entries: SmallVec::new_const(),
        }
    }

    /// Builds a clock from explicit entries (tests and replay).
    pub fn from_slice(entries: &[u32]) -> VectorClock {
        VectorClock {
            entries: SmallVec::from_slice(entries),
        }
    }

    #[inline]
    pub fn get(&self, slot: Slot) -> u32 {
        self.entries.get(slot.index()).copied().unwrap_or(0)
    }

    pub fn set(&mut self, slot: Slot, value: u32) {
        let i = slot.index();
        if i >= self.entries.len() {
            if value == 0 {
                return;
            }
            self.entries.resize(i + 1, 0);
        }
        self.entries[i] = value;
    }

    /// Advances this clock's own entry for `slot` by one and returns the new value.
    ///
    /// A slot's time saturates at `u32::MAX` (4 billion releases by the
    /// threads that held it) instead of wrapping: later accesses of that slot
    /// then share one epoch, which can hide races of that slot (never invent
    /// one) — the detector must not crash its host. A one-time warning says so.
    #[inline]
    pub fn tick(&mut self, slot: Slot) -> u32 {
        // Every release ticks: keep the common case (the entry exists and
        // is far from the limit) free of the growth and warning paths.
        if let Some(e) = self.entries.get_mut(slot.index())
            && let Some(n) = e.checked_add(1)
        {
            *e = n;
            return n;
        }
        self.tick_slow(slot)
    }

    #[inline(never)]
    fn tick_slow(&mut self, slot: Slot) -> u32 {
        let cur = self.get(slot);
        let next = match cur.checked_add(1) {
            Some(n) => n,
            None => {
                saturated_warning();
                cur
            }
        };
        self.set(slot, next);
        next
    }

    /// `self := self ⊔ other` (element-wise max). TSan calls this `Acquire`.
    /// Returns whether any entry grew (a longer `other` whose extra entries
    /// are 0 changes nothing: missing entries read as 0).
    pub fn join(&mut self, other: &VectorClock) -> bool {
        if other.entries.len() > self.entries.len() {
            self.entries.resize(other.entries.len(), 0);
        }
        let mut grew = false;
        for (mine, theirs) in self.entries.iter_mut().zip(other.entries.iter()) {
            if *theirs > *mine {
                *mine = *theirs;
                grew = true;
            }
        }
        grew
    }

    /// `true` if the access at `epoch` happens-before the owner of this clock.
    #[inline]
    pub fn covers(&self, epoch: Epoch) -> bool {
        epoch.clock <= self.get(epoch.slot)
    }

    /// `self ⊑ other`: every entry of `self` is at most the matching entry of `other`.
    pub fn le(&self, other: &VectorClock) -> bool {
        self.entries
            .iter()
            .enumerate()
            .all(|(i, &c)| c <= other.get(Slot(i as u16)))
    }

    /// Sets an entry that already exists (index below [`len`](Self::len));
    /// returns `false`, changing nothing, if it does not.
    #[inline]
    pub fn set_existing(&mut self, slot: Slot, value: u32) -> bool {
        match self.entries.get_mut(slot.index()) {
            Some(e) => {
                *e = value;
                true
            }
            None => false,
        }
    }

    /// `self := other` without reallocating when it fits.
    #[inline]
    pub fn assign(&mut self, other: &VectorClock) {
        let n = other.entries.len();
        if self.entries.len() != n {
            self.entries.resize(n, 0);
        }
        // An element loop, not `copy_from_slice`: clocks are a handful of
        // entries, where a `memcpy` call costs more than the copy.
        for (d, s) in self.entries.iter_mut().zip(other.entries.iter()) {
            *d = *s;
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(|&c| c == 0)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Non-zero entries as `(slot, clock)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = Epoch> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != 0)
            .map(|(i, &c)| Epoch::new(Slot(i as u16), c))
    }

    pub fn as_slice(&self) -> &[u32] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `le` in both directions for two clocks written as slices.
    fn assert_order(a: &[u32], b: &[u32], a_le_b: bool, b_le_a: bool) {
        let (a, b) = (VectorClock::from_slice(a), VectorClock::from_slice(b));
        assert_eq!(a.le(&b), a_le_b, "{a:?} <= {b:?}");
        assert_eq!(b.le(&a), b_le_a, "{b:?} <= {a:?}");
    }

    #[test]
    fn order_table() {
        assert_order(&[], &[], true, true);
        assert_order(&[1], &[1], true, true);
        assert_order(&[1], &[2], true, false);
        assert_order(&[1, 0, 0], &[1], true, true);
        assert_order(&[1, 2], &[2, 1], false, false);
        assert_order(&[0, 0, 3], &[5, 5], false, false);
        assert_order(&[0, 0, 3], &[5, 5, 3], true, false);
    }

    #[test]
    fn tick_saturates_instead_of_panicking() {
        let mut c = VectorClock::from_slice(&[u32::MAX - 1]);
        assert_eq!(c.tick(Slot(0)), u32::MAX);
        assert_eq!(c.tick(Slot(0)), u32::MAX);
    }

    #[test]
    fn join_is_elementwise_max() {
        let mut a = VectorClock::from_slice(&[1, 5]);
        a.join(&VectorClock::from_slice(&[3, 2, 7]));
        assert_eq!(a.as_slice(), &[3, 5, 7]);
    }

    #[test]
    fn covers_and_tick() {
        let mut c = VectorClock::new();
        assert!(!c.covers(Epoch::new(Slot(3), 1)));
        assert_eq!(c.tick(Slot(3)), 1);
        assert!(c.covers(Epoch::new(Slot(3), 1)));
        assert!(!c.covers(Epoch::new(Slot(3), 2)));
        c.set(Slot(9), 0);
        assert_eq!(c.len(), 4, "setting 0 past the end must not grow the clock");
    }
}
