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
//! Each `on` function runs inside its own `racedet::check` scope. A scope
//! that found a race would fail the bench: none of these operations races.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use racedet::collections::RaceMap;

/// Runs `bench` with detection on, failing loudly if the scope saw a race.
fn on(c: &mut Criterion, bench: impl FnOnce(&mut Criterion)) {
    if let Err(e) = racedet::check(|| bench(c)) {
        panic!("a benchmark raced:\n{e}");
    }
}

/// One 8-byte load and one store through a loom-style `UnsafeCell` (two
/// accesses per iteration: the engine's same-epoch fast path).
fn unsafe_cell(c: &mut Criterion) {
    let mut g = c.benchmark_group("unsafe_cell_load_store");
    let plain = std::cell::UnsafeCell::new(0u64);
    g.bench_function("plain", |b| {
        b.iter(|| {
            // SAFETY: single-threaded; the pointer is valid and unaliased.
            let v = unsafe { std::ptr::read_volatile(plain.get()) };
            // SAFETY: as above.
            unsafe { std::ptr::write_volatile(plain.get(), v.wrapping_add(1)) };
        })
    });
    let cell = racedet::cell::UnsafeCell::new(0u64);
    let body = |b: &mut criterion::Bencher| {
        b.iter(|| {
            // SAFETY: single-threaded; the pointer is valid and unaliased.
            let v = cell.with(|p| unsafe { std::ptr::read_volatile(p) });
            // SAFETY: as above.
            cell.with_mut(|p| unsafe { std::ptr::write_volatile(p, v.wrapping_add(1)) });
        })
    };
    g.bench_function("off", body);
    drop(g);
    on(c, |c| {
        c.benchmark_group("unsafe_cell_load_store")
            .bench_function("on", body);
    });
}

/// `RaceCell::get` + `set`; the plain twin is a `Mutex<u64>` (a `RaceCell`
/// is memory-safe under racy use, so it holds an internal lock).
fn race_cell(c: &mut Criterion) {
    let mut g = c.benchmark_group("race_cell_get_set");
    let plain = std::sync::Mutex::new(0u64);
    g.bench_function("plain", |b| {
        b.iter(|| {
            let v = *plain.lock().unwrap();
            *plain.lock().unwrap() = black_box(v.wrapping_add(1));
        })
    });
    let cell = racedet::cell::RaceCell::new(0u64);
    let body = |b: &mut criterion::Bencher| {
        b.iter(|| {
            let v = cell.get();
            cell.set(black_box(v.wrapping_add(1)));
        })
    };
    g.bench_function("off", body);
    drop(g);
    on(c, |c| {
        c.benchmark_group("race_cell_get_set")
            .bench_function("on", body);
    });
}

/// An uncontended `Mutex` lock/unlock pair.
fn mutex_pair(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex_lock_unlock");
    let plain = std::sync::Mutex::new(0u64);
    g.bench_function("plain", |b| b.iter(|| drop(black_box(plain.lock()))));
    let m = racedet::sync::Mutex::new(0u64);
    let body = |b: &mut criterion::Bencher| b.iter(|| drop(black_box(m.lock())));
    g.bench_function("off", body);
    drop(g);
    on(c, |c| {
        c.benchmark_group("mutex_lock_unlock")
            .bench_function("on", body);
    });
}

/// An uncontended `RwLock` read lock/unlock pair.
fn rwlock_read_pair(c: &mut Criterion) {
    let mut g = c.benchmark_group("rwlock_read_unlock");
    let plain = std::sync::RwLock::new(0u64);
    g.bench_function("plain", |b| b.iter(|| drop(black_box(plain.read()))));
    let l = racedet::sync::RwLock::new(0u64);
    let body = |b: &mut criterion::Bencher| b.iter(|| drop(black_box(l.read())));
    g.bench_function("off", body);
    drop(g);
    on(c, |c| {
        c.benchmark_group("rwlock_read_unlock")
            .bench_function("on", body);
    });
}

/// One `map_rwlock` operation on one thread: 90% `get` under a read lock,
/// 10% `insert` under a write lock, over 4096 keys.
fn map_op(c: &mut Criterion) {
    const KEYS: u64 = 4096;
    let next = |seed: &mut u64| {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    };
    let mut g = c.benchmark_group("map_rwlock_op");
    let plain = std::sync::RwLock::new(
        (0..KEYS)
            .step_by(2)
            .map(|k| (k, k))
            .collect::<HashMap<_, _>>(),
    );
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    g.bench_function("plain", |b| {
        b.iter(|| {
            let r = next(&mut seed);
            let key = (r >> 16) % KEYS;
            if r.is_multiple_of(10) {
                plain.write().unwrap().insert(key, r);
            } else {
                black_box(plain.read().unwrap().get(&key).copied());
            }
        })
    });
    let map = racedet::sync::RwLock::new(
        (0..KEYS)
            .step_by(2)
            .map(|k| (k, k))
            .collect::<RaceMap<_, _>>(),
    );
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut body = |b: &mut criterion::Bencher| {
        b.iter(|| {
            let r = next(&mut seed);
            let key = (r >> 16) % KEYS;
            if r.is_multiple_of(10) {
                map.write().unwrap().insert(key, r);
            } else {
                black_box(map.read().unwrap().get(&key));
            }
        })
    };
    g.bench_function("off", &mut body);
    drop(g);
    on(c, |c| {
        c.benchmark_group("map_rwlock_op")
            .bench_function("on", &mut body);
    });
}

/// An `AcqRel` `fetch_add` on an atomic counter.
fn atomic_rmw(c: &mut Criterion) {
    use std::sync::atomic::Ordering::AcqRel;
    let mut g = c.benchmark_group("atomic_fetch_add_acqrel");
    let plain = std::sync::atomic::AtomicU64::new(0);
    g.bench_function("plain", |b| {
        b.iter(|| black_box(plain.fetch_add(1, AcqRel)))
    });
    let a = racedet::sync::atomic::AtomicU64::new(0);
    let body = |b: &mut criterion::Bencher| b.iter(|| black_box(a.fetch_add(1, AcqRel)));
    g.bench_function("off", body);
    drop(g);
    on(c, |c| {
        c.benchmark_group("atomic_fetch_add_acqrel")
            .bench_function("on", body);
    });
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
