//! Barrier: every arrival → every departure of the same generation.

mod sync_util;

use racedet::cell::RaceCell;
use racedet::sync::Barrier;
use sync_util::{assert_clean, assert_races};

const N: usize = 3;

/// Each thread writes its own cell, waits, then reads everybody's.
#[test]
fn writes_before_the_barrier_are_seen_after_it() {
    assert_clean(|| {
        let b = Barrier::new(N);
        let cells: Vec<_> = (0..N).map(|_| RaceCell::new(0)).collect();
        let leaders = std::thread::scope(|s| {
            let hs: Vec<_> = (0..N)
                .map(|i| {
                    let (b, cells) = (&b, &cells);
                    s.spawn(move || {
                        cells[i].set(i + 1);
                        let leader = b.wait().is_leader();
                        let sum: usize = cells.iter().map(RaceCell::get).sum();
                        assert_eq!(sum, N * (N + 1) / 2);
                        leader
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().unwrap())
                .filter(|&l| l)
                .count()
        });
        assert_eq!(leaders, 1);
    });
}

/// Twin: thread 0 writes after the barrier; the others' reads after the
/// barrier are unordered with it.
#[test]
fn writes_after_the_barrier_race() {
    assert_races(1, || {
        let b = Barrier::new(2);
        let x = RaceCell::new(0);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                b.wait();
                x.set(1);
                tx.send(()).unwrap();
            });
            b.wait();
            rx.recv().unwrap();
            let _ = x.get();
        });
    });
}

/// The barrier is reusable: alternating writers across generations stay
/// ordered, generation after generation.
#[test]
fn generations_chain() {
    assert_clean(|| {
        let b = Barrier::new(2);
        let x = RaceCell::new(0);
        std::thread::scope(|s| {
            for me in 0..2 {
                let (b, x) = (&b, &x);
                s.spawn(move || {
                    for round in 0..6 {
                        if round % 2 == me {
                            x.set(round);
                        }
                        b.wait();
                        assert_eq!(x.get(), round);
                        b.wait();
                    }
                });
            }
        });
    });
}

#[test]
fn api_matches_std() {
    static B: Barrier = Barrier::new(1);
    assert!(B.wait().is_leader());
    assert!(Barrier::new(0).wait().is_leader());
    assert_eq!(
        format!("{:?}", B.wait()),
        "BarrierWaitResult { is_leader: true }"
    );
}
