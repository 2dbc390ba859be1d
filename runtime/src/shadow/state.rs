//! The per-location happens-before state: FastTrack with exact fallbacks.
//!
//! For one memory location (a byte, or a group of bytes always accessed
//! together) we keep four *histories*: plain writes, plain reads, atomic
//! writes and atomic reads. Each history is either empty, one access (an
//! *epoch*, FastTrack's common case) or one access per thread slot (a vector
//! clock with call sites: FastTrack's "read-shared" state, used here for
//! writes too).
//!
//! ## Rules (t accesses with clock `C`; `h ⊑ C` means every recorded access
//! of history `h` happens-before `t`)
//!
//! | access        | races with the unordered entries of       | then records                  |
//! |---------------|-------------------------------------------|-------------------------------|
//! | plain read    | writes, atomic writes                     | reads                         |
//! | plain write   | writes, reads, atomic writes, atomic reads| writes; clears the others if ⊑|
//! | atomic load   | writes                                    | atomic reads                  |
//! | atomic store  | writes, reads                             | atomic writes                 |
//! | atomic rmw    | writes, reads                             | atomic reads and writes       |
//!
//! Read–read and atomic–atomic pairs never race.
//!
//! Recording into a history *collapses* it to the single new access when
//! every entry already happens-before `t` (FastTrack's `[READ EXCLUSIVE]` and
//! `[WRITE EXCLUSIVE]`); otherwise it keeps one entry per slot.
//!
//! ## Exactness
//! FastTrack forgets earlier accesses once an access races with them; for
//! the accesses after the first race its verdicts can then differ from a
//! detector that keeps every access (DJIT+). We keep the per-slot form
//! whenever an access is unordered, and collapse only when all entries are
//! ordered, so every verdict equals DJIT+'s. This relies on one property of
//! the clock discipline: a slot's time `c` is only ever published together
//! with its owner's whole clock at that time (release, fork and fence
//! clocks are full snapshots), so `c@t ⊑ C'` implies that everything `t` had
//! seen when it was at `c` is also in `C'`. The differential test in
//! `tests/differential.rs` checks this claim against a DJIT+ reference.

use smallvec::SmallVec;

use crate::clock::{Epoch, Slot, VectorClock};
use crate::site::Site;

/// The kind of an access, as shown in reports.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub enum AccessKind {
    Read,
    Write,
    AtomicLoad,
    AtomicStore,
    AtomicRmw,
}

impl AccessKind {
    /// The word used in report text ("Write at ...", "Previous read at ...").
    pub fn description(self) -> &'static str {
        match self {
            AccessKind::Read => "read",
            AccessKind::Write => "write",
            AccessKind::AtomicLoad => "atomic read",
            AccessKind::AtomicStore => "atomic write",
            AccessKind::AtomicRmw => "atomic read-modify-write",
        }
    }

    pub fn is_write(self) -> bool {
        match self {
            AccessKind::Read | AccessKind::AtomicLoad => false,
            AccessKind::Write | AccessKind::AtomicStore | AccessKind::AtomicRmw => true,
        }
    }

    pub fn is_atomic(self) -> bool {
        match self {
            AccessKind::Read | AccessKind::Write => false,
            AccessKind::AtomicLoad | AccessKind::AtomicStore | AccessKind::AtomicRmw => true,
        }
    }
}

/// One recorded access. All-zero is [`Access::NONE`].
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
pub struct Access {
    pub site: Site,
    pub clock: u32,
    pub slot: Slot,
    /// Size in bytes of the access (ranges are clipped to 255).
    pub size: u8,
    /// Lockset id of the locks the thread held (see `locks.rs`).
    pub locks: u8,
}

impl Access {
    /// No access (clock 0 never names a live epoch).
    pub const NONE: Access = Access {
        site: Site::UNKNOWN,
        clock: 0,
        slot: Slot(0),
        size: 0,
        locks: 0,
    };

    pub fn epoch(&self) -> Epoch {
        Epoch::new(self.slot, self.clock)
    }
}

/// Accesses of one kind to one location: empty, one access that every
/// earlier one happens-before (FastTrack's epoch), or at most one access per
/// slot when some are unordered (FastTrack's read-shared vector clock).
///
/// Representation, chosen so that all-zero bytes are the empty history (the
/// shadow table hands out zeroed pages and returns them to the OS zeroed):
///
/// | `many`  | `one.clock` | meaning            |
/// |---------|-------------|--------------------|
/// | `None`  | 0           | empty              |
/// | `None`  | > 0         | one access, `one`  |
/// | `Some`  | (unused, 0) | the accesses in `many` |
#[derive(Clone, Default, Debug)]
pub struct History {
    one: Access,
    many: Option<Box<SmallVec<[Access; 4]>>>,
}

