//! A `RaceMap` behind a racedet `RwLock`, used by enough threads that its
//! bias is gone, lets readers that hold the lock skip the map's own lock
//! (`biased_lock/elision.rs`). That must not change what is reported:
//! correctly locked use stays clean, and a write made under the read lock
//! still races with a reader, as before.

mod support;

use racedet::collections::RaceMap;
use racedet::sync::RwLock;
use support::concurrently;

// Threads are scoped with `racedet::thread::scope`: the end of a plain
// `std::thread::scope` is invisible to racedet (docs/architecture.md), and
// another test's check may have detection on while this file's setup runs.

const THREADS: u64 = 4;
const OPS: u64 = 3_000;

/// `THREADS` threads, nine lookups in ten under the read lock; the rest
/// inserts, under the write lock or, with `write_under_read`, under the
/// read lock (a race: writes of a `RaceMap` exclude only each other).
fn workload(map: &RwLock<RaceMap<u64, u64>>, write_under_read: bool) {
    racedet::thread::scope(|s| {
        for t in 0..THREADS {
            s.spawn(move || {
                for i in 0..OPS {
                    let key = (i * 7 + t) % 64;
                    if i % 10 == 0 {
                        if write_under_read && t == THREADS - 1 && i > OPS / 2 {
                            map.read().unwrap().insert(key, i);
                        } else {
                            map.write().unwrap().insert(key, i);
                        }
                    } else if let Some(v) = map.read().unwrap().get(&key) {
                        assert!(v < OPS, "a value nobody wrote: {v}");
                    }
                }
            });
        }
    });
}

/// A map behind a `RwLock`, filled, then written under the lock by four
/// threads in turn: the bias moves twice and is revoked for good, and the
/// last writes claim the lock for elision. Returns whether they did (not
/// where this machine has no `membarrier`). The lock is then moved out, so
/// the claimed address is stale: the next writer under the lock revokes
/// and claims it again where it now is.
fn shared() -> (RwLock<RaceMap<u64, u64>>, bool) {
    let map = RwLock::new(RaceMap::new());
    for k in 0..64 {
        map.write().unwrap().insert(k, 0);
    }
    for t in 0..4 {
        racedet::thread::scope(|s| {
            s.spawn(|| map.write().unwrap().insert(t, 0));
        });
    }
    let state = map.read().unwrap().elision_state();
    assert!(state == "claimed" || state == "off", "{state}");
    (map, state == "claimed")
}

#[test]
fn reads_under_the_lock_its_writers_hold_elide_and_stay_race_free() {
    let (map, claimed) = shared();
    racedet::assert_race_free(|| workload(&map, false));
    if claimed {
        let state = map.read().unwrap().elision_state();
        assert_eq!(state, "claimed", "claimed again at the lock's new place");
    }
}

#[test]
fn a_write_under_the_read_lock_still_races_with_eliding_readers() {
    let (map, claimed) = shared();
    // A lookup under the read lock (elided, when claimed) and an
    // insert under the read lock, unordered: readers of a `RwLock` do not
    // order each other, so this is a race however the threads interleave.
    let err = racedet::check(|| {
        concurrently(
            || {
                let _ = map.read().unwrap().get(&1);
            },
            || {
                map.read().unwrap().insert(1, 1);
            },
        )
    })
    .expect_err("a write under the read lock");
    assert!(
        err.reports().iter().any(|r| r.object.kind == "RaceMap"),
        "the race is on the map:\n{err}"
    );
    if claimed {
        // The writer held the lock only shared, so it claims nothing.
        assert_ne!(
            map.read().unwrap().elision_state(),
            "claimed",
            "the write revoked elision"
        );
    }
}
