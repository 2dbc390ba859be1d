//! An object's shared reads (`shadow/shared.rs`). First a differential test:
//! random traces of whole-word accesses are judged twice, once the way a
//! plain shadow word checks them (every access under the word's lock,
//! reads collapsing into the read history at once) and once the way a
//! `RaceMap` read by several threads does (runs of reads recorded in
//! per-slot entries or the overflow history, folded in by the next
//! exclusive check). Every access must get the same verdict, and every
//! race must name an access that really is unordered with it.

use proptest::prelude::*;
use racedet_runtime::clock::{Slot, VectorClock};
use racedet_runtime::shadow::shared::{SHARED_READERS, SharedReads};
use racedet_runtime::shadow::word::{Accessor, pack, whole_cell};
use racedet_runtime::shadow::{AccessKind, Outcome, ShadowWord};
use racedet_runtime::site::Site;

/// Enough threads that some have slots past the per-slot entries.
const THREADS: usize = SHARED_READERS + 4;

#[derive(Copy, Clone, Debug)]
enum Op {
    /// A read made beside other readers (the object's lock held shared).
    SharedRead(usize),
    /// A read or a write under the object's lock held exclusively.
    Exclusive(usize, bool),
    /// Thread `.0` acquires what thread `.1` released (`.1` then starts a
    /// new epoch, as after any release).
    Sync(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    // Few threads most of the time, so that histories repeat slots; the
    // last ones reach the overflow history.
    let thread = prop_oneof![4 => 0..4usize, 1 => 0..THREADS];
    prop_oneof![
        4 => thread.clone().prop_map(Op::SharedRead),
        3 => (thread.clone(), any::<bool>()).prop_map(|(t, w)| Op::Exclusive(t, w)),
        2 => (thread.clone(), thread).prop_map(|(a, b)| Op::Sync(a, b)),
    ]
}

fn accessor(clocks: &[VectorClock], t: usize) -> Accessor<'_> {
    let slot = Slot(t as u16);
    Accessor {
        slot,
        clock: &clocks[t],
        cur: pack(slot, clocks[t].get(slot)),
        locks: 0,
    }
}

/// The verdict, checking that a named earlier access is really unordered.
fn verdict(out: Outcome, clock: &VectorClock) -> bool {
    match out {
        Outcome::Race(c) => {
            assert!(
                !clock.covers(c.previous.epoch()),
                "reported an ordered access: {c:?}"
            );
            true
        }
        Outcome::Repeat | Outcome::Recorded => false,
    }
}

fn run(ops: &[Op]) {
    let mut clocks: Vec<VectorClock> = (0..THREADS)
        .map(|t| {
            let mut c = VectorClock::from_slice(&[0; THREADS]);
            c.set(Slot(t as u16), 1);
            c
        })
        .collect();
    let locked = ShadowWord::new();
    let object = ShadowWord::new();
    let reads = SharedReads::new();
    for (i, &op) in ops.iter().enumerate() {
        let (t, kind, shared) = match op {
            Op::Sync(a, b) => {
                if a != b {
                    let released = clocks[b].clone();
                    clocks[a].join(&released);
                    clocks[b].tick(Slot(b as u16));
                }
                continue;
            }
            Op::SharedRead(t) => (t, AccessKind::Read, true),
            Op::Exclusive(t, w) => (t, [AccessKind::Read, AccessKind::Write][w as usize], false),
        };
        let thr = accessor(&clocks, t);
        let expected = verdict(locked.check(&thr, kind, 0xFF, 8, Site::UNKNOWN), thr.clock);
        // As `Object` drives it: the same-epoch fast path first.
        let got = if object.is_repeat(kind, whole_cell(thr.cur)) {
            false
        } else if shared {
            // SAFETY: one thread plays every role in turn; a run of shared
            // reads is never interleaved with an exclusive check.
            verdict(
                unsafe { object.check_read_shared(&thr, Site::UNKNOWN, &reads) },
                thr.clock,
            )
        } else if kind == AccessKind::Read
            // SAFETY: as above.
            && unsafe { object.reread_exclusive(&thr, Site::UNKNOWN, &reads) }
        {
            // The owner's re-read shortcut, tried first as
            // `Object::read_exclusive` does: it only ever records, clean.
            false
        } else {
            // SAFETY: as above.
            verdict(
                unsafe { object.check_whole_exclusive(&thr, kind, Site::UNKNOWN, &reads) },
                thr.clock,
            )
        };
        assert_eq!(got, expected, "op {i} {op:?} in {ops:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn shared_reads_judge_like_the_locked_word(ops in prop::collection::vec(op(), 1..60)) {
        run(&ops);
    }
}

#[test]
fn a_fixed_trace_with_every_kind_of_step() {
    use Op::*;
    run(&[
        Exclusive(0, true),
        SharedRead(1),
        SharedRead(THREADS - 1),
        SharedRead(2),
        Sync(0, 1),
        Exclusive(0, true),
        SharedRead(1),
        Exclusive(1, false),
        Sync(3, 0),
        Sync(3, 2),
        Exclusive(3, true),
    ]);
}

// Unit-sized cases of the same rules, each with its twin.

/// An accessor for `slot` with `clock`.
fn thread(slot: u16, clock: &VectorClock) -> Accessor<'_> {
    Accessor {
        slot: Slot(slot),
        clock,
        cur: pack(Slot(slot), clock.get(Slot(slot))),
        locks: 0,
    }
}