impl History {
    pub const EMPTY: History = History {
        one: Access::NONE,
        many: None,
    };

    /// The first recorded access that does not happen-before `clock`.
    /// Accesses recorded before detection was last switched on count as
    /// ordered (`period.rs`): the edges made while it was off are unknown.
    #[inline]
    pub fn unordered(&self, clock: &VectorClock) -> Option<Access> {
        self.accesses()
            .iter()
            .find(|a| !clock.covers(a.epoch()) && !crate::period::predates(a.epoch()))
            .copied()
    }

    pub fn is_empty(&self) -> bool {
        self.many.is_none() && self.one.clock == 0
    }

    /// The single access, when the history is in its one-access form.
    pub fn one(&self) -> Option<Access> {
        (self.many.is_none() && self.one.clock != 0).then_some(self.one)
    }

    /// Records `access`, collapsing when every entry is ordered before it.
    pub fn record(&mut self, access: Access, clock: &VectorClock) {
        debug_assert_ne!(access.clock, 0, "epoch 0 never names an access");
        if self.unordered(clock).is_none() {
            *self = History {
                one: access,
                many: None,
            };
            return;
        }
        match &mut self.many {
            Some(list) => match list.iter_mut().find(|a| a.slot == access.slot) {
                Some(entry) => *entry = access,
                None => list.push(access),
            },
            None => {
                let prev = std::mem::replace(&mut self.one, Access::NONE);
                debug_assert_ne!(prev.slot, access.slot, "own accesses are always ordered");
                let mut list = SmallVec::new();
                list.push(prev);
                list.push(access);
                self.many = Some(Box::new(list));
            }
        }
    }

    /// Adds `access`, a read recorded elsewhere while this history could
    /// not be updated (`shared.rs`), as the latest access of its slot,
    /// without a clock to compare with: an entry of the same slot is
    /// replaced (it is older, and a thread's accesses are ordered), the
    /// others stay.
    pub fn merge(&mut self, access: Access) {
        debug_assert_ne!(access.clock, 0, "epoch 0 never names an access");
        match &mut self.many {
            Some(list) => match list.iter_mut().find(|a| a.slot == access.slot) {
                Some(entry) => *entry = access,
                None => list.push(access),
            },
            None if self.one.clock == 0 || self.one.slot == access.slot => self.one = access,
            None => {
                let prev = std::mem::replace(&mut self.one, Access::NONE);
                let mut list = SmallVec::new();
                list.push(prev);
                list.push(access);
                self.many = Some(Box::new(list));
            }
        }
    }

    /// Clears the history if every entry happens-before `clock`.
    fn clear_if_ordered(&mut self, clock: &VectorClock) {
        if self.unordered(clock).is_none() {
            *self = History::EMPTY;
        }
    }

    /// Every recorded access (for reports and tests).
    pub fn accesses(&self) -> &[Access] {
        match &self.many {
            Some(list) => list,
            None if self.one.clock == 0 => &[],
            None => std::slice::from_ref(&self.one),
        }
    }
}

/// Atomic accesses, kept out of line: most locations never see one.
#[derive(Clone, Default, Debug)]
pub struct AtomicHistories {
    pub write: History,
    pub read: History,
}

/// The happens-before state of one location. All-zero bytes are the empty
/// state.
#[derive(Clone, Default, Debug)]
pub struct VarState {
    pub write: History,
    pub read: History,
    pub atomic: Option<Box<AtomicHistories>>,
}

/// An earlier access that the current one races with.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct Conflict {
    pub previous: Access,
    pub previous_kind: AccessKind,
}

impl VarState {
    pub const EMPTY: VarState = VarState {
        write: History::EMPTY,
        read: History::EMPTY,
        atomic: None,
    };

    pub fn is_empty(&self) -> bool {
        self.write.is_empty() && self.read.is_empty() && self.atomic.is_none()
    }

