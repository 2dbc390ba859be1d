//! Differential test of an object's shared reads (`shadow/shared.rs`):
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
