//! The channel's loom suite: the value crosses threads intact, whether the
//! receiver polls or blocks, and an unreceived value is dropped.
#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use loom_oneshot::channel;

#[test]
fn value_crosses_threads() {
    loom::model(|| {
        let (tx, rx) = channel();
        thread::spawn(move || tx.send(vec![1, 2, 3]));
        assert_eq!(rx.recv(), [1, 2, 3]);
    });
}

#[test]
fn polling_receiver() {
    loom::model(|| {
        let (tx, rx) = channel();
        let sender = thread::spawn(move || tx.send(String::from("hi")));
        let got = loop {
            if let Some(v) = rx.try_recv() {
                break v;
            }
            loom::hint::spin_loop();
        };
        assert_eq!(got, "hi");
        assert!(rx.try_recv().is_none());
        sender.join().unwrap();
    });
}

struct CountDrops(Arc<AtomicUsize>);

impl Drop for CountDrops {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

#[test]
fn unreceived_value_is_dropped() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel();
        let d = drops.clone();
        thread::spawn(move || tx.send(CountDrops(d)))
            .join()
            .unwrap();
        drop(rx);
        assert_eq!(drops.load(Ordering::Acquire), 1);
    });
}
