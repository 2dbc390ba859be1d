//! Human-readable rendering of a [`RaceReport`], in the layout TSan and Go
//! users know. Rendering only: every fact comes from the report data.

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
        match pos.strip_prefix(p.as_str()) {
            Some(rest) if !p.is_empty() => rest.to_string(),
            _ => pos,
        }
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
        let _ = writeln!(out, "Test: {test}");
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
            f.function.clone().unwrap_or_else(|| "??".into()),
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
        Some(n) => format!("{} \"{}\" (0x{:x})", o.kind, n, o.addr),
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
        Some(n) => format!("T{id} '{n}'"),
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
        let _ = writeln!(out, "     {line} | {}", src.trim_end());
    }
}

fn frames_block(out: &mut String, st: &Style<'_>, frames: &[&Frame]) {
    let width = frames
        .iter()
        .map(|f| f.function.as_deref().unwrap_or("??").len())
        .max()
        .unwrap_or(0);
    for (i, f) in frames.iter().enumerate() {
        let func = f.function.as_deref().unwrap_or("??");
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
        .map(|n| format!(" '{n}'"))
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
