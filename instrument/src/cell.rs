//! Cells whose accesses racedet checks.
//!
//! * [`UnsafeCell`] has loom's API (`with`/`with_mut` hand out raw pointers
//!   inside a closure), so code that already switches to `loom::cell` under
//!   `cfg(loom)` can switch to racedet by path. A `with` is a checked *read*
//!   of the cell's bytes and a `with_mut` a checked *write*, at the caller's
//!   line: the closure is where the caller dereferences the pointer, and
//!   racedet trusts it to read only in `with`. The shadow is keyed by the
//!   data's address, so it is cleared when the cell is dropped (a new cell at
//!   the same address starts clean) and on `get_mut` (exclusive).
//! * [`RaceCell`] is a *safe* shared cell for Go-style shared variables and
//!   for tests: `get`/`set`/`replace`/`update` through `&self`, each a checked
//!   whole-object read or write, like [`RaceMap`](crate::collections::RaceMap).
//!   An internal lock that racedet does not see keeps racy use memory-safe:
//!   a race is *reported*, it is never undefined behaviour.

use std::fmt;
use std::mem::ManuallyDrop;

#[cfg(feature = "loom")]
pub use crate::loom::cell::{Cell, ConstPtr, MutPtr};
use racedet_runtime::{Object, Site, api};

use crate::biased_lock::BiasedRwLock;

/// `std::cell::UnsafeCell` with checked accesses and loom's API.
///
/// Unlike `loom::cell::UnsafeCell::get_mut`, which hands out a tracked
/// pointer through `&self`, [`get_mut`](Self::get_mut) is std's: `&mut self`
/// to `&mut T`.
#[repr(transparent)]
pub struct UnsafeCell<T: ?Sized> {
    data: std::cell::UnsafeCell<T>,
}

// `Send`/`!Sync` come from the std cell, as for std's and loom's types.

impl<T> UnsafeCell<T> {
    /// A new cell (usable in `static`s).
    pub const fn new(data: T) -> UnsafeCell<T> {
        UnsafeCell {
            data: std::cell::UnsafeCell::new(data),
        }
    }

    /// The value; the cell's history is forgotten.
    pub fn into_inner(self) -> T {
        let this = ManuallyDrop::new(self);
        this.forget_history();
        // SAFETY: `this` is never used or dropped again, so moving the data
        // out leaves no second owner.
        unsafe { std::ptr::read(&this.data) }.into_inner()
    }
}

impl<T: ?Sized> UnsafeCell<T> {
    /// Runs `f` with a pointer for reading: a checked read of the cell.
    #[track_caller]
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        api::read(self.addr(), self.size(), Site::caller());
        f(self.data.get())
    }

    /// Runs `f` with a pointer for writing: a checked write of the cell.
    #[track_caller]
    #[inline]
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        api::write(self.addr(), self.size(), Site::caller());
        f(self.data.get())
    }

    /// Exclusive access (proved by the borrow): not checked, and the history
    /// is forgotten, since every earlier access happens before a `&mut`.
    /// (With the `loom` feature, loom's `get_mut(&self) -> MutPtr` instead.)
    #[cfg(not(feature = "loom"))]
    pub fn get_mut(&mut self) -> &mut T {
        self.forget_history();
        self.data.get_mut()
    }

    fn addr(&self) -> usize {
        self.data.get().cast::<u8>() as usize
    }

    fn size(&self) -> usize {
        // `repr(transparent)`: the cell's size is the data's. Computed from
        // `&self` (allowed while others write through the cell's pointer),
        // never from a reference to the data.
        std::mem::size_of_val(self)
    }

    fn forget_history(&self) {
        api::reset_range(self.addr(), self.size());
    }
}

impl<T: ?Sized> Drop for UnsafeCell<T> {
    fn drop(&mut self) {
        self.forget_history();
    }
}

impl<T: Default> Default for UnsafeCell<T> {
    fn default() -> Self {
        UnsafeCell::new(T::default())
    }
}

impl<T> From<T> for UnsafeCell<T> {
    fn from(t: T) -> Self {
        UnsafeCell::new(t)
    }
}

impl<T: ?Sized> fmt::Debug for UnsafeCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnsafeCell").finish_non_exhaustive()
    }
}

/// A safe shared cell whose every access through `&self` is checked.
///
/// `get` is a read; `set`, `replace` and `update` are writes of the whole
/// value. Two of them from different threads, at least one a write, with no
/// happens-before order between them are reported, naming the cell (its
/// creation site and [`named`](Self::named) name), both call sites and both
/// threads. `get_mut` and `into_inner` are exclusive by the borrow checker:
/// not checked, and they forget the history.
///
/// The closure of [`update`](Self::update) runs under the cell's internal
/// lock: calling back into the same cell from it deadlocks.
pub struct RaceCell<T> {
    inner: Box<CellInner<T>>,
}

