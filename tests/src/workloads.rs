//! Benchmark workloads: Rust twins of the C programs in `shared/bench-anchors/`.
//!
//! Every workload exists in two builds of the same logic: [`Kit::Plain`]
//! uses std types with no racedet at all; [`Kit::Racedet`] uses racedet's
//! types, and whether detection is *off* or *on* is decided by the process
//! environment (`RACEDET=1`), exactly as a user's program would run. The
//! bench runner (`tests/benches/workloads.rs`) runs each in its own process
//! and pairs the configurations; the smoke test runs them all at tiny sizes.
//!
//! Each workload returns the time of its measured region and the number of
//! operations in it; what one "operation" is matches the C twin.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use racedet::collections::RaceMap;

/// Which types a workload uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kit {
    /// std types, no racedet.
    Plain,
    /// racedet types (detection off or on per the environment).
    Racedet,
}

/// Result of one run.
#[derive(Copy, Clone, Debug)]
pub struct Measured {
    pub elapsed: Duration,
    pub ops: u64,
}

impl Measured {
    pub fn ns_per_op(&self) -> f64 {
        self.elapsed.as_nanos() as f64 / self.ops.max(1) as f64
    }
}

fn timed(ops: u64, f: impl FnOnce()) -> Measured {
    let t = Instant::now();
    f();
    Measured {
        elapsed: t.elapsed(),
        ops,
    }
}

fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

/// access_loop through `racedet::cell::UnsafeCell` (loom-style `with`/`with_mut`):
/// one 8-byte load and one store per iteration; ops = accesses.
pub fn access_loop_cell(kit: Kit, iterations: u64) -> Measured {
    match kit {
        Kit::Plain => {
            let cell = std::cell::UnsafeCell::new(0u64);
            timed(iterations * 2, || {
                for i in 0..iterations {
                    // SAFETY: single-threaded; the pointer is valid and unaliased.
                    let v = unsafe { std::ptr::read_volatile(cell.get()) };
                    // SAFETY: as above.
                    unsafe { std::ptr::write_volatile(cell.get(), v.wrapping_add(i)) };
                }
            })
        }
        Kit::Racedet => {
            let cell = racedet::cell::UnsafeCell::new(0u64);
            timed(iterations * 2, || {
                for i in 0..iterations {
                    // SAFETY: single-threaded; the pointer is valid and unaliased.
                    let v = cell.with(|p| unsafe { std::ptr::read_volatile(p) });
                    // SAFETY: as above.
                    cell.with_mut(|p| unsafe { std::ptr::write_volatile(p, v.wrapping_add(i)) });
                }
            })
        }
    }
}

/// access_loop through `racedet::cell::RaceCell` (`get`/`set`); ops = accesses.
/// The plain twin is a `Mutex<u64>`, since `RaceCell` is memory-safe under
/// racy use by holding an internal lock.
pub fn access_loop_race_cell(kit: Kit, iterations: u64) -> Measured {
    match kit {
        Kit::Plain => {
            let cell = std::sync::Mutex::new(0u64);
            timed(iterations * 2, || {
                for i in 0..iterations {
                    let v = *cell.lock().unwrap();
                    *cell.lock().unwrap() = black_box(v.wrapping_add(i));
                }
            })
        }
        Kit::Racedet => {
            let cell = racedet::cell::RaceCell::new(0u64);
            timed(iterations * 2, || {
                for i in 0..iterations {
                    let v = cell.get();
                    cell.set(black_box(v.wrapping_add(i)));
                }
            })
        }
    }
}

/// access_loop through `racedet::annotate` over a private array of `words`
/// u64s, as the C twin; ops = accesses.
pub fn access_loop_annotate(kit: Kit, iterations: u64, words: usize) -> Measured {
    let mut data = vec![0u64; words.max(1)];
    let mask = data.len().next_power_of_two() - 1;
    let n = data.len();
    let p = data.as_mut_ptr();
    let m = timed(iterations * 2, || {
        for i in 0..iterations as usize {
            let j = (i & mask) % n;
            // SAFETY: `j < n`; single-threaded.
            let slot = unsafe { p.add(j) };
            if kit == Kit::Racedet {
                racedet::annotate::read(slot, 8);
            }
            // SAFETY: as above.
            let v = unsafe { std::ptr::read_volatile(slot) };
            if kit == Kit::Racedet {
                racedet::annotate::write(slot, 8);
            }
            // SAFETY: as above.
            unsafe { std::ptr::write_volatile(slot, v.wrapping_add(1)) };
        }
    });
    if kit == Kit::Racedet {
        racedet::annotate::reset(p, n * 8);
    }
    black_box(data);
    m
}

