//! `racedet report PATH`: re-renders a saved report directory (see
//! `--keep-reports`) or a single report file, with the same gate.

use std::path::Path;

use super::finish;
use crate::collect::collect;
use crate::config::Config;
use crate::exit_code;
use crate::render::Mode;

pub fn run(cfg: &Config, path: &Path) -> i32 {
    match collect(path) {
        Ok(c) => finish(cfg, c, &Mode::Report, None),
        Err(e) => {
            eprintln!("racedet: {e}");
            exit_code::USAGE_OR_CONFIG_ERROR
        }
    }
}
