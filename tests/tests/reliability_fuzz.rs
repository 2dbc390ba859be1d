//! Property tests (256 cases each, fixed seed: the same inputs on every
//! run) of the three parsers that read untrusted text: the
//! `RACEDET_OPTIONS` parser, the suppression-file parser and the report-file
//! reader. None may panic, whatever the input; well-formed input must be
//! accepted and damaged report lines skipped without losing the good ones.

use std::path::Path;

use proptest::prelude::*;
use racedet_cli::collect::{Collected, read_lines};
use racedet_runtime::options::{Kind, OPTIONS, Options};
use racedet_runtime::suppress::Suppressions;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x07ac_ede7),
        ..ProptestConfig::default()
    }
}

/// `key=value` items over the real option names, values well- or ill-formed.
fn option_text() -> impl Strategy<Value = String> {
    let item = (
        0..OPTIONS.len() + 1,
        prop_oneof![
            Just("0".to_string()),
            Just("1".to_string()),
            Just("true".to_string()),
            "[0-9]{1,25}",
            "-?[0-9a-z_/.]{0,12}",
            any::<String>(),
        ],
        prop_oneof![Just("="), Just(""), Just("==")],
    )
        .prop_map(|(k, v, eq)| {
            let key = OPTIONS.get(k).map(|o| o.name).unwrap_or("bogus");
            format!("{key}{eq}{v}")
        });
    (
        prop::collection::vec(item, 0..6),
        prop_oneof![Just(" "), Just(":"), Just("  "), Just("\t")],
    )
        .prop_map(|(items, sep)| items.join(sep))
}

/// A valid value for each option kind (history_size is limited to 0-7).
fn valid_options() -> impl Strategy<Value = String> {
    prop::collection::vec((0..OPTIONS.len(), 0u32..8, "[a-z0-9_./]{1,10}"), 0..6).prop_map(
        |items| {
            items
                .into_iter()
                .filter(|(i, _, _)| OPTIONS[*i].name != "help")
                .map(|(i, n, s)| {
                    let o = &OPTIONS[i];
                    let v = match o.kind {
                        Kind::Bool => (n % 2).to_string(),
                        Kind::Int => n.to_string(),
                        Kind::Str => s,
                    };
                    format!("{}={v}", o.name)
                })
                .collect::<Vec<_>>()
                .join(" ")
        },
    )
}

fn suppression_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        "(race|race_top|mutex|)?:?[ -~]{0,20}",
        Just("# comment".to_string()),
        Just(String::new()),
        any::<String>(),
    ];
    prop::collection::vec(line, 0..8).prop_map(|l| l.join("\n"))
}

/// A real report file: the start record, a race and a repeat, as the
/// runtime writes them (captured from a race inside `racedet::check`).
fn sample_report_file() -> String {
    use racedet::cell::RaceCell;
    use racedet::sync::Arc;
    let err = racedet::check(|| {
        let c = Arc::new(RaceCell::new(0u32));
        let c2 = c.clone();
        let h = std::thread::spawn(move || c2.set(1));
        c.set(2);
        h.join().unwrap();
    })
    .expect_err("a race");
    let race = &err.reports()[0];
    let mut out = String::new();
    out.push_str(&format!(
        "{{\"type\":\"process\",\"schema\":1,\"pid\":{},\"exe\":\"x\",\"event\":\"start\",\"races\":0,\"occurrences\":0}}\n",
        race.pid
    ));
    let mut line = serde_json::to_value(race).unwrap();
    line["type"] = "race".into();
    out.push_str(&format!("{line}\n"));
    out.push_str(&format!(
        "{{\"type\":\"repeat\",\"signature\":\"{}\",\"count\":4}}\n",
        race.signature
    ));
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn options_parser_never_panics(text in option_text()) {
        let _ = Options::parse(&text);
    }

    #[test]
    fn options_parser_never_panics_on_any_string(text in any::<String>()) {
        let _ = Options::parse(&text);
    }

    #[test]
    fn valid_options_are_accepted(text in valid_options()) {
        prop_assert!(Options::parse(&text).is_ok(), "{text}");
    }

    #[test]
    fn suppression_parser_never_panics(text in suppression_text()) {
        if let Err(e) = Suppressions::parse(&text) {
            // Errors name a line that exists.
            prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1));
        }
    }

    #[test]
    fn report_reader_never_panics_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut out = Collected::default();
        read_lines(Path::new("fuzz.jsonl"), &bytes, &mut out);
    }
}

/// Damaged copies of a real report file: truncated anywhere, bytes flipped
/// or lines duplicated. The reader never panics, and every line that is
/// still intact is kept.
#[test]
fn report_reader_keeps_intact_lines_of_damaged_files() {
    let good = sample_report_file();
    let mut clean = Collected::default();
    read_lines(Path::new("good.jsonl"), good.as_bytes(), &mut clean);
    assert!(clean.warnings.is_empty(), "{:?}", clean.warnings);
    let races = |c: &Collected| c.processes.values().map(|p| p.races.len()).sum::<usize>();
    assert_eq!(races(&clean), 1);
    let bytes = good.as_bytes();
    let race_line_end = good.match_indices('\n').nth(1).unwrap().0 + 1;
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(
            &(0..bytes.len(), 0..bytes.len(), any::<u8>(), 0..3u8),
            |(cut, at, byte, how)| {
                let mut damaged = bytes.to_vec();
                match how {
                    0 => damaged.truncate(cut),
                    1 => damaged[at] = byte,
                    _ => damaged.extend_from_slice(&bytes[..cut]),
                }
                let mut out = Collected::default();
                read_lines(Path::new("damaged.jsonl"), &damaged, &mut out);
                // The race line survives damage that does not touch it.
                let untouched = match how {
                    0 => cut >= race_line_end,
                    1 => at >= race_line_end || damaged[at] == bytes[at],
                    _ => true,
                };
                if untouched {
                    prop_assert!(races(&out) >= 1, "lost the intact race line");
                }
                Ok(())
            },
        )
        .unwrap();
}
