//! Whole-process benchmark suite: every workload of `racedet_tests::workloads`
//! in three configurations — plain (std types), off (racedet types,
//! detection disabled), on (detection enabled) — each run in its own process,
//! alternated A B C A B C, medians and ratios printed as a Markdown table.
//!
//! `cargo bench -p racedet-tests --bench workloads` runs everything;
//! `RACEDET_BENCH_QUICK=1` (or `--quick`) runs tiny sizes once (a smoke
//! test, not a measurement); `RACEDET_BENCH_ROUNDS=N` sets the pairs;
//! `RACEDET_BENCH_FILTER=text` keeps workloads whose name contains it.

use std::process::Command;

use racedet_tests::workloads::{self, Kit};

#[derive(Clone, Copy, PartialEq)]
enum Cfg {
    Plain,
    Off,
    On,
}

impl Cfg {
    fn name(self) -> &'static str {
        match self {
            Cfg::Plain => "plain",
            Cfg::Off => "off",
            Cfg::On => "on",
        }
    }
}

struct Spec {
    name: &'static str,
    unit: &'static str,
    args: Vec<u64>,
}

fn specs(quick: bool) -> Vec<Spec> {
    let q = |full: u64, small: u64| if quick { small } else { full };
    let s = |name, unit, args: Vec<u64>| Spec { name, unit, args };
    vec![
        s(
            "access_loop/UnsafeCell",
            "ns/access",
            vec![q(100_000_000, 1000)],
        ),
        s(
            "access_loop/annotate",
            "ns/access",
            vec![q(50_000_000, 1000), 2048],
        ),
        s(
            "access_loop/RaceCell",
            "ns/access",
            vec![q(20_000_000, 1000)],
        ),
        s(
            "sync_heavy/1t+bg1000",
            "ns/pair",
            vec![q(10_000_000, 1000), 1, q(1000, 16)],
        ),
        s("sync_heavy/2t", "ns/pair", vec![q(5_000_000, 1000), 2, 0]),
        s("shared_mutex/2t", "ns/op", vec![q(2_000_000, 1000), 2]),
        s(
            "map_rwlock/1t",
            "ns/op",
            vec![q(5_000_000, 2000), 1, 131_072],
        ),
        s(
            "map_rwlock/2t",
            "ns/op",
            vec![q(5_000_000, 2000), 2, 131_072],
        ),
        s(
            "map_rwlock/4t",
            "ns/op",
            vec![q(5_000_000, 2000), 4, 131_072],
        ),
        s("many_threads/2000", "ns/thread", vec![q(2000, 32), 16]),
        s("many_threads/8000", "ns/thread", vec![q(8000, 32), 16]),
        s("read_shared/64", "ns/op", vec![64, q(20_000, 10)]),
        s("memory/1M-words", "ns/word", vec![q(1_000_000, 1000)]),
        s("memory/10M-words", "ns/word", vec![q(10_000_000, 1000)]),
    ]
}

/// Runs one workload in this process and prints its result line.
fn child(name: &str, kit: Kit, a: &[u64]) {
    let m = match name {
        "access_loop/UnsafeCell" => workloads::access_loop_cell(kit, a[0]),
        "access_loop/annotate" => workloads::access_loop_annotate(kit, a[0], a[1] as usize),
        "access_loop/RaceCell" => workloads::access_loop_race_cell(kit, a[0]),
        n if n.starts_with("sync_heavy") => {
            workloads::sync_heavy(kit, a[0], a[1] as usize, a[2] as usize)
        }
        n if n.starts_with("shared_mutex") => workloads::shared_mutex(kit, a[0], a[1] as usize),
        n if n.starts_with("map_rwlock") => workloads::map_rwlock(kit, a[0], a[1] as usize, a[2]),
        n if n.starts_with("many_threads") => workloads::many_threads(kit, a[0], a[1]),
        n if n.starts_with("read_shared") => workloads::read_shared(kit, a[0] as usize, a[1]),
        n if n.starts_with("memory") => {
            let (m, after) = workloads::tracked_words(kit, a[0] as usize);
            println!("AFTER_KIB {after}");
            m
        }
        other => panic!("unknown workload {other}"),
    };
    println!(
        "RESULT {} {} {}",
        m.ns_per_op(),
        m.ops,
        workloads::peak_rss_kib()
    );
}

