//! A map written by one thread and read by another with no synchronisation:
//! Go's `fatal error: concurrent map read and map write`.
//!
//! Racy: the writer's inserts and the main thread's reads are ordered by
//! nothing (the only edges are the spawn, before both, and the join, after
//! both), so racedet reports the pair whatever the timing. With a plain
//! `HashMap` this would not compile without `unsafe`; `RaceMap` keeps it
//! memory-safe and reports it. The fix is `map_rwlock.rs`.
//!
//! Run: `RACEDET=1 cargo run -p racedet --example map_unsync` (exits 66).

use racedet::collections::RaceMap;
use racedet::sync::Arc;

pub fn run() {
    let users = Arc::new(RaceMap::named("users"));
    let writer = {
        let users = Arc::clone(&users);
        std::thread::spawn(move || {
            for id in 0..100u32 {
                users.insert(id, format!("user{id}")); // RACE
            }
        })
    };
    let mut found = 0;
    for id in 0..100u32 {
        found += usize::from(users.contains_key(&id)); // RACE
    }
    writer.join().unwrap();
    // Ordered after the writer by the join: not part of the race.
    assert_eq!(users.len(), 100);
    let _ = found;
}

#[allow(dead_code)]
fn main() {
    run();
}
