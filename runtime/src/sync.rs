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
//! A `SyncVar` can live inside the object it describes (racedet's own
//! `Mutex`, `RwLock`, channels, atomics), which costs no lookup; raw
//! addresses use the [`SyncTable`].

use std::cell::UnsafeCell;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::clock::VectorClock;
use crate::thread::{ClockVersion, ThreadState};

/// The clocks of one synchronisation object.
pub struct SyncVar {
    lock: AtomicBool,
    clocks: UnsafeCell<SyncClocks>,
}

#[derive(Default, Debug)]
struct SyncClocks {
    /// Released by unlock, release stores, sends.
    clock: VectorClock,
    /// Released by read-unlocks of a rwlock.
    read_clock: VectorClock,
    /// Version of the thread clock whose release-store last set `clock`,
    /// while nothing else changed `clock` since. That thread's clock covers
    /// `clock` (clocks only grow), so its next lock needs no join; and while
    /// its version is unchanged its next unlock rewrites only its own entry
    /// (`ThreadState::release_store_tracked`).
    stored: Option<ClockVersion>,
    /// Version of the thread clock last joined into `read_clock`, while
    /// nothing else changed `read_clock` since
    /// (`ThreadState::release_tracked`).
    read_joined: Option<ClockVersion>,
    /// Whose clocks `read_clock` holds since it was last cleared.
    readers: Readers,
    /// Epoch of the latest atomic store or RMW to this location: only for
    /// the report hint on Relaxed publication (see `atomic::note_relaxed`).
    last_store: Option<crate::clock::Epoch>,
}

/// The threads whose read-unlocks `read_clock` holds.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
enum Readers {
    /// None: `read_clock` is empty.
    #[default]
    None,
    /// Only this thread's: its clock covers `read_clock`.
    One(ClockVersion),
    /// Several threads'.
    Many,
}

/// Whether `v` is a version of the thread whose clock is `thr`'s (which
/// then covers everything published from `v`).
#[inline]
fn same_thread(v: Option<ClockVersion>, thr: &ThreadState) -> bool {
    v.is_some_and(|v| v.same_thread(thr.version()))
}

// SAFETY: `clocks` is only accessed under `lock` (see `with`), or under the
// real lock the object models, per the contracts of the `unsafe` methods.
unsafe impl Sync for SyncVar {}
// SAFETY: the clocks are plain data.
unsafe impl Send for SyncVar {}

impl Default for SyncVar {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SyncVar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncVar").finish_non_exhaustive()
    }
}

impl SyncVar {
    pub const fn new() -> SyncVar {
        SyncVar {
            lock: AtomicBool::new(false),
            clocks: UnsafeCell::new(SyncClocks {
                clock: VectorClock::new(),
                read_clock: VectorClock::new(),
                stored: None,
                read_joined: None,
                readers: Readers::None,
                last_store: None,
            }),
        }
    }

    /// Runs `f` on the released clock, which it may change in any way.
    fn with<R>(&self, f: impl FnOnce(&mut VectorClock) -> R) -> R {
        self.with_all(|c| {
            c.stored = None;
            f(&mut c.clock)
        })
    }

    fn with_all<R>(&self, f: impl FnOnce(&mut SyncClocks) -> R) -> R {
        let mut spins = 0u32;
        while self
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        // SAFETY: the spin lock above is held until the store below.
        let c = unsafe { &mut *self.clocks.get() };
        let r = f(c);
        self.lock.store(false, Ordering::Release);
        r
    }

    /// `C_t ⊔= L_m`.
    pub fn acquire(&self, thr: &mut ThreadState) {
        self.with_all(|c| acquire_in(c, thr));
    }

    /// `L_m ⊔= C_t`, then a new epoch.
    pub fn release(&self, thr: &mut ThreadState) {
        self.with(|clock| thr.release(clock));
    }

    /// `L_m := C_t`, then a new epoch.
    pub fn release_store(&self, thr: &mut ThreadState) {
        self.with_all(|c| thr.release_store_tracked(&mut c.clock, &mut c.stored));
    }

    /// Exclusive lock acquired: `C_t ⊔= L_m ⊔ R_m`.
    pub fn lock_acquired(&self, thr: &mut ThreadState) {
        self.with_all(|c| lock_acquired_in(c, thr));
    }

    /// Exclusive unlock: `L_m := C_t`.
    pub fn unlock(&self, thr: &mut ThreadState) {
        self.with_all(|c| unlock_in(c, thr));
    }

    /// [`lock_acquired`](Self::lock_acquired) without this object's own
    /// lock: the exclusive lock it models already keeps every other thread
    /// out, and its acquire/release orders these plain memory operations.
    ///
    /// # Safety
    /// The calling thread holds the real lock exclusively, and every other
    /// operation on this object also runs under that lock (read-side
    /// operations under its shared side).
    pub unsafe fn lock_acquired_exclusive(&self, thr: &mut ThreadState) {
        // SAFETY: per the contract no other thread touches the clocks now.
        lock_acquired_in(unsafe { &mut *self.clocks.get() }, thr);
    }

