//! The raw, address-based API: the one narrow surface through which the
//! `racedet` crate (and, later, a `__tsan_*` C ABI) tells the engine about
//! accesses and synchronisation. Every function is a no-op costing one
//! relaxed load and a branch while detection is off, except [`access`] and
//! its wrappers, which first try the same-epoch fast path (a thread-local
//! compare) and read [`enabled`] only when it misses.
//!
//! Addresses are plain `usize`s and call sites are [`Site`]s, never Rust
//! references to the accessed data: the engine works for foreign memory.

use crate::atomic::{self, Ordering};
use crate::clock::VectorClock;
use crate::locks::HeldLock;
use crate::report::{self, CurrentAccess, ObjectDesc};
use crate::rt::{self, enabled, runtime, with_thread, with_thread_same_epoch};
use crate::shadow::table::LEAF_SHIFT;
use crate::shadow::word::cell_for;
use crate::shadow::{AccessKind, Conflict, Outcome, word_masks};
use crate::site::Site;
use crate::sync::{ReadHeld, SyncVar};
use crate::thread::ThreadState;

/// Checks and records an access of `size` bytes at `addr` (any alignment;
/// sizes above 8 or spanning words are split).
///
/// Inline is only the same-epoch fast path for an access inside one word of
/// the leaf this thread used last: a leaf-key compare and a cache-cell
/// compare, both against `rt::FastTls`. Whether detection is on is asked
/// only after a miss (see `FastTls` for why a hit needs no such check).
#[inline]
pub fn access(addr: usize, size: usize, kind: AccessKind, site: Site) {
    let mask = word_mask(addr, size);
    if mask.is_some_and(|mask| fast_hit(addr, mask, kind)) {
        return;
    }
    if enabled() && size != 0 {
        // Often only the leaf cache missed (a loop over two buffers switches
        // leaves on every access): switch leaves and retry the fast path
        // before the full check.
        if let Some(mask) = mask
            && cache_leaf(addr)
            && fast_hit(addr, mask, kind)
        {
            return;
        }
        access_slow(addr, size, kind, site);
    }
}

/// The byte mask of an access inside one word, `None` if it spans words or
/// is longer than 8 bytes. Written so that no size overflows; for a constant
/// size it is one shift. A size of 0 (mask 0) may hit an empty cache: a
/// no-op either way.
#[inline(always)]
fn word_mask(addr: usize, size: usize) -> Option<u8> {
    let offset = addr & 7;
    (size <= 8 - offset).then(|| (((1u16 << size) - 1) << offset) as u8)
}

/// The same-epoch fast path through the thread's cached leaf: `true` if the
/// access to the bytes in `mask` of `addr`'s word needs no work.
#[inline(always)]
fn fast_hit(addr: usize, mask: u8, kind: AccessKind) -> bool {
    rt::with_fast(|f| {
        // No test of the detection period here (`period.rs`): it would
        // cost 5 instructions on every raw access. A thread that has not
        // worked since detection went off and on may take its first access
        // to a word it touched before for a repeat (docs/architecture.md).
        if f.leaf_key.get() != addr >> LEAF_SHIFT {
            return false;
        }
        // SAFETY: the key matches, so `hot_bias` is the one `cache_leaf`
        // derived for this leaf, and adding `addr >> 3` lands on the cells
        // of `addr` inside the leaf's `hot` array. Leaves are never unmapped
        // while the process runs.
        let cells = unsafe { &*f.hot_bias.get().wrapping_add(addr >> 3) };
        cells.is_repeat(kind, cell_for(f.cell.get(), mask))
    })
}

#[inline(never)]
fn access_slow(addr: usize, size: usize, kind: AccessKind, site: Site) {
    rt::with_thread_checking(move |thr| access_in(thr, addr, size, kind, site));
    cache_leaf(addr);
}

