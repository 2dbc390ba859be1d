//! Threads with the API of [`std::thread`]: creation sites for reports,
//! the end-of-scope edge, and `park`/`unpark` ordering.
//!
//! | operation                                   | happens-before effect                                 |
//! |---------------------------------------------|-------------------------------------------------------|
//! | `spawn`, `Builder::spawn*`, `Scope::spawn`  | parent before the spawn → the whole child (fork edge, from the runtime's `pthread_create` hook) |
//! | `JoinHandle::join`, `ScopedJoinHandle::join` | the whole child → the joiner after `join` (`pthread_join` hook) |
//! | [`scope`] returning                         | every thread spawned in the scope → the code after `scope` |
//! | [`Thread::unpark`] → [`park`]/[`park_timeout`] returning | everything before the `unpark` → after the `park` |
//!
//! Threads spawned here record the caller's location as their creation site
//! (`#[track_caller]`), shown in reports.
//!
//! **Scope end.** std waits for a scope's threads with a counter, not with
//! `pthread_join`, so a plain `std::thread::scope` gives no edge from threads
//! that are not joined explicitly. Here each scoped closure releases, as it
//! finishes (or unwinds), into a clock keyed by the scope's address, and
//! `scope` acquires it once std's `scope` returned. The return value of a
//! thread nobody joins releases again after its destructor ran, which std
//! also orders before the scope's end.
//!
//! **Parking.** std promises that writes before `unpark` are visible after
//! the `park` that consumes the token. Each thread has a clock that
//! [`Thread::unpark`] releases into *before* the real unpark and
//! [`park`] acquires *after* the real park: every unpark that precedes the
//! park in std's total order is covered. An unpark whose release lands
//! between the real park returning and the acquire is counted too, though
//! its token is left for the next park (a spurious wake-up, or an unpark
//! just after the token was consumed): a missed race in that window, never
//! a false one; closing it would need the token and the clock updated
//! atomically, which std's parker does not allow from outside. Only
//! [`Thread`] handles from this module (`current`, `JoinHandle::thread`)
//! carry the clock; `unpark` on a `std::thread::Thread` is not seen.

use std::cell::OnceCell;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use racedet_runtime::api::{self, var};
use racedet_runtime::{Site, SyncVar, with_spawn_site};

pub use std::thread::{AccessError, LocalKey, Result, ThreadId, panicking, sleep, yield_now};

/// The number of threads worth running at once, as std.
///
/// # Errors
/// As [`std::thread::available_parallelism`].
pub fn available_parallelism() -> io::Result<NonZeroUsize> {
    std::thread::available_parallelism()
}

thread_local! {
    /// The current thread's park clock, shared with its `Thread` handles.
    static PARK: OnceCell<Arc<SyncVar>> = const { OnceCell::new() };
}

fn install_park_clock(clock: Arc<SyncVar>) {
    let _ = PARK.try_with(|c| c.set(clock));
}

// ===== Thread, park =====

/// A handle to a thread, as [`std::thread::Thread`], whose [`unpark`]
/// orders the unparker before the parked thread.
///
/// [`unpark`]: Thread::unpark
#[derive(Clone)]
pub struct Thread {
    inner: std::thread::Thread,
    park: Arc<SyncVar>,
}

impl Thread {
    /// The thread's id.
    #[must_use]
    pub fn id(&self) -> ThreadId {
        self.inner.id()
    }

    /// The thread's name.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.inner.name()
    }

    /// Makes the thread's token available: everything before this call
    /// happens-before the return of the `park` that consumes it.
    #[inline]
    pub fn unpark(&self) {
        var::release(&self.park);
        self.inner.unpark();
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// A handle to the calling thread.
///
/// # Examples
///
/// ```
/// let me = racedet::thread::current();
/// me.unpark();
/// racedet::thread::park(); // returns at once: the token is available
/// ```
#[must_use]
pub fn current() -> Thread {
    let park = PARK
        .try_with(|c| Arc::clone(c.get_or_init(Default::default)))
        .unwrap_or_default();
    Thread {
        inner: std::thread::current(),
        park,
    }
}

#[inline]
fn acquire_park_clock() {
    if !racedet_runtime::enabled() {
        return;
    }
    let _ = PARK.try_with(|c| {
        if let Some(clock) = c.get() {
            var::acquire(clock);
        }
    });
}

/// Blocks until the thread's token is available (or spuriously), as
/// [`std::thread::park`].
#[inline]
pub fn park() {
    std::thread::park();
    acquire_park_clock();
}

/// [`park`] for at most `dur`.
#[inline]
pub fn park_timeout(dur: Duration) {
    std::thread::park_timeout(dur);
    acquire_park_clock();
}

// ===== spawn, Builder, JoinHandle =====

/// Spawns a thread, as [`std::thread::spawn`], recording the call site.
///
/// # Panics
/// As std: if the OS cannot create a thread.
///
/// # Examples
///
/// ```
/// let h = racedet::thread::spawn(|| 6 * 7);
/// assert_eq!(h.join().unwrap(), 42);
/// ```
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("failed to spawn thread")
}

