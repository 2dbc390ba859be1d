//! Helper program for the reliability tests (`tests/tests/reliability_*.rs`):
//! small programs that race, flood the reporter, exit in awkward ways or
//! sabotage their own report file. `reliability-target MODE [ARGS]`.
//!
//! Detection is switched on by the environment the test sets (`RACEDET=1`
//! or `RACEDET_OPTIONS`), exactly as for a user's program. Every race here
//! goes through racedet's safe types (`RaceCell`, `RaceMap`), which stay
//! memory-safe when used racily, so the program itself has no undefined
//! behaviour: the races are reported, not real.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use racedet::cell::RaceCell;
use racedet::collections::RaceMap;
use racedet::sync::{Arc, Mutex};

fn arg(i: usize) -> String {
    std::env::args().nth(i).unwrap_or_default()
}

fn num(i: usize, default: u64) -> u64 {
    arg(i).parse().unwrap_or(default)
}

/// One race: a write and a read of one cell by two unordered threads (both
/// forked before either access and joined only afterwards).
fn race() {
    let cell = Arc::new(RaceCell::new(0u64));
    let c = cell.clone();
    let w = std::thread::spawn(move || c.set(1));
    let c = cell.clone();
    let r = std::thread::spawn(move || c.get());
    w.join().unwrap();
    r.join().unwrap();
}

/// 24 writes at distinct call sites (one per line): two threads running this
/// on one cell produce many distinct race pairs, hence many new reports.
fn many_sites(c: &RaceCell<u64>) {
    c.set(1);
    c.set(2);
    c.set(3);
    c.set(4);
    c.set(5);
    c.set(6);
    c.set(7);
    c.set(8);
    c.set(9);
    c.set(10);
    c.set(11);
    c.set(12);
    c.set(13);
    c.set(14);
    c.set(15);
    c.set(16);
    c.set(17);
    c.set(18);
    c.set(19);
    c.set(20);
    c.set(21);
    c.set(22);
    c.set(23);
    c.set(24);
}

/// `storm OPS THREADS racy|locked|own`: OPS operations spread over THREADS
/// threads on racedet types, four per iteration (cell write, cell read, map
/// insert, map lookup). `racy`: every thread uses the same cell and map with
/// no synchronisation (four distinct race pairs, each hit over and over);
/// `locked`: the race-free variant, each iteration under a shared racedet
/// `Mutex`; `own`: the same operations, each thread on its own cell and map.
/// Prints the measured time in milliseconds.
fn storm() {
    let ops = num(2, 1_000_000);
    let threads = num(3, 8);
    let variant = arg(4);
    let shared_cell = Arc::new(RaceCell::named("storm-cell", 0u64));
    let shared_map: Arc<RaceMap<u64, u64>> = Arc::new(RaceMap::named("storm-map"));
    let lock = Arc::new(Mutex::new(()));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (cell, map) = if variant == "own" {
                (
                    Arc::new(RaceCell::named("own-cell", 0u64)),
                    Arc::new(RaceMap::named("own-map")),
                )
            } else {
                (shared_cell.clone(), shared_map.clone())
            };
            let lock = (variant == "locked").then(|| lock.clone());
            std::thread::spawn(move || {
                for i in 0..ops / threads / 4 {
                    let _g = lock.as_ref().map(|l| l.lock().unwrap());
                    cell.set(i);
                    let _ = cell.get();
                    map.insert(t, i);
                    let _ = map.get(&t);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    println!("elapsed_ms {}", start.elapsed().as_millis());
}

/// `fork-exec`: races, then starts a child by fork+exec (which races and
/// ends with `_exit`, skipping every exit hook) and a plain `fork(2)` child
/// that races the same way, and waits for both.
fn fork_exec() {
    race();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("race-unflushed")
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    // SAFETY: the child only runs code that is fork-safe here: no other
    // thread of this process is running (every thread above was joined).
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        other_race();
        // SAFETY: ends the child at once, without exit hooks or flushing.
        unsafe { libc::_exit(0) };
    }
    let mut st = 0;
    // SAFETY: waits for our own child; `st` is a valid out-pointer.
    unsafe { libc::waitpid(pid, &mut st, 0) };
    assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0);
}

/// A race at other call sites than [`race`] (two writes).
fn other_race() {
    let cell = Arc::new(RaceCell::new(0u64));
    let c = cell.clone();
    let a = std::thread::spawn(move || c.set(1));
    let c = cell.clone();
    let b = std::thread::spawn(move || c.set(2));
    a.join().unwrap();
    b.join().unwrap();
}

/// Spins until this process has reported at least one race.
fn wait_for_a_report() {
    while racedet::runtime::races_reported() == 0 {
        std::thread::yield_now();
    }
}

/// Threads that race on `cell` forever (never joined).
fn endless_racers(cell: &Arc<RaceCell<u64>>, n: usize) {
    for _ in 0..n {
        let c = cell.clone();
        std::thread::spawn(move || {
            loop {
                c.set(1);
                let _ = c.get();
            }
        });
    }
}

/// `exit-from-worker`: two threads race forever; a third calls
/// `std::process::exit(3)` once a race was reported. Nothing is joined.
fn exit_from_worker() {
    let cell = Arc::new(RaceCell::named("exit-cell", 0u64));
    endless_racers(&cell, 2);
    let w = std::thread::spawn(|| {
        wait_for_a_report();
        std::process::exit(3);
    });
    // Never returns: the worker ends the process.
    w.join().unwrap();
    unreachable!();
}

/// `running-at-exit`: racing threads still run when `main` returns.
fn running_at_exit() {
    let cell = Arc::new(RaceCell::named("exit-cell", 0u64));
    endless_racers(&cell, 2);
    wait_for_a_report();
}

static SIGNALS: AtomicU64 = AtomicU64::new(0);

extern "C" fn count_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::Relaxed);
}