/// Points this thread's leaf cache at the leaf of `addr` if it exists (an
/// access creates it unless ignored). Returns whether the cache changed.
#[inline(never)]
fn cache_leaf(addr: usize) -> bool {
    let key = addr >> LEAF_SHIFT;
    if rt::with_fast(|f| f.leaf_key.get()) == key {
        return false;
    }
    let Some(leaf) = rt::started().and_then(|rt| rt.shadow.leaf(addr)) else {
        return false;
    };
    // SAFETY: `leaf` is a live leaf of the runtime's table, which is never
    // dropped, so it stays mapped for the rest of the process.
    let bias = unsafe { (*leaf).hot_bias(addr) };
    rt::with_fast(|f| {
        f.hot_bias.set(bias);
        f.leaf_key.set(key);
    });
    true
}

fn access_in(thr: &mut ThreadState, addr: usize, size: usize, kind: AccessKind, site: Site) {
    let rt = runtime();
    if kind.is_atomic() && !rt.options.report_atomic_races {
        return;
    }
    let outcome = check_words(thr, addr, size, kind, site);
    finish_access(thr, addr, size, kind, site, outcome);
}

/// Checks and records the access in every shadow word it touches. Returns
/// whether any history was recorded and the first conflict found.
fn check_words(
    thr: &ThreadState,
    addr: usize,
    size: usize,
    kind: AccessKind,
    site: Site,
) -> (bool, Option<Conflict>) {
    let rt = runtime();
    let clipped = size.min(u8::MAX as usize) as u8;
    let mut recorded = false;
    let mut race = None;
    let acc = thr.accessor();
    for (word, mask, _) in word_masks(addr, size) {
        match rt.shadow.word(word).check(&acc, kind, mask, clipped, site) {
            Outcome::Repeat => {}
            Outcome::Recorded => recorded = true,
            // One report per access, as TSan; later words are still updated.
            Outcome::Race(c) => {
                recorded = true;
                race = race.or(Some(c));
            }
        }
    }
    (recorded, race)
}

/// The slow half of an access, run with no engine lock held: the site's
/// stack for new history, and the report.
fn finish_access(
    thr: &mut ThreadState,
    addr: usize,
    size: usize,
    kind: AccessKind,
    site: Site,
    (recorded, race): (bool, Option<Conflict>),
) {
    if recorded {
        thr.sites.note(thr.id, site);
    }
    if let Some(conflict) = race {
        let cur = CurrentAccess {
            kind,
            addr,
            size,
            site,
        };
        report::race(thr, cur, conflict, None);
    }
}

/// A plain read of `size` bytes (1, 2, 4, 8 or any range).
#[inline]
pub fn read(addr: usize, size: usize, site: Site) {
    access(addr, size, AccessKind::Read, site);
}

/// A plain write of `size` bytes.
#[inline]
pub fn write(addr: usize, size: usize, site: Site) {
    access(addr, size, AccessKind::Write, site);
}

/// A read of the range `[addr, addr + len)` (memcpy source and the like).
#[inline]
pub fn read_range(addr: usize, len: usize, site: Site) {
    access(addr, len, AccessKind::Read, site);
}

/// A write of the range `[addr, addr + len)`.
#[inline]
pub fn write_range(addr: usize, len: usize, site: Site) {
    access(addr, len, AccessKind::Write, site);
}

/// The memory `[addr, addr + len)` was freed or reused: forget its history
/// and any sync object in it, so a new object there starts clean.
///
/// Works while detection is off too (once the runtime exists): history
/// recorded during an earlier `racedet::check` must not outlive the memory.
pub fn reset_range(addr: usize, len: usize) {
    let Some(rt) = rt::started() else {
        return;
    };
    rt.shadow.reset_range(addr, len);
    rt.sync.reset_range(addr, len);
    crate::ranges::forget(addr, len);
}

/// Names the memory `[addr, addr + len)` for reports: a race on an address
/// inside it is reported as `kind "name"` created at `site`, instead of a
/// bare address. Forgotten by a [`reset_range`] over its start.
pub fn name_range(addr: usize, len: usize, kind: &'static str, name: Option<&str>, site: Site) {
    let created_by = if enabled() {
        rt::current_thread_id().map(|t| t.0)
    } else {
        None
    };
    crate::ranges::name(
        addr,
        len,
        ObjectDesc {
            kind,
            name: name.map(Into::into),
            created_at: site,
            created_by,
        },
    );
}

