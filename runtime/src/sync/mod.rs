//! Synchronisation objects: the clocks that carry happens-before between
//! threads (TSan's `SyncVar`, Miri's `VClock` on locks).
//!
//! | operation                        | effect on thread `t` and object `m`          |
//! |----------------------------------|----------------------------------------------|
//! | mutex lock / rwlock write lock   | `C_t ⊔= L_m ⊔ R_m`, `R_m := ⊥`                |
//! | mutex unlock / write unlock      | `L_m := C_t`, new epoch (release-store)      |
//! | rwlock read lock                 | `C_t ⊔= L_m` (never `R_m`: readers do not order each other) |
//! | rwlock read unlock               | `R_m ⊔= C_t`, new epoch                      |
//! | acquire (annotation, recv, once) | `C_t ⊔= L_m`                                 |
//! | release (annotation, send)       | `L_m ⊔= C_t`, new epoch                      |
//!
//! None of these is ever weakened or strengthened, but repeats are cheap:
//! a clock remembers the thread clock version it was last published from
//! (see `ClockVersion` in `thread.rs`), so the publisher's next lock skips
//! the join and its next unlock, if it learnt nothing in between, rewrites
//! one entry instead of the vector (docs/architecture.md, "Lock shortcuts").
//!
//! A `SyncVar` can live inside the object it describes (racedet's own
//! `Mutex`, `RwLock`, channels, atomics), which costs no lookup; raw
//! addresses use the [`SyncTable`].

use std::cell::UnsafeCell;
use std::sync::atomic::AtomicBool;

use crate::clock::VectorClock;
use crate::thread::{ClockVersion, ThreadState};

mod lazy;
mod readers;
mod table;

use readers::FastReaders;

pub use lazy::{ReadHeld, SyncVar};
pub use table::SyncTable;

/// The clocks of one synchronisation object, allocated by its [`SyncVar`]
/// handle on first use with detection on.
///
/// The two halves sit in separate cells because a reader-writer lock's
/// readers use them differently: under the real lock's shared side, read
/// locks only *read* `Released` (at the same time as each other, without
/// this object's spin lock), while read unlocks *write* `ReadReleased`
/// (under the spin lock, since they also run at the same time). Nobody forms
/// a `&mut` to a half another thread may be reading.
pub struct Clocks {
    lock: AtomicBool,
    released: UnsafeCell<Released>,
    read_released: UnsafeCell<ReadReleased>,
    /// Per-reader entries of `R_m` that read unlocks write without the spin
    /// lock (`readers.rs`).
    fast: FastReaders,
}

/// What unlocks, release stores and sends publish.
#[derive(Default, Debug)]
struct Released {
    /// `L_m`.
    clock: VectorClock,
    /// Version of the thread clock whose release-store last set `clock`,
    /// while nothing else changed `clock` since. That thread's clock covers
    /// `clock` (clocks only grow), so its next lock needs no join; and while
    /// its version is unchanged its next unlock rewrites only its own entry
    /// (`ThreadState::release_store_tracked`).
    stored: Option<ClockVersion>,
    /// Epoch of the latest atomic store or RMW to this location: only for
    /// the report hint on Relaxed publication (see `atomic::note_relaxed`).
    last_store: Option<crate::clock::Epoch>,
}

/// What the read-unlocks of a rwlock publish (for the next writer only).
#[derive(Default, Debug)]
struct ReadReleased {
    /// `R_m`.
    clock: VectorClock,
    /// Version of the thread clock last joined into `clock`, while nothing
    /// else changed `clock` since (`ThreadState::release_tracked`).
    joined: Option<ClockVersion>,
    /// Whose clocks `clock` holds since it was last cleared.
    readers: Readers,
}

/// The threads whose read-unlocks `ReadReleased::clock` holds: none (the
/// clock is empty), one thread's (its [`ClockVersion::thread_tag`]; that
/// thread's clock covers the read-unlock clock), or several. One word, as
/// every read unlock updates it.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
struct Readers(u64);

impl Readers {
    const NONE: Readers = Readers(0);
    const MANY: Readers = Readers(u64::MAX);
}