    /// [`unlock`](Self::unlock) without this object's own lock.
    ///
    /// # Safety
    /// As [`lock_acquired_exclusive`](Self::lock_acquired_exclusive), called
    /// before the real lock is released.
    pub unsafe fn unlock_exclusive(&self, thr: &mut ThreadState) {
        // SAFETY: per the contract.
        unlock_in(unsafe { &mut *self.clocks.get() }, thr);
    }

    /// Shared lock acquired: `C_t ⊔= L_m`.
    pub fn read_lock_acquired(&self, thr: &mut ThreadState) {
        self.acquire(thr);
    }

    /// Shared unlock: `R_m ⊔= C_t`.
    pub fn read_unlock(&self, thr: &mut ThreadState) {
        self.with_all(|c| read_unlock_in(c, thr));
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
        self.with_all(|c| {
            c.stored = None;
            f(&mut c.clock, &mut c.last_store)
        })
    }

    /// Forgets all history (object destroyed or reinitialised).
    pub fn reset(&self) {
        self.with_all(|c| *c = SyncClocks::default());
    }
}

/// `C_t ⊔= L_m`, skipped when `t` itself stored `L_m`.
fn acquire_in(c: &SyncClocks, thr: &mut ThreadState) {
    if same_thread(c.stored, thr) {
        debug_assert!(c.clock.le(thr.clock()));
        return;
    }
    thr.acquire(&c.clock);
}

fn lock_acquired_in(c: &mut SyncClocks, thr: &mut ThreadState) {
    acquire_in(c, thr);
    match c.readers {
        Readers::None => return,
        Readers::One(v) if v.same_thread(thr.version()) => {
            debug_assert!(c.read_clock.le(thr.clock()));
        }
        _ => thr.acquire(&c.read_clock),
    }
    // Everything the readers published is now in `C_t`, and will be in
    // `L_m` after this thread's unlock: the next writer need not join it.
    c.read_clock.clear();
    c.read_joined = None;
    c.readers = Readers::None;
}

fn unlock_in(c: &mut SyncClocks, thr: &mut ThreadState) {
    thr.release_store_tracked(&mut c.clock, &mut c.stored);
}

fn read_unlock_in(c: &mut SyncClocks, thr: &mut ThreadState) {
    let v = thr.version();
    thr.release_tracked(&mut c.read_clock, &mut c.read_joined);
    c.readers = match c.readers {
        Readers::None => Readers::One(v),
        Readers::One(r) if r.same_thread(v) => Readers::One(r),
        _ => Readers::Many,
    };
}

/// Address → [`SyncVar`] for raw sync annotations, sharded by page so that
/// unrelated objects rarely share a lock and a range reset touches few shards.
pub struct SyncTable {
    shards: Box<[Shard]>,
}

type Shard = Mutex<BTreeMap<usize, Box<SyncVar>>>;

const SHARDS: usize = 64;

impl Default for SyncTable {
    fn default() -> Self {
        Self::new()
    }
}

impl SyncTable {
    pub fn new() -> SyncTable {
        SyncTable {
            shards: (0..SHARDS).map(|_| Mutex::new(BTreeMap::new())).collect(),
        }
    }

    fn shard(&self, addr: usize) -> &Shard {
        &self.shards[(addr >> 12) % SHARDS]
    }

    /// Runs `f` on the sync object at `addr`, creating it if `create`.
    pub fn with<R>(&self, addr: usize, create: bool, f: impl FnOnce(&SyncVar) -> R) -> Option<R> {
        let mut shard = self.shard(addr).lock().unwrap_or_else(|e| e.into_inner());
        if create {
            Some(f(shard.entry(addr).or_default()))
        } else {
            shard.get(&addr).map(|v| f(v))
        }
    }

    /// `fork` support: holds every shard's lock across the fork.
    pub(crate) fn lock_for_fork(&'static self, guards: &mut Vec<Box<dyn std::any::Any>>) {
        for shard in self.shards.iter() {
            guards.push(Box::new(shard.lock().unwrap_or_else(|e| e.into_inner())));
        }
    }

    /// Drops every sync object in `[addr, addr + len)`.
    pub fn reset_range(&self, addr: usize, len: usize) {
        let end = addr.saturating_add(len);
        if len >= SHARDS << 12 {
            for shard in self.shards.iter() {
                let mut m = shard.lock().unwrap_or_else(|e| e.into_inner());
                m.retain(|k, _| *k < addr || *k >= end);
            }
            return;
        }
        let mut page = addr & !0xFFF;
        while page < end {
            let mut m = self.shard(page).lock().unwrap_or_else(|e| e.into_inner());
            let doomed: Vec<usize> = m
                .range(addr.max(page)..end.min(page + 0x1000))
                .map(|(k, _)| *k)
                .collect();
            for k in doomed {
                m.remove(&k);
            }
            page += 0x1000;
        }
    }
}