/// Shared reads (`shared.rs`) judged by later exclusive checks, both
/// directions: a write ordered after every shared read is clean, one
/// that misses any of them races with it.
#[test]
fn shared_reads_are_folded_before_exclusive_checks() {
    for (writer_clock, races) in [
        (vec![2, 1, 1], false), // saw both readers' reads
        (vec![2, 1, 0], true),  // missed slot 2's read
        (vec![2, 0, 1], true),  // missed slot 1's read
    ] {
        let w = ShadowWord::new();
        let reads = SharedReads::new();
        let c0 = VectorClock::from_slice(&[1]);
        // SAFETY: single-threaded test: nothing else touches the word.
        unsafe {
            assert_eq!(
                w.check_whole_exclusive(&thread(0, &c0), AccessKind::Write, Site::UNKNOWN, &reads),
                Outcome::Recorded
            );
            for slot in [1u16, 2] {
                let mut c = vec![1, 0, 0];
                c[slot as usize] = 1;
                let c = VectorClock::from_slice(&c);
                assert_eq!(
                    w.check_read_shared(&thread(slot, &c), Site::UNKNOWN, &reads),
                    Outcome::Recorded
                );
                // The same read again in the same epoch is a repeat.
                assert_eq!(
                    w.check_read_shared(&thread(slot, &c), Site::UNKNOWN, &reads),
                    Outcome::Repeat
                );
            }
            assert!(reads.pending());
            let cw = VectorClock::from_slice(&writer_clock);
            let out =
                w.check_whole_exclusive(&thread(0, &cw), AccessKind::Write, Site::UNKNOWN, &reads);
            assert_eq!(matches!(out, Outcome::Race(_)), races, "{writer_clock:?}");
            assert!(!reads.pending());
        }
    }
}

#[test]
fn a_shared_read_races_with_an_unordered_write_and_not_an_ordered_one() {
    for (reader_clock, races) in [(vec![1, 1], false), (vec![0, 1], true)] {
        let w = ShadowWord::new();
        let reads = SharedReads::new();
        let c0 = VectorClock::from_slice(&[1]);
        let c1 = VectorClock::from_slice(&reader_clock);
        // SAFETY: single-threaded test.
        unsafe {
            w.check_whole_exclusive(&thread(0, &c0), AccessKind::Write, Site::UNKNOWN, &reads);
            let out = w.check_read_shared(&thread(1, &c1), Site::UNKNOWN, &reads);
            assert_eq!(matches!(out, Outcome::Race(_)), races, "{reader_clock:?}");
        }
    }
}

/// A writer's same-epoch cache must not let its next write skip a read
/// made by another thread in between, shared or not.
#[test]
fn a_shared_read_clears_the_writers_same_epoch_cache() {
    let w = ShadowWord::new();
    let reads = SharedReads::new();
    let c0 = VectorClock::from_slice(&[1]);
    let c1 = VectorClock::from_slice(&[0, 1]);
    let t0 = thread(0, &c0);
    // SAFETY: single-threaded test.
    unsafe {
        w.check_whole_exclusive(&t0, AccessKind::Write, Site::UNKNOWN, &reads);
        assert!(w.is_repeat(AccessKind::Write, whole_cell(t0.cur)));
        // The read races with the write, and is recorded all the same.
        assert!(matches!(
            w.check_read_shared(&thread(1, &c1), Site::UNKNOWN, &reads),
            Outcome::Race(_)
        ));
        assert!(!w.is_repeat(AccessKind::Write, whole_cell(t0.cur)));
        assert!(matches!(
            w.check_whole_exclusive(&t0, AccessKind::Write, Site::UNKNOWN, &reads),
            Outcome::Race(c) if c.previous.slot == Slot(1)
        ));
    }
}

