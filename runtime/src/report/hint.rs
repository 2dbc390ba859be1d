//! The closing `hint:` line of a report on a racedet-owned object: the fix
//! for the pattern seen, pointing to docs/fixes.md. Chosen from facts the
//! engine knows precisely, most specific first.

use crate::locks::HeldLock;

/// What the engine knows about a race, for choosing a hint.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    pub current_is_write: bool,
    pub previous_is_write: bool,
    pub current_locks: Vec<HeldLock>,
    /// `None` when the earlier access's locks are unknown.
    pub previous_locks: Option<Vec<HeldLock>>,
    /// A relaxed atomic load by the current thread read a value published
    /// after the earlier access: an Acquire load would have ordered them.
    pub relaxed_publication: bool,
    /// The earlier access's thread finished and nobody joined it.
    pub previous_thread_unjoined: bool,
}

const DOC: &str = "docs/fixes.md";

/// The hint for `f`, if a pattern applies.
pub fn choose(f: &Facts) -> Option<String> {
    if f.relaxed_publication {
        return Some(format!(
            "the earlier access was published through a Relaxed atomic that this thread read: \
             store with Ordering::Release and load with Ordering::Acquire (see {DOC}#relaxed-publication)"
        ));
    }
    let shared_only = |locks: &[HeldLock]| !locks.is_empty() && locks.iter().all(|l| !l.exclusive);
    let prev_locks = f.previous_locks.as_deref();
    if (f.current_is_write && shared_only(&f.current_locks))
        || (f.previous_is_write && prev_locks.is_some_and(shared_only))
    {
        return Some(format!(
            "a write happened while holding only a read lock: take the write lock (write()) for changes \
             (see {DOC}#write-under-read-lock)"
        ));
    }
    if f.previous_thread_unjoined {
        return Some(format!(
            "the earlier access's thread finished but was never joined: join it before using what it wrote \
             (see {DOC}#join-threads)"
        ));
    }
    match (f.current_locks.is_empty(), prev_locks.map(|l| l.is_empty())) {
        (true, Some(true)) => Some(format!(
            "no lock was held by either access: guard the object with a RwLock (read() to look up, write() \
             to change), or give it one owner thread fed by a channel (see {DOC}#no-lock)"
        )),
        (false, Some(false)) => Some(format!(
            "both accesses held locks, but not a common one: use the same lock on both paths \
             (see {DOC}#different-locks)"
        )),
        (_, Some(_)) => Some(format!(
            "only one of the two accesses held a lock: every access must take the same lock \
             (see {DOC}#one-side-locked)"
        )),
        (_, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(exclusive: bool) -> HeldLock {
        HeldLock {
            addr: 0x10,
            exclusive,
        }
    }

    #[test]
    fn picks_the_most_specific_pattern() {
        let base = Facts {
            previous_locks: Some(vec![]),
            ..Default::default()
        };
        assert!(choose(&base).unwrap().contains("#no-lock"));
        let f = Facts {
            relaxed_publication: true,
            ..base.clone()
        };
        assert!(choose(&f).unwrap().contains("#relaxed-publication"));
        let f = Facts {
            current_is_write: true,
            current_locks: vec![lock(false)],
            ..base.clone()
        };
        assert!(choose(&f).unwrap().contains("#write-under-read-lock"));
        let f = Facts {
            previous_is_write: true,
            previous_locks: Some(vec![lock(false)]),
            ..base.clone()
        };
        assert!(choose(&f).unwrap().contains("#write-under-read-lock"));
        let f = Facts {
            previous_thread_unjoined: true,
            ..base.clone()
        };
        assert!(choose(&f).unwrap().contains("#join-threads"));
        let f = Facts {
            current_locks: vec![lock(true)],
            ..base.clone()
        };
        assert!(choose(&f).unwrap().contains("#one-side-locked"));
        let f = Facts {
            current_locks: vec![lock(true)],
            previous_locks: Some(vec![lock(true)]),
            ..base
        };
        assert!(choose(&f).unwrap().contains("#different-locks"));
        assert!(
            choose(&Facts::default()).is_none(),
            "unknown earlier locks: no guess"
        );
    }
}
