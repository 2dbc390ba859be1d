//! Annotations for what racedet cannot see by itself: accesses to memory
//! it does not own (raw buffers, FFI memory, lock-free structures built on
//! plain `std` atomics) and synchronisation it does not model (custom locks,
//! futexes, hand-rolled queues). The counterparts of ThreadSanitizer's
//! `AnnotateHappensBefore`/`AnnotateHappensAfter` and
//! `__tsan_read_range`/`__tsan_write_range`.
//!
//! * [`read()`]/[`write()`] check and record an access of `len` bytes at a
//!   pointer, at the caller's line (`#[track_caller]`). Two of them race like
//!   plain loads and stores would: overlapping bytes, at least one write, no
//!   happens-before order.
//! * [`release`]/[`acquire`] create a happens-before edge through an
//!   address used as a token: everything the releasing thread did before
//!   `release(a)` happens before whatever an `acquire(a)` that runs *after
//!   it* does next. The pair must be ordered in time by the real
//!   synchronisation being described (the annotation only tells racedet what
//!   that synchronisation guarantees); an `acquire` that runs before any
//!   `release` creates no edge.
//! * [`reset`] forgets the history of a range (the memory was freed and
//!   reused, or handed over by a mechanism that proves exclusive ownership).
//!
//! Pointers are only used for their address: nothing is read or written
//! through them, so dangling or foreign pointers are fine. All functions are
//! one relaxed load and a branch while detection is off (`read` and `write`:
//! a thread-local compare first).

use racedet_runtime::Site;
use racedet_runtime::api;

fn addr<T: ?Sized>(ptr: *const T) -> usize {
    ptr.cast::<u8>() as usize
}

/// A read of the `len` bytes at `ptr`.
#[track_caller]
#[inline]
pub fn read<T: ?Sized>(ptr: *const T, len: usize) {
    api::read_range(addr(ptr), len, Site::caller());
}

/// A write of the `len` bytes at `ptr`.
#[track_caller]
#[inline]
pub fn write<T: ?Sized>(ptr: *const T, len: usize) {
    api::write_range(addr(ptr), len, Site::caller());
}

/// Releases into the token `addr`: what this thread did so far happens
/// before anything done after a later [`acquire`] of the same token.
/// Releases accumulate (each acquire sees all earlier releases).
#[inline]
pub fn release<T: ?Sized>(addr: *const T) {
    api::release(self::addr(addr));
}

/// Acquires from the token `addr`: see [`release`].
#[inline]
pub fn acquire<T: ?Sized>(addr: *const T) {
    api::acquire(self::addr(addr));
}

/// Names the `len` bytes at `ptr` for reports: a race inside them is shown
/// as `annotated range "name"` with the line that named it, instead of a
/// bare address. [`reset`] over the start forgets the name.
#[track_caller]
#[inline]
pub fn name<T: ?Sized>(ptr: *const T, len: usize, name: &str) {
    api::name_range(
        addr(ptr),
        len,
        "annotated range",
        Some(name),
        Site::caller(),
    );
}

/// Forgets the access history of `[ptr, ptr + len)` and any token inside
/// it, so new memory at a reused address starts clean.
#[inline]
pub fn reset<T: ?Sized>(ptr: *const T, len: usize) {
    api::reset_range(addr(ptr), len);
}