    /// Applies one access by a thread with `clock`; returns the first
    /// unordered earlier access, if any. The state is updated either way.
    pub fn access(
        &mut self,
        kind: AccessKind,
        access: Access,
        clock: &VectorClock,
    ) -> Option<Conflict> {
        if self.ordered_plain_access(kind, || access, clock) {
            return None;
        }
        let conflict = self.check(kind, clock);
        match kind {
            AccessKind::Read => self.read.record(access, clock),
            AccessKind::Write => {
                // Clear before recording: the checks above used the old state.
                self.read.clear_if_ordered(clock);
                if let Some(at) = &mut self.atomic {
                    at.read.clear_if_ordered(clock);
                    at.write.clear_if_ordered(clock);
                    if at.read.is_empty() && at.write.is_empty() {
                        self.atomic = None;
                    }
                }
                self.write.record(access, clock);
            }
            AccessKind::AtomicLoad => self.atomics().read.record(access, clock),
            AccessKind::AtomicStore => self.atomics().write.record(access, clock),
            AccessKind::AtomicRmw => {
                let at = self.atomics();
                at.read.record(access, clock);
                at.write.record(access, clock);
            }
        }
        conflict
    }

    /// FastTrack's common transitions in one pass: a plain access to a
    /// location with no atomics and at most one read and one write
    /// recorded, both ordered before it (`[READ EXCLUSIVE]`, `[WRITE
    /// EXCLUSIVE]`). Returns `false`, changing nothing, for anything else;
    /// the general rules then apply. Same result as the general path, with
    /// each history's single entry compared once.
    #[inline(always)]
    pub(crate) fn ordered_plain_access(
        &mut self,
        kind: AccessKind,
        access: impl FnOnce() -> Access,
        clock: &VectorClock,
    ) -> bool {
        if self.atomic.is_some() || self.write.many.is_some() || self.read.many.is_some() {
            return false;
        }
        // The entries' slice once for both tests (each `covers` would find
        // the inline-or-heap buffer again).
        let entries = clock.as_slice();
        let ordered =
            |a: &Access| a.clock == 0 || entries.get(a.slot.index()).is_some_and(|&c| a.clock <= c);
        match kind {
            AccessKind::Read if ordered(&self.write.one) && ordered(&self.read.one) => {
                self.read.one = access();
                true
            }
            AccessKind::Write if ordered(&self.write.one) && ordered(&self.read.one) => {
                self.read.one = Access::NONE;
                self.write.one = access();
                true
            }
            _ => false,
        }
    }

    /// FastTrack's `[READ EXCLUSIVE]` when the one recorded read is the
    /// reading thread's own (from an earlier epoch of its slot, so ordered
    /// before it) and the one write, if any, is ordered before it: the read
    /// takes its entry over. `false`, changing nothing, for anything else.
    /// The same outcome as [`ordered_plain_access`](Self::ordered_plain_access)
    /// for this case, with one comparison fewer.
    #[inline(always)]
    pub(crate) fn reread_own(
        &mut self,
        slot: Slot,
        access: impl FnOnce() -> Access,
        clock: &VectorClock,
    ) -> bool {
        if self.atomic.is_some()
            || self.write.many.is_some()
            || self.read.many.is_some()
            || self.read.one.slot != slot
            || self.read.one.clock == 0
        {
            return false;
        }
        let w = &self.write.one;
        let write_ordered = w.clock == 0
            || clock
                .as_slice()
                .get(w.slot.index())
                .is_some_and(|&c| w.clock <= c);
        if !write_ordered {
            return false;
        }
        self.read.one = access();
        true
    }

    fn atomics(&mut self) -> &mut AtomicHistories {
        self.atomic.get_or_insert_with(Default::default)
    }

