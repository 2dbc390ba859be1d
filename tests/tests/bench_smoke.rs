//! Every benchmark workload at a tiny size, with detection on: it completes
//! and reports no race (the workloads are correctly synchronised). A smoke
//! test only: nothing here is timed.

use racedet_tests::workloads::{self, Kit};

fn run_clean(name: &str, f: impl FnOnce()) {
    let result = racedet::check(f);
    assert!(
        result.is_ok(),
        "{name}: false positive:\n{}",
        result.unwrap_err()
    );
}

#[test]
fn every_workload_runs_clean_at_tiny_size() {
    for kit in [Kit::Plain, Kit::Racedet] {
        run_clean("access_loop_cell", || {
            assert_eq!(workloads::access_loop_cell(kit, 100).ops, 200)
        });
        run_clean("access_loop_annotate", || {
            assert_eq!(workloads::access_loop_annotate(kit, 100, 64).ops, 200)
        });
        run_clean("access_loop_race_cell", || {
            assert_eq!(workloads::access_loop_race_cell(kit, 100).ops, 200)
        });
        run_clean("sync_heavy", || {
            assert_eq!(workloads::sync_heavy(kit, 100, 2, 16).ops, 200)
        });
        run_clean("shared_mutex", || {
            assert_eq!(workloads::shared_mutex(kit, 100, 2).ops, 200)
        });
        for threads in [1, 2, 4] {
            run_clean("map_rwlock", || {
                assert_eq!(workloads::map_rwlock(kit, 400, threads, 64).ops, 400)
            });
        }
        run_clean("many_threads", || {
            assert_eq!(workloads::many_threads(kit, 40, 8).ops, 40)
        });
        run_clean("read_shared", || {
            assert_eq!(workloads::read_shared(kit, 8, 10).ops, 81)
        });
        run_clean("tracked_words", || {
            assert_eq!(workloads::tracked_words(kit, 1000).0.ops, 1000)
        });
    }
}
