//! The fix for `map_unsync.rs`: the map behind a `RwLock`, `read()` for
//! lookups and `write()` for inserts.
//!
//! Clean: each write unlock happens before every later lock, and each read
//! unlock happens before the next write lock, so every read of the map is
//! ordered with every write. (The `RaceMap` inside only makes the map's
//! accesses visible to racedet; with detection off it costs a relaxed load.)
//!
//! Run: `RACEDET=1 cargo run -p racedet --example map_rwlock` (exits 0).

use racedet::collections::RaceMap;
use racedet::sync::{Arc, RwLock};

pub fn run() {
    let users = Arc::new(RwLock::new(RaceMap::named("users")));
    let writer = {
        let users = Arc::clone(&users);
        std::thread::spawn(move || {
            for id in 0..100u32 {
                users.write().unwrap().insert(id, format!("user{id}"));
            }
        })
    };
    let mut found = 0;
    for id in 0..100u32 {
        found += usize::from(users.read().unwrap().contains_key(&id));
    }
    writer.join().unwrap();
    assert_eq!(users.read().unwrap().len(), 100);
    let _ = found;
}

#[allow(dead_code)]
fn main() {
    run();
}