    /// The first earlier access that an access of `kind` by a thread with
    /// `clock` races with; changes nothing.
    pub(super) fn check(&self, kind: AccessKind, clock: &VectorClock) -> Option<Conflict> {
        let found = |h: &History, k: AccessKind| {
            h.unordered(clock).map(|previous| Conflict {
                previous,
                previous_kind: k,
            })
        };
        let at = self.atomic.as_deref();
        let atomic_write = || at.and_then(|a| found(&a.write, AccessKind::AtomicStore));
        let atomic_read = || at.and_then(|a| found(&a.read, AccessKind::AtomicLoad));
        let write = || found(&self.write, AccessKind::Write);
        let read = || found(&self.read, AccessKind::Read);
        match kind {
            AccessKind::Read => write().or_else(atomic_write),
            AccessKind::Write => write()
                .or_else(read)
                .or_else(atomic_write)
                .or_else(atomic_read),
            AccessKind::AtomicLoad => write(),
            AccessKind::AtomicStore | AccessKind::AtomicRmw => write().or_else(read),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(slot: u16, clock: u32) -> Access {
        Access {
            site: Site::UNKNOWN,
            clock,
            slot: Slot(slot),
            size: 8,
            locks: 0,
        }
    }

    fn vc(entries: &[u32]) -> VectorClock {
        VectorClock::from_slice(entries)
    }

    #[test]
    fn same_thread_never_races() {
        let mut s = VarState::default();
        assert!(s.access(AccessKind::Write, acc(0, 1), &vc(&[1])).is_none());
        assert!(s.access(AccessKind::Read, acc(0, 1), &vc(&[1])).is_none());
        assert!(s.access(AccessKind::Write, acc(0, 2), &vc(&[2])).is_none());
    }

    #[test]
    fn write_read_race_and_ordered_read() {
        let mut s = VarState::default();
        s.access(AccessKind::Write, acc(0, 1), &vc(&[1]));
        let c = s.access(AccessKind::Read, acc(1, 1), &vc(&[0, 1])).unwrap();
        assert_eq!(c.previous_kind, AccessKind::Write);
        assert_eq!(c.previous.slot, Slot(0));
        let mut s = VarState::default();
        s.access(AccessKind::Write, acc(0, 1), &vc(&[1]));
        assert!(
            s.access(AccessKind::Read, acc(1, 1), &vc(&[1, 1]))
                .is_none()
        );
    }

    #[test]
    fn read_shared_upgrade_then_write_checks_every_reader() {
        let mut s = VarState::default();
        s.access(AccessKind::Read, acc(0, 1), &vc(&[1]));
        s.access(AccessKind::Read, acc(1, 1), &vc(&[0, 1]));
        assert_eq!(s.read.accesses().len(), 2, "concurrent reads share");
        // A writer that saw thread 0 but not thread 1 races with thread 1's read.
        let c = s
            .access(AccessKind::Write, acc(2, 1), &vc(&[1, 0, 1]))
            .unwrap();
        assert_eq!(c.previous.slot, Slot(1));
        assert_eq!(c.previous_kind, AccessKind::Read);
    }

    #[test]
    fn ordered_reads_stay_exclusive() {
        let mut s = VarState::default();
        s.access(AccessKind::Read, acc(0, 1), &vc(&[1]));
        s.access(AccessKind::Read, acc(1, 1), &vc(&[1, 1]));
        assert!(s.read.one().is_some_and(|a| a.slot == Slot(1)));
    }

    #[test]
    fn write_after_read_shared_collapses_when_ordered() {
        let mut s = VarState::default();
        s.access(AccessKind::Read, acc(0, 1), &vc(&[1]));
        s.access(AccessKind::Read, acc(1, 1), &vc(&[0, 1]));
        assert!(
            s.access(AccessKind::Write, acc(2, 1), &vc(&[1, 1, 1]))
                .is_none()
        );
        assert!(s.read.is_empty());
        assert!(s.write.one().is_some());
    }

    #[test]
    fn write_write_race_keeps_both_writers() {
        let mut s = VarState::default();
        s.access(AccessKind::Write, acc(0, 1), &vc(&[1]));
        assert!(
            s.access(AccessKind::Write, acc(1, 1), &vc(&[0, 1]))
                .is_some()
        );
        // A third thread ordered after thread 1 only still races with thread 0.
        assert!(
            s.access(AccessKind::Read, acc(2, 1), &vc(&[0, 1, 1]))
                .is_some()
        );
        // One ordered after both does not.
        assert!(
            s.access(AccessKind::Read, acc(3, 1), &vc(&[1, 1, 0, 1]))
                .is_none()
        );
    }

    #[test]
    fn atomics_never_race_with_each_other() {
        let mut s = VarState::default();
        s.access(AccessKind::AtomicStore, acc(0, 1), &vc(&[1]));
        assert!(
            s.access(AccessKind::AtomicRmw, acc(1, 1), &vc(&[0, 1]))
                .is_none()
        );
        assert!(
            s.access(AccessKind::AtomicLoad, acc(2, 1), &vc(&[0, 0, 1]))
                .is_none()
        );
    }

    #[test]
    fn atomic_races_with_plain_access() {
        let mut s = VarState::default();
        s.access(AccessKind::AtomicStore, acc(0, 1), &vc(&[1]));
        let c = s.access(AccessKind::Read, acc(1, 1), &vc(&[0, 1])).unwrap();
        assert_eq!(c.previous_kind, AccessKind::AtomicStore);
        let mut s = VarState::default();
        s.access(AccessKind::Write, acc(0, 1), &vc(&[1]));
        assert!(
            s.access(AccessKind::AtomicLoad, acc(1, 1), &vc(&[0, 1]))
                .is_some()
        );
        // An atomic load does not race with a plain read.
        let mut s = VarState::default();
        s.access(AccessKind::Read, acc(0, 1), &vc(&[1]));
        assert!(
            s.access(AccessKind::AtomicLoad, acc(1, 1), &vc(&[0, 1]))
                .is_none()
        );
    }
}
