//! A `RaceMap` behind a racedet `RwLock`, used by enough threads that its
//! bias is gone, lets readers that hold the lock skip the map's own lock
//! (`biased_lock/elision.rs`). That must not change what is reported:
//! correctly locked use stays clean, and a write made under the read lock
//! still races with the readers, as before.

mod support;

use racedet::collections::RaceMap;
use racedet::sync::RwLock;

const THREADS: u64 = 4;
const OPS: u64 = 3_000;

/// `THREADS` threads, nine lookups in ten under the read lock; the rest
/// inserts, under the write lock or, with `write_under_read`, under the
/// read lock (a race: writes of a `RaceMap` exclude only each other).
fn workload(map: &RwLock<RaceMap<u64, u64>>, write_under_read: bool) {
    std::thread::scope(|s| {
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

fn filled() -> RwLock<RaceMap<u64, u64>> {
    let map = RwLock::new(RaceMap::new());
    for k in 0..64 {
        map.write().unwrap().insert(k, 0);
    }
    map
}

#[test]
fn reads_under_the_lock_its_writers_hold_elide_and_stay_race_free() {
    let map = filled();
    racedet::assert_race_free(|| workload(&map, false));
    let state = map.read().unwrap().elision_state();
    // Without `membarrier` (or after too many revocations in this process)
    // maps never elide; everything else must have been eliding throughout.
    if state != "off" {
        assert_eq!(state, "claimed", "no writer revoked");
    }
}

#[test]
fn a_write_under_the_read_lock_still_races_with_eliding_readers() {
    let map = filled();
    let err = racedet::check(|| workload(&map, true)).expect_err("a write under the read lock");
    assert!(
        err.reports().iter().any(|r| r.object.kind == "RaceMap"),
        "the race is on the map:\n{err}"
    );
    assert_eq!(
        map.read().unwrap().elision_state(),
        "off",
        "the write revoked elision"
    );
}
