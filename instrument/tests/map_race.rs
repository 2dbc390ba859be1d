//! RaceMap: every `&self` call is a checked whole-map read or write.
//! Each racy case has its ordered (clean) twin.

mod support;

use racedet::collections::RaceMap;
use support::{concurrently, pair, sequentially, single, site_lines};

type Op = (&'static str, fn(&RaceMap<u32, u32>));

fn reads() -> Vec<Op> {
    vec![
        ("get", |m| {
            let _ = m.get(&1);
        }),
        ("get_with", |m| {
            let _ = m.get_with(&1, |v| *v);
        }),
        ("contains_key", |m| {
            let _ = m.contains_key(&1);
        }),
        ("len", |m| {
            let _ = m.len();
        }),
        ("is_empty", |m| {
            let _ = m.is_empty();
        }),
        ("keys", |m| {
            let _ = m.keys();
        }),
        ("values", |m| {
            let _ = m.values();
        }),
        ("iter", |m| {
            let _ = m.iter();
        }),
        ("for_each", |m| m.for_each(|_, _| ())),
        ("clone", |m| {
            let _ = m.clone();
        }),
    ]
}

fn writes() -> Vec<Op> {
    vec![
        ("insert", |m| {
            let _ = m.insert(1, 2);
        }),
        ("remove", |m| {
            let _ = m.remove(&1);
        }),
        ("clear", |m| m.clear()),
        ("retain", |m| m.retain(|_, _| true)),
        ("update", |m| {
            let _ = m.update(&1, |v| *v += 1);
        }),
        ("get_or_insert_with", |m| {
            let _ = m.get_or_insert_with(3, || 3);
        }),
    ]
}

fn filled() -> RaceMap<u32, u32> {
    let m = RaceMap::new();
    m.insert(1, 1);
    m
}

#[test]
fn read_and_write_race_in_both_directions() {
    let m = RaceMap::named("users");
    let created = line!() - 1;
    let write = || {
        m.insert(1, 1);
    };
    let write_line = line!() - 2;
    let read = || {
        m.get(&1);
    };
    let read_line = line!() - 2;

    for (name, r) in [
        (
            "writer thread",
            racedet::check(|| concurrently(write, read)),
        ),
        (
            "reader thread",
            racedet::check(|| concurrently(read, write)),
        ),
    ] {
        let err = r.expect_err(name);
        let race = single(&err);
        assert_eq!(site_lines(race), pair(write_line, read_line), "{name}");
        assert_eq!(race.object.kind, "RaceMap");
        assert_eq!(race.object.name.as_deref(), Some("users"));
        let at = race.object.created_at.as_ref().unwrap();
        assert_eq!(at.line, Some(created));
        assert!(at.file.as_deref().unwrap().ends_with("map_race.rs"));
        assert_eq!(race.object.addr as usize, m.object_addr());
        assert_ne!(race.current.is_write, race.previous.is_write, "{name}");
        assert_ne!(race.current.thread, race.previous.thread);
        assert_eq!(race.threads.len(), 2, "both threads are described");
        let text = err.to_string();
        assert!(text.contains("WARNING: DATA RACE"), "{text}");
        assert!(text.contains("users"), "{text}");
    }
}

#[test]
fn write_write_races() {
    let m = RaceMap::new();
    let err = racedet::check(|| {
        concurrently(
            || {
                m.insert(1, 1);
            },
            || {
                m.remove(&1);
            },
        )
    })
    .unwrap_err();
    let race = single(&err);
    assert!(race.current.is_write && race.previous.is_write);
}

#[test]
fn keys_do_not_matter_whole_map_semantics() {
    // Go semantics: writing key 1 and reading key 2 is still a race.
    let m = RaceMap::new();
    let r = racedet::check(|| {
        concurrently(
            || {
                m.insert(1, 1);
            },
            || {
                m.get(&2);
            },
        )
    });
    assert_eq!(r.unwrap_err().len(), 1);
}

#[test]
fn concurrent_reads_are_clean() {
    let m = filled();
    racedet::assert_race_free(|| {
        for (name, r) in reads() {
            for (_, r2) in reads() {
                concurrently(|| r(&m), || r2(&m));
            }
            let _ = name;
        }
    });
}

#[test]
fn every_read_races_with_a_write() {
    for (name, r) in reads() {
        let m = filled();
        let err = racedet::check(|| {
            concurrently(
                || r(&m),
                || {
                    let _ = m.insert(7, 7);
                },
            )
        })
        .expect_err(name);
        let race = single(&err);
        assert_ne!(race.current.is_write, race.previous.is_write, "{name}");
    }
}

#[test]
fn every_write_races_with_a_read_and_a_write() {
    for (name, w) in writes() {
        let m = filled();
        let err = racedet::check(|| {
            concurrently(
                || w(&m),
                || {
                    let _ = m.get(&1);
                },
            )
        })
        .expect_err(name);
        assert_ne!(
            single(&err).current.is_write,
            single(&err).previous.is_write
        );

        let m = filled();
        let err = racedet::check(|| concurrently(|| w(&m), || w(&m))).expect_err(name);
        let race = single(&err);
        assert!(race.current.is_write && race.previous.is_write, "{name}");
    }
}

#[test]
fn join_orders_every_operation() {
    let m = filled();
    racedet::assert_race_free(|| {
        for (_, w) in writes() {
            for (_, other) in writes().into_iter().chain(reads()) {
                sequentially(|| w(&m), || other(&m));
                sequentially(|| other(&m), || w(&m));
            }
        }
    });
}

#[test]
fn spawn_orders_accesses_before_it() {
    let m = RaceMap::new();
    racedet::assert_race_free(|| {
        m.insert(1, 1);
        std::thread::scope(|s| {
            let h = s.spawn(|| m.insert(2, 2));
            h.join().unwrap();
        });
        assert_eq!(m.len(), 2);
    });
}

#[test]
fn operations_behave_like_a_hash_map() {
    let m: RaceMap<String, u32> = RaceMap::named("ops");
    assert!(m.is_empty());
    assert_eq!(m.insert("a".into(), 1), None);
    assert_eq!(m.insert("a".into(), 2), Some(1));
    assert_eq!(m.get("a"), Some(2));
    assert_eq!(m.get_with("a", |v| v * 10), Some(20));
    assert!(m.contains_key("a"));
    assert_eq!(m.update("a", |v| std::mem::replace(v, 5)), Some(2));
    assert_eq!(m.update("zz", |v| *v), None);
    assert_eq!(m.get_or_insert_with("b".into(), || 7), 7);
    assert_eq!(m.get_or_insert_with("b".into(), || unreachable!()), 7);
    let mut keys = m.keys();
    keys.sort();
    assert_eq!(keys, ["a", "b"]);
    let mut values = m.values();
    values.sort();
    assert_eq!(values, [5, 7]);
    let mut seen = 0;
    m.for_each(|_, v| seen += v);
    assert_eq!(seen, 12);
    m.retain(|k, _| k == "b");
    assert_eq!(m.iter(), vec![("b".to_string(), 7)]);
    assert_eq!(m.remove("b"), Some(7));
    m.insert("c".into(), 1);
    m.clear();
    assert_eq!(m.len(), 0);
    assert_eq!(m.name(), Some("ops"));
    assert_eq!(m.clone().name(), Some("ops"));
    assert!(format!("{m:?}").contains("ops"));

    let mut m: RaceMap<u32, u32> = (0..4).map(|i| (i, i)).collect();
    m.extend([(9, 9)]);
    *m.get_mut(&9).unwrap() += 1;
    for (_, v) in m.iter_mut() {
        *v += 1;
    }
    let mut all: Vec<_> = m.into_iter().collect();
    all.sort();
    assert_eq!(all, [(0, 1), (1, 2), (2, 3), (3, 4), (9, 11)]);
}

#[test]
fn map_is_send_and_sync() {
    fn assert_sync<T: Send + Sync>() {}
    assert_sync::<RaceMap<String, Vec<u8>>>();
}

#[test]
fn a_panicking_closure_leaves_the_map_usable() {
    let m = filled();
    for op in [
        (|m: &RaceMap<u32, u32>| {
            m.update(&1, |_| panic!("user code"));
        }) as fn(&RaceMap<u32, u32>),
        |m| m.retain(|_, _| panic!("user code")),
        |m| m.for_each(|_, _| panic!("user code")),
        |m| {
            m.get_or_insert_with(9, || panic!("user code"));
        },
    ] {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op(&m)));
        assert!(r.is_err());
        // No poisoning: the map still works.
        assert_eq!(m.get(&1), Some(1));
        m.insert(2, 2);
    }
}

