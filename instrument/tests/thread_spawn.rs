//! `racedet::thread::spawn`/`Builder`: fork and join edges, creation sites.

mod sync_util;

use std::sync::Arc;

use racedet::cell::RaceCell;
use racedet::thread;
use sync_util::{assert_clean, assert_races};

#[test]
fn spawn_and_join_are_edges() {
    assert_clean(|| {
        let x = Arc::new(RaceCell::new(0));
        x.set(1);
        let h = {
            let x = Arc::clone(&x);
            thread::spawn(move || x.set(x.get() + 1))
        };
        h.join().unwrap();
        assert_eq!(x.get(), 2);
    });
}

/// Twin: without the join, the child's write and the parent's read race;
/// the report names the line of the `spawn` call as the creation site.
#[test]
fn unjoined_child_races_and_names_its_spawn_site() {
    let mut spawn_line = 0;
    let r = racedet::check(|| {
        let x = Arc::new(RaceCell::new(0));
        let (tx, rx) = std::sync::mpsc::channel();
        let child = {
            let x = Arc::clone(&x);
            move || {
                x.set(1);
                tx.send(()).unwrap();
            }
        };
        let builder = thread::Builder::new().name("writer".into());
        let h = builder.spawn(child).unwrap();
        spawn_line = line!() - 1;
        rx.recv().unwrap();
        let _ = x.get();
        h.join().unwrap();
    });
    let e = r.unwrap_err();
    assert_eq!(e.len(), 1, "{e}");
    let writer = e.reports()[0]
        .threads
        .iter()
        .find(|t| t.name.as_deref() == Some("writer"))
        .unwrap_or_else(|| panic!("no 'writer' thread in:\n{e}"));
    let site = writer.created_at.as_ref().expect("creation site");
    assert!(
        site.file
            .as_deref()
            .is_some_and(|f| f.ends_with("thread_spawn.rs")),
        "{site:?}"
    );
    assert_eq!(site.line, Some(spawn_line), "{site:?}");
}

#[test]
fn spawned_threads_do_not_order_each_other() {
    assert_races(1, || {
        let x = Arc::new(RaceCell::new(0));
        let (tx, rx) = std::sync::mpsc::channel();
        let a = {
            let x = Arc::clone(&x);
            thread::spawn(move || {
                x.set(1);
                tx.send(()).unwrap();
            })
        };
        let b = {
            let x = Arc::clone(&x);
            thread::spawn(move || {
                rx.recv().unwrap();
                x.set(2);
            })
        };
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn api_matches_std() {
    let h = thread::Builder::new()
        .name("named".into())
        .stack_size(256 * 1024)
        .spawn(|| thread::current().name().map(String::from))
        .unwrap();
    assert_eq!(h.thread().name(), Some("named"));
    let id = h.thread().id();
    assert_eq!(h.join().unwrap().as_deref(), Some("named"));
    assert_ne!(id, thread::current().id());
    let r = thread::spawn(|| panic!("boom")).join();
    assert!(r.is_err());
    // SAFETY: the thread is joined before `local` goes out of scope.
    let local = 3;
    let h = unsafe { thread::Builder::new().spawn_unchecked(|| local + 1) }.unwrap();
    assert_eq!(h.join().unwrap(), 4);
    assert!(thread::available_parallelism().is_ok());
    thread::yield_now();
    thread::sleep(std::time::Duration::from_millis(1));
    assert!(!thread::panicking());
    #[cfg(unix)]
    {
        use std::os::unix::thread::JoinHandleExt;
        let h = thread::spawn(|| ());
        let _ = h.as_pthread_t();
        h.join().unwrap();
    }
}

/// `is_finished` orders nothing (std promises no edge): the child's write
/// races with a read made after seeing it finished, without a join.
#[test]
fn is_finished_gives_no_edge() {
    assert_races(1, || {
        let x = std::sync::Arc::new(RaceCell::new(0));
        let h = {
            let x = std::sync::Arc::clone(&x);
            thread::spawn(move || x.set(1))
        };
        while !h.is_finished() {
            thread::yield_now();
        }
        let _ = x.get();
        h.join().unwrap();
    });
}
