//! One-time initialisation: [`Once`], [`OnceLock`], [`LazyLock`].
//!
//! | operation                                         | happens-before effect                     |
//! |---------------------------------------------------|-------------------------------------------|
//! | the initialising closure finishing or panicking    | releases into the object's clock          |
//! | an initialising closure starting (`call_once_force`, `get_or_init`, `set`, `force`) | acquires it (a failed attempt's writes) |
//! | every call that observes completion: `call_once*`, `wait*`, `is_completed() == true`, `get() == Some`, `get_or_init`, `set`, `force`, `Deref` | acquires it |
//! | `get_mut`, `take`, `into_inner`, `force_mut`      | none (`&mut`/ownership)                   |
//!
//! The release happens inside the closure std runs, i.e. before std marks
//! the object complete, so no thread can observe completion without finding
//! the clock. A `Once` closure that panics poisons the `Once`; the release
//! still happens (std's poisoning store is a release too), so a later
//! `call_once_force` closure sees what the failed attempt wrote (it acquires
//! before running). `OnceLock` (and so `LazyLock`) is the same: std
//! initialises it inside `call_once_force`, so a panicking initialiser
//! releases too and the next initialiser acquires before it runs.

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::{RefUnwindSafe, UnwindSafe};

use racedet_runtime::SyncVar;
use racedet_runtime::api::var;

pub use std::sync::OnceState;

/// Releases into a clock when dropped (also while unwinding).
struct ReleaseOnDrop<'a>(&'a SyncVar);

impl Drop for ReleaseOnDrop<'_> {
    #[inline]
    fn drop(&mut self) {
        var::release(self.0);
    }
}

// ===== Once =====

/// One-time global initialisation with the API of [`std::sync::Once`].
///
/// # Examples
///
/// ```
/// use racedet::sync::Once;
///
/// static INIT: Once = Once::new();
/// INIT.call_once(|| println!("once"));
/// assert!(INIT.is_completed());
/// ```
pub struct Once {
    inner: std::sync::Once,
    sync: SyncVar,
}

impl RefUnwindSafe for Once {}
impl UnwindSafe for Once {}

impl Once {
    /// A new `Once`.
    #[must_use]
    #[inline]
    pub const fn new() -> Once {
        Once {
            inner: std::sync::Once::new(),
            sync: SyncVar::new(),
        }
    }

    /// Runs `f` if no closure has completed yet; returns once one has.
    ///
    /// # Panics
    /// As std: if the `Once` was poisoned by a panicking closure.
    #[track_caller]
    #[inline]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        self.inner.call_once(|| {
            let _release = ReleaseOnDrop(&self.sync);
            f();
        });
        var::acquire(&self.sync);
    }

    /// Like `call_once`, but also runs on a poisoned `Once`.
    #[track_caller]
    #[inline]
    pub fn call_once_force<F: FnOnce(&OnceState)>(&self, f: F) {
        self.inner.call_once_force(|state| {
            // A poisoned `Once`: the failed attempt's writes are visible.
            var::acquire(&self.sync);
            let _release = ReleaseOnDrop(&self.sync);
            f(state);
        });
        var::acquire(&self.sync);
    }

    /// Whether some closure completed; `true` orders the caller after it.
    #[inline]
    pub fn is_completed(&self) -> bool {
        let done = self.inner.is_completed();
        if done {
            var::acquire(&self.sync);
        }
        done
    }

    /// Blocks until a closure completed.
    ///
    /// # Panics
    /// As std: if the `Once` is poisoned.
    #[inline]
    pub fn wait(&self) {
        self.inner.wait();
        var::acquire(&self.sync);
    }

    /// Blocks until a closure completed, ignoring poisoning.
    #[inline]
    pub fn wait_force(&self) {
        self.inner.wait_force();
        var::acquire(&self.sync);
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once").finish_non_exhaustive()
    }
}

// ===== OnceLock =====

/// A cell written once, with the API of [`std::sync::OnceLock`].
///
/// # Examples
///
/// ```
/// use racedet::sync::OnceLock;
///
/// static CONFIG: OnceLock<String> = OnceLock::new();
/// assert_eq!(CONFIG.get_or_init(|| "on".into()), "on");
/// assert_eq!(CONFIG.set("off".into()), Err("off".into()));
/// ```
pub struct OnceLock<T> {
    inner: std::sync::OnceLock<T>,
    sync: SyncVar,
}

impl<T: RefUnwindSafe + UnwindSafe> RefUnwindSafe for OnceLock<T> {}
impl<T: UnwindSafe> UnwindSafe for OnceLock<T> {}

impl<T> OnceLock<T> {
    /// An empty cell.
    #[must_use]
    #[inline]
    pub const fn new() -> OnceLock<T> {
        OnceLock {
            inner: std::sync::OnceLock::new(),
            sync: SyncVar::new(),
        }
    }

    /// The value, if initialised (which orders the caller after the
    /// initialisation).
    #[inline]
    pub fn get(&self) -> Option<&T> {
        let v = self.inner.get();
        if v.is_some() {
            var::acquire(&self.sync);
        }
        v
    }

