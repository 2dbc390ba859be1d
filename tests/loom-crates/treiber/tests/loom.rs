//! The stack's loom suite: values pushed by two threads are all popped
//! once by a third, and values left on the stack are dropped with it.
#![cfg(loom)]

use loom::thread;
use loom_treiber::stack;

#[test]
fn concurrent_pushes_are_all_popped() {
    loom::model(|| {
        let (pusher, popper) = stack::<String>();
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let pusher = pusher.clone();
                thread::spawn(move || {
                    for i in 0..2 {
                        pusher.push(format!("{t}.{i}"));
                    }
                })
            })
            .collect();
        let mut got = Vec::new();
        while got.len() < 4 {
            match popper.pop() {
                Some(v) => got.push(v),
                None => thread::yield_now(),
            }
        }
        for t in threads {
            t.join().unwrap();
        }
        got.sort();
        assert_eq!(got, ["0.0", "0.1", "1.0", "1.1"]);
        assert!(popper.pop().is_none());
    });
}

#[test]
fn leftovers_are_dropped() {
    loom::model(|| {
        let (pusher, popper) = stack::<Box<u32>>();
        let t = thread::spawn(move || pusher.push(Box::new(7)));
        t.join().unwrap();
        pop_seven(&popper);
        drop(popper);
    });
}

fn pop_seven(popper: &loom_treiber::Popper<Box<u32>>) {
    assert_eq!(popper.pop().as_deref(), Some(&7));
}
