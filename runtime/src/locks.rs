//! Which racedet locks a thread held at each access (TSan's "Mutex M held").
//!
//! A thread's set of held locks changes only at lock and unlock, which are
//! rare next to accesses. Each distinct set a thread holds gets a small
//! per-thread number (a *lockset id*, one byte), stored in every recorded
//! access for free (the access record has a spare byte). Sets are published
//! to a global table when first seen, so a report can name the locks the
//! *earlier* access held, long after that thread moved on.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::thread::ThreadId;

/// A held lock.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub struct HeldLock {
    pub addr: usize,
    /// `false` for the shared (read) side of a reader-writer lock.
    pub exclusive: bool,
}

/// Lockset id meaning "no lock held".
pub const NO_LOCKS: u8 = 0;
/// Lockset id meaning "more distinct sets than fit in a byte: unknown".
pub const UNKNOWN_LOCKS: u8 = u8::MAX;

/// One remembered lockset transition: from the set numbered `from` (with
/// the lock kind in bit 8 for acquires), through the lock at `addr`, to the
/// set numbered `to`. Two compares decide a hit.
#[derive(Copy, Clone, Debug)]
struct Transition {
    from: u16,
    addr: usize,
    to: u8,
}

impl Transition {
    /// Matches no transition: `from` keys are at most `0x1FF`.
    const NONE: Transition = Transition {
        from: u16::MAX,
        addr: 0,
        to: 0,
    };
}

impl Default for Transition {
    fn default() -> Self {
        Transition::NONE
    }
}

/// The key of a transition from set `id` by a lock of kind `exclusive`;
/// `None` for [`UNKNOWN_LOCKS`], which names many sets and so no
/// transition.
#[inline]
fn transition_key(id: u8, exclusive: bool) -> Option<u16> {
    (id != UNKNOWN_LOCKS).then_some(id as u16 | (exclusive as u16) << 8)
}

/// A thread's current locks and the sets it has numbered so far.
#[derive(Debug, Default)]
pub struct LockState {
    pub held: Vec<HeldLock>,
    /// Lockset id of `held`.
    pub id: u8,
    /// Sets numbered so far, with a cheap fingerprint; index = id - 1.
    known: Vec<(u64, Vec<HeldLock>)>,
    /// The last acquire that renumbered, per lock kind (shared, exclusive).
    /// An id other than [`UNKNOWN_LOCKS`] names exactly one set, and ids
    /// never change meaning (`known` only grows), so the same lock acquired
    /// from the same id always leads to the same id: a loop that takes and
    /// releases the same locks finds its ids here without a search. One entry
    /// per kind, so that a loop mixing read and write locks of one
    /// reader-writer lock hits both.
    acquire_memo: [Transition; 2],
    /// The last release that renumbered.
    release_memo: Transition,
}

fn fingerprint(set: &[HeldLock]) -> u64 {
    set.iter().fold(set.len() as u64, |h, l| {
        h.rotate_left(5) ^ ((l.addr as u64) << 1 | l.exclusive as u64)
    })
}

/// (thread, lockset id) → the locks of that set.
/// Per thread, its numbered locksets. Keyed by thread first so that
/// forgetting a finished thread is one removal, not a pass over every
/// thread's sets (the pass was 3% of a thread-churn workload).
type Published = HashMap<ThreadId, HashMap<u8, Vec<HeldLock>>>;

static PUBLISHED: Mutex<Option<Published>> = Mutex::new(None);

impl LockState {
    #[inline]
    pub fn acquired(&mut self, thread: ThreadId, lock: HeldLock) {
        self.held.push(lock);
        let Some(key) = transition_key(self.id, lock.exclusive) else {
            self.renumber(thread);
            return;
        };
        let m = self.acquire_memo[lock.exclusive as usize];
        if m.from == key && m.addr == lock.addr {
            self.id = m.to;
            return;
        }
        self.renumber(thread);
        self.acquire_memo[lock.exclusive as usize] = Transition {
            from: key,
            addr: lock.addr,
            to: self.id,
        };
    }

