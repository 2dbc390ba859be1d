//! `racedet demo`: runs the bundled racy program (`crate::demo`) under the
//! same machinery as `racedet run`, by re-executing this binary with the
//! hidden `__demo-target` subcommand.

use std::process::Command;

use super::run::run_target;
use crate::config::{Config, EngineConfig};
use crate::exit_code;
use crate::render::Mode;

pub fn run(cfg: &Config, engine: &EngineConfig) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("racedet: cannot find the racedet executable to run the demo: {e}");
            return exit_code::USAGE_OR_CONFIG_ERROR;
        }
    };
    eprintln!(
        "racedet: running the demo: one thread inserts into a shared RaceMap while another looks a key up, with no lock between them"
    );
    let mut cmd = Command::new(exe);
    cmd.arg(crate::demo::TARGET_SUBCOMMAND);
    let mode = Mode::Run {
        program: "racedet demo".into(),
    };
    run_target(cfg, cmd, engine, mode, "racedet demo")
}
