//! A panic inside `racedet::check` still ends the check. Alone in its test
//! binary: it observes the process-wide "detection on" state, which any
//! concurrently running check would change.

use racedet::cell::RaceCell;

fn env_enables_detection() -> bool {
    std::env::var_os("RACEDET").is_some_and(|v| !v.is_empty() && v != "0")
        || std::env::var_os("RACEDET_OPTIONS").is_some()
}

#[test]
fn a_panicking_closure_ends_its_check() {
    let c = RaceCell::new(0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        racedet::check(|| {
            std::thread::scope(|s| {
                let h = s.spawn(|| c.set(1));
                c.set(2); // a race, dropped with the failed check
                h.join().unwrap();
            });
            assert!(racedet::runtime::enabled());
            panic!("the test failed");
        })
    }));
    assert!(r.is_err());
    if !env_enables_detection() {
        assert!(!racedet::runtime::enabled(), "detection must be off again");
    }
    // The next check starts from a clean slate: the dropped race is not
    // handed to it, and it still detects its own.
    let d = RaceCell::new(0);
    let clean = racedet::check(|| {
        std::thread::scope(|s| s.spawn(|| d.set(1)).join().unwrap());
        d.set(2);
    });
    assert!(clean.is_ok(), "{}", clean.unwrap_err());
    let racy = racedet::check(|| {
        std::thread::scope(|s| {
            let h = s.spawn(|| d.set(3));
            d.set(4);
            h.join().unwrap();
        })
    });
    assert_eq!(racy.unwrap_err().len(), 1);
}
