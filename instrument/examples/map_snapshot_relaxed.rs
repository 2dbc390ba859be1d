//! `map_snapshot_swap.rs` with `Relaxed` instead of Release/Acquire: the
//! pointer is published, but what it points to is not.
//!
//! Racy: a Relaxed swap releases nothing and a Relaxed load acquires
//! nothing, so the writer's insert into the new snapshot and the reader's
//! lookup in it are unordered, although the reader only looks once it sees
//! the new pointer. (With real hardware this is also undefined behaviour:
//! the reader may see the pointer before the snapshot's contents. racedet
//! reports it; its instrumented atomics happen to keep it memory-safe.)
//!
//! Run: `RACEDET=1 cargo run -p racedet --example map_snapshot_relaxed` (exits 66).

use std::sync::Arc;

use racedet::collections::RaceMap;
use racedet::sync::atomic::{AtomicPtr, Ordering};

type Config = RaceMap<&'static str, u32>;

/// A snapshot taken out of service, freed once all threads are joined.
struct Retired(*mut Config);

// SAFETY: a `Config` may be dropped on any thread (`RaceMap` is `Send` and
// `Sync`); the pointer is only turned back into an `Arc` after the joins.
unsafe impl Send for Retired {}

fn publish(config: Config) -> *mut Config {
    Arc::into_raw(Arc::new(config)).cast_mut()
}

pub fn run() {
    let first = RaceMap::named("config");
    first.insert("timeout", 30);
    let current = AtomicPtr::new(publish(first));

    let retired = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            // SAFETY: snapshots are freed only after both threads are joined.
            let old = unsafe { &*current.load(Ordering::Relaxed) };
            let next = old.clone();
            next.insert("retries", 3); // RACE
            Retired(current.swap(publish(next), Ordering::Relaxed))
        });
        let reader = s.spawn(|| {
            loop {
                // SAFETY: as above (the missing ordering is the bug shown).
                let snapshot = unsafe { &*current.load(Ordering::Relaxed) };
                let retries = snapshot.get(&"retries"); // RACE
                if let Some(retries) = retries {
                    break retries;
                }
                std::thread::yield_now();
            }
        });
        assert_eq!(reader.join().unwrap(), 3);
        writer.join().unwrap()
    });
    // SAFETY: both threads are joined: nobody uses the snapshots any more,
    // and each pointer came from `Arc::into_raw` exactly once.
    unsafe {
        drop(Arc::from_raw(retired.0));
        drop(Arc::from_raw(current.load(Ordering::Relaxed)));
    }
}

#[allow(dead_code)]
fn main() {
    run();
}
