//! loom's API through racedet: guard pointers, atomics' extras, `Notify`,
//! futures, macros, allocation, `Builder`, and the model's failure modes.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex, Notify, RwLock, mpsc};
use loom::thread;

/// An `UnsafeCell` shared between threads; the tests order the accesses.
struct Shared(UnsafeCell<u64>);

// SAFETY: every test orders the accesses or expects racedet to report them.
unsafe impl Sync for Shared {}

fn shared() -> Arc<Shared> {
    Arc::new(Shared(UnsafeCell::new(0)))
}

fn write(s: &Shared, v: u64) {
    let p = s.0.get_mut();
    // SAFETY: the tests order (or deliberately race) the accesses.
    unsafe { *p.deref() = v };
}

fn read(s: &Shared) -> u64 {
    // SAFETY: as above.
    s.0.get().with(|p| unsafe { *p })
}

#[test]
fn guard_pointers_ordered_by_join() {
    loom::model(|| {
        let s = shared();
        let t = {
            let s = s.clone();
            thread::spawn(move || write(&s, 1))
        };
        t.join().unwrap();
        assert_eq!(read(&s), 1);
    });
}

#[test]
#[should_panic(expected = "data race")]
fn guard_pointers_unordered_race() {
    loom::model(|| {
        let s = shared();
        let t = {
            let s = s.clone();
            thread::spawn(move || write(&s, 1))
        };
        let _ = read(&s);
        t.join().unwrap();
    });
}

#[test]
fn atomic_extras() {
    loom::model(|| {
        let mut n = AtomicUsize::new(1);
        n.with_mut(|v| *v += 1);
        // SAFETY: not shared.
        assert_eq!(unsafe { n.unsync_load() }, 2);
        loom::sync::atomic::fence(Ordering::SeqCst);
    });
}

#[test]
fn notify_orders_notifier_before_waiter() {
    loom::model(|| {
        let s = shared();
        let n = Arc::new(Notify::new());
        {
            let (s, n) = (s.clone(), n.clone());
            thread::spawn(move || {
                write(&s, 7);
                n.notify();
            });
        }
        n.wait();
        assert_eq!(read(&s), 7);
    });
}

#[test]
#[should_panic(expected = "data race")]
fn notify_does_not_order_what_follows_it() {
    loom::model(|| {
        let s = shared();
        let n = Arc::new(Notify::new());
        {
            let (s, n) = (s.clone(), n.clone());
            thread::spawn(move || {
                n.notify();
                write(&s, 7);
            });
        }
        n.wait();
        let _ = read(&s);
    });
}

/// Ready once `flag` is set; registers its waker until then.
struct Flag {
    flag: Arc<AtomicBool>,
    waker: Arc<loom::future::AtomicWaker>,
}

impl Future for Flag {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.waker.register_by_ref(cx.waker());
        if self.flag.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[test]
fn block_on_with_atomic_waker() {
    loom::model(|| {
        let s = shared();
        let flag = Arc::new(AtomicBool::new(false));
        let waker = Arc::new(loom::future::AtomicWaker::new());
        {
            let (s, flag, waker) = (s.clone(), flag.clone(), waker.clone());
            thread::spawn(move || {
                write(&s, 3);
                flag.store(true, Ordering::Release);
                waker.wake();
            });
        }
        loom::future::block_on(Flag { flag, waker });
        assert_eq!(read(&s), 3);
    });
}

loom::lazy_static! {
    static ref TABLE: Vec<u32> = (0..4).collect();
}

loom::thread_local! {
    static RUNS_ON_THIS_THREAD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

#[test]
fn macros() {
    loom::model(|| {
        let t = thread::spawn(|| TABLE.len());
        assert_eq!(TABLE[3], 3);
        assert_eq!(t.join().unwrap(), 4);
        // Each iteration runs on fresh threads: fresh thread-locals.
        RUNS_ON_THIS_THREAD.with(|c| {
            assert_eq!(c.get(), 0);
            c.set(1);
        });
    });
}

#[test]
fn alloc_and_hint() {
    loom::model(|| {
        let layout = loom::alloc::Layout::new::<u64>();
        // SAFETY: non-zero size; freed below with the same layout.
        unsafe {
            let p = loom::alloc::alloc_zeroed(layout);
            assert!(!p.is_null());
            assert_eq!(*p.cast::<u64>(), 0);
            loom::alloc::dealloc(p, layout);
        }
        let tracked = loom::alloc::Track::new(5);
        assert_eq!(*tracked.get_ref(), 5);
        loom::hint::spin_loop();
        loom::explore();
        loom::skip_branch();
        loom::stop_exploring();
    });
}

#[test]
fn std_mirrors_at_loom_paths() {
    loom::model(|| {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let lock = Arc::new(RwLock::new(0));
        let (tx, rx) = mpsc::channel();
        {
            let (pair, lock) = (pair.clone(), lock.clone());
            thread::spawn(move || {
                *lock.write().unwrap() += 1;
                *pair.0.lock().unwrap() = true;
                pair.1.notify_one();
                tx.send(thread::current().id()).unwrap();
            });
        }
        let mut ready = pair.0.lock().unwrap();
        while !*ready {
            ready = pair.1.wait(ready).unwrap();
        }
        drop(ready);
        assert_eq!(*lock.read().unwrap(), 1);
        assert_ne!(rx.recv().unwrap(), thread::current().id());
    });
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn builder_iterations_and_replay() {
    let count = |b: &loom::model::Builder| {
        let before = RUNS.load(Ordering::SeqCst);
        b.check(|| {
            RUNS.fetch_add(1, Ordering::SeqCst);
        });
        RUNS.load(Ordering::SeqCst) - before
    };
    let mut b = loom::model::Builder::new();
    b.seed = None;
    b.max_permutations = None;
    b.iterations = 7;
    assert_eq!(count(&b), 7);
    b.max_permutations = Some(3);
    assert_eq!(count(&b), 3);
    b.seed = Some(0x5eed);
    assert_eq!(count(&b), 1);
}

#[test]
#[should_panic(expected = "a model thread panicked")]
fn a_panicking_thread_fails_the_model() {
    loom::model(|| {
        let t = thread::spawn(|| panic!("boom"));
        // The model fails even though the panic is handled here.
        assert!(t.join().is_err());
    });
}
