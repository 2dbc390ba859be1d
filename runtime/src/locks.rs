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

/// A thread's current locks and the sets it has numbered so far.
#[derive(Debug, Default)]
pub struct LockState {
    pub held: Vec<HeldLock>,
    /// Lockset id of `held`.
    pub id: u8,
    /// Sets numbered so far, with a cheap fingerprint; index = id - 1.
    known: Vec<(u64, Vec<HeldLock>)>,
}

fn fingerprint(set: &[HeldLock]) -> u64 {
    set.iter().fold(set.len() as u64, |h, l| {
        h.rotate_left(5) ^ ((l.addr as u64) << 1 | l.exclusive as u64)
    })
}

/// (thread, lockset id) → the locks of that set.
type Published = HashMap<(ThreadId, u8), Vec<HeldLock>>;

static PUBLISHED: Mutex<Option<Published>> = Mutex::new(None);

impl LockState {
    pub fn acquired(&mut self, thread: ThreadId, lock: HeldLock) {
        self.held.push(lock);
        self.renumber(thread);
    }

    pub fn released(&mut self, thread: ThreadId, addr: usize) {
        if let Some(i) = self.held.iter().rposition(|l| l.addr == addr) {
            self.held.remove(i);
        }
        self.renumber(thread);
    }

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
            .insert((thread, self.id), self.held.clone());
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
            g.as_ref()?.get(&(thread, id)).cloned()
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
        m.retain(|(t, _), _| !threads.contains(t));
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
}