/// Whether `v` is a version of the thread whose clock is `thr`'s (which
/// then covers everything published from `v`).
#[inline]
fn same_thread(v: Option<ClockVersion>, thr: &ThreadState) -> bool {
    v.is_some_and(|v| v.same_thread(thr.version()))
}

// SAFETY: the cells are only accessed under `lock` (see `spin_locked`), or
// under the real lock the object models, per the contracts of the `unsafe`
// methods; see the type's documentation for which half each side touches.
unsafe impl Sync for Clocks {}
// SAFETY: the clocks are plain data.
unsafe impl Send for Clocks {}

impl Default for Clocks {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Clocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clocks").finish_non_exhaustive()
    }
}

impl Clocks {
    pub const fn new() -> Clocks {
        Clocks {
            lock: AtomicBool::new(false),
            released: UnsafeCell::new(Released {
                clock: VectorClock::new(),
                stored: None,
                last_store: None,
            }),
            read_released: UnsafeCell::new(ReadReleased {
                clock: VectorClock::new(),
                joined: None,
                readers: Readers::NONE,
            }),
            fast: FastReaders::new(),
        }
    }

    /// Runs `f` on the released clock, which it may change in any way.
    fn with<R>(&self, f: impl FnOnce(&mut VectorClock) -> R) -> R {
        self.with_released(|c| {
            c.stored = None;
            f(&mut c.clock)
        })
    }

    /// Runs `f` under this object's spin lock.
    #[inline]
    fn spin_locked<R>(&self, f: impl FnOnce() -> R) -> R {
        crate::spin::acquire(&self.lock);
        let r = f();
        crate::spin::release(&self.lock);
        r
    }

    fn with_released<R>(&self, f: impl FnOnce(&mut Released) -> R) -> R {
        // SAFETY: the spin lock is held. The operations that skip it are
        // exclusive-side ones, which by their contracts exclude every other
        // operation on this object, and shared read locks, which by theirs
        // run only while no operation that writes `released` can.
        self.spin_locked(|| f(unsafe { &mut *self.released.get() }))
    }

    /// Like `with_released` for operations that only read `L_m`: they may
    /// run next to shared read locks, which read it too.
    fn with_released_ref<R>(&self, f: impl FnOnce(&Released) -> R) -> R {
        // SAFETY: as in `with_released`; a shared reference also coexists
        // with the shared references of lock-free read locks.
        self.spin_locked(|| f(unsafe { &*self.released.get() }))
    }

    fn with_read_released<R>(&self, f: impl FnOnce(&mut ReadReleased) -> R) -> R {
        // SAFETY: the spin lock is held, and no operation touches
        // `read_released` without it except under the real lock's exclusive
        // side, which excludes this caller.
        self.spin_locked(|| f(unsafe { &mut *self.read_released.get() }))
    }

    fn with_both<R>(&self, f: impl FnOnce(&mut Released, &mut ReadReleased) -> R) -> R {
        self.spin_locked(|| {
            // SAFETY: as in `with_released` and `with_read_released`.
            let (l, r) = unsafe { (&mut *self.released.get(), &mut *self.read_released.get()) };
            f(l, r)
        })
    }

    /// `C_t ⊔= L_m`.
    pub fn acquire(&self, thr: &mut ThreadState) {
        self.with_released_ref(|c| acquire_in(c, thr));
    }

    /// `L_m ⊔= C_t`, then a new epoch.
    pub fn release(&self, thr: &mut ThreadState) {
        self.with(|clock| thr.release(clock));
    }

    /// `L_m := C_t`, then a new epoch.
    pub fn release_store(&self, thr: &mut ThreadState) {
        self.with_released(|c| thr.release_store_tracked(&mut c.clock, &mut c.stored));
    }

    /// Exclusive lock acquired: `C_t ⊔= L_m ⊔ R_m`.
    pub fn lock_acquired(&self, thr: &mut ThreadState) {
        self.with_both(|l, r| lock_acquired_in(l, r, &self.fast, thr));
    }

    /// Exclusive unlock: `L_m := C_t`.
    pub fn unlock(&self, thr: &mut ThreadState) {
        self.with_released(|c| unlock_in(c, thr));
    }

