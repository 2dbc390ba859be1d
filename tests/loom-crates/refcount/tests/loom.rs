//! The reference count's loom suite: the value outlives every owner's use,
//! whichever owner drops last.
#![cfg(loom)]

use loom::thread;
use loom_refcount::Rc;

#[test]
fn last_owner_destroys_after_every_use() {
    loom::model(|| {
        let rc = Rc::new(String::from("shared"));
        let owners: Vec<_> = (0..2)
            .map(|_| {
                let rc = rc.clone();
                thread::spawn(move || {
                    assert_eq!(rc.with(|s| s.len()), 6);
                    drop(rc);
                })
            })
            .collect();
        // Dropped while the owners may still run: any of the three can be
        // the last.
        drop(rc);
        for o in owners {
            o.join().unwrap();
        }
    });
}