/// Thread configuration, as [`std::thread::Builder`].
///
/// # Examples
///
/// ```
/// let h = racedet::thread::Builder::new().name("worker".into()).spawn(|| {
///     racedet::thread::current().name().map(str::to_owned)
/// }).unwrap();
/// assert_eq!(h.join().unwrap().as_deref(), Some("worker"));
/// ```
#[derive(Debug)]
#[must_use = "must eventually spawn the thread"]
pub struct Builder {
    inner: std::thread::Builder,
}

/// An owned permission to join a thread, as [`std::thread::JoinHandle`].
pub struct JoinHandle<T> {
    inner: std::thread::JoinHandle<T>,
    thread: Thread,
}

impl Builder {
    /// Default configuration.
    pub fn new() -> Builder {
        Builder {
            inner: std::thread::Builder::new(),
        }
    }

    /// Names the thread.
    pub fn name(self, name: String) -> Builder {
        Builder {
            inner: self.inner.name(name),
        }
    }

    /// Sets the stack size in bytes.
    pub fn stack_size(self, size: usize) -> Builder {
        Builder {
            inner: self.inner.stack_size(size),
        }
    }

    /// Spawns the thread.
    ///
    /// # Errors
    /// As std: if the OS cannot create a thread.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let f = crate::loom::hook::wrap_spawn(f);
        let site = Site::caller();
        let (park, child_park) = park_clocks();
        let inner = with_spawn_site(site, || {
            self.inner.spawn(move || {
                install_park_clock(child_park);
                f()
            })
        })?;
        Ok(JoinHandle {
            thread: Thread {
                inner: inner.thread().clone(),
                park,
            },
            inner,
        })
    }

    /// Spawns a thread without the `'static` bounds.
    ///
    /// # Errors
    /// As std: if the OS cannot create a thread.
    ///
    /// # Safety
    /// As [`std::thread::Builder::spawn_unchecked`]: the caller must make
    /// sure the thread does not outlive any reference it captures.
    #[track_caller]
    pub unsafe fn spawn_unchecked<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        let site = Site::caller();
        let (park, child_park) = park_clocks();
        let inner = with_spawn_site(site, || {
            // SAFETY: the caller upholds `spawn_unchecked`'s contract for `f`;
            // the wrapper adds only an owned `Arc`.
            unsafe {
                self.inner.spawn_unchecked(move || {
                    install_park_clock(child_park);
                    f()
                })
            }
        })?;
        Ok(JoinHandle {
            thread: Thread {
                inner: inner.thread().clone(),
                park,
            },
            inner,
        })
    }

    /// Spawns a thread in `scope`.
    ///
    /// # Errors
    /// As std: if the OS cannot create a thread.
    #[track_caller]
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let site = Site::caller();
        let (park, child_park) = park_clocks();
        let key = scope.key();
        let inner = with_spawn_site(site, || {
            self.inner.spawn_scoped(&scope.inner, move || {
                install_park_clock(child_park);
                // Released also when `f` unwinds: std's scope waits for
                // panicked threads too.
                let _done = ReleaseOnDrop(key);
                ScopedResult {
                    value: Some(f()),
                    key,
                }
            })
        })?;
        Ok(ScopedJoinHandle {
            thread: Thread {
                inner: inner.thread().clone(),
                park,
            },
            inner,
        })
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

fn park_clocks() -> (Arc<SyncVar>, Arc<SyncVar>) {
    let park = Arc::new(SyncVar::new());
    (Arc::clone(&park), park)
}

impl<T> JoinHandle<T> {
    /// Waits for the thread; everything it did happens-before the return.
    ///
    /// # Errors
    /// As std: `Err` with the panic payload if the thread panicked.
    pub fn join(self) -> Result<T> {
        self.inner.join()
    }

    /// The thread's handle.
    #[must_use]
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// Whether the thread's main function returned (orders nothing).
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

#[cfg(unix)]
impl<T> std::os::unix::thread::JoinHandleExt for JoinHandle<T> {
    fn as_pthread_t(&self) -> std::os::unix::thread::RawPthread {
        self.inner.as_pthread_t()
    }

