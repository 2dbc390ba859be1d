//! Plain `std::thread::spawn` and `join`, no racedet sync types: the map is
//! filled before the spawn, changed by the thread, and read after the join.
//!
//! Clean: spawning happens before everything the new thread does, and
//! everything it did happens before `join` returns. racedet sees both edges
//! without code changes (it interposes `pthread_create`/`pthread_join`).
//!
//! Run: `RACEDET=1 cargo run -p racedet --example map_spawn_join` (exits 0).

use std::sync::Arc;

use racedet::collections::RaceMap;

pub fn run() {
    let scores = Arc::new(RaceMap::named("scores"));
    scores.insert("ann", 1);
    for round in 0..3 {
        let worker = {
            let scores = Arc::clone(&scores);
            std::thread::spawn(move || {
                let ann = scores.get(&"ann").unwrap();
                scores.insert("ann", ann + round);
                scores.insert("bob", round);
            })
        };
        worker.join().unwrap();
        assert_eq!(scores.get(&"bob"), Some(round));
    }
    assert_eq!(scores.get(&"ann"), Some(4));
}

#[allow(dead_code)]
fn main() {
    run();
}
