//! The queue's loom suite: items arrive in order through a queue smaller
//! than the stream, and items left in the queue are dropped.
#![cfg(loom)]

use loom::thread;
use loom_spsc::channel;

#[test]
fn items_arrive_in_order() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(|| {
        let (tx, rx) = channel::<String>(2);
        let producer = thread::spawn(move || {
            for i in 0..5 {
                let mut v = i.to_string();
                while let Err(back) = tx.push(v) {
                    v = back;
                    thread::yield_now();
                }
            }
        });
        for i in 0..5 {
            loop {
                if let Some(v) = rx.pop() {
                    assert_eq!(v, i.to_string());
                    break;
                }
                thread::yield_now();
            }
        }
        producer.join().unwrap();
    });
}

#[test]
fn unread_items_are_dropped() {
    loom::model(|| {
        let (tx, rx) = channel::<Box<u32>>(4);
        let producer = thread::spawn(move || {
            tx.push(Box::new(1)).unwrap();
            tx.push(Box::new(2)).unwrap();
        });
        let first = loop {
            match rx.pop() {
                Some(v) => break v,
                None => thread::yield_now(),
            }
        };
        assert_eq!(*first, 1);
        producer.join().unwrap();
        drop(rx);
    });
}