    fn into_pthread_t(self) -> std::os::unix::thread::RawPthread {
        self.inner.into_pthread_t()
    }
}

// ===== scope =====

/// A scope to spawn threads borrowing local data, as
/// [`std::thread::Scope`] (same layout: a `&std::thread::Scope` is viewed as
/// a `&Scope`).
#[repr(transparent)]
pub struct Scope<'scope, 'env: 'scope> {
    inner: std::thread::Scope<'scope, 'env>,
    // Keeps std's invariance even if std's type changed.
    _invariant: PhantomData<(&'scope mut &'scope (), &'env mut &'env ())>,
}

/// An owned permission to join a scoped thread, as
/// [`std::thread::ScopedJoinHandle`].
pub struct ScopedJoinHandle<'scope, T> {
    inner: std::thread::ScopedJoinHandle<'scope, ScopedResult<T>>,
    thread: Thread,
}

/// A scoped closure's return value, as std keeps it until a join takes it.
/// For a thread nobody joins, std drops the value and only then counts the
/// thread out of the scope, on whichever thread lets go of it last (the
/// scoped thread itself if its handle went first), so the value's
/// destructor is ordered before the scope's end: this releases after it.
struct ScopedResult<T> {
    value: Option<T>,
    /// The scope's clock key; 0 once a join took the value (the joiner's
    /// later accesses are not the scoped thread's).
    key: usize,
}

impl<T> Drop for ScopedResult<T> {
    fn drop(&mut self) {
        if self.key != 0 {
            let _release = ReleaseOnDrop(self.key);
            drop(self.value.take());
        }
    }
}

/// Releases into the scope's clock when the scoped closure ends.
struct ReleaseOnDrop(usize);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        api::release(self.0);
    }
}

/// Runs `f` with a scope for spawning threads that may borrow local data;
/// returns after all of them finished, each of them happening-before the
/// return, as [`std::thread::scope`].
///
/// # Panics
/// As std: if a spawned thread that was not joined panicked.
///
/// # Examples
///
/// ```
/// let mut data = vec![1, 2, 3];
/// racedet::thread::scope(|s| {
///     s.spawn(|| assert_eq!(data.len(), 3));
/// });
/// data.push(4); // ordered after the scoped thread's read
/// ```
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    // Acquires also when std's `scope` resumes a panic: the code that
    // catches it is ordered after the scoped threads too.
    let mut end = ScopeEnd(0);
    let r = std::thread::scope(|s| {
        let s = Scope::wrap(s);
        end.0 = s.key();
        f(s)
    });
    drop(end);
    r
}

/// Acquires the scope's clock when dropped (the scope is over).
struct ScopeEnd(usize);

impl Drop for ScopeEnd {
    fn drop(&mut self) {
        if self.0 != 0 {
            api::acquire(self.0);
            // The address is a stack slot that later scopes may reuse.
            api::reset_range(self.0, 1);
        }
    }
}

impl<'scope, 'env> Scope<'scope, 'env> {
    fn wrap<'a>(s: &'a std::thread::Scope<'scope, 'env>) -> &'a Scope<'scope, 'env> {
        let p: *const std::thread::Scope<'scope, 'env> = s;
        // SAFETY: `Scope` is `repr(transparent)` over std's `Scope` (the
        // other field is a zero-sized marker), so the pointer cast keeps the
        // layout, and the lifetime is the borrow's.
        unsafe { &*p.cast::<Scope<'scope, 'env>>() }
    }

    /// The address of std's scope: the key of the end-of-scope clock.
    fn key(&self) -> usize {
        (&raw const self.inner).cast::<u8>() as usize
    }

    /// Spawns a thread in this scope.
    ///
    /// # Panics
    /// As std: if the OS cannot create a thread.
    #[track_caller]
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        Builder::new()
            .spawn_scoped(self, f)
            .expect("failed to spawn thread")
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread; everything it did happens-before the return.
    ///
    /// # Errors
    /// As std: `Err` with the panic payload if the thread panicked.
    pub fn join(self) -> Result<T> {
        self.inner.join().map(|mut r| {
            r.key = 0;
            r.value.take().expect("a scoped result is taken once")
        })
    }

    /// The thread's handle.
    #[must_use]
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// Whether the thread's main function returned (orders nothing).
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

impl<T> fmt::Debug for ScopedJoinHandle<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedJoinHandle").finish_non_exhaustive()
    }
}
