//! Fork safety: `pthread_atfork` handlers that take every runtime-internal
//! lock before `fork(2)` and release them on both sides after.
//!
//! Without them, a child forked while another thread held, say, the thread
//! registry's lock would inherit the lock held by a thread that does not
//! exist in the child, and hang at its first racedet operation. Taking the
//! locks in `prepare` guarantees none is held by another thread at the
//! moment of the fork. The order here is the order the runtime's own code
//! nests them in (a sync-table shard, then a shadow stripe; every other lock
//! is taken alone), so `prepare` cannot deadlock against a running thread.
//! The last, the shadow's release lock (`shadow/live.rs`), is held only
//! around a `madvise` that waits for nothing; a thread holding a stripe may
//! wait for that release to end, which it does without any lock.
//!
//! Not covered: the small spin lock inside each embedded `SyncVar` (they
//! cannot be enumerated; a child could only hang on the one object whose
//! clock was being updated at the instant of the fork), and locks inside the
//! C library and the unwinder. `fork` + `exec` (what `std::process::Command`
//! does) never needed any of this.

use std::any::Any;
use std::cell::RefCell;
use std::sync::Once;

thread_local! {
    /// Guards held between `prepare` and `parent`/`child` (same thread).
    static HELD: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

extern "C" fn prepare() {
    let mut guards: Vec<Box<dyn Any>> = Vec::new();
    crate::interpose::lock_for_fork(&mut guards);
    crate::rt::lock_for_fork(&mut guards);
    crate::report::lock_for_fork(&mut guards);
    crate::stack::lock_for_fork(&mut guards);
    crate::locks::lock_for_fork(&mut guards);
    crate::ranges::lock_for_fork(&mut guards);
    if let Some(rt) = crate::rt::started() {
        rt.sync.lock_for_fork(&mut guards);
    }
    crate::shadow::word::lock_all_stripes();
    crate::shadow::live::lock_for_fork();
    let _ = HELD.try_with(|h| *h.borrow_mut() = guards);
}

/// Set in a child created by `fork` (until it `exec`s, which starts a new
/// image). The unwinder library used for stacks keeps a global lock of its
/// own that another thread of the parent may have held at the fork; the
/// child therefore records and symbolises no stacks (its reports carry the
/// exact call sites, and say the stacks were not kept).
pub(crate) static FORKED_CHILD: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

extern "C" fn child() {
    FORKED_CHILD.store(true, std::sync::atomic::Ordering::Relaxed);
    release();
}

/// `true` in a forked child (see [`FORKED_CHILD`]).
pub(crate) fn in_forked_child() -> bool {
    FORKED_CHILD.load(std::sync::atomic::Ordering::Relaxed)
}

extern "C" fn release() {
    crate::shadow::live::unlock_after_fork();
    crate::shadow::word::unlock_all_stripes();
    // Dropping the guards unlocks in the child too: std's futex mutex is a
    // plain word, and the child's only thread is the one that locked it.
    let _ = HELD.try_with(|h| h.borrow_mut().clear());
}

/// Installs the handlers (once per process).
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: the three handlers are plain `extern "C"` functions valid
        // for the whole process.
        unsafe { libc::pthread_atfork(Some(prepare), Some(release), Some(child)) };
    });
}
