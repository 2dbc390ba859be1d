//! racedet::check and racedet::assert_race_free.

mod support;

use racedet::cell::RaceCell;
use support::{concurrently, sequentially};

#[test]
fn clean_closure_returns_its_value() {
    let c = RaceCell::new(1);
    let r = racedet::check(|| {
        sequentially(|| c.set(2), || c.set(3));
        c.get() * 10
    });
    assert_eq!(r.unwrap(), 30);
}

#[test]
fn races_are_returned_with_their_reports() {
    let c = RaceCell::named("shared", 0);
    let set = || c.set(1);
    let set_line = line!() - 1;
    let err = racedet::check(|| concurrently(set, set)).unwrap_err();
    assert_eq!(err.len(), 1);
    assert!(!err.is_empty());
    assert_eq!(err.lines(), [set_line]);
    let (cur, prev) = err.sites().next().unwrap();
    assert_eq!(cur.unwrap().line, Some(set_line));
    assert_eq!(prev.unwrap().line, Some(set_line));
    let text = err.to_string();
    assert!(text.starts_with("racedet: 1 data race detected"), "{text}");
    assert!(text.contains("WARNING: DATA RACE"), "{text}");
    assert!(text.contains("shared"), "{text}");
    assert!(text.contains("check_scope.rs"), "{text}");
    let reports = err.clone().into_reports();
    assert_eq!(reports, err.reports());
    let as_error: Box<dyn std::error::Error> = Box::new(err);
    assert!(as_error.to_string().contains("WARNING: DATA RACE"));
}

#[test]
fn races_found_by_spawned_threads_are_collected() {
    // The detecting access runs on the spawned thread in one order and on
    // the checking thread in the other: both are collected.
    let c = RaceCell::new(0);
    for _ in 0..5 {
        let err = racedet::check(|| {
            std::thread::scope(|s| {
                let a = s.spawn(|| c.set(1));
                let b = s.spawn(|| c.set(2));
                a.join().unwrap();
                b.join().unwrap();
            })
        })
        .unwrap_err();
        assert_eq!(err.len(), 1);
    }
}

#[test]
fn repeated_races_fold_into_one_report() {
    let c = RaceCell::new(0);
    let err = racedet::check(|| {
        for _ in 0..3 {
            concurrently(
                || c.set(1),
                || {
                    let _ = c.get();
                },
            );
        }
    })
    .unwrap_err();
    assert_eq!(err.len(), 1, "{err}");
    assert!(err.reports()[0].occurrences >= 3, "{err}");
}

#[test]
fn distinct_races_are_all_reported() {
    let (a, b) = (RaceCell::new(0), RaceCell::new(0));
    let err = racedet::check(|| {
        concurrently(|| a.set(1), || a.set(2));
        concurrently(
            || b.set(1),
            || {
                let _ = b.get();
            },
        );
    })
    .unwrap_err();
    assert_eq!(err.len(), 2, "{err}");
    assert!(
        err.to_string()
            .starts_with("racedet: 2 data races detected")
    );
}

#[test]
fn assert_race_free_returns_the_value() {
    let c = RaceCell::new(4);
    assert_eq!(racedet::assert_race_free(|| c.get()), 4);
}

#[test]
fn assert_race_free_panics_with_the_reports() {
    let c = RaceCell::named("flagged", 0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        racedet::assert_race_free(|| concurrently(|| c.set(1), || c.set(2)))
    }));
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<String>().expect("a formatted message");
    assert!(msg.contains("WARNING: DATA RACE"), "{msg}");
    assert!(msg.contains("flagged"), "{msg}");
}
