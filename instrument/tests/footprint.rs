//! racedet's primitives add one pointer to their std twin: the detector's
//! clocks live behind it, allocated only when detection is on, so an array of
//! atomics or of small locks keeps its size and cache footprint when a
//! program switches its `use` lines to racedet.

use std::mem::size_of;

#[test]
fn primitives_are_std_plus_one_pointer() {
    let p = size_of::<usize>();
    assert_eq!(
        size_of::<racedet::sync::atomic::AtomicU64>(),
        size_of::<std::sync::atomic::AtomicU64>() + p
    );
    assert_eq!(
        size_of::<racedet::sync::atomic::AtomicUsize>(),
        size_of::<std::sync::atomic::AtomicUsize>() + p
    );
    assert_eq!(
        size_of::<racedet::sync::Mutex<u64>>(),
        size_of::<std::sync::Mutex<u64>>() + p
    );
    assert_eq!(
        size_of::<racedet::sync::RwLock<u64>>(),
        size_of::<std::sync::RwLock<u64>>() + p
    );
    // A byte-sized atomic pads up to the pointer's alignment.
    assert_eq!(size_of::<racedet::sync::atomic::AtomicBool>(), 2 * p);
}
