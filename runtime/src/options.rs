//! Runtime options from `RACEDET_OPTIONS`, declared once in one table.
//!
//! Syntax follows `TSAN_OPTIONS`: `key=value` pairs separated by spaces or
//! colons, e.g. `RACEDET_OPTIONS="halt_on_error=1 report_dir=/tmp/r"`. Every
//! key is listed in [`OPTIONS`] with its type, default and one-line doc; the
//! parser, `help=1` and docs/options.md all come from that table. An unknown
//! key or a malformed value is an error naming the key and what is accepted:
//! nothing is silently defaulted.

use std::fmt;

/// The type of an option's value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    Str,
}

impl Kind {
    fn accepted(self) -> &'static str {
        match self {
            Kind::Bool => "0, 1, true or false",
            Kind::Int => "a non-negative integer",
            Kind::Str => "any text without spaces or colons",
        }
    }
}

/// One row of the option table.
#[derive(Debug)]
pub struct OptionSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub default: &'static str,
    pub doc: &'static str,
}

macro_rules! options {
    ($( $field:ident : $kind:ident $ty:ty = $default:expr, $doc:literal; )*) => {
        /// Parsed runtime options.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct Options { $( #[doc = $doc] pub $field: $ty, )* }

        impl Default for Options {
            fn default() -> Self {
                Options { $( $field: parse_value::<$ty>(stringify!($field), $default).expect("valid default"), )* }
            }
        }

        /// Every option racedet accepts.
        pub const OPTIONS: &[OptionSpec] = &[
            $( OptionSpec { name: stringify!($field), kind: Kind::$kind, default: $default, doc: $doc }, )*
        ];

        impl Options {
            fn set(&mut self, key: &str, value: &str) -> Result<(), OptionsError> {
                match key {
                    $( stringify!($field) => { self.$field = parse_value::<$ty>(key, value)?; Ok(()) } )*
                    _ => Err(OptionsError::UnknownKey(key.to_string())),
                }
            }
        }
    };
}

options! {
    halt_on_error: Bool bool = "0", "Stop the process after the first reported race (exits with `exitcode`).";
    exitcode: Int i32 = "66", "Exit status of a process that reported a race and would otherwise exit 0.";
    log_path: Str String = "", "Write report text to `<log_path>.<pid>` instead of standard error.";
    report_dir: Str String = "", "Directory receiving one JSON-lines file per process (set by the racedet CLI).";
    max_reports: Int u64 = "0", "Print at most this many distinct races per process (0 = no limit); later ones are still counted.";
    suppressions: Str String = "", "Suppression file in TSan's format (`race:PATTERN` lines).";
    history_size: Int u32 = "2", "Stack depot size, 0-7: keeps up to 4096 << history_size distinct stacks of earlier accesses.";
    strip_path_prefix: Str String = "", "Remove this prefix from file paths in reports.";
    verbosity: Int u32 = "0", "0 = reports only; 1 = also a statistics line at exit; 2 = debug notes.";
    report_atomic_races: Bool bool = "1", "Report races between an atomic and a plain access to the same bytes.";
    shadow_release_delay: Int u32 = "256", "Return the shadow pages of an 8 KiB group of freed small objects to the OS once this many more groups emptied after it and it stayed unused (0 = never; larger = faster churn of small objects, more memory).";
    help: Bool bool = "0", "Print this table and exit.";
}

/// A bad `RACEDET_OPTIONS` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionsError {
    UnknownKey(String),
    BadValue {
        key: String,
        value: String,
        accepted: &'static str,
    },
    MissingValue(String),
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionsError::UnknownKey(k) => {
                let names: Vec<&str> = OPTIONS.iter().map(|o| o.name).collect();
                write!(
                    f,
                    "unknown option `{k}` in RACEDET_OPTIONS; accepted options: {}",
                    names.join(", ")
                )
            }
            OptionsError::BadValue {
                key,
                value,
                accepted,
            } => {
                write!(
                    f,
                    "bad value `{value}` for option `{key}` in RACEDET_OPTIONS; accepted: {accepted}"
                )
            }
            OptionsError::MissingValue(k) => {
                write!(
                    f,
                    "option `{k}` in RACEDET_OPTIONS has no value; write `{k}=VALUE`"
                )
            }
        }
    }
}