/// An atomic load at `addr` with `order` (happens-before through the
/// location's release clock; recorded as an atomic read in the shadow).
pub fn atomic_load(addr: usize, size: usize, order: Ordering, site: Site) {
    atomic_op(addr, size, AccessKind::AtomicLoad, order, site);
}

/// An atomic store.
pub fn atomic_store(addr: usize, size: usize, order: Ordering, site: Site) {
    atomic_op(addr, size, AccessKind::AtomicStore, order, site);
}

/// A successful atomic read-modify-write (swap, fetch_*, successful CAS).
pub fn atomic_rmw(addr: usize, size: usize, order: Ordering, site: Site) {
    atomic_op(addr, size, AccessKind::AtomicRmw, order, site);
}

/// A failed compare-exchange: a load with the failure ordering.
pub fn atomic_cas_failed(addr: usize, size: usize, failure: Ordering, site: Site) {
    atomic_op(addr, size, AccessKind::AtomicLoad, failure, site);
}

fn atomic_op(addr: usize, size: usize, kind: AccessKind, order: Ordering, site: Site) {
    if !enabled() {
        return;
    }
    let rt = runtime();
    let check = rt.options.report_atomic_races;
    crate::rt::with_thread_checking_new_epoch(|thr| {
        // The shadow access sits between the operation's acquire and its
        // release (see `atomic::before_access`); all three run under the
        // location's lock so the clock effect stays one atomic step. The
        // report is made after the lock is dropped.
        let outcome = rt.sync.with(addr, true, |var| {
            var.locked_atomic(|loc, last_store| {
                let before = thr.epoch();
                atomic::before_access(loc, thr, kind, order);
                let outcome = if check {
                    check_words(thr, addr, size, kind, site)
                } else {
                    (false, None)
                };
                atomic::after_access(loc, thr, kind, order);
                atomic::note_relaxed(last_store, thr, kind, order, before);
                outcome
            })
        });
        if let Some(outcome) = outcome {
            finish_access(thr, addr, size, kind, site, outcome);
        }
    });
}

/// `fence(order)` on the current thread.
pub fn fence(order: Ordering) {
    if !enabled() {
        return;
    }
    with_thread(|thr| atomic::fence(thr, order));
}

/// Annotation: the current thread acquires what was released at `addr`.
pub fn acquire(addr: usize) {
    if !enabled() {
        return;
    }
    with_thread(|thr| runtime().sync.with(addr, false, |v| v.acquire(thr)));
}

/// Annotation: the current thread releases into `addr` (joins with earlier releases).
pub fn release(addr: usize) {
    if !enabled() {
        return;
    }
    with_thread(|thr| runtime().sync.with(addr, true, |v| v.release(thr)));
}

/// Annotation: the current thread releases into `addr`, replacing earlier releases.
pub fn release_store(addr: usize) {
    if !enabled() {
        return;
    }
    with_thread(|thr| runtime().sync.with(addr, true, |v| v.release_store(thr)));
}

/// Happens-before operations on a [`SyncVar`] embedded in an object.
/// `addr` identifies the object in reports (locks held).
///
/// Each operation is a one-branch inline check of [`enabled`] around an
/// out-of-line body: with detection off, a lock or unlock costs one relaxed
/// load and a branch and stays small enough to inline.
pub mod var {
    use super::*;

