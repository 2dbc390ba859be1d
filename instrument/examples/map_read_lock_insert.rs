//! Inserts done while holding only a *read* lock: the lock is taken, but the
//! wrong half of it.
//!
//! Racy: read locks exclude writers, not other readers, and std gives no
//! happens-before between two readers. Two threads inserting under `read()`
//! write the map concurrently. `RaceMap::insert` takes `&self`, so the
//! compiler cannot catch it (a `HashMap` would need `write()` for `&mut`).
//!
//! Run: `RACEDET=1 cargo run -p racedet --example map_read_lock_insert` (exits 66).

use racedet::collections::RaceMap;
use racedet::sync::{Arc, RwLock};

fn register(sessions: &RwLock<RaceMap<u32, u32>>, first: u32) {
    for id in first..first + 50 {
        let guard = sessions.read().unwrap();
        guard.insert(id, 0); // RACE
    }
}

pub fn run() {
    let sessions = Arc::new(RwLock::new(RaceMap::named("sessions")));
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let sessions = Arc::clone(&sessions);
            std::thread::spawn(move || register(&sessions, w * 50))
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(sessions.read().unwrap().len(), 100);
}

#[allow(dead_code)]
fn main() {
    run();
}
