//! The bundled racy program of `racedet demo`: Go's `concurrent map read
//! and map write`, in Rust. Main creates a shared map of users; one thread
//! inserts into it while another looks a user up, and nothing orders the two
//! (no lock, no channel, no join between them). Whichever runs first, the
//! detector sees two unordered accesses to the map, at least one a write,
//! and reports both lines: the result does not depend on timing.
//!
//! It runs as `racedet __demo-target`, under the detector, started by
//! `racedet demo` (see `cmd/demo.rs`).

use racedet::collections::RaceMap;
use racedet::sync::{Arc, Barrier};
use racedet::thread;

/// The hidden subcommand that runs [`run_target`].
pub const TARGET_SUBCOMMAND: &str = "__demo-target";

/// The racy program; returns its exit status.
pub fn run_target() -> i32 {
    let users: Arc<RaceMap<String, u32>> = Arc::new(RaceMap::named("users"));
    users.insert("ann".to_string(), 1);
    // Both workers start together and wait for each other before finishing,
    // so they run at the same time, as in a server. The barrier orders what
    // comes before it against what comes after it; the insert and the lookup
    // are both between the two waits, so nothing orders them.
    let both = Arc::new(Barrier::new(2));

    let writer = {
        let (users, both) = (Arc::clone(&users), Arc::clone(&both));
        thread::Builder::new()
            .name("writer".into())
            .spawn(move || {
                both.wait();
                users.insert("bob".to_string(), 2);
                both.wait();
            })
            .expect("spawn writer")
    };
    let reader = {
        let (users, both) = (Arc::clone(&users), Arc::clone(&both));
        thread::Builder::new()
            .name("reader".into())
            .spawn(move || {
                both.wait();
                let found = users.get("ann");
                both.wait();
                found
            })
            .expect("spawn reader")
    };

    let _ = writer.join();
    let found = reader.join().ok().flatten();
    // The program itself sees nothing wrong: only the detector does.
    println!("demo: lookup of \"ann\" returned {found:?}; the program exited normally");
    0
}