    #[inline]
    pub fn released(&mut self, thread: ThreadId, addr: usize) {
        // Locks are mostly released in reverse order: the last one is a pop.
        if self.held.last().is_some_and(|l| l.addr == addr) {
            self.held.pop();
        } else if let Some(i) = self.held.iter().rposition(|l| l.addr == addr) {
            self.held.remove(i);
        }
        if self.held.is_empty() {
            self.id = NO_LOCKS;
            return;
        }
        let Some(key) = transition_key(self.id, false) else {
            self.renumber(thread);
            return;
        };
        let m = self.release_memo;
        if m.from == key && m.addr == addr {
            self.id = m.to;
            return;
        }
        self.renumber(thread);
        self.release_memo = Transition {
            from: key,
            addr,
            to: self.id,
        };
    }

    #[inline(never)]
    fn renumber(&mut self, thread: ThreadId) {
        if self.held.is_empty() {
            self.id = NO_LOCKS;
            return;
        }
        let fp = fingerprint(&self.held);
        if let Some(i) = self
            .known
            .iter()
            .position(|(f, s)| *f == fp && *s == self.held)
        {
            self.id = (i + 1) as u8;
            return;
        }
        if self.known.len() + 1 >= UNKNOWN_LOCKS as usize {
            self.id = UNKNOWN_LOCKS;
            return;
        }
        self.known.push((fp, self.held.clone()));
        self.id = self.known.len() as u8;
        let mut g = PUBLISHED.lock().unwrap_or_else(|e| e.into_inner());
        g.get_or_insert_with(HashMap::new)
            .entry(thread)
            .or_default()
            .insert(self.id, self.held.clone());
    }
}

/// `fork` support: holds the lockset table's lock across the fork.
pub(crate) fn lock_for_fork(guards: &mut Vec<Box<dyn std::any::Any>>) {
    guards.push(Box::new(
        PUBLISHED.lock().unwrap_or_else(|e| e.into_inner()),
    ));
}

/// The locks `thread` held in lockset `id`; `None` if unknown.
pub fn lookup(thread: ThreadId, id: u8) -> Option<Vec<HeldLock>> {
    match id {
        NO_LOCKS => Some(Vec::new()),
        UNKNOWN_LOCKS => None,
        _ => {
            let g = PUBLISHED.lock().unwrap_or_else(|e| e.into_inner());
            g.as_ref()?.get(&thread)?.get(&id).cloned()
        }
    }
}

