//! Copy-on-write snapshots: readers use the current immutable snapshot of a
//! map; the writer copies it, changes the copy, and publishes the copy by
//! swapping a pointer (the `ArcSwap` / RCU pattern).
//!
//! Clean: the swap is a Release store and the readers' load is Acquire, so
//! everything the writer did to the new snapshot before publishing it
//! happens before whatever a reader that sees the new pointer does with it.
//! Snapshots are never written after publication. (Retired snapshots are
//! freed after the joins; a real program would use `arc-swap` or hazard
//! pointers to know when readers are done.) The racy twin is
//! `map_snapshot_relaxed.rs`.
//!
//! Run: `RACEDET=1 cargo run -p racedet --example map_snapshot_swap` (exits 0).

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
            let old = unsafe { &*current.load(Ordering::Acquire) };
            let next = old.clone();
            next.insert("retries", 3);
            Retired(current.swap(publish(next), Ordering::AcqRel))
        });
        let reader = s.spawn(|| {
            loop {
                // SAFETY: as above.
                let snapshot = unsafe { &*current.load(Ordering::Acquire) };
                if let Some(retries) = snapshot.get(&"retries") {
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
        drop(Arc::from_raw(current.load(Ordering::Acquire)));
    }
}

#[allow(dead_code)]
fn main() {
    run();
}
