//! Per-operation microbenchmarks (criterion), one group per operation, each
//! with three functions measured in the same process:
//!
//! * `plain`: the std equivalent, no racedet;
//! * `off`: racedet's type with detection off (this process never sets
//!   `RACEDET`);
//! * `on`: racedet's type inside `racedet::check`, which turns detection on
//!   for its duration.
//!
//! Whole-process figures (threads, peak RSS, the multi-threaded map) come
//! from the `workloads` bench, which runs each configuration in its own
//! process. Run with `cargo bench -p racedet-tests --bench ops`; add
//! `-- --quick` for a shorter run, or a group name to filter.
//!

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use racedet::collections::RaceMap;

/// One group: the std twin as `plain`, then racedet's operation with
/// detection off and, inside a `racedet::check` scope, on. A scope that saw
/// a race fails the bench: none of these operations races.
// The closures around `plain()` and `racedet()` are not redundant: passing
// `&mut racedet` to `iter` instead measured the UnsafeCell pair 2-3x slower
// (the body stopped being inlined into criterion's loop).
#[allow(clippy::redundant_closure)]
fn trio(c: &mut Criterion, name: &str, mut plain: impl FnMut(), mut racedet: impl FnMut()) {
    let mut g = c.benchmark_group(name);
    g.bench_function("plain", |b| b.iter(|| plain()));
    g.bench_function("off", |b| b.iter(|| racedet()));
    drop(g);
    let on = racedet::check(|| {
        c.benchmark_group(name)
            .bench_function("on", |b| b.iter(|| racedet()));
    });
    if let Err(e) = on {
        panic!("a benchmark raced:\n{e}");
    }
}

/// One 8-byte load and one store through a loom-style `UnsafeCell` (two
/// accesses per iteration: the engine's same-epoch fast path).
fn unsafe_cell(c: &mut Criterion) {
    let plain = std::cell::UnsafeCell::new(0u64);
    let cell = racedet::cell::UnsafeCell::new(0u64);
    trio(
        c,
        "unsafe_cell_load_store",
        || {
            // SAFETY: single-threaded; the pointer is valid and unaliased.
            let v = unsafe { std::ptr::read_volatile(plain.get()) };
            // SAFETY: as above.
            unsafe { std::ptr::write_volatile(plain.get(), v.wrapping_add(1)) };
        },
        || {
            // SAFETY: single-threaded; the pointer is valid and unaliased.
            let v = cell.with(|p| unsafe { std::ptr::read_volatile(p) });
            // SAFETY: as above.
            cell.with_mut(|p| unsafe { std::ptr::write_volatile(p, v.wrapping_add(1)) });
        },
    );
}

/// `RaceCell::get` + `set`; the plain twin is a `Mutex<u64>` (a `RaceCell`
/// is memory-safe under racy use, so it holds an internal lock).
fn race_cell(c: &mut Criterion) {
    let plain = std::sync::Mutex::new(0u64);
    let cell = racedet::cell::RaceCell::new(0u64);
    trio(
        c,
        "race_cell_get_set",
        || {
            let v = *plain.lock().unwrap();
            *plain.lock().unwrap() = black_box(v.wrapping_add(1));
        },
        || cell.set(black_box(cell.get().wrapping_add(1))),
    );
}

/// An uncontended `Mutex` lock/unlock pair.
fn mutex_pair(c: &mut Criterion) {
    let plain = std::sync::Mutex::new(0u64);
    let m = racedet::sync::Mutex::new(0u64);
    trio(
        c,
        "mutex_lock_unlock",
        || drop(black_box(plain.lock())),
        || drop(black_box(m.lock())),
    );
}

/// An uncontended `RwLock` read lock/unlock pair.
fn rwlock_read_pair(c: &mut Criterion) {
    let plain = std::sync::RwLock::new(0u64);
    let l = racedet::sync::RwLock::new(0u64);
    trio(
        c,
        "rwlock_read_unlock",
        || drop(black_box(plain.read())),
        || drop(black_box(l.read())),
    );
}

/// One `map_rwlock` operation on one thread: 90% `get` under a read lock,
/// 10% `insert` under a write lock, over 4096 keys.
fn map_op(c: &mut Criterion) {
    const KEYS: u64 = 4096;
    fn next(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }
    let plain = std::sync::RwLock::new(
        (0..KEYS)
            .step_by(2)
            .map(|k| (k, k))
            .collect::<HashMap<_, _>>(),
    );
    let map = racedet::sync::RwLock::new(
        (0..KEYS)
            .step_by(2)
            .map(|k| (k, k))
            .collect::<RaceMap<_, _>>(),
    );
    let (mut s1, mut s2) = (0x9E37_79B9_7F4A_7C15u64, 0x9E37_79B9_7F4A_7C15u64);
    trio(
        c,
        "map_rwlock_op",
        || {
            let r = next(&mut s1);
            let key = (r >> 16) % KEYS;
            if r.is_multiple_of(10) {
                plain.write().unwrap().insert(key, r);
            } else {
                black_box(plain.read().unwrap().get(&key).copied());
            }
        },
        || {
            let r = next(&mut s2);
            let key = (r >> 16) % KEYS;
            if r.is_multiple_of(10) {
                map.write().unwrap().insert(key, r);
            } else {
                black_box(map.read().unwrap().get(&key));
            }
        },
    );
}

/// An `AcqRel` `fetch_add` on an atomic counter.
fn atomic_rmw(c: &mut Criterion) {
    use std::sync::atomic::Ordering::AcqRel;
    let plain = std::sync::atomic::AtomicU64::new(0);
    let a = racedet::sync::atomic::AtomicU64::new(0);
    trio(
        c,
        "atomic_fetch_add_acqrel",
        || {
            black_box(plain.fetch_add(1, AcqRel));
        },
        || {
            black_box(a.fetch_add(1, AcqRel));
        },
    );
}

criterion_group!(
    ops,
    unsafe_cell,
    race_cell,
    mutex_pair,
    rwlock_read_pair,
    map_op,
    atomic_rmw
);
criterion_main!(ops);
