//! racedet::annotate: accesses to memory racedet does not own, and edges
//! through synchronisation it does not model. Pointers are only used as
//! addresses: nothing is read or written through them here.

mod support;

use std::sync::mpsc;

use racedet::annotate;
use support::{concurrently, pair, sequentially, single, site_lines};

/// Memory no other test ever used (leaked, so never reused): the shadow of
/// a stack buffer could still hold an earlier test's history.
fn fresh(len: usize) -> usize {
    Box::leak(vec![0u8; len].into_boxed_slice()).as_ptr() as usize
}

#[test]
fn annotated_write_and_read_race_in_both_directions() {
    let p = fresh(64);
    let write = || {
        annotate::write(p as *const u8, 16);
    };
    let write_line = line!() - 2;
    let read = || {
        annotate::read((p + 8) as *const u8, 16);
    };
    let read_line = line!() - 2;
    for r in [
        racedet::check(|| concurrently(write, read)),
        racedet::check(|| concurrently(read, write)),
    ] {
        let err = r.unwrap_err();
        let race = single(&err);
        assert_eq!(site_lines(race), pair(write_line, read_line));
        assert!(
            race.current
                .site
                .as_ref()
                .unwrap()
                .file
                .as_deref()
                .unwrap()
                .ends_with("annotate_ranges.rs")
        );
    }
}

#[test]
fn disjoint_ranges_and_reads_do_not_race() {
    let p = fresh(64);
    racedet::assert_race_free(|| {
        concurrently(
            || annotate::write(p as *const u8, 13),
            || annotate::write((p + 13) as *const u8, 20),
        );
        concurrently(
            || annotate::read(p as *const u8, 64),
            || annotate::read((p + 3) as *const u8, 5),
        );
    });
}

#[test]
fn overlap_of_one_byte_races() {
    let p = fresh(32);
    let r = racedet::check(|| {
        concurrently(
            || annotate::write(p as *const u8, 13),
            || annotate::write((p + 12) as *const u8, 1),
        )
    });
    assert_eq!(r.unwrap_err().len(), 1);
}

#[test]
fn typed_and_unsized_pointers_are_accepted() {
    let x: &u64 = Box::leak(Box::new(5));
    let s: &[u16] = Box::leak(Box::new([1, 2, 3]));
    let r = racedet::check(|| {
        concurrently(|| annotate::write(x, 8), || annotate::read(s, 6));
        concurrently(|| annotate::write(x, 8), || annotate::read(x, 8));
    });
    assert_eq!(r.unwrap_err().len(), 1, "only the accesses to x race");
}

/// `writer` runs on a new thread and tells this thread through std's
/// channel (invisible to racedet) that it is done; then `reader` runs.
fn handshake(release: bool, acquire: bool, token: usize, p: usize) -> bool {
    let (tx, rx) = mpsc::channel();
    racedet::check(|| {
        std::thread::scope(|s| {
            let h = s.spawn(move || {
                annotate::write(p as *const u8, 8);
                if release {
                    annotate::release(token as *const u8);
                }
                tx.send(()).unwrap();
            });
            rx.recv().unwrap();
            if acquire {
                annotate::acquire(token as *const u8);
            }
            annotate::write(p as *const u8, 8);
            h.join().unwrap();
        })
    })
    .is_ok()
}

#[test]
fn release_then_acquire_orders_and_each_half_alone_does_not() {
    let (t, p) = (fresh(512), fresh(512));
    assert!(handshake(true, true, t, p), "release -> acquire is an edge");
    assert!(
        !handshake(false, true, t + 64, p + 64),
        "acquire alone is no edge"
    );
    assert!(
        !handshake(true, false, t + 128, p + 128),
        "release alone is no edge"
    );
    // A different token gives no edge.
    let (tx, rx) = mpsc::channel();
    let o = fresh(8);
    let r = racedet::check(|| {
        std::thread::scope(|s| {
            let h = s.spawn(move || {
                annotate::write((p + 256) as *const u8, 8);
                annotate::release((t + 256) as *const u8);
                tx.send(()).unwrap();
            });
            rx.recv().unwrap();
            annotate::acquire(o as *const u8);
            annotate::write((p + 256) as *const u8, 8);
            h.join().unwrap();
        })
    });
    assert_eq!(r.unwrap_err().len(), 1);
}

#[test]
fn reset_forgets_history() {
    let p = fresh(16);
    for reset in [false, true] {
        let (tx, rx) = mpsc::channel();
        let r = racedet::check(|| {
            std::thread::scope(|s| {
                let h = s.spawn(move || {
                    annotate::write(p as *const u8, 16);
                    tx.send(()).unwrap();
                });
                rx.recv().unwrap();
                if reset {
                    // As an allocator would when the block is freed and reused.
                    annotate::reset(p as *const u8, 16);
                }
                annotate::read(p as *const u8, 16);
                h.join().unwrap();
            })
        });
        assert_eq!(r.is_ok(), reset, "reset={reset}");
    }
}

#[test]
fn join_orders_annotated_accesses() {
    let p = fresh(8);
    racedet::assert_race_free(|| {
        sequentially(
            || annotate::write(p as *const u8, 8),
            || annotate::write(p as *const u8, 8),
        )
    });
}

/// Same-epoch repeats are skipped on the fast path (a thread-local leaf and
/// cell compared with a word's cache). A repeat must still be told apart
/// from an access by the same thread to other bytes of the word, and from
/// an access to a word in another shadow leaf (32 KiB of memory each). The
/// second thread runs after the first in time (std's channel, invisible to
/// racedet) but unordered by happens-before, so it races exactly where the
/// bytes overlap.
#[test]
fn fast_path_repeats_stay_exact_per_byte_and_per_leaf() {
    let base = fresh(48 * 1024);
    let (a, b) = (base, base + 40 * 1024);
    let (tx, rx) = mpsc::channel();
    let repeats = move || {
        for _ in 0..4 {
            for w in [a, b] {
                annotate::write(w as *const u8, 2);
                annotate::read(w as *const u8, 2);
            }
        }
        let first_line = line!() - 4;
        for w in [a, b] {
            // Leaves the thread's leaf cache on `w`'s leaf.
            annotate::read(w as *const u8, 2);
            annotate::write((w + 2) as *const u8, 2);
        }
        tx.send(first_line).unwrap();
    };
    let second_line = line!() - 4;
    let other = || {
        let first_line = rx.recv().unwrap();
        annotate::write((a + 4) as *const u8, 4);
        annotate::write((b + 2) as *const u8, 1);
        annotate::read((a + 3) as *const u8, 1);
        annotate::read((b + 1) as *const u8, 1);
        (first_line, line!() - 3)
    };
    let mut lines = None;
    let r = racedet::check(|| concurrently(repeats, || lines = Some(other()))).unwrap_err();
    let (first_line, other_line) = lines.unwrap();
    let mut found: Vec<_> = r.reports().iter().map(site_lines).collect();
    found.sort();
    let mut want = [
        pair(second_line, other_line),
        pair(second_line, other_line + 1),
        pair(first_line, other_line + 2),
    ];
    want.sort();
    assert_eq!(found, want, "{r}");
}
