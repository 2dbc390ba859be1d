//! A sharded map: `N` shards, each a `RwLock` around its own map, picked by
//! the key's hash, so threads working on different shards do not contend.
//!
//! Clean: every access to a shard holds that shard's lock (read for lookups,
//! write for inserts). Each shard is a separate `RaceMap`, so the accesses
//! are checked per shard: taking the wrong shard's lock would be reported.
//!
//! Run: `RACEDET=1 cargo run -p racedet --example map_sharded` (exits 0).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use racedet::collections::RaceMap;
use racedet::sync::{Arc, RwLock};

pub struct ShardedMap {
    hasher: RandomState,
    shards: Vec<RwLock<RaceMap<u64, u64>>>,
}

impl ShardedMap {
    pub fn new(shards: usize) -> ShardedMap {
        ShardedMap {
            hasher: RandomState::new(),
            shards: (0..shards)
                .map(|i| RwLock::new(RaceMap::named(&format!("shard {i}"))))
                .collect(),
        }
    }

    fn shard(&self, key: u64) -> &RwLock<RaceMap<u64, u64>> {
        let h = self.hasher.hash_one(key) as usize;
        &self.shards[h % self.shards.len()]
    }

    pub fn get(&self, key: u64) -> Option<u64> {
        self.shard(key).read().unwrap().get(&key)
    }

    pub fn insert(&self, key: u64, value: u64) {
        self.shard(key).write().unwrap().insert(key, value);
    }
}

pub fn run() {
    let map = Arc::new(ShardedMap::new(8));
    let workers: Vec<_> = (0..4u64)
        .map(|w| {
            let map = Arc::clone(&map);
            std::thread::spawn(move || {
                for i in 0..100 {
                    map.insert(w * 1000 + i, i);
                    // Also read the other workers' keys.
                    let _ = map.get(((w + 1) % 4) * 1000 + i);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(map.get(3042), Some(42));
}

#[allow(dead_code)]
fn main() {
    run();
}
