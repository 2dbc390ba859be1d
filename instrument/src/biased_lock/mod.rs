//! The memory-safety lock inside [`RaceMap`](crate::collections::RaceMap)
//! and [`RaceCell`](crate::cell::RaceCell): a reader-writer lock biased
//! towards one thread.
//!
//! These containers must stay memory-safe under racy use, so their real
//! operations run under a lock the detector does not see. Most maps and
//! cells, though, are only ever touched by one thread at a time, and usually
//! by their creator (built and used by one thread, or shared behind the
//! program's own `RwLock`). Two atomic read-modify-writes per operation are full barriers
//! on x86 and roughly doubled the cost of a lookup; this lock removes them
//! for the owner.
//!
//! **Protocol** (biased locking with an asymmetric Dekker handshake; Dice,
//! Moir and Scherer, "Quickly reacquirable locks", 2003, and the
//! `membarrier(2)` pattern of user-space RCU):
//! - The owner enters by storing its nesting `depth` (a plain store: only the
//!   owner writes it), a compiler fence, then re-reading `owner`. No atomic
//!   read-modify-write, no hardware fence.
//! - Any other thread *revokes* the bias once and for all: it publishes
//!   `REVOKING`, calls `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which
//!   makes every running thread of the process execute a full barrier, waits
//!   for `depth` to drain to zero, and publishes `REVOKED`. From then on every
//!   thread, the owner included, uses the real `parking_lot` lock.
//! - Why it is safe: the barrier falls either before the owner's re-read of
//!   `owner` (which then sees `REVOKING` and backs out) or after its store
//!   of `depth` (which the revoker then sees and waits for). The owner's
//!   release of `depth` and the revoker's acquire order the owner's last
//!   critical section before every later locked one.
//!
//! Each holding of the bias (a *generation*: the creator's, then at most
//! [`MAX_REBIAS`] more) has its own `depth` word, and `owner` names the
//! generation next to the holder's token. A thread that read `owner` just
//! before its bias moved on may still store into the depth word of its old
//! generation before its re-read of `owner` sends it back; with one shared
//! word, that store (and the reset of it) would overwrite the new holder's
//! depth, letting a later revoker in beside a live critical section.
//!
//! A nested read by the owner inside its own biased read needs no check: the
//! outer `depth` already holds a revoker off. A write nested in any access of
//! the owner would alias a live borrow; it panics instead of deadlocking, as
//! the same misuse of a `RwLock` would.
//!
//! Once the bias is gone for good, readers that hold the racedet lock the
//! writers hold may skip the real lock too ([`elision`]).
//!
//! Biasing needs `membarrier` (Linux 4.14+). Where it is missing or refused,
//! and once a process has revoked [`REVOCATION_LIMIT`] biases (maps built by
//! one thread and handed to another, over and over, would pay a system call
//! each), new locks start unbiased.

use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, compiler_fence};

use parking_lot::RawRwLock;
use parking_lot::lock_api::RawRwLock as _;

use elision::{Elision, Entered};

pub(crate) mod elision;

/// Set in `owner` (over the holder's token) while its bias is revoked.
const REVOKING: u64 = 1 << 63;
/// `owner` is `token << GEN_BITS | generation` while biased.
const GEN_BITS: u32 = 2;
const GEN_MASK: u64 = (1 << GEN_BITS) - 1;
/// `owner` once nobody holds the bias: the real lock is used from then on.
const REVOKED: u64 = u64::MAX;
/// `depth` while the holder writes.
const WRITER: u32 = u32::MAX;
/// Times the bias may move to another thread before the lock settles on
/// the real lock for good (a map built on one thread and then used by one
/// worker keeps a bias; maps used by turns settle quickly). Generations run
/// from 0 to this.
const MAX_REBIAS: u64 = 2;
const _: () = assert!(MAX_REBIAS <= GEN_MASK);
/// A guard that holds the real lock, not a bias.
const UNBIASED: u8 = u8::MAX;
/// A read guard that elides the real lock and announced it
/// (`elision.rs`).
const ELIDED: u8 = u8::MAX - 1;
/// A read guard inside an eliding read of the same lock on its thread.
const ELIDED_NESTED: u8 = u8::MAX - 2;
const _: () = assert!(GEN_MASK < ELIDED_NESTED as u64);
/// Revocations per process after which new locks start unbiased.
const REVOCATION_LIMIT: u64 = 4096;

