//! Shared containers whose unsynchronised use is reported.
//!
//! [`RaceMap`] is a hash map shared through `&self`, with the semantics of a
//! Go map under the race detector: every call is a read or a write *of the
//! whole map*, and a read and a write (or two writes) from different threads
//! with no happens-before order between them is a data race, even if they
//! touch different keys. That is the contract of `HashMap` behind a lock
//! (the lock must be held for any access), so a program that is race-free
//! with `RaceMap` is race-free with `RwLock<HashMap>` and the same locking.
//!
//! Unlike `HashMap` shared through `unsafe`, a racy `RaceMap` stays
//! memory-safe: an internal lock, invisible to the detector (it creates no
//! happens-before edges), serialises the real operations. Racy use is
//! reported, never undefined behaviour and never a panic.

mod race_map;

pub use race_map::RaceMap;
