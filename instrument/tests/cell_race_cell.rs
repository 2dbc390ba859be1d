//! RaceCell: checked whole-value reads and writes through `&self`.

mod support;

use std::cell::Cell;
use std::sync::mpsc;

use racedet::cell::RaceCell;
use support::{concurrently, pair, sequentially, single, site_lines};

type Op = (&'static str, fn(&RaceCell<Vec<u32>>));

fn writes() -> Vec<Op> {
    vec![
        ("set", |c| c.set(vec![1])),
        ("replace", |c| drop(c.replace(vec![2]))),
        ("take", |c| drop(c.take())),
        ("update", |c| c.update(|v| v.push(3))),
    ]
}

fn reads() -> Vec<Op> {
    vec![("get", |c| drop(c.get())), ("clone", |c| drop(c.clone()))]
}

#[test]
fn get_and_set_race_in_both_directions() {
    let c = RaceCell::named("counter", 0u64);
    let created = line!() - 1;
    let set = || {
        c.set(1);
    };
    let set_line = line!() - 2;
    let get = || {
        c.get();
    };
    let get_line = line!() - 2;
    for r in [
        racedet::check(|| concurrently(set, get)),
        racedet::check(|| concurrently(get, set)),
    ] {
        let err = r.unwrap_err();
        let race = single(&err);
        assert_eq!(site_lines(race), pair(set_line, get_line));
        assert_eq!(race.object.kind, "RaceCell");
        assert_eq!(race.object.name.as_deref(), Some("counter"));
        assert_eq!(race.object.created_at.as_ref().unwrap().line, Some(created));
        assert_eq!(race.object.addr as usize, c.object_addr());
    }
}

#[test]
fn every_write_races_with_reads_and_writes() {
    for (name, w) in writes() {
        for (other, o) in writes().into_iter().chain(reads()) {
            let c = RaceCell::new(vec![0]);
            let r = racedet::check(|| concurrently(|| w(&c), || o(&c)));
            assert_eq!(r.expect_err(name).len(), 1, "{name} vs {other}");
        }
    }
}

#[test]
fn reads_do_not_race_and_joins_order_everything() {
    let c = RaceCell::new(vec![0]);
    racedet::assert_race_free(|| {
        for (_, r) in reads() {
            for (_, r2) in reads() {
                concurrently(|| r(&c), || r2(&c));
            }
        }
        for (_, w) in writes() {
            for (_, o) in writes().into_iter().chain(reads()) {
                sequentially(|| w(&c), || o(&c));
                sequentially(|| o(&c), || w(&c));
            }
        }
    });
}

#[test]
fn exclusive_access_forgets_history_and_moves_keep_it() {
    // Handed over through std's channel, invisible to racedet (see
    // map_lifecycle.rs): the earlier write is only ordered by `&mut`.
    for reset in [false, true] {
        let (tx, rx) = mpsc::channel();
        let r = racedet::check(|| {
            std::thread::scope(|s| {
                let h = s.spawn(move || {
                    let c = RaceCell::new(1);
                    c.set(2);
                    tx.send(c).unwrap();
                });
                let mut c = rx.recv().unwrap();
                if reset {
                    *c.get_mut() += 1;
                }
                c.set(5);
                h.join().unwrap();
            })
        });
        assert_eq!(r.is_ok(), reset, "reset={reset}");
    }
}

#[test]
fn values_behave() {
    let c = RaceCell::new(String::from("a"));
    assert_eq!(c.get(), "a");
    c.set("b".into());
    assert_eq!(c.replace("c".into()), "b");
    c.update(|s| s.push('d'));
    assert_eq!(c.take(), "cd");
    assert_eq!(c.get(), "");
    let mut c = RaceCell::named("x", 3);
    *c.get_mut() += 1;
    assert_eq!(c.name(), Some("x"));
    assert!(format!("{c:?}").contains("x"));
    assert_eq!(c.clone().into_inner(), 4);
    let d: RaceCell<u8> = RaceCell::default();
    assert_eq!(d.into_inner(), 0);
    let calls = Cell::new(0);
    RaceCell::from(1).update(|_| calls.set(calls.get() + 1));
    assert_eq!(calls.get(), 1);
}

#[test]
fn a_panicking_update_leaves_the_cell_usable() {
    let c = RaceCell::new(1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        c.update(|v| {
            *v = 2;
            panic!("user code");
        })
    }));
    assert!(r.is_err());
    assert_eq!(c.get(), 2, "no poisoning");
}
