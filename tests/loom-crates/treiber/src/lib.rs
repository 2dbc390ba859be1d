//! A Treiber stack with many pushers and one popper.
//!
//! `push` fills a node, then publishes it with a `Release` CAS on `head`;
//! `pop` reads the node after an `Acquire` load/CAS of `head`. Pushers never
//! dereference nodes they did not create, and only the single `Popper` frees
//! nodes, so there is no ABA or use-after-free. The `mutant` feature
//! publishes with a `Relaxed` CAS: the popper's reads of a node race with
//! the pusher's writes.

mod sync {
    #[cfg(loom)]
    pub(crate) use loom::{
        cell::UnsafeCell,
        sync::Arc,
        sync::atomic::{AtomicPtr, Ordering},
    };
    #[cfg(not(loom))]
    pub(crate) use std::{
        sync::Arc,
        sync::atomic::{AtomicPtr, Ordering},
    };

    /// std's cell with loom's closure API.
    #[cfg(not(loom))]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    #[cfg(not(loom))]
    impl<T> UnsafeCell<T> {
        pub(crate) fn new(v: T) -> Self {
            Self(std::cell::UnsafeCell::new(v))
        }
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

use std::mem::MaybeUninit;
use std::ptr;

use sync::{Arc, AtomicPtr, Ordering, UnsafeCell};

#[cfg(not(feature = "mutant"))]
const PUBLISH: Ordering = Ordering::Release;
#[cfg(feature = "mutant")]
const PUBLISH: Ordering = Ordering::Relaxed;

struct Node<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    next: UnsafeCell<*mut Node<T>>,
}

struct Stack<T> {
    head: AtomicPtr<Node<T>>,
}

// SAFETY: nodes are handed over through `head` with release/acquire, and
// values cross threads, so `T: Send` suffices.
unsafe impl<T: Send> Sync for Stack<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Stack<T> {}

/// A handle that pushes (cloneable).
pub struct Pusher<T> {
    stack: Arc<Stack<T>>,
}

/// The one handle that pops.
pub struct Popper<T> {
    stack: Arc<Stack<T>>,
}

/// An empty stack.
pub fn stack<T>() -> (Pusher<T>, Popper<T>) {
    let stack = Arc::new(Stack {
        head: AtomicPtr::new(ptr::null_mut()),
    });
    (
        Pusher {
            stack: stack.clone(),
        },
        Popper { stack },
    )
}

impl<T> Clone for Pusher<T> {
    fn clone(&self) -> Self {
        Pusher {
            stack: self.stack.clone(),
        }
    }
}

impl<T> Pusher<T> {
    /// Pushes `v`.
    pub fn push(&self, v: T) {
        let node = Box::into_raw(Box::new(Node {
            value: UnsafeCell::new(MaybeUninit::uninit()),
            next: UnsafeCell::new(ptr::null_mut()),
        }));
        // SAFETY: the node is ours until the CAS publishes it.
        let node_ref = unsafe { &*node };
        // SAFETY: as above.
        node_ref.value.with_mut(|p| unsafe { (*p).write(v) }); // race: value written
        let mut head = self.stack.head.load(Ordering::Relaxed);
        loop {
            // SAFETY: as above.
            node_ref.next.with_mut(|p| unsafe { *p = head }); // race: next written
            match self
                .stack
                .head
                .compare_exchange_weak(head, node, PUBLISH, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => head = actual,
            }
        }
    }
}

impl<T> Popper<T> {
    /// Pops the newest value, if any.
    pub fn pop(&self) -> Option<T> {
        let mut head = self.stack.head.load(Ordering::Acquire);
        loop {
            if head.is_null() {
                return None;
            }
            // SAFETY: only this popper frees nodes, so `head` is alive.
            let node = unsafe { &*head };
            // SAFETY: the node was published by the CAS we acquired from.
            let next = node.next.with(|p| unsafe { *p }); // race: next read
            match self.stack.head.compare_exchange_weak(
                head,
                next,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: the node is unlinked and ours; its value was
                    // written before it was published.
                    let v = node.value.with(|p| unsafe { (*p).assume_init_read() }); // race: value read
                    // SAFETY: unlinked, and no pusher dereferences it.
                    drop(unsafe { Box::from_raw(head) });
                    return Some(v);
                }
                Err(actual) => head = actual,
            }
        }
    }
}

impl<T> Drop for Stack<T> {
    fn drop(&mut self) {
        // The last `Arc` owner is ordered after every push.
        let mut cur = self.head.load(Ordering::Relaxed);
        while !cur.is_null() {
            // SAFETY: the nodes still linked are owned by the stack.
            let node = unsafe { Box::from_raw(cur) };
            // SAFETY: as above; each linked node holds a value.
            cur = node.next.with(|p| unsafe { *p });
            node.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
        }
    }
}
