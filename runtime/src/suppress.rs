//! Suppression files in ThreadSanitizer's format.
//!
//! ```text
//! # Why this race is benign (a comment above each entry is expected).
//! race:mycrate::stats::*
//! race:src/legacy/*.rs
//! race:RaceMap "metrics"
//! ```
//!
//! Each line is `TYPE:PATTERN`; `#` starts a comment. Only `race` (and its
//! TSan alias `race_top`, matched against the top frame only) are accepted
//! today. `*` matches any run of characters; a pattern matches when it
//! matches a whole function name, file path or object name, or a substring
//! when it has no `*` (TSan's rule). A race is suppressed when either
//! access's stack or call site, or the object, matches.

use std::fmt;

use crate::report::model::{Frame, RaceReport};

/// One parsed `race:` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    pub top_only: bool,
    pub pattern: String,
    pub line: usize,
}

/// A parsed suppression file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Suppressions {
    pub entries: Vec<Suppression>,
}

/// A malformed suppression line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuppressionError {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for SuppressionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for SuppressionError {}

impl Suppressions {
    /// Parses the text of a suppression file.
    pub fn parse(text: &str) -> Result<Suppressions, SuppressionError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let Some((kind, pattern)) = l.split_once(':') else {
                return Err(SuppressionError {
                    line,
                    reason: format!("expected `race:PATTERN`, found `{l}`"),
                });
            };
            let top_only = match kind.trim() {
                "race" => false,
                "race_top" => true,
                other => {
                    return Err(SuppressionError {
                        line,
                        reason: format!(
                            "unsupported suppression type `{other}`; accepted: race, race_top"
                        ),
                    });
                }
            };
            let pattern = pattern.trim();
            if pattern.is_empty() {
                return Err(SuppressionError {
                    line,
                    reason: "empty pattern after `race:`".into(),
                });
            }
            entries.push(Suppression {
                top_only,
                pattern: pattern.to_string(),
                line,
            });
        }
        Ok(Suppressions { entries })
    }

    /// The first entry matching `report`.
    pub fn matching(&self, report: &RaceReport) -> Option<&Suppression> {
        self.entries.iter().find(|s| s.matches(report))
    }
}

impl Suppression {
    pub fn matches(&self, r: &RaceReport) -> bool {
        let frame_hit = |f: &Frame| {
            f.function
                .as_deref()
                .is_some_and(|x| pattern_matches(&self.pattern, x))
                || f.file
                    .as_deref()
                    .is_some_and(|x| pattern_matches(&self.pattern, x))
        };
        let side = |a: &crate::report::model::AccessInfo| {
            let top: Vec<&Frame> = a.stack.first().into_iter().chain(a.site.as_ref()).collect();
            if self.top_only {
                top.into_iter().any(frame_hit)
            } else {
                a.stack.iter().chain(a.site.as_ref()).any(frame_hit)
            }
        };
        let object = r.object.name.as_deref().is_some_and(|n| {
            pattern_matches(&self.pattern, n)
                || pattern_matches(&self.pattern, &format!("{} \"{}\"", r.object.kind, n))
        });
        side(&r.current) || side(&r.previous) || object
    }
}

/// TSan's matching: `*` is a wildcard; without one, a substring match.
/// `^` and `$` anchor at the start and end.
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    let anchored_start = pattern.starts_with('^');
    let anchored_end = pattern.ends_with('$') && pattern.len() > 1;
    let core = pattern.trim_start_matches('^');
    let core = if anchored_end {
        &core[..core.len() - 1]
    } else {
        core
    };
    let parts: Vec<&str> = core.split('*').collect();
    // Find the parts in order.
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 && anchored_start {
            if !text.starts_with(part) {
                return false;
            }
            pos = part.len();
            continue;
        }
        match text[pos..].find(part) {
            Some(at) => pos += at + part.len(),
            None => return false,
        }
    }
    if anchored_end {
        let last = parts.last().copied().unwrap_or("");
        return last.is_empty() || text.ends_with(last);
    }
    true
}

static LOADED: std::sync::OnceLock<Suppressions> = std::sync::OnceLock::new();

/// Reads the `suppressions=` file at start-up, so that a missing or
/// malformed file stops the process before user code runs (not at its first
/// race, which would lose that report).
pub(crate) fn preload() {
    let path = &crate::rt::runtime().options.suppressions;
    if !path.is_empty() {
        LOADED.get_or_init(|| load(path));
    }
}

/// Whether the process's `suppressions=` file matches `report`.
pub(crate) fn is_suppressed(report: &RaceReport) -> bool {
    let path = &crate::rt::runtime().options.suppressions;
    if path.is_empty() {
        return false;
    }
    LOADED.get_or_init(|| load(path)).matching(report).is_some()
}

/// Loads the suppression file named in the options; errors stop the
/// process with status 2 (a gate must not run with half its suppressions).
pub(crate) fn load(path: &str) -> Suppressions {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("racedet: cannot read suppression file {path}: {e}");
            // SAFETY: `_exit` has no preconditions.
            unsafe { libc::_exit(2) };
        }
    };
    match Suppressions::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "racedet: bad suppression file {path}:{}: {}",
                e.line, e.reason
            );
            // SAFETY: as above.
            unsafe { libc::_exit(2) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_matches("foo", "a::foo::b"));
        assert!(pattern_matches("a::*::b", "a::foo::b"));
        assert!(!pattern_matches("^foo", "a::foo"));
        assert!(pattern_matches("^a::", "a::foo"));
        assert!(pattern_matches("*.rs$", "src/x.rs"));
        assert!(!pattern_matches("x.rs$", "src/x.rsz"));
    }

    #[test]
    fn parse_errors_name_the_line() {
        let e = Suppressions::parse("# ok\nrace:foo\nbogus\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = Suppressions::parse("mutex:foo").unwrap_err();
        assert!(e.reason.contains("accepted: race"));
        let e = Suppressions::parse("race:").unwrap_err();
        assert!(e.reason.contains("empty pattern"));
        let s = Suppressions::parse("race:a\n\n# c\nrace_top:b\n").unwrap();
        assert_eq!(s.entries.len(), 2);
        assert!(s.entries[1].top_only);
    }
}
