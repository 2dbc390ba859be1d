//! Differential test: the engine against a naive DJIT+ reference.
//!
//! The engine claims (see `shadow/state.rs`) that its FastTrack
//! representation — epochs, shared histories collapsed when ordered, uniform
//! words split on demand, the same-epoch fast path, slot reuse — gives the
//! same race verdict on every access as a detector that keeps a full vector
//! clock per byte and per thread. This test generates many short random
//! traces (threads, fork/join, locks, rwlocks, annotations, atomics with
//! every ordering, fences, accesses of every size and alignment, ranges,
//! resets), runs both detectors on each, and requires the per-access
//! verdicts to be identical. A disagreement prints the seed and a shrunk
//! trace. Lock 0 goes through the shortcuts racedet's own `Mutex` and
//! `RwLock` use (no spin lock; lock-free read unlocks, `sync/readers.rs`),
//! the other lock through the spin-locked calls.
//!
//! `RACEDET_DIFF_TRACES=N` and `RACEDET_DIFF_SEED=S` override the number of
//! traces and the first seed (trace `i` uses seed `S + i`); the traces are
//! dealt round-robin to four test shards.

mod diff;

use diff::engine::Engine;
use diff::reference::Reference;
use diff::trace::{Event, Schedule, generate};
use racedet_runtime::shadow::ShadowTable;

const DEFAULT_TRACES: u64 = 100_000;
const DEFAULT_SEED: u64 = 0x5EED_0000;
/// Where the arena lives in the engine's (instance-level) address space.
const BASE: usize = 0x7f00_0010_0000;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}: not a number: {v:?}")))
}

/// Index (among access events) of the first verdict the two sides disagree on.
fn first_disagreement(table: &ShadowTable, trace: &[Event]) -> Option<usize> {
    let want = Reference::run(trace);
    let got = Engine::run(table, BASE, trace);
    assert_eq!(want.len(), got.len());
    want.iter().zip(&got).position(|(a, b)| a != b)
}

/// Drops events (chunks, then single ones) while the trace stays valid and
/// the two sides still disagree.
fn shrink(table: &ShadowTable, mut trace: Vec<Event>) -> Vec<Event> {
    let mut chunk = trace.len().div_ceil(2);
    while chunk > 0 {
        let mut progress = false;
        let mut i = 0;
        while i < trace.len() {
            let mut cand = trace.clone();
            cand.drain(i..(i + chunk).min(trace.len()));
            if Schedule::valid(&cand) && first_disagreement(table, &cand).is_some() {
                trace = cand;
                progress = true;
            } else {
                i += chunk;
            }
        }
        if !progress {
            chunk /= 2;
        }
    }
    trace
}

fn describe(table: &ShadowTable, trace: &[Event]) -> String {
    let want = Reference::run(trace);
    let got = Engine::run(table, BASE, trace);
    let mut out = String::new();
    let mut k = 0;
    for (i, e) in trace.iter().enumerate() {
        let verdict = if e.is_access() {
            let v = format!(
                "   reference: {:5}  engine: {:5}{}",
                want[k],
                got[k],
                if want[k] != got[k] {
                    "  <-- differs"
                } else {
                    ""
                }
            );
            k += 1;
            v
        } else {
            String::new()
        };
        out += &format!("{i:3}: {e:?}{verdict}\n");
    }
    out
}

/// Checks the traces `i` of `0..N` with `i % SHARDS == shard` (the shards
/// run as separate tests, in parallel where cores allow).
fn run_shard(shard: u64) {
    let traces = env_u64("RACEDET_DIFF_TRACES").unwrap_or(DEFAULT_TRACES);
    let first = env_u64("RACEDET_DIFF_SEED").unwrap_or(DEFAULT_SEED);
    let table = ShadowTable::new();
    let start = std::time::Instant::now();
    let (mut runs, mut accesses, mut races, mut reused) = (0u64, 0usize, 0usize, 0usize);
    for i in (shard..traces).step_by(SHARDS as usize) {
        let seed = first.wrapping_add(i);
        let trace = generate(seed);
        let want = Reference::run(&trace);
        let (got, reuse) = Engine::run_counting_reuse(&table, BASE, &trace);
        runs += 1;
        accesses += want.len();
        races += want.iter().filter(|r| **r).count();
        reused += usize::from(reuse > 0);
        if want != got {
            let small = shrink(&table, trace.clone());
            panic!(
                "engine and reference disagree on seed {seed:#x} \
                 (rerun: RACEDET_DIFF_SEED={seed:#x} RACEDET_DIFF_TRACES=1)\n\
                 shrunk trace:\n{}\nfull trace:\n{}",
                describe(&table, &small),
                describe(&table, &trace),
            );
        }
    }
    eprintln!(
        "differential shard {shard}: {runs} traces, {accesses} accesses ({races} racy), \
         slot reuse in {reused} traces, {:.1?}",
        start.elapsed()
    );
    // Agreement is only worth something if both verdicts are common and
    // the generator reaches slot reuse.
    if runs >= 1000 {
        assert!(
            races * 20 > accesses && races * 20 < accesses * 19,
            "{races}/{accesses}"
        );
        assert!(reused as u64 * 100 > runs, "slot reuse in {reused}/{runs}");
    }
}

const SHARDS: u64 = 4;

#[test]
fn engine_agrees_with_djit_reference_0() {
    run_shard(0);
}

#[test]
fn engine_agrees_with_djit_reference_1() {
    run_shard(1);
}

#[test]
fn engine_agrees_with_djit_reference_2() {
    run_shard(2);
}

#[test]
fn engine_agrees_with_djit_reference_3() {
    run_shard(3);
}
