//! # racedet-cli: the `racedet` command
//!
//! `racedet run -- PROGRAM`, `racedet test`, `racedet demo` and `racedet
//! report PATH` (docs/cli.md). The binary is a thin shell over
//! [`main_with_args`].
//!
//! Data flow: `args` (raw command line) → `config` (validated: suppression
//! and baseline files parsed, output path opened, engine options checked —
//! all before any target runs) → `cmd::*` (run the target with
//! `RACEDET=1 RACEDET_OPTIONS=report_dir=<private dir>`; every process
//! writes `racedet-<pid>.jsonl`) → `collect` (tolerant JSON-lines reader)
//! → `aggregate` (dedup across processes by signature) → `gate`
//! (suppressions, baseline, exit status) → `render::*` (text, json, sarif,
//! junit).

pub mod aggregate;
pub mod args;
pub mod cmd;
pub mod collect;
pub mod config;
pub mod demo;
pub mod exit_code;
pub mod gate;
pub mod render;

use std::ffi::OsString;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::config::{CommandConfig, Config};

/// Runs racedet with `args` (including the program name) and returns the
/// exit status.
pub fn main_with_args(args: Vec<OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit_code::USAGE_OR_CONFIG_ERROR
            } else {
                exit_code::CLEAN
            };
        }
    };
    if let Command::DemoTarget = cli.command {
        return demo::run_target();
    }
    let env_options = std::env::var("RACEDET_OPTIONS").ok();
    match Config::from_cli(cli.command, env_options) {
        Ok(cfg) => run(&cfg),
        Err(e) => {
            eprintln!("racedet: {e}");
            exit_code::USAGE_OR_CONFIG_ERROR
        }
    }
}

/// Dispatches a validated configuration.
pub fn run(cfg: &Config) -> i32 {
    match &cfg.command {
        CommandConfig::Run {
            program,
            args,
            engine,
        } => cmd::run::run(cfg, program, args, engine),
        CommandConfig::Test {
            nextest,
            cargo_args,
            engine,
        } => cmd::test::run(cfg, *nextest, cargo_args, engine),
        CommandConfig::Demo { engine } => cmd::demo::run(cfg, engine),
        CommandConfig::Report { path } => cmd::report::run(cfg, path),
    }
}
