//! The raw command line, as clap derive structs: it mirrors what the user
//! typed and checks only syntax. `config.rs` turns it into a validated
//! [`Config`](crate::config::Config).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// racedet: run programs and tests with data-race detection, and gate CI on the result.
#[derive(Parser, Debug)]
#[command(name = "racedet", version, after_help = crate::exit_code::HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run PROGRAM (and every process it starts) under the detector.
    #[command(
        after_help = crate::exit_code::HELP,
        override_usage = "racedet run [OPTIONS] -- PROGRAM [ARGS]..."
    )]
    Run(RunArgs),
    /// Run `cargo test` (or `cargo nextest run`) under the detector; a race fails its test.
    #[command(
        after_help = crate::exit_code::HELP,
        override_usage = "racedet test [OPTIONS] [-- CARGO_TEST_ARGS...]"
    )]
    Test(TestArgs),
    /// Run a bundled program where one thread writes a map while another reads it.
    Demo(DemoArgs),
    /// Re-render a saved report directory or report file (see --keep-reports).
    #[command(after_help = crate::exit_code::HELP)]
    Report(ReportArgs),
    /// The demo's racy program itself (run by `racedet demo`).
    #[command(name = "__demo-target", hide = true)]
    DemoTarget,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    /// The program to run, then its arguments (passed through unchanged; no shell).
    #[arg(
        value_name = "PROGRAM",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<OsString>,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Run `cargo nextest run` instead of `cargo test`.
    #[arg(long)]
    pub nextest: bool,
    /// Arguments for cargo (after `--`), e.g. `-- --manifest-path x/Cargo.toml my_test`.
    #[arg(last = true, value_name = "CARGO_TEST_ARGS")]
    pub cargo_args: Vec<OsString>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    /// A report directory (as kept by --keep-reports) or one `racedet-<pid>.jsonl` file.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
}

/// Options handed to the detector inside the target processes.
#[derive(Args, Debug)]
pub struct EngineArgs {
    /// Stop each process at its first race.
    #[arg(long)]
    pub halt_on_error: bool,
    /// Any other engine option, as in RACEDET_OPTIONS (repeatable), e.g. `-O history_size=4`.
    #[arg(short = 'O', long = "option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
    /// Also save the raw per-process report files into DIR (re-render with `racedet report DIR`).
    #[arg(long, value_name = "DIR")]
    pub keep_reports: Option<PathBuf>,
}

/// How and where the result is written.
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Colours in text reports.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Remove this prefix from file paths in reports.
    #[arg(long, value_name = "PREFIX")]
    pub strip_path_prefix: Option<String>,
    /// Show at most N distinct races in full (all are still counted; 0 = no limit).
    #[arg(long, value_name = "N")]
    pub max_reports: Option<u64>,
}

/// What makes the run fail.
#[derive(Args, Debug)]
pub struct GateArgs {
    /// Suppression file in ThreadSanitizer's format (`race:PATTERN` lines).
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// Known races (written by --write-baseline): they are reported but do not fail the run.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record every unsuppressed race seen into FILE as a new baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Exit status when new races are found.
    #[arg(long, value_name = "N", default_value_t = crate::exit_code::RACES_FOUND,
          value_parser = clap::value_parser!(i32).range(1..=255))]
    pub exitcode: i32,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable reports (TSan layout).
    Text,
    /// One JSON object per line per race, then a summary object (docs/report-format.md).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// JUnit XML, for test dashboards.
    Junit,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
