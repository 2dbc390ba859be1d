//! Short-lived threads: many threads spawned and joined in waves of 64.
//! The run completes with zero false positives, and the detector's memory is
//! bounded by the threads alive at once, not by the threads ever created:
//! thread slots (vector-clock width) stay at most ~70, thread records do not
//! pile up, and resident memory stays flat.
//!
//! One test in this file, so `racedet_runtime::stats()` and the RSS figure
//! are this workload's alone. CI size: 10 000 threads; the full 100 000 is
//! `#[ignore]`d (figures in docs/reliability.md).

use racedet::cell::RaceCell;
use racedet::sync::Arc;
use racedet_tests::workloads::current_rss_kib;

const WAVE: usize = 64;

struct Peak {
    slots: usize,
    threads: usize,
    rss_baseline: u64,
    rss_end: u64,
}

/// `total` threads in waves of 64. Each thread reads a cell main wrote
/// before spawning it (fork edge) and writes its own cell, which main reads
/// after joining it (join edge): race-free.
fn waves(total: usize) -> Peak {
    let input = Arc::new(RaceCell::new(0u64));
    let outputs: Arc<Vec<RaceCell<u64>>> = Arc::new((0..WAVE).map(|_| RaceCell::new(0)).collect());
    let mut peak = Peak {
        slots: 0,
        threads: 0,
        rss_baseline: 0,
        rss_end: 0,
    };
    let waves = total / WAVE;
    for w in 0..waves {
        input.set(w as u64);
        let handles: Vec<_> = (0..WAVE)
            .map(|i| {
                let (input, outputs) = (input.clone(), outputs.clone());
                std::thread::spawn(move || outputs[i].set(input.get() + i as u64))
            })
            .collect();
        let s = racedet_runtime::stats();
        peak.slots = peak.slots.max(s.slots);
        peak.threads = peak.threads.max(s.threads);
        for h in handles {
            h.join().unwrap();
        }
        for (i, o) in outputs.iter().enumerate() {
            assert_eq!(o.get(), w as u64 + i as u64);
        }
        // The baseline comes once every slot's journal of past owners is
        // full (about 66 slots x 32 = 2 100 threads), since until then each
        // finished thread leaves a record for reports, by design; from
        // there memory must stay flat however many threads come.
        if w + 1 == waves * 3 / 10 {
            peak.rss_baseline = current_rss_kib();
        }
    }
    peak.rss_end = current_rss_kib();
    peak
}

fn run(total: usize) {
    let start = std::time::Instant::now();
    let mut peak = None;
    let result = racedet::check(|| peak = Some(waves(total)));
    let elapsed = start.elapsed();
    assert!(result.is_ok(), "false positive:\n{}", result.unwrap_err());
    let p = peak.unwrap();
    eprintln!(
        "{total} threads in waves of {WAVE}: {elapsed:?}; peak slots {}, peak thread records {}, RSS after 30% {} KiB, at end {} KiB",
        p.slots, p.threads, p.rss_baseline, p.rss_end
    );
    assert!(
        p.slots <= 70,
        "slots grew with threads ever created: {}",
        p.slots
    );
    assert!(
        p.threads <= 2 * WAVE + 8,
        "thread records pile up: {}",
        p.threads
    );
    assert!(
        p.rss_end * 10 <= p.rss_baseline * 11,
        "resident memory grows with threads ever created: {} KiB -> {} KiB",
        p.rss_baseline,
        p.rss_end
    );
    // The racy twin, after the waves (slot reuse must not hide it): two
    // threads of one wave write one cell with nothing ordering them.
    let twin = racedet::check(|| {
        let shared = Arc::new(RaceCell::new(0u64));
        let hs: Vec<_> = (0..2)
            .map(|i| {
                let s = shared.clone();
                std::thread::spawn(move || s.set(i))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    });
    assert_eq!(twin.expect_err("the racy twin must be reported").len(), 1);
}

#[test]
fn short_lived_threads_in_waves() {
    run(10_048);
}

/// Full size. Run alone (`--ignored`, not `--include-ignored`, so the two
/// tests do not share the process's counters):
/// `cargo test --release -p racedet-tests --test reliability_threads -- --ignored`.
#[test]
#[ignore = "full size (100 000 threads); run by hand, figures in docs/reliability.md"]
fn full_size_100_000_threads() {
    run(100_032);
}