    /// The value, mutably (`&mut self` is exclusive).
    #[inline]
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.inner.get_mut()
    }

    /// Blocks until the cell is initialised.
    #[inline]
    pub fn wait(&self) -> &T {
        let v = self.inner.wait();
        var::acquire(&self.sync);
        v
    }

    /// Initialises the cell with `value`.
    ///
    /// # Errors
    /// `Err(value)` if the cell was already initialised.
    #[inline]
    pub fn set(&self, value: T) -> Result<(), T> {
        // Through `get_or_init` so that the release precedes std's store.
        let mut value = Some(value);
        self.get_or_init(|| value.take().expect("runs at most once"));
        match value {
            None => Ok(()),
            Some(v) => Err(v),
        }
    }

    /// The value, initialised with `f` if the cell is empty.
    #[inline]
    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        let v = self.inner.get_or_init(|| {
            // std runs this inside `Once::call_once_force`: an earlier
            // initialiser that panicked poisoned the `Once` (a release) and
            // this one started after seeing that (an acquire).
            var::acquire(&self.sync);
            let _release = ReleaseOnDrop(&self.sync);
            f()
        });
        var::acquire(&self.sync);
        v
    }

    /// The value, if any, consuming the cell.
    #[inline]
    pub fn into_inner(self) -> Option<T> {
        self.inner.into_inner()
    }

    /// Takes the value out, leaving the cell empty (and its history with it).
    #[inline]
    pub fn take(&mut self) -> Option<T> {
        self.sync.reset();
        self.inner.take()
    }
}

impl<T> Default for OnceLock<T> {
    fn default() -> OnceLock<T> {
        OnceLock::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("OnceLock");
        match self.get() {
            Some(v) => d.field(v),
            None => d.field(&format_args!("<uninit>")),
        };
        d.finish()
    }
}

impl<T: Clone> Clone for OnceLock<T> {
    fn clone(&self) -> OnceLock<T> {
        match self.get() {
            Some(v) => OnceLock::from(v.clone()),
            None => OnceLock::new(),
        }
    }
}

impl<T> From<T> for OnceLock<T> {
    fn from(value: T) -> OnceLock<T> {
        OnceLock {
            inner: std::sync::OnceLock::from(value),
            sync: SyncVar::new(),
        }
    }
}

impl<T: PartialEq> PartialEq for OnceLock<T> {
    fn eq(&self, other: &OnceLock<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceLock<T> {}

// ===== LazyLock =====

const POISONED: &str = "LazyLock instance has previously been poisoned";

/// A value initialised on first access, with the API of
/// [`std::sync::LazyLock`]. Built on [`OnceLock`], so first access →
/// every later access is an edge.
///
/// # Examples
///
/// ```
/// use racedet::sync::LazyLock;
///
/// static SQUARES: LazyLock<Vec<u32>> = LazyLock::new(|| (0..4).map(|i| i * i).collect());
/// assert_eq!(SQUARES[3], 9);
/// ```
pub struct LazyLock<T, F = fn() -> T> {
    once: OnceLock<T>,
    /// Taken by the one thread that runs the initialiser.
    init: UnsafeCell<Option<F>>,
}

// SAFETY: `init` is only touched inside `OnceLock::get_or_init`'s closure,
// which std runs on at most one thread at a time, or through `&mut self`; the
// value is shared like `OnceLock<T>`'s. These are std's bounds.
unsafe impl<T: Sync + Send, F: Send> Sync for LazyLock<T, F> {}
impl<T: RefUnwindSafe + UnwindSafe, F: UnwindSafe> RefUnwindSafe for LazyLock<T, F> {}

impl<T, F: FnOnce() -> T> LazyLock<T, F> {
    /// A lazy value initialised by `f` on first access.
    #[inline]
    pub const fn new(f: F) -> LazyLock<T, F> {
        LazyLock {
            once: OnceLock::new(),
            init: UnsafeCell::new(Some(f)),
        }
    }

    /// Forces initialisation and returns the value.
    ///
    /// # Panics
    /// If the initialiser panicked, now or in an earlier access (as std).
    #[inline]
    pub fn force(this: &LazyLock<T, F>) -> &T {
        this.once.get_or_init(|| {
            // SAFETY: std runs this closure on one thread at a time and no
            // other code reads `init` through a shared reference.
            let f = unsafe { (*this.init.get()).take() };
            match f {
                Some(f) => f(),
                None => panic!("{POISONED}"),
            }
        })
    }

    /// Forces initialisation through `&mut` and returns the value mutably.
    ///
    /// # Panics
    /// If the initialiser panicked, now or earlier.
    #[inline]
    pub fn force_mut(this: &mut LazyLock<T, F>) -> &mut T {
        if this.once.get_mut().is_none() {
            let f = this.init.get_mut().take().expect(POISONED);
            let _ = this.once.inner.set(f());
        }
        this.once.get_mut().expect("initialised above")
    }

    /// The value, if already initialised.
    #[inline]
    pub fn get(this: &LazyLock<T, F>) -> Option<&T> {
        this.once.get()
    }

    /// The value mutably, if already initialised.
    #[inline]
    pub fn get_mut(this: &mut LazyLock<T, F>) -> Option<&mut T> {
        this.once.get_mut()
    }
}

impl<T, F: FnOnce() -> T> Deref for LazyLock<T, F> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        LazyLock::force(self)
    }
}

impl<T, F: FnOnce() -> T> DerefMut for LazyLock<T, F> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        LazyLock::force_mut(self)
    }
}

impl<T: Default> Default for LazyLock<T> {
    fn default() -> LazyLock<T> {
        LazyLock::new(T::default)
    }
}

impl<T: fmt::Debug, F> fmt::Debug for LazyLock<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("LazyLock");
        match self.once.get() {
            Some(v) => d.field(v),
            None => d.field(&format_args!("<uninit>")),
        };
        d.finish()
    }
}
