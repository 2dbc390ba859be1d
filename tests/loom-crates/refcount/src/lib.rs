//! An `Arc`-like reference count.
//!
//! Each drop decrements with `Release`; the last one takes an `Acquire`
//! fence before destroying the value, so every owner's use of the value
//! happens-before its destruction (std's `Arc` does the same). The `mutant`
//! feature leaves the fence out: the destruction then races with other
//! owners' reads.

mod sync {
    #[cfg(loom)]
    pub(crate) use loom::{
        cell::UnsafeCell,
        sync::atomic::{AtomicUsize, Ordering, fence},
    };
    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{AtomicUsize, Ordering, fence};

    /// std's cell with loom's closure API.
    #[cfg(not(loom))]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    #[cfg(not(loom))]
    impl<T> UnsafeCell<T> {
        pub(crate) fn new(v: T) -> Self {
            Self(std::cell::UnsafeCell::new(v))
        }
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

use std::ptr::NonNull;

use sync::{AtomicUsize, Ordering, UnsafeCell, fence};

struct Inner<T> {
    count: AtomicUsize,
    value: UnsafeCell<Option<T>>,
}

/// A shared, reference-counted value.
pub struct Rc<T> {
    inner: NonNull<Inner<T>>,
}

// SAFETY: the value is shared between threads (`Sync`) and destroyed by
// whichever owner drops last (`Send`), as for std's `Arc`.
unsafe impl<T: Send + Sync> Send for Rc<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Rc<T> {}

impl<T> Rc<T> {
    /// A new value with one owner.
    pub fn new(value: T) -> Rc<T> {
        let inner = Box::new(Inner {
            count: AtomicUsize::new(1),
            value: UnsafeCell::new(Some(value)),
        });
        Rc {
            inner: NonNull::from(Box::leak(inner)),
        }
    }

    fn inner(&self) -> &Inner<T> {
        // SAFETY: the allocation lives while an owner does.
        unsafe { self.inner.as_ref() }
    }

    /// Runs `f` with the value.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: the value is only written by the last owner, after this
        // owner's drop.
        self.inner()
            .value
            .with(|p| f(unsafe { (*p).as_ref() }.expect("alive"))) // race: value read
    }
}

impl<T> Clone for Rc<T> {
    fn clone(&self) -> Rc<T> {
        // A new owner is made from an existing one: no ordering needed.
        self.inner().count.fetch_add(1, Ordering::Relaxed);
        Rc { inner: self.inner }
    }
}

impl<T> Drop for Rc<T> {
    fn drop(&mut self) {
        if self.inner().count.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        if !cfg!(feature = "mutant") {
            fence(Ordering::Acquire);
        }
        // SAFETY: the last owner; every other owner's use happened before
        // (through the fence).
        let value = self.inner().value.with_mut(|p| unsafe { (*p).take() }); // race: value destroyed
        drop(value);
        // SAFETY: no owner is left; the box was leaked in `new`.
        drop(unsafe { Box::from_raw(self.inner.as_ptr()) });
    }
}