impl std::error::Error for OptionsError {}

trait OptionValue: Sized {
    const KIND: Kind;
    fn parse(s: &str) -> Option<Self>;
}

impl OptionValue for bool {
    const KIND: Kind = Kind::Bool;
    fn parse(s: &str) -> Option<bool> {
        match s {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        }
    }
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl OptionValue for $t {
            const KIND: Kind = Kind::Int;
            fn parse(s: &str) -> Option<$t> {
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) { return None; }
                s.parse().ok()
            }
        }
    )*};
}
int_value!(i32, u32, u64);

impl OptionValue for String {
    const KIND: Kind = Kind::Str;
    fn parse(s: &str) -> Option<String> {
        Some(s.to_string())
    }
}

fn parse_value<T: OptionValue>(key: &str, value: &str) -> Result<T, OptionsError> {
    T::parse(value).ok_or_else(|| OptionsError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        accepted: T::KIND.accepted(),
    })
}

impl Options {
    /// Parses `key=value` pairs separated by spaces, colons or newlines.
    pub fn parse(text: &str) -> Result<Options, OptionsError> {
        let mut opts = Options::default();
        for pair in text.split([' ', ':', '\n', '\t']).filter(|p| !p.is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(if OPTIONS.iter().any(|o| o.name == pair) {
                    OptionsError::MissingValue(pair.to_string())
                } else {
                    OptionsError::UnknownKey(pair.to_string())
                });
            };
            opts.set(key, value)?;
        }
        if opts.history_size > 7 {
            return Err(OptionsError::BadValue {
                key: "history_size".into(),
                value: opts.history_size.to_string(),
                accepted: "an integer from 0 to 7",
            });
        }
        Ok(opts)
    }

    /// The option table as text (for `help=1` and docs).
    pub fn help_text() -> String {
        let mut s =
            String::from("racedet runtime options (RACEDET_OPTIONS=\"key=value key=value\"):\n");
        for o in OPTIONS {
            let default = if o.default.is_empty() {
                "\"\""
            } else {
                o.default
            };
            s.push_str(&format!(
                "  {:<20} default {:<5} {}\n",
                o.name, default, o.doc
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let o = Options::parse("").unwrap();
        assert_eq!(o.exitcode, 66);
        assert!(!o.halt_on_error);
        assert_eq!(o, Options::default());
    }

    #[test]
    fn spaces_and_colons() {
        let o =
            Options::parse("halt_on_error=1:exitcode=3  max_reports=5 log_path=/tmp/x").unwrap();
        assert!(o.halt_on_error);
        assert_eq!(
            (o.exitcode, o.max_reports, o.log_path.as_str()),
            (3, 5, "/tmp/x")
        );
    }

    #[test]
    fn errors_name_the_key_and_what_is_accepted() {
        let e = Options::parse("halt_on_eror=1").unwrap_err().to_string();
        assert!(
            e.contains("halt_on_eror") && e.contains("halt_on_error"),
            "{e}"
        );
        let e = Options::parse("exitcode=abc").unwrap_err().to_string();
        assert!(
            e.contains("exitcode") && e.contains("non-negative integer"),
            "{e}"
        );
        let e = Options::parse("halt_on_error=yes").unwrap_err().to_string();
        assert!(e.contains("0, 1, true or false"), "{e}");
        let e = Options::parse("verbosity").unwrap_err().to_string();
        assert!(e.contains("no value"), "{e}");
        assert!(Options::parse("exitcode=-1").is_err());
        assert!(Options::parse("history_size=9").is_err());
    }

    #[test]
    fn help_lists_every_option() {
        let h = Options::help_text();
        for o in OPTIONS {
            assert!(h.contains(o.name));
        }
    }
}
