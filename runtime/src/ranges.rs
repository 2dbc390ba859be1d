//! Named address ranges, so that a race on raw memory can say what the
//! memory is: `racedet::annotate::name(ptr, len, "ring buffer")` registers
//! `[ptr, ptr + len)` with its name and creation site; a report on an
//! address inside it names the range instead of printing a bare address.
//! Ranges are forgotten by `reset_range` over their start (the object was
//! freed). Registration and lookup take one lock: neither is on a hot path.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::report::ObjectDesc;

struct Range {
    len: usize,
    desc: ObjectDesc,
}

static RANGES: Mutex<BTreeMap<usize, Range>> = Mutex::new(BTreeMap::new());

fn ranges() -> std::sync::MutexGuard<'static, BTreeMap<usize, Range>> {
    RANGES.lock().unwrap_or_else(|e| e.into_inner())
}

/// `fork` support: holds the range table's lock across the fork.
pub(crate) fn lock_for_fork(guards: &mut Vec<Box<dyn std::any::Any>>) {
    guards.push(Box::new(ranges()));
}

/// Registers `[addr, addr + len)` as `desc` (replacing a range at `addr`).
pub(crate) fn name(addr: usize, len: usize, desc: ObjectDesc) {
    if len > 0 {
        ranges().insert(addr, Range { len, desc });
    }
}

/// The named range containing `addr`: its start, length and description.
pub(crate) fn containing(addr: usize) -> Option<(usize, usize, ObjectDesc)> {
    let g = ranges();
    let (start, r) = g.range(..=addr).next_back()?;
    (addr < start.saturating_add(r.len)).then(|| (*start, r.len, r.desc.clone()))
}

/// Forgets the ranges that start inside `[addr, addr + len)`.
pub(crate) fn forget(addr: usize, len: usize) {
    let mut g = ranges();
    if g.is_empty() {
        return;
    }
    let doomed: Vec<usize> = g
        .range(addr..addr.saturating_add(len))
        .map(|(k, _)| *k)
        .collect();
    for k in doomed {
        g.remove(&k);
    }
}
