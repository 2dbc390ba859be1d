//! [`Arc`] and [`Weak`]: std's reference counting, plus the ordering std's
//! counter gives every drop.
//!
//! | operation                                            | happens-before effect                |
//! |------------------------------------------------------|--------------------------------------|
//! | drop of an `Arc`, `into_inner` (not last)            | releases into the allocation's clock |
//! | the last drop (before `T`'s destructor runs), `into_inner` and `try_unwrap` that return the value, `get_mut`/`make_mut` that find it unique | acquire it |
//! | `clone`, `downgrade`, `upgrade`, `strong_count`, ... | none                                 |
//!
//! std decrements the count with `Release` and the last owner takes an
//! `Acquire` fence before dropping `T`, so every use of `T` through any clone
//! happens-before `T`'s destructor; `get_mut`, `try_unwrap` and `into_inner`
//! give the same ordering. The clock lives in the allocation next to `T`
//! ([`ArcInner`]) and is acquired by its own destructor, which runs before
//! `T`'s (fields drop in declaration order).
//!
//! **Unsizing.** `Arc<T>` → `Arc<dyn Trait>` / `Arc<[T]>` is a built-in
//! coercion only for types implementing the unstable `CoerceUnsized`, so a
//! wrapper cannot coerce implicitly on stable. [`unsize_arc!`](crate::unsize_arc)
//! does it explicitly (`let a: Arc<dyn Send> = racedet::unsize_arc!(Arc::new(1));`).
//! Not provided: `into_raw`/`from_raw` and the strong-count raw-pointer
//! functions, allocator-aware constructors, `From<Vec<T>>`/`From<&str>` into
//! unsized `Arc`s. `Weak::upgrade` orders nothing (std does not document an
//! edge); in particular an `Arc::new_cyclic` value read through a `Weak`
//! upgraded on another thread must be published by other means.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::pin::Pin;

use racedet_runtime::SyncVar;
use racedet_runtime::api::var;

/// The shared allocation: the drop clock, then the value.
#[doc(hidden)]
pub struct ArcInner<T: ?Sized> {
    clock: DropClock,
    value: T,
}

// The clock is internally locked: unwind safety is `T`'s.
impl<T: ?Sized + RefUnwindSafe> RefUnwindSafe for ArcInner<T> {}

/// Acquires the released drops when the allocation dies (before `T`'s
/// destructor, which is declared after it).
struct DropClock(SyncVar);

impl Drop for DropClock {
    #[inline]
    fn drop(&mut self) {
        var::acquire(&self.0);
    }
}

/// A thread-safe reference-counted pointer with the API of
/// [`std::sync::Arc`].
///
/// # Examples
///
/// ```
/// use racedet::sync::Arc;
///
/// let five = Arc::new(5);
/// let other = Arc::clone(&five);
/// racedet::thread::spawn(move || assert_eq!(*other, 5)).join().unwrap();
/// assert_eq!(Arc::try_unwrap(five), Ok(5));
/// ```
pub struct Arc<T: ?Sized> {
    inner: ManuallyDrop<std::sync::Arc<ArcInner<T>>>,
}

/// A non-owning reference to an [`Arc`]'s allocation, as [`std::sync::Weak`].
pub struct Weak<T: ?Sized> {
    inner: std::sync::Weak<ArcInner<T>>,
}

impl<T: ?Sized + RefUnwindSafe> UnwindSafe for Arc<T> {}

impl<T> Arc<T> {
    /// Allocates `value`.
    #[inline]
    pub fn new(value: T) -> Arc<T> {
        Arc::from_std(std::sync::Arc::new(ArcInner {
            clock: DropClock(SyncVar::new()),
            value,
        }))
    }

