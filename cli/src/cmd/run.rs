//! `racedet run -- PROGRAM [ARGS]...`: runs PROGRAM directly (no shell; the
//! arguments pass through byte for byte) with detection on in it and in
//! every process it starts, then prints the races deduplicated across
//! processes and exits with 66 on new races, else with the target's status.

use std::ffi::OsString;
use std::process::Command;

use super::{ReportDir, display_command, enable_detection, finish, gather, keep_stdout_clean};
use crate::config::{Config, EngineConfig};
use crate::exit_code;
use crate::render::Mode;

pub fn run(cfg: &Config, program: &OsString, args: &[OsString], engine: &EngineConfig) -> i32 {
    let display = display_command(program, args);
    let mut cmd = Command::new(program);
    cmd.args(args);
    run_target(
        cfg,
        cmd,
        engine,
        Mode::Run {
            program: display.clone(),
        },
        &display,
    )
}

/// Runs `cmd` under the detector and reports: shared by `run` and `demo`.
pub fn run_target(
    cfg: &Config,
    mut cmd: Command,
    engine: &EngineConfig,
    mode: Mode,
    display: &str,
) -> i32 {
    let dir = match ReportDir::create() {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "racedet: cannot create a report directory in {}: {e}",
                std::env::temp_dir().display()
            );
            return exit_code::USAGE_OR_CONFIG_ERROR;
        }
    };
    if let Err(e) = enable_detection(&mut cmd, engine, dir.path()) {
        eprintln!("racedet: {e}");
        return exit_code::USAGE_OR_CONFIG_ERROR;
    }
    keep_stdout_clean(&mut cmd, cfg.output.machine_on_stdout());
    let status = match super::spawn(&mut cmd, display) {
        Ok(child) => super::wait(child, display),
        Err(not_started) => not_started,
    };
    let collected = gather(&dir, engine);
    finish(cfg, collected, &mode, Some(&status))
}
