//! Human-readable rendering of a [`RaceReport`], in the layout TSan and Go
//! users know. Rendering only: every fact comes from the report data.
//!
//! Text that comes from the program (thread and object names, file paths,
//! function names, the source line, the test name) goes through
//! [`escape_control`]: a thread named `"\x1b[2J"` or one with a newline
//! and a fake `SUMMARY:` line must not clear the terminal or spoof a report.

use std::borrow::Cow;
use std::fmt::Write;

use super::model::{AccessInfo, Frame, RaceReport, ThreadInfo};

/// Rendering choices.
#[derive(Clone, Debug, Default)]
pub struct TextOptions {
    /// Removed from the front of every file path.
    pub strip_path_prefix: String,
    /// ANSI colours for a terminal.
    pub color: bool,
    /// Occurrence count to show (after dedup), if more than one.
    pub occurrences: Option<u64>,
    /// Show the `Test:` line (the root thread's name). Only meaningful when
    /// the process is a test harness, which `racedet test` knows and a
    /// plain program run cannot tell: named worker threads look alike.
    pub show_test: bool,
}

/// `s` with every control character (C0, DEL, C1; tab excepted) written as
/// a Rust-style escape (`\u{1b}`, `\n`), so program-derived text can neither
/// move the cursor, change colours, nor start a new line of the report.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\t') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

struct Style<'a>(&'a TextOptions);

impl Style<'_> {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.0.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn path(&self, f: &Frame) -> String {
        let pos = f.position();
        let p = &self.0.strip_path_prefix;
        let shown = match pos.strip_prefix(p.as_str()) {
            Some(rest) if !p.is_empty() => rest,
            _ => pos.as_str(),
        };
        escape_control(shown).into_owned()
    }
}

/// Renders one report, framed by `==================` lines.
pub fn render(r: &RaceReport, opts: &TextOptions) -> String {
    let st = Style(opts);
    let mut out = String::new();
    let rule = "==================";
    let _ = writeln!(out, "{rule}");
    let _ = writeln!(out, "{}", st.paint("1;31", "WARNING: DATA RACE"));
    access(&mut out, &st, r, &r.current, false);
    out.push('\n');
    access(&mut out, &st, r, &r.previous, true);
    out.push('\n');
    location(&mut out, &st, r);
    for t in &r.threads {
        thread(&mut out, &st, t);
    }
    let locks = |a: &AccessInfo| {
        if a.locks_held.is_empty() {
            "none".to_string()
        } else {
            a.locks_held
                .iter()
                .map(|l| format!("{} at 0x{:x}", l.kind, l.addr))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let _ = writeln!(
        out,
        "Locks held by T{}: {}.  Locks held by T{}: {}.",
        r.current.thread,
        locks(&r.current),
        r.previous.thread,
        locks(&r.previous)
    );
    if let Some(test) = r.test.as_ref().filter(|_| opts.show_test) {
        let _ = writeln!(out, "Test: {}", escape_control(test));
    }
    if let Some(n) = opts.occurrences.filter(|n| *n > 1) {
        let _ = writeln!(out, "Occurrences: {n} (same pair of call sites)");
    }
    if let Some(h) = &r.hint {
        let _ = writeln!(out, "{}", st.paint("1;33", &format!("hint: {h}")));
    }
    let top = r.current.stack.first().or(r.current.site.as_ref());
    let (pos, func) = match top {
        Some(f) => (
            st.path(f),
            escape_control(f.function.as_deref().unwrap_or("??")).into_owned(),
        ),
        None => ("??".into(), "??".into()),
    };
    let _ = writeln!(out, "SUMMARY: racedet: data race {pos} in {func}");
    let _ = writeln!(out, "{rule}");
    out
}

fn object_phrase(r: &RaceReport) -> String {
    let o = &r.object;
    match &o.name {
        Some(n) => format!("{} \"{}\" (0x{:x})", o.kind, escape_control(n), o.addr),
        None if o.kind == "memory" => format!("0x{:x}", r.current.addr),
        None => format!("{} (0x{:x})", o.kind, o.addr),
    }
}

fn thread_phrase(r: &RaceReport, id: u64) -> String {
    let name = r
        .threads
        .iter()
        .find(|t| t.id == id)
        .and_then(|t| t.name.clone());
    match name {
        Some(n) => format!("T{id} '{}'", escape_control(&n)),
        None => format!("T{id}"),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn access(out: &mut String, st: &Style<'_>, r: &RaceReport, a: &AccessInfo, previous: bool) {
    let verb = if previous {
        format!("Previous {}", a.kind)
    } else {
        capitalize(&a.kind)
    };
    let size = if r.object.kind == "memory" {
        format!(" of size {}", a.size)
    } else {
        String::new()
    };
    let head = format!(
        "{verb}{size} at {} by thread {}:",
        object_phrase(r),
        thread_phrase(r, a.thread)
    );
    let _ = writeln!(
        out,
        "{}",
        st.paint(if previous { "1;36" } else { "1;35" }, &head)
    );
    let frames: Vec<&Frame> = if a.stack.is_empty() {
        a.site.iter().collect()
    } else {
        a.stack.iter().collect()
    };
    frames_block(out, st, &frames);
    if let Some(note) = &a.stack_note {
        let _ = writeln!(out, "    ({note})");
    }
    if let (Some(src), Some(line)) = (&a.source, a.site.as_ref().and_then(|s| s.line)) {
        let _ = writeln!(out, "     {line} | {}", escape_control(src.trim_end()));
    }
}

fn frames_block(out: &mut String, st: &Style<'_>, frames: &[&Frame]) {
    let funcs: Vec<Cow<'_, str>> = frames
        .iter()
        .map(|f| escape_control(f.function.as_deref().unwrap_or("??")))
        .collect();
    let width = funcs.iter().map(|f| f.len()).max().unwrap_or(0);
    for (i, (f, func)) in frames.iter().zip(&funcs).enumerate() {
        let _ = writeln!(out, "  #{i} {func:<width$}  {}", st.path(f));
    }
}

fn location(out: &mut String, st: &Style<'_>, r: &RaceReport) {
    let o = &r.object;
    let mut line = format!("Location: {}", object_phrase(r));
    if let Some(c) = &o.created_at {
        let _ = write!(line, " created at {}", st.path(c));
    }
    if let Some(t) = o.created_by {
        let _ = write!(line, " by thread {}", thread_phrase(r, t));
    }
    if o.kind == "memory" && o.created_at.is_none() {
        line.push_str(" (no allocation information)");
    }
    let _ = writeln!(out, "{line}");
}

fn thread(out: &mut String, st: &Style<'_>, t: &ThreadInfo) {
    let name = t
        .name
        .as_ref()
        .map(|n| format!(" '{}'", escape_control(n)))
        .unwrap_or_default();
    let tid = if t.os_tid > 0 {
        format!(", tid={}", t.os_tid)
    } else {
        String::new()
    };
    if t.created_at.is_none() && t.created_stack.is_empty() {
        let origin = if t.parent.is_none() {
            "main thread or created outside racedet"
        } else {
            "creation site unknown"
        };
        let _ = writeln!(out, "Thread T{}{name} ({}{tid}): {origin}", t.id, t.state);
        return;
    }
    let by = t
        .parent
        .map(|p| format!(" by thread T{p}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Thread T{}{name} ({}{tid}) created{by} at:",
        t.id, t.state
    );
    let frames: Vec<&Frame> = if t.created_stack.is_empty() {
        t.created_at.iter().collect()
    } else {
        t.created_stack.iter().collect()
    };
    frames_block(out, st, &frames);
}
