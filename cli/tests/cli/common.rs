//! Helpers: commands with a clean environment, and a minimal XML reader
//! for checking JUnit structure.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub const RACES_FOUND: i32 = 66;

/// `racedet` with no detector variables inherited from the outer environment.
pub fn racedet() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_racedet"));
    c.env_remove("RACEDET")
        .env_remove("RACEDET_OPTIONS")
        .env("NO_COLOR", "1");
    c
}

pub fn fixture() -> &'static str {
    env!("CARGO_BIN_EXE_racedet-fixture")
}

/// `racedet run [opts] -- racedet-fixture MODE...`.
pub fn run_fixture(opts: &[&str], mode: &[&str]) -> Command {
    let mut c = racedet();
    c.arg("run").args(opts).arg("--").arg(fixture()).args(mode);
    c
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The workspace's target directory (the test binary is in `<target>/<profile>/deps`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// An XML element: name, attributes and children (text is ignored).
#[derive(Debug)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, k: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        if self.name == name {
            out.push(self);
        }
        for c in &self.children {
            c.all(name, out);
        }
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Parses well-formed XML of the subset racedet writes (no CDATA, no
/// comments); panics on unbalanced or malformed tags.
pub fn parse_xml(xml: &str) -> Element {
    let body = xml.trim_start();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => &rest[rest.find("?>").expect("end of declaration") + 2..],
        None => body,
    };
    let mut stack: Vec<Element> = vec![Element {
        name: String::new(),
        attrs: vec![],
        children: vec![],
        text: String::new(),
    }];
    let mut rest = body;
    while let Some(lt) = rest.find('<') {
        assert!(!rest[..lt].contains('>'), "stray '>' in text");
        stack
            .last_mut()
            .unwrap()
            .text
            .push_str(&unescape(&rest[..lt]));
        let gt = rest[lt..].find('>').expect("unclosed tag") + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let done = stack.pop().unwrap();
            assert_eq!(done.name, name.trim(), "mismatched closing tag");
            stack.last_mut().unwrap().children.push(done);
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut attrs_text) = tag.split_once(' ').unwrap_or((tag, ""));
        let mut attrs = Vec::new();
        loop {
            attrs_text = attrs_text.trim_start();
            if attrs_text.is_empty() {
                break;
            }
            let eq = attrs_text.find("=\"").expect("attribute value");
            let key = attrs_text[..eq].to_string();
            let end = attrs_text[eq + 2..].find('"').expect("closing quote") + eq + 2;
            let value = &attrs_text[eq + 2..end];
            assert!(!value.contains('<'), "unescaped '<' in attribute");
            attrs.push((key, unescape(value)));
            attrs_text = &attrs_text[end + 1..];
        }
        let el = Element {
            name: name.to_string(),
            attrs,
            children: vec![],
            text: String::new(),
        };
        if self_closing {
            stack.last_mut().unwrap().children.push(el);
        } else {
            stack.push(el);
        }
    }
    assert!(rest.trim().is_empty(), "trailing text");
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut root = stack.pop().unwrap();
    assert_eq!(root.children.len(), 1, "one root element");
    root.children.pop().unwrap()
}

/// Both sides of a write/read race are shown; which one the detector saw
/// second depends on scheduling, so either order is accepted.
pub fn write_and_read(text: &str, tail: &str) -> bool {
    (text.contains(&format!("Write {tail}")) && text.contains(&format!("Previous read {tail}")))
        || (text.contains(&format!("Read {tail}"))
            && text.contains(&format!("Previous write {tail}")))
}
