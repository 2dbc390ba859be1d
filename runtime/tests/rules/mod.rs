//! Shared harness of the rule tests (`fasttrack_rules.rs`,
//! `atomic_rules.rs`): threads of one detector instance, accesses to shadow
//! words, and atomic locations composed as `api::atomic_op` composes them.

// Each test binary uses a different subset of the harness.
#![allow(dead_code)]

use std::sync::atomic::Ordering;

use racedet_runtime::atomic;
use racedet_runtime::shadow::{Access, AccessKind, History, ShadowWord, VarState};
use racedet_runtime::site::Site;
use racedet_runtime::sync::SyncVar;
use racedet_runtime::thread::{Registry, ThreadId, ThreadState};

use AccessKind::{AtomicLoad, AtomicRmw, AtomicStore, Read, Write};

/// Threads of one detector instance. Threads made by [`World::thread`] are
/// forked from a main thread that makes no accesses, so they are unordered
/// with each other until the test orders them.
pub struct World {
    pub reg: Registry,
    pub main: ThreadState,
}

impl World {
    pub fn new() -> World {
        let mut reg = Registry::new();
        let main = reg.register_root(Some("main".into()), 0);
        World { reg, main }
    }

    pub fn thread(&mut self) -> ThreadState {
        let token = self.reg.fork(&mut self.main, Site::UNKNOWN, 0);
        self.reg.start(token, None, 0)
    }

    pub fn spawn_from(&mut self, parent: &mut ThreadState) -> ThreadState {
        let token = self.reg.fork(parent, Site::UNKNOWN, 0);
        self.reg.start(token, None, 0)
    }

    pub fn finish(&mut self, t: ThreadState) -> ThreadId {
        let id = t.id;
        self.reg.finish(t);
        id
    }

    pub fn join(&mut self, joiner: &mut ThreadState, child: ThreadId) {
        assert!(self.reg.join(joiner, child), "join of a finished thread");
    }
}

/// `true` if the access of all 8 bytes of `w` by `t` races.
pub fn on(w: &ShadowWord, t: &ThreadState, kind: AccessKind) -> bool {
    w.access(&t.accessor(), kind, 0xFF, 8, Site::UNKNOWN)
        .is_some()
}

pub fn rd(w: &ShadowWord, t: &ThreadState) -> bool {
    on(w, t, Read)
}

pub fn wr(w: &ShadowWord, t: &ThreadState) -> bool {
    on(w, t, Write)
}

/// `from` releases into a fresh sync var and `to` acquires it: `to` is
/// ordered after everything `from` did so far.
pub fn sync(from: &mut ThreadState, to: &mut ThreadState) {
    let v = SyncVar::new();
    v.release(from);
    v.acquire(to);
}

/// An atomic location: its release clock and its shadow word, composed as
/// `api::atomic_op` does (acquire half, shadow access, release half).
#[derive(Default)]
pub struct AtomicLoc {
    pub var: SyncVar,
    pub word: ShadowWord,
}

impl AtomicLoc {
    pub fn op(&self, t: &mut ThreadState, kind: AccessKind, order: Ordering) -> bool {
        self.var.locked(|loc| {
            atomic::before_access(loc, t, kind, order);
            let raced = on(&self.word, t, kind);
            atomic::after_access(loc, t, kind, order);
            raced
        })
    }

    pub fn load(&self, t: &mut ThreadState, order: Ordering) {
        assert!(
            !self.op(t, AtomicLoad, order),
            "atomics never race with atomics"
        );
    }

    /// A failed compare-exchange: a load with the failure ordering.
    pub fn cas_failed(&self, t: &mut ThreadState, failure: Ordering) {
        self.load(t, failure);
    }

    pub fn store(&self, t: &mut ThreadState, order: Ordering) {
        assert!(!self.op(t, AtomicStore, order));
    }

    pub fn rmw(&self, t: &mut ThreadState, order: Ordering) {
        assert!(!self.op(t, AtomicRmw, order));
    }
}

/// A recorded access of `t`, for rules checked on a bare `VarState`.
pub fn access_of(t: &ThreadState) -> Access {
    Access {
        site: Site::UNKNOWN,
        clock: t.clock().get(t.slot),
        slot: t.slot,
        size: 8,
        locks: t.accessor().locks,
    }
}

pub fn apply(s: &mut VarState, t: &ThreadState, kind: AccessKind) -> bool {
    s.access(kind, access_of(t), t.clock()).is_some()
}

pub fn slots(h: &History) -> Vec<u16> {
    let mut v: Vec<u16> = h.accesses().iter().map(|a| a.slot.0).collect();
    v.sort_unstable();
    v
}