/// Readers inside the map together (its internal lock held shared) record
/// their reads without the shadow's lock (`Object::read_shared`); a later
/// write must still be judged against each of them. Both directions: a
/// writer that joined both readers is clean, one that joined only the first
/// races with the second's read.
#[test]
fn reads_made_side_by_side_are_each_judged_by_a_later_write() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    for writer_joins_both in [true, false] {
        let m = filled();
        let result = racedet::check(|| {
            // Touch the map from several threads in turn (ordered by the
            // joins), so that its internal lock drops its bias for good and
            // two readers can be inside together.
            for _ in 0..6 {
                racedet::thread::scope(|s| {
                    s.spawn(|| {
                        let _ = m.get(&1);
                    });
                });
            }
            // Not racedet types: these only steer the timing and create no
            // happens-before edge.
            let inside = AtomicUsize::new(0);
            let most_inside = AtomicUsize::new(0);
            let second_read = AtomicBool::new(false);
            let reader = |last: bool| {
                let _ = m.get_with(&1, |_| {
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most_inside.fetch_max(now, Ordering::SeqCst);
                    // Wait (boundedly, so a wrong guess cannot hang the test)
                    // for the other reader to come in.
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while most_inside.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
                        std::thread::yield_now();
                    }
                    inside.fetch_sub(1, Ordering::SeqCst);
                });
                if last {
                    second_read.store(true, Ordering::SeqCst);
                }
            };
            racedet::thread::scope(|s| {
                let first = s.spawn(|| reader(false));
                let second = s.spawn(|| reader(true));
                first.join().unwrap();
                if writer_joins_both {
                    second.join().unwrap();
                }
                while !second_read.load(Ordering::SeqCst) {
                    std::thread::yield_now();
                }
                let _ = m.insert(1, 9);
            });
            assert_eq!(
                most_inside.load(Ordering::SeqCst),
                2,
                "both readers were inside the map at once"
            );
        });
        match (writer_joins_both, result) {
            (true, Ok(())) => {}
            (false, Err(err)) => {
                let race = single(&err);
                assert!(race.current.is_write && !race.previous.is_write);
            }
            (joined, other) => panic!("writer joined both: {joined}, got {other:?}"),
        }
    }
}