    macro_rules! var_op {
        ($(#[$m:meta])* $name:ident($($arg:ident: $ty:ty),*) => |$var:ident, $thr:ident| $body:expr) => {
            $(#[$m])*
            #[inline(always)]
            pub fn $name($var: &SyncVar $(, $arg: $ty)*) {
                #[inline(never)]
                fn on($var: &SyncVar $(, $arg: $ty)*) {
                    with_thread(move |$thr| $body);
                }
                if enabled() {
                    on($var $(, $arg)*);
                }
            }
        };
    }

    var_op!(/// `C_t ⊔= L`.
        acquire() => |var, thr| var.acquire(thr));
    var_op!(/// `L ⊔= C_t`, new epoch.
        release() => |var, thr| var.release(thr));
    var_op!(/// `L := C_t`, new epoch.
        release_store() => |var, thr| var.release_store(thr));
    var_op!(/// Exclusive lock acquired at `addr`.
    lock_acquired(addr: usize) => |var, thr| {
        var.lock_acquired(thr);
        thr.locks.acquired(thr.id, HeldLock { addr, exclusive: true });
    });
    var_op!(/// Exclusive unlock of the lock at `addr`.
    unlock(addr: usize) => |var, thr| {
        thr.locks.released(thr.id, addr);
        var.unlock(thr);
    });
    /// [`lock_acquired`] for a lock that is held exclusively right now: skips
    /// the sync object's own spin lock (two atomic operations per pair).
    ///
    /// # Safety
    /// The caller holds the real lock modelled by `var` exclusively, and every
    /// operation on `var` runs under that lock (see
    /// [`SyncVar::lock_acquired_exclusive`]).
    #[inline(always)]
    pub unsafe fn exclusive_lock_acquired(var: &SyncVar, addr: usize) {
        if enabled() {
            // SAFETY: forwarded contract.
            unsafe { exclusive_acquired_on::<false>(var, addr) };
        }
    }

    /// The detection half of [`exclusive_lock_acquired`] (`MUTEX = false`)
    /// and [`mutex_lock_acquired`] (`MUTEX = true`).
    ///
    /// # Safety
    /// As the caller's.
    #[inline(never)]
    unsafe fn exclusive_acquired_on<const MUTEX: bool>(var: &SyncVar, addr: usize) {
        with_thread_same_epoch(move |thr| {
            // SAFETY: forwarded from the callers' contracts.
            unsafe {
                if MUTEX {
                    var.mutex_lock_acquired(thr);
                } else {
                    var.lock_acquired_exclusive(thr);
                }
            }
            thr.locks.acquired(
                thr.id,
                HeldLock {
                    addr,
                    exclusive: true,
                },
            );
        });
    }

    /// [`exclusive_lock_acquired`] for a mutex: a lock with no shared side,
    /// whose read-release half is never used, so it is not looked at.
    ///
    /// # Safety
    /// As [`exclusive_lock_acquired`], and no read lock or read unlock ever
    /// runs on `var`.
    #[inline(always)]
    pub unsafe fn mutex_lock_acquired(var: &SyncVar, addr: usize) {
        if enabled() {
            // SAFETY: forwarded contract.
            unsafe { exclusive_acquired_on::<true>(var, addr) };
        }
    }

    /// [`unlock`] for a lock held exclusively until after this call.
    ///
    /// # Safety
    /// As [`exclusive_lock_acquired`], called before the real unlock.
    #[inline(always)]
    pub unsafe fn exclusive_unlock(var: &SyncVar, addr: usize) {
        #[inline(never)]
        fn on(var: &SyncVar, addr: usize) {
            with_thread(move |thr| {
                thr.locks.released(thr.id, addr);
                // SAFETY: forwarded from this function's contract.
                unsafe { var.unlock_exclusive(thr) };
            });
        }
        if enabled() {
            on(var, addr);
        }
    }

    /// [`exclusive_unlock`] of a reader-writer lock's write side.
    ///
    /// # Safety
    /// As [`exclusive_unlock`].
    #[inline(always)]
    pub unsafe fn exclusive_write_unlock(var: &SyncVar, addr: usize) {
        #[inline(never)]
        fn on(var: &SyncVar, addr: usize) {
            with_thread(move |thr| {
                thr.locks.released(thr.id, addr);
                // SAFETY: forwarded from this function's contract.
                unsafe { var.write_unlock_exclusive(thr) };
            });
        }
        if enabled() {
            on(var, addr);
        }
    }

    /// [`read_lock_acquired_at`] for a reader-writer lock whose shared side
    /// is held right now: skips the sync object's own spin lock (readers
    /// only read what writers published).
    ///
    /// # Safety
    /// The caller holds the shared side of the real lock modelled by `var`,
    /// and every operation on `var` runs under that lock, writer-side ones
    /// under its exclusive side (see [`SyncVar::read_lock_acquired_shared`]).
    #[inline(always)]
    pub unsafe fn shared_read_lock_acquired(var: &SyncVar, addr: usize) -> ReadHeld<'_> {
        #[inline(never)]
        fn on(var: &SyncVar, addr: usize) -> ReadHeld<'_> {
            let clocks = var.clocks();
            with_thread_same_epoch(move |thr| {
                // SAFETY: forwarded from this function's contract.
                unsafe { clocks.read_lock_acquired_shared(thr) };
                thr.locks.acquired(
                    thr.id,
                    HeldLock {
                        addr,
                        exclusive: false,
                    },
                );
            });
            ReadHeld::of(clocks)
        }
        if enabled() {
            on(var, addr)
        } else {
            ReadHeld::NONE
        }
    }