/// Boxed so the shadow (and the address in reports) stays put when the
/// handle moves.
struct CellInner<T> {
    object: Object,
    /// Only ever locked for writing, so `T` need not be `Sync` (as with a
    /// `Mutex`): see the `Sync` impl below.
    value: BiasedRwLock<T>,
}

// SAFETY: `value` is only accessed through `BiasedRwLock::write` (exclusive,
// like a `Mutex`), `get_mut` and `into_inner`, so no two threads ever hold
// `&T` at once: `T: Send` suffices, as for `Mutex<T>`. `Object` is `Sync`.
unsafe impl<T: Send> Sync for CellInner<T> {}

const _: () = {
    const fn object_is_sync<O: Sync>() {}
    object_is_sync::<Object>();
};

const CELL: &str = "RaceCell";

impl<T> RaceCell<T> {
    /// A new cell; reports name its creation site.
    #[track_caller]
    pub fn new(value: T) -> RaceCell<T> {
        Self::build(value, None, Site::caller())
    }

    /// A new cell with a name for reports.
    #[track_caller]
    pub fn named(name: &str, value: T) -> RaceCell<T> {
        Self::build(value, Some(name), Site::caller())
    }

    fn build(value: T, name: Option<&str>, site: Site) -> RaceCell<T> {
        RaceCell {
            inner: Box::new(CellInner {
                object: Object::new(CELL, name, site),
                value: BiasedRwLock::new(value, false),
            }),
        }
    }

    /// A clone of the value: a checked read.
    #[track_caller]
    #[inline]
    pub fn get(&self) -> T
    where
        T: Clone,
    {
        let guard = self.inner.value.write();
        // SAFETY: every check of `object` happens under `value`'s lock,
        // which is only ever taken exclusively (see `CellInner`).
        unsafe { self.inner.object.read_exclusive(Site::caller()) };
        guard.clone()
    }

    /// Stores `value`: a checked write.
    #[track_caller]
    #[inline]
    pub fn set(&self, value: T) {
        let old = std::mem::replace(&mut *self.checked_write(Site::caller()), value);
        // The old value's destructor runs outside the lock.
        drop(old);
    }

    /// Stores `value` and returns the old one: a checked write.
    #[track_caller]
    #[inline]
    pub fn replace(&self, value: T) -> T {
        std::mem::replace(&mut *self.checked_write(Site::caller()), value)
    }

    /// Takes the value, leaving `T::default()`: a checked write.
    #[track_caller]
    #[inline]
    pub fn take(&self) -> T
    where
        T: Default,
    {
        std::mem::take(&mut *self.checked_write(Site::caller()))
    }

    /// Modifies the value in place: a checked write (a read-modify-write,
    /// not atomic as far as racedet is concerned).
    #[track_caller]
    #[inline]
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.checked_write(Site::caller()))
    }

    /// Takes the lock and records a write at `site`.
    #[inline]
    fn checked_write(&self, site: Site) -> crate::biased_lock::WriteGuard<'_, T> {
        let guard = self.inner.value.write();
        // SAFETY: as in `get`.
        unsafe { self.inner.object.write_exclusive(site) };
        guard
    }

    /// Exclusive access: not checked; the history is forgotten.
    pub fn get_mut(&mut self) -> &mut T {
        let inner = &mut *self.inner;
        inner.object.reset();
        inner.value.get_mut()
    }

    /// The value.
    pub fn into_inner(self) -> T {
        self.inner.value.into_inner()
    }

    /// The cell's address in race reports (`object.addr`): fixed for the
    /// cell's life, whatever moves its handle.
    pub fn object_addr(&self) -> usize {
        std::ptr::from_ref(&self.inner.object) as usize
    }

    /// The name given to [`named`](Self::named).
    pub fn name(&self) -> Option<&str> {
        self.inner.object.name()
    }
}

impl<T: Default> Default for RaceCell<T> {
    #[track_caller]
    fn default() -> Self {
        RaceCell::new(T::default())
    }
}

impl<T> From<T> for RaceCell<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        RaceCell::new(value)
    }
}

impl<T: Clone> Clone for RaceCell<T> {
    /// A new cell with the value: a checked read of `self`.
    #[track_caller]
    fn clone(&self) -> Self {
        let site = Site::caller();
        let value = {
            let guard = self.inner.value.write();
            // SAFETY: as in `get`.
            unsafe { self.inner.object.read_exclusive(site) };
            guard.clone()
        };
        Self::build(value, self.name(), site)
    }
}

impl<T> fmt::Debug for RaceCell<T> {
    /// Shows the name only: printing the value would be an access.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaceCell")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}
