//! Address → [`SyncVar`] for raw addresses (annotations, and later the C
//! ABI), where the object cannot carry its own clock.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::SyncVar;

/// Address → [`SyncVar`] for raw sync annotations, sharded by page so that
/// unrelated objects rarely share a lock and a range reset touches few shards.
pub struct SyncTable {
    shards: Box<[Shard]>,
}

type Shard = Mutex<BTreeMap<usize, Box<SyncVar>>>;

const SHARDS: usize = 64;

impl Default for SyncTable {
    fn default() -> Self {
        Self::new()
    }
}

impl SyncTable {
    pub fn new() -> SyncTable {
        SyncTable {
            shards: (0..SHARDS).map(|_| Mutex::new(BTreeMap::new())).collect(),
        }
    }

    fn shard(&self, addr: usize) -> &Shard {
        &self.shards[(addr >> 12) % SHARDS]
    }

    /// Runs `f` on the sync object at `addr`, creating it if `create`.
    pub fn with<R>(&self, addr: usize, create: bool, f: impl FnOnce(&SyncVar) -> R) -> Option<R> {
        let mut shard = self.shard(addr).lock().unwrap_or_else(|e| e.into_inner());
        if create {
            Some(f(shard.entry(addr).or_default()))
        } else {
            shard.get(&addr).map(|v| f(v))
        }
    }

    /// `fork` support: holds every shard's lock across the fork.
    pub(crate) fn lock_for_fork(&'static self, guards: &mut Vec<Box<dyn std::any::Any>>) {
        for shard in self.shards.iter() {
            guards.push(Box::new(shard.lock().unwrap_or_else(|e| e.into_inner())));
        }
    }

    /// Drops every sync object in `[addr, addr + len)`.
    pub fn reset_range(&self, addr: usize, len: usize) {
        let end = addr.saturating_add(len);
        if len >= SHARDS << 12 {
            for shard in self.shards.iter() {
                let mut m = shard.lock().unwrap_or_else(|e| e.into_inner());
                m.retain(|k, _| *k < addr || *k >= end);
            }
            return;
        }
        let mut page = addr & !0xFFF;
        while page < end {
            let mut m = self.shard(page).lock().unwrap_or_else(|e| e.into_inner());
            let doomed: Vec<usize> = m
                .range(addr.max(page)..end.min(page + 0x1000))
                .map(|(k, _)| *k)
                .collect();
            for k in doomed {
                m.remove(&k);
            }
            page += 0x1000;
        }
    }
}
