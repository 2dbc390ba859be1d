//! The exit statuses of `racedet`, as documented constants (listed in
//! `racedet --help` and docs/cli.md). A status not listed here is the
//! target program's own.

/// No race found and the target (if any) exited 0.
pub const CLEAN: i32 = 0;
/// Bad command line, unreadable or malformed configuration (suppression
/// file, baseline, engine option, output path): nothing was run.
pub const USAGE_OR_CONFIG_ERROR: i32 = 2;
/// At least one race that is neither suppressed nor in the baseline
/// (TSan's and Go's convention; `--exitcode N` changes it).
pub const RACES_FOUND: i32 = 66;
/// The program exists but could not be executed (permissions, format).
pub const NOT_EXECUTABLE: i32 = 126;
/// The program was not found.
pub const PROGRAM_NOT_FOUND: i32 = 127;
/// A target killed by signal N makes racedet exit with `SIGNAL_BASE + N`
/// (the shell's convention).
pub const SIGNAL_BASE: i32 = 128;

/// The exit-status table shown at the end of `racedet --help`.
pub const HELP: &str = "\
Exit status:
  0    no race found and the target exited 0
  66   races found that are neither suppressed nor in the baseline (--exitcode)
  2    usage or configuration error (nothing was run)
  126  the program is not executable
  127  the program was not found
  128+N  the target was killed by signal N (no race found)
  otherwise the target's own exit status";