/// Threads past the per-slot entries go through the overflow history,
/// with the same verdicts.
#[test]
fn shared_reads_past_the_entries_use_the_overflow_history() {
    let n = SHARED_READERS + 3;
    let w = ShadowWord::new();
    let reads = SharedReads::new();
    let mut seen = vec![0u32; n + 1];
    seen[0] = 1;
    // SAFETY: single-threaded test.
    unsafe {
        w.check_whole_exclusive(
            &thread(0, &VectorClock::from_slice(&seen)),
            AccessKind::Write,
            Site::UNKNOWN,
            &reads,
        );
        for slot in 1..=n {
            let mut c = vec![0u32; n + 1];
            c[0] = 1;
            c[slot] = 1;
            let c = VectorClock::from_slice(&c);
            assert_eq!(
                w.check_read_shared(&thread(slot as u16, &c), Site::UNKNOWN, &reads),
                Outcome::Recorded
            );
        }
        // A writer that saw every reader but the last (an overflow one).
        let mut c = vec![1u32; n + 1];
        c[0] = 2;
        c[n] = 0;
        let out = w.check_whole_exclusive(
            &thread(0, &VectorClock::from_slice(&c)),
            AccessKind::Write,
            Site::UNKNOWN,
            &reads,
        );
        assert!(matches!(out, Outcome::Race(c) if c.previous.slot == Slot(n as u16)));
    }
}

/// The owner's re-read shortcut (`ShadowWord::reread_exclusive`): a thread
/// reading again in a later epoch takes its own entry over, so a writer
/// that saw only the earlier read still races with the new one; and the
/// shortcut declines when the recorded write is unordered with the reader,
/// leaving the race to the full check.
#[test]
fn a_reread_moves_the_readers_entry_to_its_new_epoch() {
    for (writer_clock, races) in [
        (vec![1, 2], false), // saw the re-read's epoch
        (vec![1, 1], true),  // saw only the first read's epoch
    ] {
        let w = ShadowWord::new();
        let reads = SharedReads::new();
        let first = VectorClock::from_slice(&[0, 1]);
        let again = VectorClock::from_slice(&[0, 2]);
        // SAFETY: single-threaded test.
        unsafe {
            w.check_whole_exclusive(&thread(1, &first), AccessKind::Read, Site::UNKNOWN, &reads);
            assert!(w.reread_exclusive(&thread(1, &again), Site::UNKNOWN, &reads));
            let cw = VectorClock::from_slice(&writer_clock);
            let out =
                w.check_whole_exclusive(&thread(0, &cw), AccessKind::Write, Site::UNKNOWN, &reads);
            assert_eq!(matches!(out, Outcome::Race(_)), races, "{writer_clock:?}");
        }
    }
}

#[test]
fn a_reread_after_an_unordered_write_is_left_to_the_full_check() {
    // The reader's view of slot 0 (the writer's): saw the write or not.
    for (saw, shortcut) in [(1, true), (0, false)] {
        let w = ShadowWord::new();
        let reads = SharedReads::new();
        let c0 = VectorClock::from_slice(&[1]);
        let first = VectorClock::from_slice(&[saw, 1]);
        // SAFETY: single-threaded test.
        unsafe {
            w.check_whole_exclusive(&thread(0, &c0), AccessKind::Write, Site::UNKNOWN, &reads);
            let out = w.check_whole_exclusive(
                &thread(1, &first),
                AccessKind::Read,
                Site::UNKNOWN,
                &reads,
            );
            assert_eq!(matches!(out, Outcome::Race(_)), !shortcut);
            let again = VectorClock::from_slice(&[saw, 2]);
            let t1 = thread(1, &again);
            assert_eq!(w.reread_exclusive(&t1, Site::UNKNOWN, &reads), shortcut);
            if !shortcut {
                assert!(matches!(
                    w.check_whole_exclusive(&t1, AccessKind::Read, Site::UNKNOWN, &reads),
                    Outcome::Race(c) if c.previous.slot == Slot(0)
                ));
            }
        }
    }
}