    /// [`lock_acquired`](Self::lock_acquired) without this object's own
    /// lock: the exclusive lock it models already keeps every other thread
    /// out, and its acquire/release orders these plain memory operations.
    ///
    /// # Safety
    /// The calling thread holds the real lock exclusively, and every other
    /// operation on this object also runs under that lock (read-side
    /// operations under its shared side).
    #[inline]
    pub unsafe fn lock_acquired_exclusive(&self, thr: &mut ThreadState) {
        // SAFETY: per the contract no other thread touches the clocks now.
        let (l, r) = unsafe { (&*self.released.get(), &mut *self.read_released.get()) };
        lock_acquired_in(l, r, &self.fast, thr);
    }

    /// [`lock_acquired_exclusive`](Self::lock_acquired_exclusive) of a lock
    /// that has no shared side (a mutex): `C_t ⊔= L_m` alone, without
    /// looking at the read-release clock and entries, which stay empty.
    ///
    /// # Safety
    /// As [`lock_acquired_exclusive`](Self::lock_acquired_exclusive), and no
    /// read lock or read unlock ever runs on this object.
    #[inline]
    pub unsafe fn mutex_lock_acquired(&self, thr: &mut ThreadState) {
        // SAFETY: per the contract no other thread touches the clocks now.
        let l = unsafe { &*self.released.get() };
        debug_assert!(!self.fast.any_claimed(), "a mutex has no readers");
        acquire_in(l, thr);
    }

    /// [`unlock`](Self::unlock) without this object's own lock.
    ///
    /// # Safety
    /// As [`lock_acquired_exclusive`](Self::lock_acquired_exclusive), called
    /// before the real lock is released.
    #[inline]
    pub unsafe fn unlock_exclusive(&self, thr: &mut ThreadState) {
        // SAFETY: per the contract.
        unlock_in(unsafe { &mut *self.released.get() }, thr);
    }

    /// [`unlock_exclusive`](Self::unlock_exclusive) of a reader-writer
    /// lock's write side: also keeps the writer's read-unlock entry joined
    /// (`FastReaders::writer_unlocked`). Mutexes skip it (no read unlocks).
    ///
    /// # Safety
    /// As [`unlock_exclusive`](Self::unlock_exclusive).
    #[inline]
    pub unsafe fn write_unlock_exclusive(&self, thr: &mut ThreadState) {
        // SAFETY: per the contract.
        unsafe {
            self.unlock_exclusive(thr);
            // `L_m` now holds `thr`'s clock.
            self.fast.writer_unlocked(thr);
        }
    }

    /// Shared lock acquired: `C_t ⊔= L_m`.
    pub fn read_lock_acquired(&self, thr: &mut ThreadState) {
        self.acquire(thr);
    }

    /// [`read_lock_acquired`](Self::read_lock_acquired) without this
    /// object's own lock: a read lock only reads `L_m`, which only writers
    /// change, and the real lock keeps writers out while any reader holds it.
    ///
    /// # Safety
    /// The calling thread holds the real lock's shared side, and every
    /// operation on this object that writes the release clock (unlock,
    /// release, release store, `locked`, `locked_atomic`, `reset`, and the
    /// exclusive lock acquisitions) runs under the real lock's exclusive
    /// side. Read locks and read unlocks may run under the shared side.
    #[inline]
    pub unsafe fn read_lock_acquired_shared(&self, thr: &mut ThreadState) {
        let before = thr.version();
        // SAFETY: per the contract nothing writes `released` now; other
        // readers only form shared references to it (read unlocks touch
        // only `read_released`).
        acquire_in(unsafe { &*self.released.get() }, thr);
        if thr.version() != before {
            // SAFETY: the shared side is held (contract), and this is
            // `thr`'s thread.
            unsafe { self.fast.learnt_from_writers(thr, before) };
        }
    }

    /// Shared unlock: `R_m ⊔= C_t`.
    #[inline]
    pub fn read_unlock(&self, thr: &mut ThreadState) {
        self.with_read_released(|r| {
            let own = thr.own_clock();
            let repeated = r.readers != Readers::NONE;
            read_unlock_in(r, thr);
            // SAFETY: the spin lock is held, and this is `thr`'s thread.
            unsafe { self.fast.claim(thr, own, repeated, &mut r.clock) };
        });
    }

