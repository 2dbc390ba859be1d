//! racedet::cell::UnsafeCell: `with` is a checked read, `with_mut` a checked
//! write of the cell's bytes.
//!
//! Racy cases only *announce* the access (the closure does not dereference
//! the pointer), so the tests themselves have no undefined behaviour.

mod support;

use std::sync::mpsc;

use racedet::cell::UnsafeCell;
use support::{concurrently, pair, sequentially, single, site_lines};

/// A cell shared between threads, as a lock or a lock-free structure would.
struct Shared<T>(UnsafeCell<T>);

// SAFETY: the racy tests never dereference the pointers; the clean ones only
// dereference accesses that are ordered by a join.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// Closures must capture the `Sync` wrapper, not the cell field.
    fn cell(&self) -> &UnsafeCell<T> {
        &self.0
    }
}

#[test]
fn read_and_write_race_in_both_directions() {
    let c = Shared(UnsafeCell::new(0u64));
    let write = || {
        c.cell().with_mut(|_| ());
    };
    let write_line = line!() - 2;
    let read = || {
        c.cell().with(|_| ());
    };
    let read_line = line!() - 2;
    for r in [
        racedet::check(|| concurrently(write, read)),
        racedet::check(|| concurrently(read, write)),
    ] {
        let err = r.unwrap_err();
        let race = single(&err);
        assert_eq!(site_lines(race), pair(write_line, read_line));
        assert_eq!(race.current.size, 8);
        assert_eq!(race.current.addr as usize, c.cell().with(|p| p as usize));
    }
}

#[test]
fn writes_race_reads_do_not() {
    let c = Shared(UnsafeCell::new([0u8; 24]));
    let w = || c.cell().with_mut(|_| ());
    let r = || c.cell().with(|_| ());
    assert_eq!(racedet::check(|| concurrently(w, w)).unwrap_err().len(), 1);
    racedet::assert_race_free(|| concurrently(r, r));
}

#[test]
fn joined_accesses_are_clean() {
    let c = Shared(UnsafeCell::new(1u32));
    racedet::assert_race_free(|| {
        // SAFETY (all derefs below): each thread is joined before the next
        // access, so the accesses never overlap.
        sequentially(
            || c.cell().with_mut(|p| unsafe { *p += 1 }),
            || c.cell().with_mut(|p| unsafe { *p += 1 }),
        );
        sequentially(
            || c.cell().with(|p| unsafe { assert_eq!(*p, 3) }),
            || c.cell().with_mut(|p| unsafe { *p = 4 }),
        );
    });
    assert_eq!(c.cell().with(|p| unsafe { *p }), 4);
}

#[test]
fn zero_sized_cells_never_race() {
    let c = Shared(UnsafeCell::new(()));
    racedet::assert_race_free(|| {
        concurrently(|| c.cell().with_mut(|_| ()), || c.cell().with_mut(|_| ()))
    });
}

/// Writes a boxed cell on a new thread and hands it over through std's
/// channel, which racedet does not see: the write stays unordered with the
/// receiver unless `&mut` access or a drop forgets it.
fn hand_over(receiver: impl FnOnce(Box<UnsafeCell<u64>>)) {
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        let h = s.spawn(move || {
            let c = Box::new(UnsafeCell::new(1u64));
            // SAFETY: this thread owns the cell.
            c.with_mut(|p| unsafe { *p = 2 });
            tx.send(c).unwrap();
        });
        receiver(rx.recv().unwrap());
        h.join().unwrap();
    });
}

#[test]
fn unordered_hand_over_is_reported() {
    let r = racedet::check(|| hand_over(|c| c.with(|_| ())));
    assert_eq!(r.unwrap_err().len(), 1);
}

#[test]
fn get_mut_forgets_history() {
    racedet::assert_race_free(|| {
        hand_over(|mut c| {
            *c.get_mut() += 1;
            // SAFETY: owned by this thread.
            assert_eq!(c.with(|p| unsafe { *p }), 3);
        })
    });
}

#[test]
fn into_inner_forgets_history() {
    racedet::assert_race_free(|| {
        hand_over(|c| {
            let v = (*c).into_inner();
            assert_eq!(v, 2);
        })
    });
}

#[test]
fn a_new_cell_at_a_reused_address_starts_clean() {
    racedet::assert_race_free(|| {
        hand_over(|c| {
            // `repr(transparent)`: the cell's address is the data's.
            let addr = std::ptr::from_ref(&*c) as usize;
            drop(c);
            let mut misses = Vec::new();
            let reused = loop {
                let n = Box::new(UnsafeCell::new(0u64));
                if std::ptr::from_ref(&*n) as usize == addr {
                    break n;
                }
                misses.push(n);
                assert!(misses.len() < 64, "the allocator never reused the block");
            };
            // SAFETY: owned by this thread.
            reused.with_mut(|p| unsafe { *p = 7 });
        })
    });
}

#[test]
fn cell_api() {
    let c = UnsafeCell::new(String::from("a"));
    // SAFETY: single-threaded, no other pointer is live.
    c.with_mut(|p| unsafe { (*p).push('b') });
    assert_eq!(c.with(|p| unsafe { (*p).clone() }), "ab");
    let d: UnsafeCell<u8> = UnsafeCell::default();
    assert_eq!(d.into_inner(), 0);
    assert_eq!(UnsafeCell::from(5).into_inner(), 5);
    // `new` is `const`: usable in statics.
    static S: Shared<u8> = Shared(UnsafeCell::new(0));
    S.cell().with_mut(|_| ());
    assert!(format!("{c:?}").contains("UnsafeCell"));
    let slice: &UnsafeCell<[u8]> = &UnsafeCell::new([1u8, 2, 3]);
    assert_eq!(slice.with(|p| p.len()), 3);
}