struct Sample {
    ns: f64,
    peak_kib: u64,
    after_kib: Option<u64>,
}

fn run_child(spec: &Spec, cfg: Cfg) -> Sample {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = Command::new(exe);
    cmd.arg("--child").arg(spec.name).arg(cfg.name());
    cmd.args(spec.args.iter().map(|a| a.to_string()));
    cmd.env_remove("RACEDET").env_remove("RACEDET_OPTIONS");
    if cfg == Cfg::On {
        cmd.env("RACEDET", "1");
    }
    let out = cmd.output().expect("run benchmark child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{} ({}) failed: {}{}",
        spec.name,
        cfg.name(),
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut sample = Sample {
        ns: f64::NAN,
        peak_kib: 0,
        after_kib: None,
    };
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first() {
            Some(&"RESULT") => {
                sample.ns = f[1].parse().unwrap();
                sample.peak_kib = f[3].parse().unwrap();
            }
            Some(&"AFTER_KIB") => sample.after_kib = f[1].parse().ok(),
            _ => {}
        }
    }
    sample
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

/// The lowest and highest of the middle half of `v` (its quartiles, by
/// rank): how far the paired ratios of one workload spread between rounds
/// on a machine whose speed drifts.
fn middle_half(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let last = v.len() - 1;
    (v[last / 4], v[last - last / 4])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let name = &args[i + 1];
        let kit = if args[i + 2] == "plain" {
            Kit::Plain
        } else {
            Kit::Racedet
        };
        let a: Vec<u64> = args[i + 3..].iter().map(|s| s.parse().unwrap()).collect();
        child(name, kit, &a);
        return;
    }
    let quick =
        std::env::var_os("RACEDET_BENCH_QUICK").is_some() || args.iter().any(|a| a == "--quick");
    let rounds: usize = std::env::var("RACEDET_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 1 } else { 5 });
    let filter = std::env::var("RACEDET_BENCH_FILTER").unwrap_or_default();
    println!(
        "| workload | unit | plain | off | on | off/plain | on/plain | on/plain, middle half of rounds | peak RSS plain → on (KiB) | RSS after drop, on (KiB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for spec in specs(quick).iter().filter(|s| s.name.contains(&filter)) {
        let cfgs = [Cfg::Plain, Cfg::Off, Cfg::On];
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(), Vec::new(), Vec::new()];
        for r in 0..rounds {
            for k in 0..3 {
                // Rotate the order each round so no configuration always runs first.
                let c = (k + r) % 3;
                samples[c].push(run_child(spec, cfgs[c]));
            }
        }
        let ns: Vec<f64> = samples
            .iter()
            .map(|s| median(s.iter().map(|x| x.ns).collect()))
            .collect();
        // Ratios pair runs of the same round, then take the median.
        let ratios = |c: usize| -> Vec<f64> {
            (0..rounds)
                .map(|r| samples[c][r].ns / samples[0][r].ns)
                .collect()
        };
        let ratio = |c: usize| median(ratios(c));
        let (low, high) = middle_half(ratios(2));
        let peak = |c: usize| median(samples[c].iter().map(|x| x.peak_kib as f64).collect());
        let after = samples[2]
            .iter()
            .filter_map(|x| x.after_kib)
            .map(|k| k as f64)
            .collect::<Vec<_>>();
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2}x | {:.2}x | {:.2}–{:.2}x | {:.0} → {:.0} | {} |",
            spec.name,
            spec.unit,
            ns[0],
            ns[1],
            ns[2],
            ratio(1),
            ratio(2),
            low,
            high,
            peak(0),
            peak(2),
            if after.is_empty() {
                "-".to_string()
            } else {
                format!("{:.0}", median(after))
            }
        );
    }
}
