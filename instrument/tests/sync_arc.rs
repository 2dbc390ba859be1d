//! Arc: every drop → the last drop, `get_mut`, `try_unwrap`, `into_inner`.

mod sync_util;

use std::sync::Arc as StdArc;

use racedet::cell::RaceCell;
use racedet::sync::{Arc, Weak};
use sync_util::{Gate, assert_clean, assert_races};

/// Reads a shared cell in its destructor, like a type releasing a resource.
struct ReadsOnDrop(StdArc<RaceCell<u32>>);

impl Drop for ReadsOnDrop {
    fn drop(&mut self) {
        let _ = self.0.get();
    }
}

/// A worker writes X and drops its clone; the owner's last drop runs the
/// destructor reading X: ordered by the Arc's counter, without any join.
#[test]
fn drops_happen_before_the_destructor() {
    assert_clean(|| {
        let x = StdArc::new(RaceCell::new(0));
        let a = Arc::new(ReadsOnDrop(StdArc::clone(&x)));
        let go = Gate::new();
        std::thread::scope(|s| {
            let mine = Arc::clone(&a);
            let x = &x;
            s.spawn(|| {
                x.set(1);
                drop(mine);
                go.open();
            });
            go.wait();
            drop(a); // last: runs ReadsOnDrop::drop
        });
    });
}

/// Twin: the worker writes after dropping its clone.
#[test]
fn write_after_the_drop_races_with_the_destructor() {
    assert_races(1, || {
        let x = StdArc::new(RaceCell::new(0));
        let a = Arc::new(ReadsOnDrop(StdArc::clone(&x)));
        let go = Gate::new();
        std::thread::scope(|s| {
            let mine = Arc::clone(&a);
            let x = &x;
            s.spawn(|| {
                drop(mine);
                x.set(1);
                go.open();
            });
            go.wait();
            drop(a);
        });
    });
}

fn worker_then(a: &Arc<RaceCell<u32>>, after: impl FnOnce()) {
    let go = Gate::new();
    std::thread::scope(|s| {
        let mine = Arc::clone(a);
        s.spawn(|| {
            mine.set(1);
            drop(mine);
            go.open();
        });
        go.wait();
        after();
    });
}

#[test]
fn get_mut_try_unwrap_into_inner_are_ordered_after_drops() {
    assert_clean(|| {
        let mut a = Arc::new(RaceCell::new(0));
        worker_then(&a, || ());
        assert_eq!(Arc::get_mut(&mut a).unwrap().get(), 1);

        let b = Arc::new(RaceCell::new(0));
        worker_then(&b, || ());
        assert_eq!(Arc::try_unwrap(b).ok().unwrap().get(), 1);

        let c = Arc::new(RaceCell::new(0));
        worker_then(&c, || ());
        assert_eq!(Arc::into_inner(c).unwrap().get(), 1);
    });
}

/// `make_mut` on the last strong reference while a `Weak` exists takes the
/// value over: std's Acquire compare-exchange on the strong count orders it
/// after every other clone's drop, and the value is moved, not cloned.
#[test]
fn make_mut_of_the_last_strong_reference_is_ordered_after_drops() {
    assert_clean(|| {
        let mut a = Arc::new(RaceCell::new(0));
        let w = Arc::downgrade(&a);
        worker_then(&a, || ());
        Arc::make_mut(&mut a).set(2);
        assert_eq!(a.get(), 2);
        assert!(w.upgrade().is_none(), "make_mut detached the weak");
    });
}

/// Twin: while the worker's clone is alive, `make_mut` clones the value,
/// reading it unordered with the worker's write.
#[test]
fn make_mut_of_a_shared_value_races_with_its_writer() {
    assert_races(1, || {
        let mut a = Arc::new(RaceCell::new(0));
        let (written, done) = (Gate::new(), Gate::new());
        std::thread::scope(|s| {
            let mine = Arc::clone(&a);
            s.spawn(|| {
                mine.set(1);
                written.open();
                done.wait();
                drop(mine);
            });
            written.wait();
            Arc::make_mut(&mut a).set(2);
            done.open();
        });
    });
}

/// Twin: while the worker's clone is alive (dropped only later), reading
/// through the shared `Arc` is not ordered after the worker's write.
#[test]
fn shared_access_is_not_ordered_by_the_arc() {
    assert_races(1, || {
        let a = Arc::new(RaceCell::new(0));
        let (written, done) = (Gate::new(), Gate::new());
        std::thread::scope(|s| {
            let mine = Arc::clone(&a);
            s.spawn(|| {
                mine.set(1);
                written.open();
                done.wait();
                drop(mine);
            });
            written.wait();
            let _ = a.get();
            assert!(Arc::try_unwrap(Arc::clone(&a)).is_err());
            done.open();
        });
    });
}

#[test]
fn api_matches_std() {
    let mut a = Arc::new(5);
    let w: Weak<i32> = Arc::downgrade(&a);
    assert_eq!((Arc::strong_count(&a), Arc::weak_count(&a)), (1, 1));
    assert_eq!(*w.upgrade().unwrap(), 5);
    assert!(Arc::get_mut(&mut a).is_none()); // a Weak exists
    *Arc::make_mut(&mut a) += 1;
    assert_eq!(*a, 6);
    assert!(w.upgrade().is_none(), "make_mut detached the weak");
    let b = a.clone();
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(Arc::unwrap_or_clone(b), 6);
    assert_eq!(format!("{a:?} {a}"), "6 6");
    assert_eq!(Arc::as_ptr(&a), &*a as *const i32);
    assert!(a < Arc::new(7) && a == Arc::from(6));
    assert_eq!(format!("{:?}", Weak::<u8>::new()), "(Weak)");
    assert!(Weak::<u8>::new().upgrade().is_none());

    let cyclic = Arc::new_cyclic(|me: &Weak<u8>| {
        assert!(me.upgrade().is_none());
        9
    });
    assert_eq!(*cyclic, 9);
    let pinned = Arc::pin(1);
    assert_eq!(*pinned, 1);

    let d: Arc<dyn std::fmt::Debug + Send + Sync> = racedet::unsize_arc!(Arc::new("x"));
    assert_eq!(format!("{d:?}"), "\"x\"");
    let s: Arc<[u8]> = racedet::unsize_arc!(Arc::new([1, 2]));
    assert_eq!(&*s, &[1, 2]);
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Arc<u8>>();
    send_sync::<Weak<u8>>();
}

#[test]
fn raw_round_trip_keeps_counts_and_drop_edges() {
    use racedet::sync::Arc;
    let r = racedet::check(|| {
        let a = Arc::new(racedet::cell::RaceCell::new(0u32));
        let p = Arc::into_raw(Arc::clone(&a));
        assert_eq!(Arc::strong_count(&a), 2);
        // SAFETY: `p` came from `into_raw` above.
        unsafe { Arc::increment_strong_count(p) };
        assert_eq!(Arc::strong_count(&a), 3);
        // SAFETY: the count added above.
        unsafe { Arc::decrement_strong_count(p) };
        // SAFETY: the count `into_raw` carried.
        let b = unsafe { Arc::from_raw(p) };
        assert!(Arc::ptr_eq(&a, &b));
        let t = racedet::thread::spawn(move || {
            b.set(7);
            drop(b); // releases
        });
        t.join().unwrap();
        let v = Arc::try_unwrap(a).ok().unwrap().into_inner();
        assert_eq!(v, 7);
    });
    assert!(r.is_ok(), "{}", r.unwrap_err());
}
