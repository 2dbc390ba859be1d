//! The `racedet` command, built as a binary of the tests crate so that
//! `tests/tests/reliability_*.rs` can run it (`CARGO_BIN_EXE_*` only names
//! binaries of the package under test).

fn main() {
    std::process::exit(racedet_cli::main_with_args(std::env::args_os().collect()));
}