/// sync_heavy: lock/unlock pairs with no work between, `threads` threads on
/// one mutex, after `bg` threads were created and joined; ops = pairs.
pub fn sync_heavy(kit: Kit, per_thread: u64, threads: usize, bg: usize) -> Measured {
    for _ in 0..bg.div_ceil(16) {
        let hs: Vec<_> = (0..16)
            .map(|_| std::thread::spawn(|| black_box(1)))
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    }
    let ops = per_thread * threads as u64;
    match kit {
        Kit::Plain => {
            let mu = std::sync::Mutex::new(0u64);
            timed(ops, || {
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| {
                            for _ in 0..per_thread {
                                *mu.lock().unwrap() += 1;
                            }
                        });
                    }
                })
            })
        }
        Kit::Racedet => {
            let mu = racedet::sync::Mutex::new(0u64);
            timed(ops, || {
                racedet::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| {
                            for _ in 0..per_thread {
                                *mu.lock().unwrap() += 1;
                            }
                        });
                    }
                })
            })
        }
    }
}

/// shared_mutex: `threads` threads each doing `per_thread` lock, two updates
/// of a shared struct, unlock; ops = critical sections.
pub fn shared_mutex(kit: Kit, per_thread: u64, threads: usize) -> Measured {
    #[derive(Default)]
    struct Shared {
        counter: u64,
        sum: u64,
    }
    let ops = per_thread * threads as u64;
    match kit {
        Kit::Plain => {
            let mu = std::sync::Mutex::new(Shared::default());
            timed(ops, || {
                std::thread::scope(|s| {
                    for t in 0..threads as u64 {
                        let mu = &mu;
                        s.spawn(move || {
                            for i in 0..per_thread {
                                let mut g = mu.lock().unwrap();
                                g.counter += 1;
                                g.sum += i ^ t;
                            }
                        });
                    }
                })
            })
        }
        Kit::Racedet => {
            let mu = racedet::sync::Mutex::new(Shared::default());
            timed(ops, || {
                racedet::thread::scope(|s| {
                    for t in 0..threads as u64 {
                        let mu = &mu;
                        s.spawn(move || {
                            for i in 0..per_thread {
                                let mut g = mu.lock().unwrap();
                                g.counter += 1;
                                g.sum += i ^ t;
                            }
                        });
                    }
                })
            })
        }
    }
}

/// map_rwlock: `total` operations split over `threads`, 90% lookups under
/// the read lock and 10% inserts under the write lock, keys uniform in
/// `[0, keyspace)`, map half filled first; ops = map operations.
pub fn map_rwlock(kit: Kit, total: u64, threads: usize, keyspace: u64) -> Measured {
    let per_thread = total / threads as u64;
    let ops = per_thread * threads as u64;
    let keyspace = keyspace.max(2);
    match kit {
        Kit::Plain => {
            let map = std::sync::RwLock::new(HashMap::new());
            for k in (0..keyspace).step_by(2) {
                map.write().unwrap().insert(k, k);
            }
            timed(ops, || {
                std::thread::scope(|s| {
                    for t in 0..threads as u64 {
                        let map = &map;
                        s.spawn(move || {
                            let mut seed = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(t + 1);
                            let mut sum = 0u64;
                            for i in 0..per_thread {
                                let r = xorshift(&mut seed);
                                let key = (r >> 16) % keyspace;
                                if r.is_multiple_of(10) {
                                    map.write().unwrap().insert(key, i);
                                } else if let Some(v) = map.read().unwrap().get(&key).copied() {
                                    sum = sum.wrapping_add(v);
                                }
                            }
                            black_box(sum);
                        });
                    }
                })
            })
        }
        Kit::Racedet => {
            let map = racedet::sync::RwLock::new(RaceMap::new());
            for k in (0..keyspace).step_by(2) {
                map.write().unwrap().insert(k, k);
            }
            timed(ops, || {
                racedet::thread::scope(|s| {
                    for t in 0..threads as u64 {
                        let map = &map;
                        s.spawn(move || {
                            let mut seed = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(t + 1);
                            let mut sum = 0u64;
                            for i in 0..per_thread {
                                let r = xorshift(&mut seed);
                                let key = (r >> 16) % keyspace;
                                if r.is_multiple_of(10) {
                                    map.write().unwrap().insert(key, i);
                                } else if let Some(v) = map.read().unwrap().get(&key) {
                                    sum = sum.wrapping_add(v);
                                }
                            }
                            black_box(sum);
                        });
                    }
                })
            })
        }
    }
}