    /// [`read_unlock`](Self::read_unlock) that, when this thread's previous
    /// read unlock already published the rest of its clock, stores only its
    /// own time, without the spin lock (`readers.rs`).
    ///
    /// # Safety
    /// The calling thread holds the real lock's shared side, is `thr`'s
    /// thread, and every operation on this object that writes the
    /// read-release clock (`lock_acquired`, `reset`) runs under the real
    /// lock's exclusive side.
    #[inline]
    pub unsafe fn read_unlock_shared(&self, thr: &mut ThreadState) {
        // SAFETY: forwarded contract.
        if unsafe { self.fast.try_read_unlock(thr) } {
            return;
        }
        self.read_unlock(thr);
    }

    /// Runs `f` on the released clock under this object's lock. Atomics
    /// perform the real memory operation inside `f`, so the value a load
    /// reads and the clock it acquires always belong to the same store.
    pub fn locked<R>(&self, f: impl FnOnce(&mut VectorClock) -> R) -> R {
        self.with(f)
    }

    /// Like [`locked`](Self::locked), also handing out the epoch of the
    /// latest store (atomics keep it for report hints).
    pub fn locked_atomic<R>(
        &self,
        f: impl FnOnce(&mut VectorClock, &mut Option<crate::clock::Epoch>) -> R,
    ) -> R {
        self.with_released(|c| {
            c.stored = None;
            f(&mut c.clock, &mut c.last_store)
        })
    }

    /// Forgets all history (object destroyed or reinitialised).
    pub fn reset(&self) {
        self.with_both(|l, r| {
            // SAFETY: the spin lock is held, and resetting an object excludes
            // its other uses, the lock-free read unlocks included.
            unsafe { self.fast.drain(None, true) };
            *l = Released::default();
            *r = ReadReleased::default();
        });
    }
}

/// `C_t ⊔= L_m`, skipped when `t` itself stored `L_m`.
#[inline]
fn acquire_in(c: &Released, thr: &mut ThreadState) {
    if same_thread(c.stored, thr) {
        debug_assert!(c.clock.le(thr.clock()));
        return;
    }
    thr.acquire(&c.clock);
}

#[inline]
fn lock_acquired_in(l: &Released, r: &mut ReadReleased, fast: &FastReaders, thr: &mut ThreadState) {
    acquire_in(l, thr);
    if r.readers != Readers::NONE || fast.any_claimed() {
        join_readers(r, fast, thr);
    }
}

/// The write-lock half for read-unlocks: `C_t ⊔= R_m`, `R_m := ⊥`.
#[inline(never)]
fn join_readers(r: &mut ReadReleased, fast: &FastReaders, thr: &mut ThreadState) {
    let me = Readers(thr.version().thread_tag());
    if (r.readers == Readers::NONE || r.readers == me) && fast.claimed_at_most(thr.slot) {
        // Only this thread published since the last writer, and its own
        // clock covers what it published.
        // SAFETY: writers hold the real lock exclusively, or the spin lock
        // on objects whose readers never skip it (see `read_unlock_shared`).
        unsafe { fast.drain(None, false) };
        debug_assert!(r.clock.le(thr.clock()));
    } else {
        // SAFETY: as above.
        unsafe { fast.drain(Some(&mut r.clock), false) };
        thr.acquire(&r.clock);
    }
    // Everything the readers published is now in `C_t`, and will be in
    // `L_m` after this thread's unlock: the next writer need not join it.
    r.clock.clear();
    r.joined = None;
    r.readers = Readers::NONE;
}

#[inline]
fn unlock_in(c: &mut Released, thr: &mut ThreadState) {
    thr.release_store_tracked(&mut c.clock, &mut c.stored);
}

#[inline]
fn read_unlock_in(r: &mut ReadReleased, thr: &mut ThreadState) {
    thr.release_tracked(&mut r.clock, &mut r.joined);
    let me = Readers(thr.version().thread_tag());
    if r.readers != me {
        r.readers = if r.readers == Readers::NONE {
            me
        } else {
            Readers::MANY
        };
    }
}