/// Forgets the locksets of threads no report can name any more.
pub fn forget_threads(threads: &[ThreadId]) {
    if threads.is_empty() {
        return;
    }
    let mut g = PUBLISHED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = g.as_mut() {
        for t in threads {
            m.remove(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_numbered_and_published() {
        let t = ThreadId(9_000_001);
        let mut s = LockState::default();
        assert_eq!(s.id, NO_LOCKS);
        s.acquired(
            t,
            HeldLock {
                addr: 0x10,
                exclusive: true,
            },
        );
        let a = s.id;
        assert_ne!(a, NO_LOCKS);
        s.acquired(
            t,
            HeldLock {
                addr: 0x20,
                exclusive: false,
            },
        );
        let ab = s.id;
        assert_ne!(ab, a);
        s.released(t, 0x20);
        assert_eq!(s.id, a, "the same set gets the same id");
        s.released(t, 0x10);
        assert_eq!(s.id, NO_LOCKS);
        assert_eq!(lookup(t, ab).unwrap().len(), 2);
        assert_eq!(lookup(t, NO_LOCKS), Some(vec![]));
    }

    /// The id a lockset must have: its number among the sets seen so far.
    fn expected_id(s: &LockState) -> u8 {
        if s.held.is_empty() {
            return NO_LOCKS;
        }
        s.known
            .iter()
            .position(|(_, set)| *set == s.held)
            .map_or(UNKNOWN_LOCKS, |i| (i + 1) as u8)
    }

    fn lock(addr: usize) -> HeldLock {
        HeldLock {
            addr,
            exclusive: true,
        }
    }

    #[test]
    fn repeated_transitions_reuse_their_ids() {
        let t = ThreadId(9_000_002);
        let mut s = LockState::default();
        for _ in 0..3 {
            s.acquired(t, lock(0x10));
            assert_eq!(s.id, 1);
            s.acquired(t, lock(0x20));
            assert_eq!(s.id, 2);
            s.released(t, 0x20);
            assert_eq!(s.id, 1);
            s.released(t, 0x10);
            assert_eq!(s.id, NO_LOCKS);
        }
        // The other side of the same lock, right after the exclusive side
        // was remembered, is another set.
        s.acquired(t, lock(0x10));
        s.released(t, 0x10);
        s.acquired(
            t,
            HeldLock {
                addr: 0x10,
                exclusive: false,
            },
        );
        assert_eq!((s.id, expected_id(&s)), (3, 3));
        s.released(t, 0x10);
        assert_eq!(s.id, NO_LOCKS);
        // The same lock from another set, and another lock from the same
        // set, are not the remembered transitions.
        s.acquired(t, lock(0x20));
        assert_eq!((s.id, expected_id(&s)), (4, 4));
        s.acquired(t, lock(0x30));
        assert_eq!(s.id, expected_id(&s));
        assert_eq!(lookup(t, s.id).unwrap(), vec![lock(0x20), lock(0x30)]);
        // Out-of-order release.
        s.released(t, 0x20);
        assert_eq!(s.held, vec![lock(0x30)]);
        assert_eq!(s.id, expected_id(&s));
    }

    #[test]
    fn unknown_sets_never_use_a_remembered_transition() {
        let t = ThreadId(9_000_003);
        let mut s = LockState::default();
        let (r1, z, r2, q, x) = (0x100, 0x200, 0x300, 0x400, 0x500);
        // Known: [r1], [r1 z], [r1 z r2], [r1 z r2 x], [r1 r2 x].
        for a in [r1, z, r2, x] {
            s.acquired(t, lock(a));
        }
        s.released(t, z);
        let r1_r2_x = s.id;
        assert_eq!(
            lookup(t, r1_r2_x).unwrap(),
            vec![lock(r1), lock(r2), lock(x)]
        );
        for a in [r1, r2, x] {
            s.released(t, a);
        }
        // Fill the table.
        for a in 0..300 {
            s.acquired(t, lock(0x1000 + a));
            s.released(t, 0x1000 + a);
        }
        // Remember "x from an unknown set gives an unknown set" ...
        for a in [r1, z, r2, q, x] {
            s.acquired(t, lock(a));
        }
        assert_eq!(s.id, UNKNOWN_LOCKS);
        for a in [x, q, z] {
            s.released(t, a);
            assert_eq!(s.id, expected_id(&s));
        }
        // ... which must not decide for another unknown set ([r1 r2] was
        // never seen) whose successor is known.
        assert_eq!(s.id, UNKNOWN_LOCKS);
        s.acquired(t, lock(x));
        assert_eq!(s.id, r1_r2_x);
        // And a release from an unknown set is not a remembered one either.
        s.released(t, x);
        assert_eq!(s.id, UNKNOWN_LOCKS);
        s.released(t, r2);
        assert_eq!(s.id, 1, "[r1] is the first set numbered");
    }

    #[test]
    fn forgetting_a_thread_drops_its_sets_and_only_its_sets() {
        let (gone, kept) = (ThreadId(9_000_101), ThreadId(9_000_102));
        for t in [gone, kept] {
            let mut s = LockState::default();
            s.acquired(
                t,
                HeldLock {
                    addr: 0x40,
                    exclusive: true,
                },
            );
            assert!(lookup(t, s.id).is_some_and(|l| l.len() == 1));
        }
        forget_threads(&[gone]);
        assert_eq!(lookup(gone, 1), None);
        assert!(lookup(kept, 1).is_some_and(|l| l[0].addr == 0x40));
    }
}