    /// [`read_unlock_at`] for a reader-writer lock whose shared side is
    /// still held: a thread that learnt nothing since its previous read
    /// unlock of this lock publishes its own time alone, without the sync
    /// object's spin lock (see [`SyncVar::read_unlock_shared`]). `held` is
    /// what the matching [`shared_read_lock_acquired`] returned.
    ///
    /// # Safety
    /// As [`shared_read_lock_acquired`], called before the real unlock.
    #[inline(always)]
    pub unsafe fn shared_read_unlock(var: &SyncVar, held: ReadHeld<'_>, addr: usize) {
        #[inline(never)]
        fn on(var: &SyncVar, held: ReadHeld<'_>, addr: usize) {
            let clocks = held.clocks_or(var);
            with_thread(move |thr| {
                thr.locks.released(thr.id, addr);
                // SAFETY: forwarded from this function's contract.
                unsafe { clocks.read_unlock_shared(thr) };
            });
        }
        if enabled() {
            on(var, held, addr);
        }
    }

    var_op!(/// Shared (read) lock of the reader-writer lock at `addr` acquired.
    read_lock_acquired_at(addr: usize) => |var, thr| {
        var.read_lock_acquired(thr);
        thr.locks.acquired(thr.id, HeldLock { addr, exclusive: false });
    });
    var_op!(/// Shared (read) unlock of the reader-writer lock at `addr`.
    read_unlock_at(addr: usize) => |var, thr| {
        thr.locks.released(thr.id, addr);
        var.read_unlock(thr);
    });

    /// Performs an atomic operation on an object with an embedded release
    /// clock: `op` does the real memory operation and says what it was
    /// (kind and effective ordering, e.g. a failed CAS is an `AtomicLoad`
    /// with the failure ordering); it runs under `var`'s lock so the value
    /// and the clock stay paired. No shadow access is recorded: racedet's
    /// atomics can only be touched non-atomically through `&mut`.
    #[inline(always)]
    pub fn atomic<R>(var: &SyncVar, op: impl FnOnce() -> (R, AccessKind, Ordering)) -> R {
        if !enabled() {
            return op().0;
        }
        atomic_on(var, op)
    }

    #[inline(never)]
    fn atomic_on<R>(var: &SyncVar, op: impl FnOnce() -> (R, AccessKind, Ordering)) -> R {
        let mut op = Some(op);
        let done = with_thread(|thr| {
            var.locked_atomic(|loc, last_store| {
                let before = thr.epoch();
                let (r, kind, order) = (op.take().expect("runs once"))();
                atomic::apply(loc, thr, kind, order);
                atomic::note_relaxed(last_store, thr, kind, order, before);
                r
            })
        });
        match done {
            Some(r) => r,
            // The runtime is busy on this thread: just do the operation.
            None => (op.take().expect("not run yet"))().0,
        }
    }
}

/// A clock that travels with a message (channel send → receive).
#[derive(Debug, Clone, Default)]
pub struct MessageClock(Option<VectorClock>);

impl MessageClock {
    /// The sender's side: a snapshot of its clock, then a new epoch.
    pub fn send() -> MessageClock {
        if !enabled() {
            return MessageClock(None);
        }
        MessageClock(with_thread(|thr| {
            let mut c = VectorClock::new();
            thr.release(&mut c);
            c
        }))
    }

    /// The receiver's side: acquires the snapshot.
    pub fn receive(&self) {
        if let Some(c) = &self.0
            && enabled()
        {
            with_thread(|thr| thr.acquire(c));
        }
    }
}