/// `flood ROUNDS [usr1]`: ROUNDS rounds of two threads running
/// [`many_sites`] on a fresh cell: a steady stream of new reports. With
/// `usr1`, SIGUSR1 is counted by a handler installed without `SA_RESTART`
/// (so writes in progress see `EINTR`). Prints `ready` after the first report.
fn flood() {
    let rounds = num(2, 200);
    if arg(3) == "usr1" {
        // SAFETY: a zeroed sigaction is valid; the handler is async-signal-safe
        // (one atomic add).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = count_signal as *const () as usize;
            sa.sa_flags = 0;
            libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut());
        }
    }
    let mut said_ready = false;
    for _ in 0..rounds {
        let cell = Arc::new(RaceCell::named("flood", 0u64));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let c = cell.clone();
                std::thread::spawn(move || many_sites(&c))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        if !said_ready && racedet::runtime::races_reported() > 0 {
            println!("ready");
            std::io::stdout().flush().unwrap();
            said_ready = true;
        }
    }
    println!(
        "done races={} signals={}",
        racedet::runtime::races_reported(),
        SIGNALS.load(Ordering::Relaxed)
    );
}

/// `plant-symlink TARGET`: before its first race, the process puts a
/// symlink where its report file will go (`$report_dir/racedet-<pid>.jsonl`
/// → TARGET), as an attacker sharing the directory could. Then it races.
fn plant_symlink() {
    let opts = std::env::var("RACEDET_OPTIONS").unwrap();
    let dir = opts
        .split([' ', ':'])
        .find_map(|kv| kv.strip_prefix("report_dir="))
        .expect("report_dir in RACEDET_OPTIONS");
    let link = std::path::Path::new(dir).join(format!("racedet-{}.jsonl", std::process::id()));
    std::os::unix::fs::symlink(arg(2), link).unwrap();
    race();
    println!("survived");
}

/// `fsize-limit`: the file size limit is 0 bytes (as on a full disk, every
/// write fails, with EFBIG), then the process races.
fn fsize_limit() {
    // SAFETY: plain setrlimit/signal calls with valid arguments; ignoring
    // SIGXFSZ makes the failing write return EFBIG instead of killing us.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: libc::RLIM_INFINITY,
        };
        libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
    }
    race();
    other_race();
    println!("survived");
}

