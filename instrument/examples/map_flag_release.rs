//! The fix for `map_flag_relaxed.rs`: the flag is set with a Release store
//! and read with an Acquire load.
//!
//! Clean: the Acquire load that reads `true` synchronises with the Release
//! store that wrote it, so the insert before the store happens before the
//! lookup after the load.
//!
//! Run: `RACEDET=1 cargo run -p racedet --example map_flag_release` (exits 0).

use racedet::collections::RaceMap;
use racedet::sync::atomic::{AtomicBool, Ordering};

pub fn run() {
    let config = RaceMap::named("config");
    let ready = AtomicBool::new(false);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            config.insert("mode", "fast");
            ready.store(true, Ordering::Release);
        });
        let reader = s.spawn(|| {
            while !ready.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
            config.get(&"mode")
        });
        assert_eq!(reader.join().unwrap(), Some("fast"));
        writer.join().unwrap();
    });
}

#[allow(dead_code)]
fn main() {
    run();
}
