//! A sync object's clocks are allocated on its first operation with
//! detection on, never while detection is off (`sync/lazy.rs`). Alone in its
//! test binary: it switches the process-wide detection state.

use racedet_runtime::api::var;
use racedet_runtime::sync::SyncVar;
use racedet_runtime::{AccessKind, begin_check, end_check};
use std::sync::atomic::Ordering;

/// One of each kind of operation racedet's primitives perform.
fn exercise(v: &SyncVar) {
    let addr = v as *const SyncVar as usize;
    // SAFETY: one thread drives `v`, so each call runs as if under the
    // matching side of a real lock.
    unsafe {
        var::exclusive_lock_acquired(v, addr);
        var::exclusive_unlock(v, addr);
        let held = var::shared_read_lock_acquired(v, addr);
        var::shared_read_unlock(v, held, addr);
    }
    var::release(v);
    var::acquire(v);
    var::atomic(v, || ((), AccessKind::AtomicRmw, Ordering::AcqRel));
}

#[test]
fn clocks_are_allocated_only_with_detection_on() {
    assert!(
        std::env::var_os("RACEDET").is_none() && std::env::var_os("RACEDET_OPTIONS").is_none(),
        "this test needs detection off by default"
    );
    let off = SyncVar::new();
    exercise(&off);
    assert!(!off.is_allocated(), "detection off: no clocks");
    off.reset();
    assert!(!off.is_allocated(), "a reset allocates nothing");

    let ctx = begin_check();
    let on = SyncVar::new();
    exercise(&on);
    exercise(&off);
    let races = end_check(ctx);
    assert!(races.is_empty());
    assert!(
        on.is_allocated() && off.is_allocated(),
        "detection on: clocks"
    );
}
