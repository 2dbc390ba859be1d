//! RaceMap identity: history follows the map (not the handle's address),
//! `&mut` access forgets it, and a dropped map's history dies with it.
//!
//! The maps are handed between threads through `std::sync::mpsc`, which
//! racedet does not instrument: the hand-over creates no happens-before
//! edge that racedet can see. That makes the *history* observable: an
//! earlier write by the sending thread is still unordered with the
//! receiver's accesses, unless an annotation (or `&mut`) orders or resets it.

mod support;

use std::sync::mpsc;

use racedet::annotate;
use racedet::collections::RaceMap;
use support::{pair, single, site_lines};

/// Creates a map on a new thread, writes it, and hands it to `receiver`
/// through std's channel (invisible to racedet); `annotated` adds the
/// release/acquire annotations that describe the channel's edge.
/// The receiver gets the map, its object address and the line of the write.
fn hand_over<R>(annotated: bool, receiver: impl FnOnce(RaceMap<u32, u32>, usize, u32) -> R) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        let h = s.spawn(move || {
            let m = RaceMap::named("handed");
            let line = line!() + 1;
            m.insert(1, 1);
            let addr = m.object_addr();
            if annotated {
                annotate::release(addr as *const u8);
            }
            tx.send((m, addr, line)).unwrap();
        });
        let (m, addr, line) = rx.recv().unwrap();
        if annotated {
            annotate::acquire(addr as *const u8);
        }
        let r = receiver(m, addr, line);
        h.join().unwrap();
        r
    })
}

#[test]
fn history_survives_a_move_of_the_handle() {
    let lines = std::cell::Cell::new((0, 0));
    let err = racedet::check(|| {
        hand_over(false, |m, addr, write_line| {
            let moved = Box::new(m);
            assert_eq!(
                moved.object_addr(),
                addr,
                "the map's identity moved with it"
            );
            moved.get(&1);
            lines.set((write_line, line!() - 1));
        })
    });
    let err = err.unwrap_err();
    let race = single(&err);
    let (write_line, read_line) = lines.get();
    assert_eq!(site_lines(race), pair(write_line, read_line));
    assert_eq!(race.object.name.as_deref(), Some("handed"));
}

#[test]
fn annotated_hand_over_is_clean() {
    racedet::assert_race_free(|| {
        hand_over(true, |m, _, _| {
            let moved = Box::new(m);
            assert_eq!(moved.get(&1), Some(1));
        })
    });
}

#[test]
fn exclusive_access_forgets_history() {
    type Excl = fn(&mut RaceMap<u32, u32>);
    let exclusive: [(&str, Excl); 5] = [
        ("get_mut", |m| *m.get_mut(&1).unwrap() += 1),
        ("iter_mut", |m| m.iter_mut().for_each(|(_, v)| *v += 1)),
        ("as_mut_map", |m| {
            m.as_mut_map().insert(2, 2);
        }),
        ("extend", |m| m.extend([(3, 3)])),
        ("&mut into_iter", |m| {
            for (_, v) in &mut *m {
                *v += 1;
            }
        }),
    ];
    for (name, excl) in exclusive {
        let r = racedet::check(|| {
            hand_over(false, |mut m, _, _| {
                excl(&mut m);
                m.insert(4, 4);
                m.get(&1)
            })
        });
        assert!(r.is_ok(), "{name}: {}", r.unwrap_err());
    }
}

#[test]
fn a_new_map_at_a_reused_address_starts_clean() {
    racedet::assert_race_free(|| {
        hand_over(false, |m, addr, _| {
            drop(m);
            // The allocator hands the freed block back for the same size; keep
            // misses alive so each attempt gets a different block.
            let mut misses = Vec::new();
            let reused = loop {
                let n: RaceMap<u32, u32> = RaceMap::new();
                if n.object_addr() == addr {
                    break n;
                }
                misses.push(n);
                assert!(misses.len() < 64, "the allocator never reused the block");
            };
            reused.insert(1, 2);
            assert_eq!(reused.get(&1), Some(2));
        })
    });
}

#[test]
fn into_inner_and_into_iter_take_the_data() {
    let r = racedet::check(|| {
        let a = hand_over(false, |m, _, _| m.into_inner());
        let b: Vec<_> = hand_over(false, |m, _, _| m.into_iter().collect());
        (a, b)
    });
    let (a, b) = r.unwrap();
    assert_eq!(a.get(&1), Some(&1));
    assert_eq!(b, [(1, 1)]);
}