    /// Consumes the `Arc` without dropping it and returns a pointer to the
    /// value, as [`std::sync::Arc::into_raw`]. Not a drop: nothing is
    /// released until the `Arc` rebuilt by [`from_raw`](Arc::from_raw) drops.
    pub fn into_raw(this: Arc<T>) -> *const T {
        let this = ManuallyDrop::new(this);
        // SAFETY: `this` is never dropped, so the std `Arc` read out of it
        // keeps the one strong count `this` owned.
        let inner: std::sync::Arc<ArcInner<T>> = unsafe { std::ptr::read(&*this.inner) };
        let p = std::sync::Arc::into_raw(inner);
        // SAFETY: `p` points to a live `ArcInner<T>`; no reference is made.
        unsafe { &raw const (*p).value }
    }

    /// Rebuilds an `Arc` from [`into_raw`](Arc::into_raw)'s pointer.
    ///
    /// # Safety
    /// As [`std::sync::Arc::from_raw`]: `ptr` must come from
    /// `racedet::sync::Arc::<T>::into_raw` and each pointer be rebuilt once
    /// per strong count it carries.
    pub unsafe fn from_raw(ptr: *const T) -> Arc<T> {
        let offset = std::mem::offset_of!(ArcInner<T>, value);
        // SAFETY: per the contract `ptr` is the `value` field of an
        // `ArcInner<T>` that std's `Arc::into_raw` returned, so stepping back
        // by the field's offset gives that pointer again.
        let inner = unsafe { ptr.cast::<u8>().sub(offset).cast::<ArcInner<T>>() };
        // SAFETY: as above; the strong count is the caller's.
        Arc::from_std(unsafe { std::sync::Arc::from_raw(inner) })
    }

    /// Adds a strong count to the allocation behind `ptr`, as std.
    ///
    /// # Safety
    /// As [`std::sync::Arc::increment_strong_count`].
    pub unsafe fn increment_strong_count(ptr: *const T) {
        // SAFETY: per the contract; the rebuilt `Arc` is never dropped, so
        // only the clone's count is added.
        let this = ManuallyDrop::new(unsafe { Arc::from_raw(ptr) });
        std::mem::forget(Arc::clone(&this));
    }

    /// Drops a strong count of the allocation behind `ptr` (a release, as
    /// any drop), as std.
    ///
    /// # Safety
    /// As [`std::sync::Arc::decrement_strong_count`].
    pub unsafe fn decrement_strong_count(ptr: *const T) {
        // SAFETY: per the contract.
        drop(unsafe { Arc::from_raw(ptr) });
    }

    /// Allocates a value built by `data_fn`, which gets a `Weak` to it.
    pub fn new_cyclic<F: FnOnce(&Weak<T>) -> T>(data_fn: F) -> Arc<T> {
        Arc::from_std(std::sync::Arc::new_cyclic(|weak| ArcInner {
            clock: DropClock(SyncVar::new()),
            value: data_fn(&Weak {
                inner: weak.clone(),
            }),
        }))
    }

    /// `Arc::new` pinned.
    pub fn pin(value: T) -> Pin<Arc<T>> {
        // SAFETY: the value lives in the shared allocation and is never moved
        // out through a pinned `Arc` (there is no `DerefMut`).
        unsafe { Pin::new_unchecked(Arc::new(value)) }
    }

    /// The value if this is the only strong reference, else `Err(this)`.
    ///
    /// # Errors
    /// `Err(this)` when other strong references exist.
    #[inline]
    pub fn try_unwrap(this: Arc<T>) -> Result<T, Arc<T>> {
        match std::sync::Arc::try_unwrap(Arc::into_std(this)) {
            Ok(ArcInner { clock, value }) => {
                // Dropping the clock acquires every earlier drop.
                drop(clock);
                Ok(value)
            }
            Err(inner) => Err(Arc::from_std(inner)),
        }
    }

    /// Drops this reference and returns the value if it was the last one.
    #[inline]
    pub fn into_inner(this: Arc<T>) -> Option<T> {
        var::release(&this.inner.clock.0);
        std::sync::Arc::into_inner(Arc::into_std(this)).map(|i| i.value)
    }