/// many_threads: `n` short threads, `batch` alive at a time, each reading a
/// config table written before it was spawned and updating a shared,
/// Mutex-protected map; ops = threads (create + run + join).
pub fn many_threads(kit: Kit, n: u64, batch: u64) -> Measured {
    let batch = batch.max(1);
    match kit {
        Kit::Plain => {
            let config: std::sync::Arc<Vec<u64>> =
                std::sync::Arc::new((0..256).map(|i| i * 7).collect());
            let shared = std::sync::Arc::new(std::sync::Mutex::new(HashMap::new()));
            timed(n, || {
                let mut id = 0u64;
                while id < n {
                    let k = batch.min(n - id);
                    let hs: Vec<_> = (0..k)
                        .map(|j| {
                            let (config, shared) = (config.clone(), shared.clone());
                            let me = id + j;
                            std::thread::spawn(move || {
                                let c = config[(me & 255) as usize];
                                *shared.lock().unwrap().entry(me & 255).or_insert(0) += c + me;
                            })
                        })
                        .collect();
                    for h in hs {
                        h.join().unwrap();
                    }
                    id += k;
                }
            })
        }
        Kit::Racedet => {
            let config = racedet::sync::Arc::new(RaceMap::new());
            for i in 0..256u64 {
                config.insert(i, i * 7);
            }
            let shared = racedet::sync::Arc::new(racedet::sync::Mutex::new(RaceMap::new()));
            timed(n, || {
                let mut id = 0u64;
                while id < n {
                    let k = batch.min(n - id);
                    let hs: Vec<_> = (0..k)
                        .map(|j| {
                            let (config, shared) = (config.clone(), shared.clone());
                            let me = id + j;
                            racedet::thread::spawn(move || {
                                let c = config.get(&(me & 255)).unwrap_or(0);
                                let g = shared.lock().unwrap();
                                let old = g.get(&(me & 255)).unwrap_or(0);
                                g.insert(me & 255, old + c + me);
                            })
                        })
                        .collect();
                    for h in hs {
                        h.join().unwrap();
                    }
                    id += k;
                }
            })
        }
    }
}

/// read_shared: `readers` threads each doing `reads` lookups on one map
/// under the read lock (concurrent readers: the read-shared state), then
/// one writer; ops = lookups + 1.
pub fn read_shared(kit: Kit, readers: usize, reads: u64) -> Measured {
    let ops = readers as u64 * reads + 1;
    match kit {
        Kit::Plain => {
            let map =
                std::sync::RwLock::new((0..1024u64).map(|k| (k, k)).collect::<HashMap<_, _>>());
            timed(ops, || {
                std::thread::scope(|s| {
                    for t in 0..readers as u64 {
                        let map = &map;
                        s.spawn(move || {
                            let mut sum = 0u64;
                            for i in 0..reads {
                                sum += map
                                    .read()
                                    .unwrap()
                                    .get(&((i + t) & 1023))
                                    .copied()
                                    .unwrap_or(0);
                            }
                            black_box(sum);
                        });
                    }
                });
                map.write().unwrap().insert(5000, 1);
            })
        }
        Kit::Racedet => {
            let map =
                racedet::sync::RwLock::new((0..1024u64).map(|k| (k, k)).collect::<RaceMap<_, _>>());
            timed(ops, || {
                racedet::thread::scope(|s| {
                    for t in 0..readers as u64 {
                        let map = &map;
                        s.spawn(move || {
                            let mut sum = 0u64;
                            for i in 0..reads {
                                sum += map.read().unwrap().get(&((i + t) & 1023)).unwrap_or(0);
                            }
                            black_box(sum);
                        });
                    }
                });
                map.write().unwrap().insert(5000, 1);
            })
        }
    }
}

/// memory: `words` tracked 8-byte words written through `racedet::annotate`
/// (plain: just written); then the tracked range is reset and dropped.
/// Returns the measurement and the resident set size (KiB) after dropping.
pub fn tracked_words(kit: Kit, words: usize) -> (Measured, u64) {
    let mut data = vec![0u64; words];
    let p = data.as_mut_ptr();
    let m = timed(words as u64, || {
        for i in 0..words {
            // SAFETY: `i < words`; single-threaded.
            let slot = unsafe { p.add(i) };
            if kit == Kit::Racedet {
                racedet::annotate::write(slot, 8);
            }
            // SAFETY: as above.
            unsafe { std::ptr::write_volatile(slot, i as u64) };
        }
    });
    if kit == Kit::Racedet {
        racedet::annotate::reset(p, words * 8);
    }
    drop(data);
    (m, current_rss_kib())
}

/// Resident set size now, in KiB (from /proc/self/statm).
pub fn current_rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    pages * page / 1024
}

/// Peak resident set size of this process, in KiB.
pub fn peak_rss_kib() -> u64 {
    // SAFETY: `usage` is a valid out-parameter for getrusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as u64
}
