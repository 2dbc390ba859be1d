//! Thread creation and join seen without code changes: `pthread_create`,
//! `pthread_join` and `pthread_detach` are defined here and forward to the
//! C library's versions (found with `dlsym(RTLD_NEXT, ..)`).
//!
//! A program that links racedet resolves its own and std's calls to these
//! definitions, so `std::thread::spawn`, `std::thread::scope` and thread
//! pools built on them get the fork edge (the parent's clock flows into the
//! child before it runs) and the join edge (the child's final clock flows
//! into `pthread_join`'s caller). What cannot be seen this way: the end of a
//! plain `std::thread::scope` for threads that are not joined explicitly
//! (std waits on a counter, not `pthread_join`); `racedet::thread::scope`
//! models it. See docs/architecture.md.
//!
//! The object file holding these symbols is linked whenever the runtime's
//! thread registration is (see [`linked`]).

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::Mutex;
use std::sync::OnceLock;

use libc::{c_int, pthread_attr_t, pthread_t};

use crate::rt;
use crate::site::Site;
use crate::thread::{ForkToken, ThreadId};

type StartFn = extern "C" fn(*mut c_void) -> *mut c_void;
type CreateFn =
    unsafe extern "C" fn(*mut pthread_t, *const pthread_attr_t, StartFn, *mut c_void) -> c_int;
type JoinFn = unsafe extern "C" fn(pthread_t, *mut *mut c_void) -> c_int;
type DetachFn = unsafe extern "C" fn(pthread_t) -> c_int;

struct Real {
    create: CreateFn,
    join: JoinFn,
    detach: DetachFn,
}

fn real() -> &'static Real {
    static REAL: OnceLock<Real> = OnceLock::new();
    REAL.get_or_init(|| {
        let find = |name: &[u8]| {
            // SAFETY: `name` is NUL-terminated; RTLD_NEXT looks the symbol up
            // in the objects loaded after this one (the C library).
            let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr().cast()) };
            assert!(
                !p.is_null(),
                "racedet: cannot find the C library's {:?}",
                std::str::from_utf8(name)
            );
            p
        };
        // SAFETY: the symbols have exactly these C signatures (POSIX).
        unsafe {
            Real {
                create: std::mem::transmute::<*mut c_void, CreateFn>(find(b"pthread_create\0")),
                join: std::mem::transmute::<*mut c_void, JoinFn>(find(b"pthread_join\0")),
                detach: std::mem::transmute::<*mut c_void, DetachFn>(find(b"pthread_detach\0")),
            }
        }
    })
}

/// pthread handle → racedet thread, for joins and detaches.
fn handles() -> std::sync::MutexGuard<'static, HashMap<pthread_t, ThreadId>> {
    static HANDLES: OnceLock<Mutex<HashMap<pthread_t, ThreadId>>> = OnceLock::new();
    HANDLES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Runs when the program is loaded, before `main`: reads `RACEDET` and
/// `RACEDET_OPTIONS` so that a bad option stops the process (status 2)
/// before any user code runs, and installs the exit hook.
extern "C" fn load_time_init() {
    crate::rt::init();
}

#[used]
#[unsafe(link_section = ".init_array")]
static LOAD_TIME_INIT: extern "C" fn() = load_time_init;

/// `fork` support: holds the handle map's lock across the fork.
pub(crate) fn lock_for_fork(guards: &mut Vec<Box<dyn std::any::Any>>) {
    guards.push(Box::new(handles()));
}

/// Referenced from the runtime's registration path so that this object file,
/// and with it the symbols below, is always part of the link.
#[inline(never)]
pub(crate) fn linked() {
    std::hint::black_box(pthread_create as *const ());
    std::hint::black_box(&LOAD_TIME_INIT);
}

struct Start {
    start: StartFn,
    arg: *mut c_void,
    token: ForkToken,
}

extern "C" fn trampoline(p: *mut c_void) -> *mut c_void {
    // SAFETY: `p` is the `Box<Start>` leaked by `pthread_create` below, handed
    // to exactly this thread.
    let Start { start, arg, token } = *unsafe { Box::from_raw(p.cast::<Start>()) };
    rt::start_thread(token);
    let ret = start(arg);
    rt::finish_current();
    ret
}

/// # Safety
/// Same contract as POSIX `pthread_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pthread_create(
    thread: *mut pthread_t,
    attr: *const pthread_attr_t,
    start: StartFn,
    arg: *mut c_void,
) -> c_int {
    let real = real();
    let Some(token) = rt::fork(Site::UNKNOWN) else {
        // SAFETY: forwarding the caller's arguments unchanged.
        return unsafe { (real.create)(thread, attr, start, arg) };
    };
    let id = token.id;
    let boxed = Box::into_raw(Box::new(Start { start, arg, token }));
    // SAFETY: the caller's `thread` and `attr` are forwarded; `trampoline`
    // takes ownership of `boxed`.
    let rc = unsafe { (real.create)(thread, attr, trampoline, boxed.cast()) };
    if rc != 0 {
        // SAFETY: the thread was not created, so `boxed` is still ours.
        let b = unsafe { Box::from_raw(boxed) };
        rt::abandon_fork(b.token);
    } else if created_detached(attr) {
        // Never joinable, and its handle may be reused as soon as it exits:
        // do not map it.
        rt::detach(id);
    } else {
        // SAFETY: on success the C library has written the handle. A
        // joinable thread's handle stays unique until it is joined.
        let handle = unsafe { *thread };
        handles().insert(handle, id);
    }
    rc
}

unsafe extern "C" {
    /// POSIX; not bound by the `libc` crate.
    fn pthread_attr_getdetachstate(attr: *const pthread_attr_t, state: *mut c_int) -> c_int;
}

fn created_detached(attr: *const pthread_attr_t) -> bool {
    if attr.is_null() {
        return false;
    }
    let mut state: c_int = 0;
    // SAFETY: `attr` is the caller's initialised attribute object (POSIX
    // requires it for pthread_create), and `state` is a valid out-pointer.
    let rc = unsafe { pthread_attr_getdetachstate(attr, &mut state) };
    rc == 0 && state == libc::PTHREAD_CREATE_DETACHED
}

/// # Safety
/// Same contract as POSIX `pthread_join`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pthread_join(thread: pthread_t, retval: *mut *mut c_void) -> c_int {
    // Unmap the handle *before* joining: once the join returns, another
    // thread's pthread_create may reuse the same handle value, and a lookup
    // after that would find the new thread instead of this one.
    let id = handles().remove(&thread);
    // SAFETY: forwarding the caller's arguments unchanged.
    let rc = unsafe { (real().join)(thread, retval) };
    match (rc, id) {
        (0, Some(id)) => {
            rt::join(id);
        }
        // The join failed: the thread is still joinable under this handle.
        (_, Some(id)) => {
            handles().insert(thread, id);
        }
        (_, None) => {}
    }
    rc
}

/// # Safety
/// Same contract as POSIX `pthread_detach`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pthread_detach(thread: pthread_t) -> c_int {
    let id = handles().remove(&thread);
    // SAFETY: forwarding the caller's argument unchanged.
    let rc = unsafe { (real().detach)(thread) };
    if let Some(id) = id {
        rt::detach(id);
    }
    rc
}
