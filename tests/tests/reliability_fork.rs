//! `fork(2)` without `exec` while other threads are busy inside racedet
//! (locking racedet mutexes, recording shadow state, creating threads, and
//! racing so that reports are being built): the child must be able to use
//! racedet at once and exit, every time. Without the runtime's
//! `pthread_atfork` handlers a child forked while another thread held a
//! runtime lock would hang; here a hung child fails the test after a
//! timeout instead of hanging CI.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use racedet::cell::RaceCell;
use racedet::sync::Mutex;

const FORKS: usize = 60;

/// Waits for `pid` up to `limit`; kills it and returns `None` on timeout.
fn wait_for(pid: libc::pid_t, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: `pid` is our child; `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Some(status);
        }
        if start.elapsed() > limit {
            // SAFETY: signalling and reaping our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn forked_children_never_hang_on_runtime_locks() {
    let stop = Arc::new(AtomicBool::new(false));
    let result = racedet::check(|| {
        let shared = Arc::new(Mutex::new(0u64));
        let cell = Arc::new(RaceCell::new(0u64));
        let workers: Vec<_> = (0..3)
            .map(|i| {
                let (stop, shared, cell) = (stop.clone(), shared.clone(), cell.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        *shared.lock().unwrap() += 1;
                        // Racy on purpose: keeps the report path busy too.
                        cell.set(i);
                        if i == 0 {
                            std::thread::spawn(|| ()).join().unwrap();
                        }
                    }
                })
            })
            .collect();
        let mut hung = 0;
        for _ in 0..FORKS {
            // SAFETY: the child only uses racedet and then `_exit`s.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // Child: the only thread left. Use the runtime: a thread
                // (registry, interposed pthread_create/join), a lock, a cell.
                let m = Mutex::new(1u32);
                let c = RaceCell::new(0u32);
                let t = std::thread::spawn(move || {
                    *m.lock().unwrap() += 1;
                    c.set(1);
                    c
                });
                let code = match t.join() {
                    Ok(c) if c.get() == 1 => 0,
                    _ => 3,
                };
                // SAFETY: leave at once, running nothing of the parent's.
                unsafe { libc::_exit(code) };
            }
            assert!(pid > 0, "fork failed");
            match wait_for(pid, Duration::from_secs(10)) {
                Some(status) => {
                    assert!(libc::WIFEXITED(status), "child died: status {status}");
                    assert_eq!(
                        libc::WEXITSTATUS(status),
                        0,
                        "child failed its racedet work"
                    );
                }
                None => hung += 1,
            }
        }
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(hung, 0, "{hung} of {FORKS} forked children hung");
    });
    // The workers race on `cell` on purpose; the check's verdict is not the
    // point here, the children are.
    let _ = result;
}
