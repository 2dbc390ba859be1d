//! The `racedet` binary: parse, run, map the outcome to an exit status. All
//! logic lives in the library (`racedet_cli`), testable without a process.

use std::process::ExitCode;

fn main() -> ExitCode {
    let code = racedet_cli::main_with_args(std::env::args_os().collect());
    ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX))
}