/// Formats a shared cell by reading it: a racy read *inside* `eprintln!`,
/// i.e. while this thread holds the standard-error lock.
struct Shown<'a>(&'a RaceCell<u64>);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.get())
    }
}

/// `print-race ROUNDS`: printer threads `eprintln!` a racy read of a shared
/// cell (holding std's stderr lock while they race) while writer threads
/// produce a stream of new reports, which the runtime prints to standard
/// error. A runtime that printed through std's stderr lock while holding
/// its report lock would deadlock here.
fn print_race() {
    let rounds = num(2, 50);
    let stop = Arc::new(AtomicBool::new(false));
    let shared = Arc::new(RaceCell::named("printed", 0u64));
    let printers: Vec<_> = (0..3)
        .map(|_| {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    eprintln!("value {}", Shown(&shared));
                }
            })
        })
        .collect();
    for _ in 0..rounds {
        let cell = Arc::new(RaceCell::named("flood", 0u64));
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let (c, s) = (cell.clone(), shared.clone());
                std::thread::spawn(move || {
                    many_sites(&c);
                    s.set(7);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    for p in printers {
        p.join().unwrap();
    }
    println!("done races={}", racedet::runtime::races_reported());
}

/// `names`: a race whose thread and object names carry markup, quotes,
/// ANSI escapes and a newline followed by a fake report line.
fn names() {
    const EVIL: &str =
        "evil</failure><x a=\"1\">&amp;'\u{1b}[2J\u{1b}]0;title\u{7}\nSUMMARY: racedet: fake";
    let map: Arc<RaceMap<u32, u32>> = Arc::new(RaceMap::named(EVIL));
    let m = map.clone();
    let w = std::thread::Builder::new()
        .name(format!("writer {EVIL}"))
        .spawn(move || {
            m.insert(1, 1);
        })
        .unwrap();
    let m = map.clone();
    let r = std::thread::Builder::new()
        .name(format!("reader {EVIL}"))
        .spawn(move || m.get(&1))
        .unwrap();
    w.join().unwrap();
    r.join().unwrap();
}

/// `locked`: the race-free twin of `race` for the option tests: the two
/// accesses are ordered by a racedet mutex.
fn locked() {
    let m = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || *m.lock().unwrap() += 1)
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
}

fn main() {
    match arg(1).as_str() {
        "race" => race(),
        "locked" => locked(),
        "race-unflushed" => {
            race();
            other_race();
            // SAFETY: ends the process at once: no exit hook, no flushing.
            unsafe { libc::_exit(0) };
        }
        "storm" => storm(),
        "fork-exec" => fork_exec(),
        "exit-from-worker" => exit_from_worker(),
        "running-at-exit" => running_at_exit(),
        "flood" => flood(),
        "plant-symlink" => plant_symlink(),
        "fsize-limit" => fsize_limit(),
        "print-race" => print_race(),
        "names" => names(),
        // The report directory the CLI made, and its permission bits.
        "report-dir-mode" => {
            use std::os::unix::fs::PermissionsExt;
            let opts = std::env::var("RACEDET_OPTIONS").unwrap();
            let dir = opts
                .split([' ', ':'])
                .find_map(|kv| kv.strip_prefix("report_dir="))
                .unwrap();
            let mode = std::fs::metadata(dir).unwrap().permissions().mode();
            println!("{dir}\n{:o}", mode & 0o7777);
        }
        // Each argument after the mode, NUL-terminated, raw bytes.
        "print-args" => {
            use std::os::unix::ffi::OsStrExt;
            let mut out = std::io::stdout().lock();
            for a in std::env::args_os().skip(2) {
                out.write_all(a.as_bytes()).unwrap();
                out.write_all(b"\0").unwrap();
            }
        }
        m => {
            eprintln!("reliability-target: unknown mode {m:?}");
            std::process::exit(100);
        }
    }
}
