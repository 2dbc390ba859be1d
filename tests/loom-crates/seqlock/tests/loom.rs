//! The seqlock's loom suite: readers never see a torn pair while two
//! writers update it.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use loom_seqlock::SeqLock;

#[test]
fn readers_see_consistent_pairs() {
    loom::model(|| {
        let lock = Arc::new(SeqLock::new(0, 0));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let lock = lock.clone();
                thread::spawn(move || {
                    for _ in 0..2 {
                        lock.update(|a, b| (a + 1, b + 1));
                    }
                })
            })
            .collect();
        for _ in 0..3 {
            let (a, b) = lock.read();
            assert_eq!(a, b);
        }
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(lock.read(), (4, 4));
    });
}
