//! A "ready" flag set after filling the map, with a Relaxed store; the
//! reader spins on a Relaxed load, then reads the map.
//!
//! Racy: Relaxed atomics order nothing but the flag itself. Seeing `true`
//! does not make the writer's insert happen before the reader's lookup.
//! The fix is `map_flag_release.rs`.
//!
//! Run: `RACEDET=1 cargo run -p racedet --example map_flag_relaxed` (exits 66).

use racedet::collections::RaceMap;
use racedet::sync::atomic::{AtomicBool, Ordering};

pub fn run() {
    let config = RaceMap::named("config");
    let ready = AtomicBool::new(false);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            config.insert("mode", "fast"); // RACE
            ready.store(true, Ordering::Relaxed);
        });
        let reader = s.spawn(|| {
            while !ready.load(Ordering::Relaxed) {
                std::thread::yield_now();
            }
            config.get(&"mode") // RACE
        });
        assert_eq!(reader.join().unwrap(), Some("fast"));
        writer.join().unwrap();
    });
}

#[allow(dead_code)]
fn main() {
    run();
}
