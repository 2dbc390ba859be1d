//! Under load: many threads hammering shared `RaceMap`s under correct
//! racedet locking finish with zero reports and no deadlock; the unlocked
//! twin is still reported.
//!
//! CI size: 64 threads x 5 000 operations. Full size (64 x 1 000 000) is
//! `#[ignore]`d; its measured time is in docs/reliability.md.

use racedet::collections::RaceMap;
use racedet::sync::{Arc, Mutex, RwLock};

/// Each thread does `ops` operations over four maps: inserts and removes
/// under a `Mutex`, lookups under an `RwLock` read lock, inserts under its
/// write lock. Every access to a map is ordered by its lock.
fn hammer(threads: u64, ops: u64) {
    let locked: Arc<Vec<Mutex<RaceMap<u64, u64>>>> = Arc::new(
        (0..2)
            .map(|i| Mutex::new(RaceMap::named(&format!("locked-{i}"))))
            .collect(),
    );
    let shared: Arc<Vec<RwLock<RaceMap<u64, u64>>>> = Arc::new(
        (0..2)
            .map(|i| RwLock::new(RaceMap::named(&format!("rw-{i}"))))
            .collect(),
    );
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (locked, shared) = (locked.clone(), shared.clone());
            std::thread::spawn(move || {
                let mut found = 0u64;
                for i in 0..ops {
                    let k = (t * 7919 + i) % 512;
                    match i % 8 {
                        0 => {
                            locked[(i / 8 % 2) as usize].lock().unwrap().insert(k, i);
                        }
                        1 => {
                            locked[(i / 8 % 2) as usize].lock().unwrap().remove(&k);
                        }
                        2 => {
                            shared[(i / 8 % 2) as usize].write().unwrap().insert(k, t);
                        }
                        _ => {
                            let m = shared[(i % 2) as usize].read().unwrap();
                            found += u64::from(m.get(&k).is_some());
                        }
                    }
                }
                found
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    std::hint::black_box(total);
}

#[test]
fn locked_maps_under_64_threads_report_nothing() {
    let result = racedet::check(|| hammer(64, 5_000));
    assert!(
        result.is_ok(),
        "false positive under load:\n{}",
        result.unwrap_err()
    );
}

/// The racy twin: the same kind of traffic without the locks is reported
/// (so the clean result above is not detection being off).
#[test]
fn unlocked_twin_is_reported() {
    let result = racedet::check(|| {
        let map: Arc<RaceMap<u64, u64>> = Arc::new(RaceMap::named("unlocked"));
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let map = map.clone();
                std::thread::spawn(move || {
                    for i in 0..100 {
                        map.insert(t, i);
                        let _ = map.get(&t);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    let err = result.expect_err("unlocked map traffic must be reported");
    assert!(
        err.reports()
            .iter()
            .all(|r| r.object.name.as_deref() == Some("unlocked"))
    );
}

/// Full size: `cargo test --release -p racedet-tests --test reliability_load -- --ignored`.
#[test]
#[ignore = "full size (64 x 1 000 000 operations); run by hand, figures in docs/reliability.md"]
fn full_size_64_threads_by_a_million() {
    let start = std::time::Instant::now();
    let result = racedet::check(|| hammer(64, 1_000_000));
    eprintln!(
        "64 x 1 000 000 locked map operations: {:?}",
        start.elapsed()
    );
    assert!(
        result.is_ok(),
        "false positive under load:\n{}",
        result.unwrap_err()
    );
}
