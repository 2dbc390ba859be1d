//! Coverage of loom's API as racedet provides it (the tests are in
//! `tests/loom.rs`): each item used the way loom-tested crates use it, in
//! clean/racy pairs where the item creates an ordering.