static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);
/// Biases and elisions revoked so far in this process.
static REVOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's token: never zero, never reused, below `REVOKING`.
    static TOKEN: Cell<u64> = const { Cell::new(0) };
}

#[inline]
fn token() -> u64 {
    TOKEN.with(|t| {
        let v = t.get();
        if v != 0 {
            return v;
        }
        let v = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        t.set(v);
        v
    })
}

/// A reader-writer lock around `T`, free of atomic read-modify-writes for
/// the thread that holds its bias.
#[repr(C)]
pub(crate) struct BiasedRwLock<T> {
    /// First, with `owner`: the words every call touches sit at the start,
    /// next to whatever lock word precedes this one in memory.
    lock: RawRwLock,
    /// The bias holder's token and generation (`token << GEN_BITS | gen`),
    /// with `REVOKING` set while it is revoked, or `REVOKED`.
    owner: AtomicU64,
    /// Per generation, the holder's nesting: readers, or `WRITER`. Written
    /// only by that generation's holder, and drained to zero before the bias
    /// moves on. One word per value of the generation field (one unused), so
    /// that indexing by it needs no bounds check.
    depth: [AtomicU32; GEN_MASK as usize + 1],
    /// Which racedet lock lets readers skip `lock` once the bias is gone.
    elision: Elision,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&T` to several threads at once (needs `Sync`)
// and `&mut T` to one thread at a time (needs `Send`), as `RwLock<T>` does.
unsafe impl<T: Send + Sync> Sync for BiasedRwLock<T> {}
// SAFETY: owning the lock is owning the `T`.
unsafe impl<T: Send> Send for BiasedRwLock<T> {}

/// How the caller stands towards the bias.
enum Bias {
    /// Entered biased, in this generation.
    Entered(u8),
    /// Nobody holds a bias: use the real lock.
    Revoked,
    /// Another thread holds it or is revoking it: revoke, then retry.
    Other(u64),
}

impl<T> BiasedRwLock<T> {
    /// A lock biased towards the calling thread, when biasing is available;
    /// with `elide`, readers that hold the racedet lock its writers hold
    /// skip it once the bias is gone (`elision.rs`).
    pub(crate) fn new(data: T, elide: bool) -> Self {
        let biased = bias_available() && REVOCATIONS.load(Ordering::Relaxed) < REVOCATION_LIMIT;
        BiasedRwLock {
            owner: AtomicU64::new(if biased { token() << GEN_BITS } else { REVOKED }),
            depth: Default::default(),
            elision: Elision::new(elide),
            lock: RawRwLock::INIT,
            data: UnsafeCell::new(data),
        }
    }

    /// A lock that starts without a bias, as one whose bias was revoked.
    #[cfg(test)]
    pub(crate) fn new_unbiased(data: T, elide: bool) -> Self {
        let l = Self::new(data, elide);
        l.owner.store(REVOKED, Ordering::Relaxed);
        l.elision.unbiased();
        l
    }

    /// Shared access.
    #[inline]
    pub(crate) fn read(&self) -> ReadGuard<'_, T> {
        ReadGuard::new(self, self.acquire(false))
    }

    /// Exclusive access.
    #[inline]
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        WriteGuard::new(self, self.acquire(true))
    }

    /// Enters in the given mode: through the bias (returns its generation),
    /// or, once nobody holds a bias, through the real lock (returns
    /// `UNBIASED`).
    #[inline]
    fn acquire(&self, write: bool) -> u8 {
        loop {
            match self.enter(write) {
                Bias::Entered(generation) => {
                    if write {
                        self.elision.biased_write();
                    }
                    return generation;
                }
                Bias::Revoked => return self.acquire_unbiased(write),
                Bias::Other(seen) => self.revoke(seen),
            }
        }
    }

    /// [`acquire`](Self::acquire) once nobody holds the bias: the real
    /// lock, or an elided read. Out of line, to keep the biased path short
    /// where it is inlined.
    #[inline(never)]
    fn acquire_unbiased(&self, write: bool) -> u8 {
        if write {
            self.elision.lock_for_write(&self.lock);
            return UNBIASED;
        }
        match self.elision.enter_read(&self.lock) {
            Entered::Elided => ELIDED,
            Entered::Nested => ELIDED_NESTED,
            Entered::No => {
                self.lock.lock_shared();
                UNBIASED
            }
        }
    }

    /// Ends a read that [`acquire_unbiased`](Self::acquire_unbiased)
    /// entered.
    #[inline(never)]
    fn release_unbiased_read(&self, generation: u8) {
        match generation {
            ELIDED => self.elision.leave_read(&self.lock),
            ELIDED_NESTED => {}
            _ => {
                debug_assert_eq!(generation, UNBIASED);
                // SAFETY: the guard being dropped took the shared lock and
                // has not released it.
                unsafe { self.lock.unlock_shared() };
            }
        }
    }

    /// The biased entry: a plain store of `depth`, a compiler fence and a
    /// re-read of `owner` (module docs).
    #[inline]
    fn enter(&self, write: bool) -> Bias {
        // Acquire pairs with the revoker's release: the last biased
        // critical section happens before the locked ones.
        self.enter_seen(self.owner.load(Ordering::Acquire), write)
    }

    /// [`enter`](Self::enter) once `owner` was read as `o`, which may be
    /// stale by now.
    #[inline]
    fn enter_seen(&self, o: u64, write: bool) -> Bias {
        if o == REVOKED {
            return Bias::Revoked;
        }
        if (o & !REVOKING) >> GEN_BITS != token() {
            return Bias::Other(o);
        }
        // We hold, or held, the bias in generation `g`, whose depth word only
        // this thread writes (even if the bias has moved on since `o` was
        // read, which the re-read below catches).
        let g = (o & GEN_MASK) as u8;
        let depth = self.depth(o);
        let d = depth.load(Ordering::Relaxed);
        if d == WRITER || (write && d != 0) {
            reentrant();
        }
        if d > 0 {
            // Nested in our own biased read, whose depth already holds any
            // revoker off (so the bias is still ours).
            depth.store(d + 1, Ordering::Relaxed);
            return Bias::Entered(g);
        }
        if o & REVOKING != 0 {
            return Bias::Other(o);
        }
        depth.store(if write { WRITER } else { 1 }, Ordering::Relaxed);
        // The store above must not sink below the re-read; the revoker's
        // membarrier supplies the hardware half of the fence.
        compiler_fence(Ordering::SeqCst);
        if self.owner.load(Ordering::Relaxed) == o {
            return Bias::Entered(g);
        }
        depth.store(0, Ordering::Release);
        Bias::Other(self.owner.load(Ordering::Relaxed))
    }

    /// The nesting word of bias generation `generation` (masked to the
    /// field's width, so the index needs no bounds check).
    #[inline]
    fn depth(&self, generation: u64) -> &AtomicU32 {
        &self.depth[(generation & GEN_MASK) as usize]
    }

    /// Where readers stand towards eliding this lock (`elision.rs`).
    pub(crate) fn elision_state(&self) -> &'static str {
        self.elision.describe()
    }

    /// Exclusive access through `&mut`: no locking needed.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    pub(crate) fn into_inner(self) -> T {
        self.data.into_inner()
    }

    /// Takes the bias away from its holder (`seen`, as last read), then
    /// either moves it to the calling thread or, after `MAX_REBIAS` moves,
    /// settles the lock on the real lock. Threads that lose the race to
    /// revoke wait for the winner.
    #[cold]
    #[inline(never)]
    fn revoke(&self, seen: u64) {
        if seen & REVOKING == 0
            && self
                .owner
                .compare_exchange(seen, seen | REVOKING, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            REVOCATIONS.fetch_add(1, Ordering::Relaxed);
            heavy_barrier();
            let generation = seen & GEN_MASK;
            let mut spins = 0u32;
            while self.depth(generation).load(Ordering::Acquire) != 0 {
                backoff(&mut spins);
            }
            let next = if generation < MAX_REBIAS
                && REVOCATIONS.load(Ordering::Relaxed) < REVOCATION_LIMIT
            {
                token() << GEN_BITS | (generation + 1)
            } else {
                self.elision.unbiased();
                REVOKED
            };
            // Release: the drained holder's sections happen before ours.
            self.owner.store(next, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.owner.load(Ordering::Acquire) & REVOKING != 0
            && self.owner.load(Ordering::Relaxed) != REVOKED
        {
            backoff(&mut spins);
        }
    }
}

/// Waiting for a holder to leave its critical section: spin briefly, then
/// yield, then sleep, so that a holder busy for long (a slow closure given
/// to `for_each`) does not cost a whole core.
fn backoff(spins: &mut u32) {
    *spins = spins.saturating_add(1);
    if *spins < 64 {
        std::hint::spin_loop();
    } else if *spins < 1024 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(std::time::Duration::from_micros(50));
    }
}

#[cold]
#[inline(never)]
fn reentrant() -> ! {
    panic!(
        "RaceMap used from inside one of its own closures (update, retain, for_each, \
         get_with) in a way that needs exclusive access: this would deadlock a RwLock<HashMap>"
    )
}

pub(crate) struct ReadGuard<'a, T> {
    lock: &'a BiasedRwLock<T>,
    /// The bias generation entered, or `UNBIASED`.
    generation: u8,
    /// A biased guard must be dropped by the thread that owns `depth`.
    _not_send: PhantomData<*const ()>,
}

impl<'a, T> ReadGuard<'a, T> {
    #[inline]
    fn new(lock: &'a BiasedRwLock<T>, generation: u8) -> Self {
        ReadGuard {
            lock,
            generation,
            _not_send: PhantomData,
        }
    }

    /// Whether no other thread can hold this lock in any mode while this
    /// guard lives (a read through the bias: only the bias holder enters).
    #[inline]
    pub(crate) fn is_exclusive(&self) -> bool {
        u64::from(self.generation) <= GEN_MASK
    }
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: a read guard exists only while shared access is held
        // (biased depth > 0, the shared lock, or an elided read that every
        // writer waits for: `elision.rs`), so no `&mut T` is live.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if self.is_exclusive() {
            let depth = self.lock.depth(self.generation.into());
            let d = depth.load(Ordering::Relaxed);
            // Release: a revoker that sees the drained depth sees this
            // critical section's effects.
            depth.store(d - 1, Ordering::Release);
        } else {
            self.lock.release_unbiased_read(self.generation);
        }
    }
}

pub(crate) struct WriteGuard<'a, T> {
    lock: &'a BiasedRwLock<T>,
    /// The bias generation entered, or `UNBIASED`.
    generation: u8,
    _not_send: PhantomData<*const ()>,
}

impl<'a, T> WriteGuard<'a, T> {
    #[inline]
    fn new(lock: &'a BiasedRwLock<T>, generation: u8) -> Self {
        WriteGuard {
            lock,
            generation,
            _not_send: PhantomData,
        }
    }
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: a write guard holds exclusive access.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: a write guard holds exclusive access, and `&mut self`
        // makes this the only borrow through it.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if self.generation != UNBIASED {
            self.lock
                .depth(self.generation.into())
                .store(0, Ordering::Release);
        } else {
            // SAFETY: this guard took the exclusive lock and has not released it.
            unsafe { self.lock.lock.unlock_exclusive() };
        }
    }
}

/// Whether this process can use `membarrier` private expedited barriers
/// (registered once, on first use).
fn bias_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(register)
}

#[cfg(target_os = "linux")]
fn register() -> bool {
    // SAFETY: membarrier takes two integer arguments and touches no memory
    // of ours.
    unsafe {
        libc::syscall(
            libc::SYS_membarrier,
            libc::MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
            0,
            0,
        ) == 0
    }
}

#[cfg(not(target_os = "linux"))]
fn register() -> bool {
    false
}

/// Every running thread of this process executes a full memory barrier
/// before this returns.
#[cfg(target_os = "linux")]
fn heavy_barrier() {
    for _ in 0..2 {
        // SAFETY: as in `register`.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                libc::MEMBARRIER_CMD_PRIVATE_EXPEDITED,
                0,
                0,
            )
        };
        if rc == 0 {
            return;
        }
        // A forked child may have lost the registration: register again.
        register();
    }
    // Registration succeeded once, so the barrier cannot be refused by
    // design; if the kernel still refuses, no ordering can be promised and
    // continuing could hand two threads the same map.
    eprintln!("racedet: membarrier failed after registration; aborting to stay memory-safe");
    std::process::abort();
}

#[cfg(not(target_os = "linux"))]
fn heavy_barrier() {
    unreachable!("locks are never biased without membarrier")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn owner_reads_and_writes_without_the_lock() {
        let l = BiasedRwLock::new(1u64, false);
        if l.owner.load(Ordering::Relaxed) == REVOKED {
            return; // no membarrier on this machine: nothing biased to test
        }
        {
            let g = l.read();
            assert!(g.is_exclusive());
            let nested = l.read();
            assert!(nested.is_exclusive());
            assert_eq!(*g + *nested, 2);
        }
        let mut w = l.write();
        assert_eq!(w.generation, 0);
        *w += 1;
        drop(w);
        assert_eq!(l.depth[0].load(Ordering::Relaxed), 0);
        assert_eq!(*l.read(), 2);
    }

    #[test]
    fn bias_moves_twice_then_settles_on_the_lock() {
        let l = Arc::new(BiasedRwLock::new(0u64, false));
        if l.owner.load(Ordering::Relaxed) == REVOKED {
            return; // no membarrier on this machine
        }
        let on = |l: &Arc<BiasedRwLock<u64>>| {
            let l = Arc::clone(l);
            std::thread::spawn(move || {
                *l.write() += 1;
                (token(), l.owner.load(Ordering::Relaxed))
            })
            .join()
            .unwrap()
        };
        let (a, owner) = on(&l);
        assert_eq!(
            owner,
            a << GEN_BITS | 1,
            "first move: the worker takes the bias"
        );
        assert!(l.read().is_exclusive(), "second move: back to the creator");
        assert_eq!(l.owner.load(Ordering::Relaxed), token() << GEN_BITS | 2);
        let (_, owner) = on(&l);
        assert_eq!(owner, REVOKED, "third move: settled");
        let g = l.read();
        assert!(!g.is_exclusive());
        assert_eq!(*g, 2);
    }

    #[test]
    fn nested_read_while_being_revoked_does_not_deadlock() {
        let l = Arc::new(BiasedRwLock::new(5u64, false));
        let outer = l.read();
        let l2 = Arc::clone(&l);
        let other = std::thread::spawn(move || *l2.write() += 1);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let inner = l.read();
        assert_eq!(*outer + *inner, 10);
        drop(inner);
        drop(outer);
        other.join().unwrap();
        assert_eq!(*l.read(), 6);
    }

    #[test]
    fn revocation_while_owner_is_inside_waits_for_it() {
        let l = Arc::new(BiasedRwLock::new(Vec::<u64>::new(), false));
        let w = l.write();
        let l2 = Arc::clone(&l);
        let other = std::thread::spawn(move || l2.read().len());
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            !other.is_finished(),
            "revoker entered during a biased write"
        );
        let mut w = w;
        w.push(7);
        drop(w);
        assert_eq!(other.join().unwrap(), 1);
    }

    #[test]
    fn hammering_from_owner_and_others_never_overlaps_writers() {
        // Writers check that nobody else is inside: a counter that is odd
        // while a writer runs.
        let l = Arc::new(BiasedRwLock::new((0u64, 0u64), false));
        let mut threads = Vec::new();
        for _ in 0..3 {
            let l = Arc::clone(&l);
            threads.push(std::thread::spawn(move || {
                for _ in 0..20_000 {
                    let mut g = l.write();
                    g.0 += 1;
                    assert_eq!(g.0 % 2, 1);
                    g.0 += 1;
                    g.1 += 1;
                }
            }));
        }
        for _ in 0..20_000 {
            {
                let mut g = l.write();
                g.0 += 1;
                assert_eq!(g.0 % 2, 1);
                g.0 += 1;
                g.1 += 1;
            }
            assert_eq!(l.read().0 % 2, 0);
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(l.read().1, 80_000);
    }

    #[test]
    fn writers_exclude_each_other_across_the_revocation() {
        // Every revocation races the owner's own entries: many fresh locks,
        // each written by its creator and another thread at once.
        fn bump(l: &BiasedRwLock<(u64, u64)>) {
            let mut g = l.write();
            g.0 += 1;
            assert_eq!(g.0 % 2, 1, "two writers inside at once");
            g.0 += 1;
            g.1 += 1;
        }
        for _ in 0..300 {
            let l = Arc::new(BiasedRwLock::new((0u64, 0u64), false));
            let l2 = Arc::clone(&l);
            let other = std::thread::spawn(move || (0..100).for_each(|_| bump(&l2)));
            (0..100).for_each(|_| bump(&l));
            other.join().unwrap();
            assert_eq!(l.read().1, 200);
        }
    }

    #[test]
    fn a_stale_view_of_a_moved_bias_leaves_the_new_holder_alone() {
        // This thread read `owner` while it still held the bias; since then
        // the bias moved to another thread (generation 1), which is inside
        // writing. Entering with the stale view must neither take the new
        // holder's depth for its own (a false "re-entrant" panic) nor
        // overwrite it (which would let a revoker in beside the writer).
        let l = BiasedRwLock::new(0u64, false);
        let stale = l.owner.load(Ordering::Relaxed);
        if stale == REVOKED {
            return; // no membarrier on this machine
        }
        let other = (token() + 1_000_000) << GEN_BITS | 1;
        l.owner.store(other, Ordering::Relaxed);
        l.depth[1].store(WRITER, Ordering::Relaxed);
        for write in [false, true] {
            assert!(matches!(l.enter_seen(stale, write), Bias::Other(o) if o == other));
            assert_eq!(
                l.depth[1].load(Ordering::Relaxed),
                WRITER,
                "new holder's depth"
            );
            assert_eq!(
                l.depth[0].load(Ordering::Relaxed),
                0,
                "stale entry backed out"
            );
        }
        // Let the lock drop cleanly.
        l.depth[1].store(0, Ordering::Relaxed);
    }

    #[test]
    fn owner_write_inside_read_panics_rather_than_deadlocking() {
        let l = BiasedRwLock::new(0u64, false);
        if l.owner.load(Ordering::Relaxed) == REVOKED {
            // No membarrier here: the plain lock is used, and the same
            // misuse would deadlock, as with any RwLock.
            return;
        }
        let r = l.read();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(l.write())));
        assert!(caught.is_err());
        drop(r);
        assert_eq!(l.depth[0].load(Ordering::Relaxed), 0);
        *l.write() = 3;
        assert_eq!(*l.read(), 3);
    }
}
