//! loom's cell API beyond `with`/`with_mut`: [`UnsafeCell::get`] and
//! [`UnsafeCell::get_mut`] handing out guard pointers ([`ConstPtr`],
//! [`MutPtr`]), and loom's [`Cell`].
//!
//! loom tracks a guard's access for the guard's whole life; racedet checks
//! the access once, at the call to `get`/`get_mut` (the caller's line), like
//! a `with`/`with_mut` whose closure is the guard's life. Two guards that
//! overlap in time but are ordered by happens-before are therefore not
//! reported here, where loom would panic on the overlap.
//!
//! [`UnsafeCell::get`]: crate::cell::UnsafeCell::get
//! [`UnsafeCell::get_mut`]: crate::cell::UnsafeCell::get_mut

use std::fmt;

use crate::cell::UnsafeCell;

impl<T: ?Sized> UnsafeCell<T> {
    /// A read guard pointer, as `loom::cell::UnsafeCell::get`: a checked
    /// read of the cell at the caller's line.
    #[track_caller]
    #[inline]
    pub fn get(&self) -> ConstPtr<T> {
        self.with(|ptr| ConstPtr { ptr })
    }

    /// A write guard pointer, as `loom::cell::UnsafeCell::get_mut` (through
    /// `&self`): a checked write of the cell at the caller's line.
    #[track_caller]
    #[inline]
    pub fn get_mut(&self) -> MutPtr<T> {
        self.with_mut(|ptr| MutPtr { ptr })
    }
}

/// A pointer for reading an [`UnsafeCell`], as `loom::cell::ConstPtr`.
pub struct ConstPtr<T: ?Sized> {
    ptr: *const T,
}

impl<T: ?Sized> ConstPtr<T> {
    /// Dereferences the pointer.
    ///
    /// # Safety
    /// As dereferencing a `*const T`: the cell must be alive and not
    /// written for the reference's life.
    #[inline]
    pub unsafe fn deref(&self) -> &T {
        // SAFETY: the caller upholds the contract above; the pointer came
        // from a live cell and is never null.
        unsafe { &*self.ptr }
    }

    /// Runs `f` with the raw pointer.
    #[inline]
    pub fn with<F, R>(&self, f: F) -> R
    where
        F: FnOnce(*const T) -> R,
    {
        f(self.ptr)
    }
}

impl<T: ?Sized> fmt::Debug for ConstPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConstPtr").finish_non_exhaustive()
    }
}

/// A pointer for writing an [`UnsafeCell`], as `loom::cell::MutPtr`.
pub struct MutPtr<T: ?Sized> {
    ptr: *mut T,
}

impl<T: ?Sized> MutPtr<T> {
    /// Dereferences the pointer mutably.
    ///
    /// # Safety
    /// As dereferencing a `*mut T`: the cell must be alive and accessed
    /// through nothing else for the reference's life.
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn deref(&self) -> &mut T {
        // SAFETY: the caller upholds the contract above; the pointer came
        // from a live cell and is never null.
        unsafe { &mut *self.ptr }
    }

    /// Runs `f` with the raw pointer.
    #[inline]
    pub fn with<F, R>(&self, f: F) -> R
    where
        F: FnOnce(*mut T) -> R,
    {
        f(self.ptr)
    }
}

impl<T: ?Sized> fmt::Debug for MutPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutPtr").finish_non_exhaustive()
    }
}

/// `std::cell::Cell` with checked accesses, as `loom::cell::Cell`: `get` is
/// a read, `set`/`replace`/`take`/`swap` are writes. `!Sync` like std's, so a
/// race needs unsafe sharing, which is what it checks.
pub struct Cell<T> {
    cell: UnsafeCell<T>,
}

impl<T> Cell<T> {
    /// A new cell.
    pub const fn new(v: T) -> Cell<T> {
        Cell {
            cell: UnsafeCell::new(v),
        }
    }

    /// Stores `v`.
    #[track_caller]
    pub fn set(&self, v: T) {
        drop(self.replace(v));
    }

    /// Stores `v`, returning the old value.
    #[track_caller]
    pub fn replace(&self, v: T) -> T {
        // SAFETY: `Cell` is `!Sync` and no reference into it escapes, so
        // this thread's pointer is the only access now.
        self.cell
            .with_mut(|p| unsafe { std::mem::replace(&mut *p, v) })
    }

    /// Swaps the values of two cells.
    #[track_caller]
    pub fn swap(&self, other: &Cell<T>) {
        if std::ptr::eq(self, other) {
            return;
        }
        // SAFETY: as in `replace`; the cells are distinct, so the two
        // pointers do not overlap.
        self.cell
            .with_mut(|a| other.cell.with_mut(|b| unsafe { std::ptr::swap(a, b) }));
    }

    /// The value.
    pub fn into_inner(self) -> T {
        self.cell.into_inner()
    }
}

impl<T: Copy> Cell<T> {
    /// A copy of the value.
    #[track_caller]
    pub fn get(&self) -> T {
        // SAFETY: as in `replace`.
        self.cell.with(|p| unsafe { *p })
    }
}

impl<T: Default> Cell<T> {
    /// Takes the value, leaving `T::default()`.
    #[track_caller]
    pub fn take(&self) -> T {
        self.replace(T::default())
    }
}

impl<T: Default> Default for Cell<T> {
    fn default() -> Cell<T> {
        Cell::new(T::default())
    }
}

impl<T: Copy + fmt::Debug> fmt::Debug for Cell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cell").field("value", &self.get()).finish()
    }
}
