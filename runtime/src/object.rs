//! Objects that racedet owns (`RaceMap`, `RaceCell`): whole-object reads
//! and writes checked against a shadow word embedded in the object, so a
//! check needs no address lookup, reports name the object, and its history
//! dies with it.

use crate::report::{self, CurrentAccess, ObjectDesc};
use crate::rt::{self, enabled, with_thread_checking};
use crate::shadow::shared::SharedReads;
use crate::shadow::{AccessKind, Outcome, ShadowWord};
use crate::site::Site;
use crate::thread::ThreadState;

/// A racedet-owned object (RaceMap, RaceCell, ...) with its shadow inline:
/// whole-object reads and writes, checked without any table lookup, named
/// in reports, and forgotten when the object dies.
pub struct Object {
    word: ShadowWord,
    /// Reads made under the shared side of the object's lock, not yet
    /// folded into `word` (see [`read_shared`](Self::read_shared)).
    reads: SharedReads,
    desc: ObjectDesc,
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Object")
            .field("kind", &self.desc.kind)
            .field("name", &self.desc.name)
            .finish()
    }
}

impl Object {
    /// A new object of `kind` ("RaceMap", ...) created at `site`.
    pub fn new(kind: &'static str, name: Option<&str>, site: Site) -> Object {
        let created_by = if enabled() {
            rt::current_thread_id().map(|t| t.0)
        } else {
            None
        };
        Object {
            word: ShadowWord::new(),
            reads: SharedReads::new(),
            desc: ObjectDesc {
                kind,
                name: name.map(Into::into),
                created_at: site,
                created_by,
            },
        }
    }

    /// A read of the whole object.
    #[inline]
    pub fn read(&self, site: Site) {
        self.access(AccessKind::Read, site);
    }

    /// A write of the whole object.
    #[inline]
    pub fn write(&self, site: Site) {
        self.access(AccessKind::Write, site);
    }

    /// [`read`](Self::read) for a caller that holds the object's own lock
    /// exclusively: no shadow lock is taken.
    ///
    /// # Safety
    /// Every access to this object's history (all of its `read`/`write`
    /// calls, of either kind) happens under one lock of the caller's, and
    /// the caller holds it now so that no other thread can be inside.
    #[inline]
    pub unsafe fn read_exclusive(&self, site: Site) {
        if !enabled() || self.word.is_repeat(AccessKind::Read, rt::fast_cell()) {
            return;
        }
        // SAFETY: forwarded contract.
        unsafe { self.read_exclusive_slow(site) };
    }

    /// [`read`](Self::read) for a caller that holds the object's own
    /// reader-writer lock shared, beside other readers: recorded in the
    /// reading thread's own entry, with no lock and no atomic
    /// read-modify-write on a line other readers write (`shadow/shared.rs`).
    ///
    /// # Safety
    /// Every check of this object happens under one reader-writer lock of
    /// the caller's: `read_shared` under its shared side, every other one
    /// (`read`, `write`, [`read_exclusive`](Self::read_exclusive),
    /// [`write_exclusive`](Self::write_exclusive)) under its exclusive
    /// side; and the caller holds the shared side now.
    #[inline]
    pub unsafe fn read_shared(&self, site: Site) {
        if !enabled() || self.word.is_repeat(AccessKind::Read, rt::fast_cell()) {
            return;
        }
        // SAFETY: forwarded contract.
        unsafe { self.read_shared_slow(site) };
    }

    /// [`write`](Self::write) under the object's own exclusive lock.
    ///
    /// # Safety
    /// As for [`read_exclusive`](Self::read_exclusive).
    #[inline]
    pub unsafe fn write_exclusive(&self, site: Site) {
        // SAFETY: forwarded contract.
        unsafe { self.access_exclusive(AccessKind::Write, site) }
    }

    #[inline(always)]
    fn access(&self, kind: AccessKind, site: Site) {
        if !enabled() || self.word.is_repeat(kind, rt::fast_cell()) {
            return;
        }
        self.access_slow(kind, site);
    }

    /// # Safety
    /// As for [`read_exclusive`](Self::read_exclusive).
    #[inline(always)]
    unsafe fn access_exclusive(&self, kind: AccessKind, site: Site) {
        if !enabled() || self.word.is_repeat(kind, rt::fast_cell()) {
            return;
        }
        // SAFETY: forwarded contract.
        unsafe { self.access_exclusive_slow(kind, site) };
    }

    #[inline(never)]
    fn access_slow(&self, kind: AccessKind, site: Site) {
        with_thread_checking(move |thr| {
            // SAFETY: a shared read runs only while every other check of
            // this object is excluded (`read_shared`'s contract), so none
            // runs now.
            let outcome = unsafe {
                self.word
                    .check_whole_locked(&thr.accessor(), kind, site, &self.reads)
            };
            self.after_check(thr, kind, site, outcome);
        });
    }

    /// # Safety
    /// As for [`read_exclusive`](Self::read_exclusive).
    #[inline(never)]
    unsafe fn access_exclusive_slow(&self, kind: AccessKind, site: Site) {
        with_thread_checking(move |thr| {
            // SAFETY: the caller's lock excludes every other access to this
            // word's state (forwarded contract).
            let outcome = unsafe {
                self.word
                    .check_whole_exclusive(&thr.accessor(), kind, site, &self.reads)
            };
            self.after_check(thr, kind, site, outcome);
        });
    }

    /// # Safety
    /// As for [`read_exclusive`](Self::read_exclusive).
    #[inline(never)]
    unsafe fn read_exclusive_slow(&self, site: Site) {
        let done = with_thread_checking(move |thr| {
            // SAFETY: the caller's lock excludes every other access to this
            // word's state (forwarded contract).
            let done = unsafe {
                self.word
                    .reread_exclusive(&thr.accessor(), site, &self.reads)
            };
            if done {
                thr.sites.note(thr.id, site);
            }
            done
        });
        if done != Some(true) {
            // SAFETY: forwarded contract.
            unsafe { self.access_exclusive_slow(AccessKind::Read, site) };
        }
    }

    /// # Safety
    /// As for [`read_shared`](Self::read_shared).
    #[inline(never)]
    unsafe fn read_shared_slow(&self, site: Site) {
        with_thread_checking(move |thr| {
            // SAFETY: forwarded contract; `thr` is this thread's.
            let outcome = unsafe {
                self.word
                    .check_read_shared(&thr.accessor(), site, &self.reads)
            };
            self.after_check(thr, AccessKind::Read, site, outcome);
        });
    }

    #[inline(always)]
    fn after_check(&self, thr: &mut ThreadState, kind: AccessKind, site: Site, outcome: Outcome) {
        match outcome {
            Outcome::Repeat => {}
            Outcome::Recorded => thr.sites.note(thr.id, site),
            Outcome::Race(conflict) => {
                thr.sites.note(thr.id, site);
                self.report(thr, kind, site, conflict);
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn report(
        &self,
        thr: &ThreadState,
        kind: AccessKind,
        site: Site,
        conflict: crate::shadow::Conflict,
    ) {
        let cur = CurrentAccess {
            kind,
            addr: self as *const Self as usize,
            size: 8,
            site,
        };
        report::race(thr, cur, conflict, Some(&self.desc));
    }

    /// Forgets all history (exclusive access proved by `&mut`).
    pub fn reset(&mut self) {
        self.word.reset();
        self.reads.reset();
    }

    pub fn name(&self) -> Option<&str> {
        self.desc.name.as_deref()
    }
}