    /// The value if unique, else a clone of it.
    pub fn unwrap_or_clone(this: Arc<T>) -> T
    where
        T: Clone,
    {
        Arc::try_unwrap(this).unwrap_or_else(|a| (*a).clone())
    }
}

impl<T: ?Sized> Arc<T> {
    #[inline]
    fn from_std(inner: std::sync::Arc<ArcInner<T>>) -> Arc<T> {
        Arc {
            inner: ManuallyDrop::new(inner),
        }
    }

    #[inline]
    fn into_std(this: Arc<T>) -> std::sync::Arc<ArcInner<T>> {
        let mut this = ManuallyDrop::new(this);
        // SAFETY: `this` is never used or dropped again, so the inner `Arc`
        // is moved out exactly once.
        unsafe { ManuallyDrop::take(&mut this.inner) }
    }

    /// Used by [`unsize_arc!`](crate::unsize_arc); not public API.
    #[doc(hidden)]
    #[inline]
    pub fn __into_std(this: Arc<T>) -> std::sync::Arc<ArcInner<T>> {
        Arc::into_std(this)
    }

    /// Used by [`unsize_arc!`](crate::unsize_arc); the argument is where the
    /// unsizing coercion of std's `Arc` happens.
    #[doc(hidden)]
    #[inline]
    pub fn __from_std(inner: std::sync::Arc<ArcInner<T>>) -> Arc<T> {
        Arc::from_std(inner)
    }

    /// A mutable reference if there is no other `Arc` or `Weak`; ordered
    /// after every other reference's drop.
    #[inline]
    pub fn get_mut(this: &mut Arc<T>) -> Option<&mut T> {
        let inner = std::sync::Arc::get_mut(&mut this.inner)?;
        var::acquire(&inner.clock.0);
        Some(&mut inner.value)
    }

    /// A new `Weak` to this allocation.
    #[inline]
    pub fn downgrade(this: &Arc<T>) -> Weak<T> {
        Weak {
            inner: std::sync::Arc::downgrade(&this.inner),
        }
    }

    /// The number of `Weak`s.
    #[inline]
    pub fn weak_count(this: &Arc<T>) -> usize {
        std::sync::Arc::weak_count(&this.inner)
    }

    /// The number of `Arc`s.
    #[inline]
    pub fn strong_count(this: &Arc<T>) -> usize {
        std::sync::Arc::strong_count(&this.inner)
    }

    /// Whether both point to the same allocation.
    #[inline]
    pub fn ptr_eq(this: &Arc<T>, other: &Arc<T>) -> bool {
        std::sync::Arc::ptr_eq(&this.inner, &other.inner)
    }

    /// A pointer to the value.
    #[inline]
    pub fn as_ptr(this: &Arc<T>) -> *const T {
        &this.inner.value
    }
}

impl<T: Clone> Arc<T> {
    /// A mutable reference, cloning the value first if another `Arc` shares
    /// it. As std, the last strong reference takes the value over even
    /// while `Weak`s exist (they are detached), and is then ordered after
    /// every other reference's drop.
    pub fn make_mut(this: &mut Arc<T>) -> &mut T {
        // std's `make_mut` decides unique-or-clone with one compare-exchange
        // on the strong count; only std's own function can make that choice
        // without racing `Weak::upgrade`. If it clones, it drops this
        // reference without our `Drop`, so release for it first (harmless
        // if the value turns out unique: the clock then has no other reader).
        var::release(&this.inner.clock.0);
        let inner = std::sync::Arc::make_mut(&mut this.inner);
        // Unique (or moved away from `Weak`s): every other drop released into
        // this clock, which moved along with the value. A fresh clone's
        // clock is empty.
        var::acquire(&inner.clock.0);
        &mut inner.value
    }
}

/// What std's `Arc::make_mut` clones when the value is shared: the value,
/// with a clock of its own.
impl<T: Clone> Clone for ArcInner<T> {
    fn clone(&self) -> ArcInner<T> {
        ArcInner {
            clock: DropClock(SyncVar::new()),
            value: self.value.clone(),
        }
    }
}

