//! The validated configuration: everything that can be wrong with the
//! command line or the files it names is found here, before any target
//! runs, and reported as one line naming the path or value and the problem.

use std::ffi::OsString;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use racedet_runtime::options::Options;
use racedet_runtime::suppress::Suppressions;

use crate::args::{self, ColorChoice, Command, Format};
use crate::gate::Baseline;

/// A configuration problem (exit status 2).
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

#[derive(Debug)]
pub struct Config {
    pub command: CommandConfig,
    pub output: OutputConfig,
    pub gate: GateConfig,
}

#[derive(Debug)]
pub enum CommandConfig {
    Run {
        program: OsString,
        args: Vec<OsString>,
        engine: EngineConfig,
    },
    Test {
        nextest: bool,
        cargo_args: Vec<OsString>,
        engine: EngineConfig,
    },
    Demo {
        engine: EngineConfig,
    },
    Report {
        path: PathBuf,
    },
}

/// What the target processes get in `RACEDET_OPTIONS` (besides the report
/// directory and `exitcode=0`, which racedet always sets itself).
#[derive(Debug, Default)]
pub struct EngineConfig {
    /// Validated `key=value` pairs, space-separated.
    pub options: String,
    pub keep_reports: Option<PathBuf>,
}

#[derive(Debug)]
pub struct OutputConfig {
    pub format: Format,
    /// `--output`: the path and the file, opened (not truncated) up front so
    /// an unwritable path fails before the target runs.
    pub file: Option<(PathBuf, File)>,
    pub color: bool,
    pub strip_path_prefix: String,
    /// 0 = no limit.
    pub max_reports: u64,
}

impl OutputConfig {
    /// Whether a machine-readable report goes to standard output, so the
    /// target's own standard output must be moved out of its way.
    pub fn machine_on_stdout(&self) -> bool {
        self.file.is_none() && self.format != Format::Text
    }
}

#[derive(Debug)]
pub struct SuppressionFile {
    pub path: PathBuf,
    pub set: Suppressions,
}

#[derive(Debug)]
pub struct GateConfig {
    pub suppressions: Option<SuppressionFile>,
    pub baseline: Option<(PathBuf, Baseline)>,
    pub write_baseline: Option<PathBuf>,
    pub exitcode: i32,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            suppressions: None,
            baseline: None,
            write_baseline: None,
            exitcode: crate::exit_code::RACES_FOUND,
        }
    }
}

impl Config {
    /// Validates the parsed command line. `env_options` is the caller's own
    /// `RACEDET_OPTIONS`, which the targets keep (racedet's flags win).
    pub fn from_cli(cmd: Command, env_options: Option<String>) -> Result<Config, ConfigError> {
        let env = env_options.as_deref().unwrap_or("");
        match cmd {
            Command::Run(a) => {
                let mut it = a.command.into_iter();
                let program = it
                    .next()
                    .ok_or_else(|| ConfigError("no program given".into()))?;
                Ok(Config {
                    output: output(a.output)?,
                    gate: gate(a.gate)?,
                    command: CommandConfig::Run {
                        program,
                        args: it.collect(),
                        engine: engine(&a.engine, env)?,
                    },
                })
            }
            Command::Test(a) => Ok(Config {
                output: output(a.output)?,
                gate: gate(a.gate)?,
                command: CommandConfig::Test {
                    nextest: a.nextest,
                    cargo_args: a.cargo_args,
                    engine: engine(&a.engine, env)?,
                },
            }),
            Command::Demo(a) => Ok(Config {
                output: output(a.output)?,
                gate: GateConfig::default(),
                command: CommandConfig::Demo {
                    engine: EngineConfig::default(),
                },
            }),
            Command::Report(a) => Ok(Config {
                output: output(a.output)?,
                gate: gate(a.gate)?,
                command: CommandConfig::Report { path: a.path },
            }),
            Command::DemoTarget => err("__demo-target is run by `racedet demo`"),
        }
    }
}

/// Keys racedet sets itself: taking them from the user would break the
/// report pipeline or the exit-status rule.
const RESERVED: &[(&str, &str)] = &[
    (
        "report_dir",
        "racedet sets it; use --keep-reports DIR to save the reports",
    ),
    ("exitcode", "use --exitcode N"),
    (
        "help",
        "run a program with RACEDET_OPTIONS=help=1 to list the options",
    ),
];

fn engine(a: &args::EngineArgs, env: &str) -> Result<EngineConfig, ConfigError> {
    if let Err(e) = Options::parse(env) {
        return err(format!("in the environment: {e}"));
    }
    let mut pairs: Vec<String> = env
        .split([' ', ':', '\n', '\t'])
        .filter(|p| !p.is_empty())
        .filter(|p| !RESERVED.iter().any(|(k, _)| p.split('=').next() == Some(k)))
        .map(str::to_string)
        .collect();
    for o in &a.options {
        let Some((key, value)) = o.split_once('=') else {
            return err(format!("-O {o}: expected KEY=VALUE"));
        };
        if let Some((_, why)) = RESERVED.iter().find(|(k, _)| *k == key) {
            return err(format!("-O {o}: `{key}` cannot be set here: {why}"));
        }
        if value.contains([' ', ':', '\n', '\t']) {
            return err(format!(
                "-O {o}: engine option values cannot contain spaces or colons"
            ));
        }
        pairs.push(o.clone());
    }
    if a.halt_on_error {
        pairs.push("halt_on_error=1".into());
    }
    let options = pairs.join(" ");
    if let Err(e) = Options::parse(&options) {
        let e = e.to_string().replace(" in RACEDET_OPTIONS", "");
        return err(format!("bad engine option: {e}"));
    }
    if let Some(dir) = &a.keep_reports
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        return err(format!(
            "cannot create report directory {}: {e}",
            dir.display()
        ));
    }
    Ok(EngineConfig {
        options,
        keep_reports: a.keep_reports.clone(),
    })
}

/// Opens `path` for writing without truncating it: proves it is writable
/// while leaving an existing file (maybe also an input) intact for now.
pub fn check_writable(path: &Path, what: &str) -> Result<File, ConfigError> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| ConfigError(format!("cannot write {what} {}: {e}", path.display())))
}

fn output(a: args::OutputArgs) -> Result<OutputConfig, ConfigError> {
    let file = match a.output {
        Some(p) => {
            let f = check_writable(&p, "output file")?;
            Some((p, f))
        }
        None => None,
    };
    let color = match a.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            a.format == Format::Text
                && file.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    Ok(OutputConfig {
        format: a.format,
        file,
        color,
        strip_path_prefix: a.strip_path_prefix.unwrap_or_default(),
        max_reports: a.max_reports.unwrap_or(0),
    })
}

fn gate(a: args::GateArgs) -> Result<GateConfig, ConfigError> {
    let suppressions = match a.suppressions {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ConfigError(format!(
                    "cannot read suppression file {}: {e}",
                    path.display()
                ))
            })?;
            let set = Suppressions::parse(&text)
                .map_err(|e| ConfigError(format!("{}:{}: {}", path.display(), e.line, e.reason)))?;
            Some(SuppressionFile { path, set })
        }
        None => None,
    };
    let baseline = match a.baseline {
        Some(path) => {
            let b = Baseline::load(&path).map_err(ConfigError)?;
            Some((path, b))
        }
        None => None,
    };
    if let Some(p) = &a.write_baseline {
        check_writable(p, "baseline file")?;
    }
    Ok(GateConfig {
        suppressions,
        baseline,
        write_baseline: a.write_baseline,
        exitcode: a.exitcode,
    })
}
