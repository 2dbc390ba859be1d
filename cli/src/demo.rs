//! The bundled racy program of `racedet demo`: Go's `concurrent map read
//! and map write`, in Rust. Main creates a shared map of users; one thread
//! inserts into it while another looks a user up, and nothing orders the two
//! (no lock, no channel, no join between them). Whichever runs first, the
//! detector sees two unordered accesses to the map, at least one a write,
//! and reports both lines: the result does not depend on timing.
//!
//! It runs as `racedet __demo-target`, under the detector, started by
//! `racedet demo` (see `cmd/demo.rs`).

use std::sync::Arc;
use std::thread::JoinHandle;

use racedet::collections::RaceMap;
use racedet_runtime::{Site, with_spawn_site};

/// The hidden subcommand that runs [`run_target`].
pub const TARGET_SUBCOMMAND: &str = "__demo-target";

/// `std::thread::spawn` that records the caller's line as the creation site.
#[track_caller]
fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    with_spawn_site(Site::caller(), || std::thread::spawn(f))
}

/// The racy program; returns its exit status.
pub fn run_target() -> i32 {
    let users: Arc<RaceMap<String, u32>> = Arc::new(RaceMap::named("users"));
    users.insert("ann".to_string(), 1);

    let writer = {
        let users = Arc::clone(&users);
        spawn(move || {
            users.insert("bob".to_string(), 2);
        })
    };
    let reader = {
        let users = Arc::clone(&users);
        spawn(move || users.get("ann"))
    };

    let _ = writer.join();
    let found = reader.join().ok().flatten();
    // The program itself sees nothing wrong: only the detector does.
    println!("demo: lookup of \"ann\" returned {found:?}; the program exited normally");
    0
}