impl<T: ?Sized> Drop for Arc<T> {
    #[inline]
    fn drop(&mut self) {
        var::release(&self.inner.clock.0);
        // SAFETY: dropped exactly once, here; `self` is not used afterwards.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
    }
}

impl<T: ?Sized> Clone for Arc<T> {
    #[inline]
    fn clone(&self) -> Arc<T> {
        Arc::from_std(std::sync::Arc::clone(&self.inner))
    }
}

impl<T: ?Sized> Deref for Arc<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner.value
    }
}

impl<T: ?Sized> AsRef<T> for Arc<T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T: ?Sized> Borrow<T> for Arc<T> {
    fn borrow(&self) -> &T {
        self
    }
}

impl<T: ?Sized> Unpin for Arc<T> {}

impl<T: Default> Default for Arc<T> {
    fn default() -> Arc<T> {
        Arc::new(T::default())
    }
}

impl<T> From<T> for Arc<T> {
    fn from(t: T) -> Arc<T> {
        Arc::new(t)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> fmt::Pointer for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&Arc::as_ptr(self), f)
    }
}

impl<T: ?Sized + PartialEq> PartialEq for Arc<T> {
    fn eq(&self, other: &Arc<T>) -> bool {
        **self == **other
    }
}

impl<T: ?Sized + Eq> Eq for Arc<T> {}

impl<T: ?Sized + PartialOrd> PartialOrd for Arc<T> {
    fn partial_cmp(&self, other: &Arc<T>) -> Option<Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: ?Sized + Ord> Ord for Arc<T> {
    fn cmp(&self, other: &Arc<T>) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: ?Sized + Hash> Hash for Arc<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

// ===== impl Weak =====

impl<T> Weak<T> {
    /// A `Weak` to nothing.
    #[must_use]
    #[inline]
    pub const fn new() -> Weak<T> {
        Weak {
            inner: std::sync::Weak::new(),
        }
    }
}

impl<T: ?Sized> Weak<T> {
    /// An `Arc` if the value is still alive. Creates no happens-before edge.
    #[inline]
    pub fn upgrade(&self) -> Option<Arc<T>> {
        self.inner.upgrade().map(Arc::from_std)
    }

    /// The number of `Arc`s.
    #[inline]
    pub fn strong_count(&self) -> usize {
        self.inner.strong_count()
    }

    /// The number of `Weak`s (0 if no `Arc` remains).
    #[inline]
    pub fn weak_count(&self) -> usize {
        self.inner.weak_count()
    }

    /// Whether both point to the same allocation (or both to none).
    #[inline]
    pub fn ptr_eq(&self, other: &Weak<T>) -> bool {
        self.inner.ptr_eq(&other.inner)
    }
}

impl<T: ?Sized> Clone for Weak<T> {
    fn clone(&self) -> Weak<T> {
        Weak {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Default for Weak<T> {
    fn default() -> Weak<T> {
        Weak::new()
    }
}

impl<T: ?Sized> fmt::Debug for Weak<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(Weak)")
    }
}

/// Converts a `racedet::sync::Arc<T>` into an `Arc<U>` where std would
/// coerce (`T: Unsize<U>`: a concrete type to `dyn Trait`, an array to a
/// slice). The target type must be known from context.
///
/// ```
/// use racedet::sync::Arc;
/// use std::fmt::Debug;
///
/// let a: Arc<dyn Debug + Send + Sync> = racedet::unsize_arc!(Arc::new(7));
/// let s: Arc<[u8]> = racedet::unsize_arc!(Arc::new([1, 2, 3]));
/// assert_eq!(format!("{a:?}"), "7");
/// assert_eq!(s.len(), 3);
/// ```
#[macro_export]
macro_rules! unsize_arc {
    ($arc:expr) => {{
        // A separate binding, so that the expected type reaches only the
        // second call, whose argument is the coercion site.
        let inner = $crate::sync::Arc::__into_std($arc);
        $crate::sync::Arc::__from_std(inner)
    }};
}
