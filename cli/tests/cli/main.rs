//! End-to-end tests of the `racedet` binary: one test binary (ripgrep's
//! layout), driving the `racedet-fixture` programs (cli/tests/fixtures).

mod common;
mod errors;
mod formats;
mod gate;
mod run;
mod test_cmd;
