//! Stretches of detection ("periods"), so that history recorded before
//! detection was last switched off is not held against what comes after.
//!
//! Detection is on while `RACEDET=1` or while any `racedet::check` runs,
//! process-wide. `cargo test` runs tests on parallel threads, so one test's
//! check also records what another test does outside its own check. While
//! detection is off, synchronisation is not modelled (that is what makes
//! off cheap), so an edge made then — a lock handed over, a channel
//! message — is lost. Without this module an access recorded before such
//! an edge stayed in the shadow and raced, in the next period, with the
//! access the lost edge had ordered after it: a false report that depended
//! on which tests happened to overlap.
//!
//! The rule: every access recorded in an earlier period happens-before
//! every access of the current one. Races are found within one period,
//! exactly as before; a pair that straddles an off stretch is never
//! reported, since the edges between them were not seen.
//!
//! Implementation. [`PERIOD`] counts the switches from off to on. Each
//! thread notes the period it entered last (`rt::FastTls::period`); on
//! its first access check in a new period ([`enter`], one load and a
//! compare on the way into the thread state) it writes the time its slot
//! had then into a per-slot table — every earlier access of that slot
//! carries a time at most that — and starts a new epoch, so that its
//! accesses in the new period carry later times. A verdict "unordered"
//! is then checked once more against the table ([`predates`]): an
//! access of a slot that has not entered the current period yet (but did
//! enter an earlier one: a thread enters before it records anything), or
//! one no later than the time the slot entered the current period with,
//! is from an earlier period and counts as ordered. This costs nothing on
//! the paths that find accesses ordered; only the unordered branch (a
//! race, or a read joining concurrent reads) reads the table.
//!
//! A slot passes to a new thread only after its previous owner finished;
//! the new owner continues the slot's time above the old one's. The table
//! keeps the time the slot first entered the period, not the new owner's,
//! so the old owner's accesses in the period still count as part of it.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

use crate::clock::{Epoch, Slot};

/// The current period: 1 at start, raised at every switch from off to on.
static PERIOD: AtomicU32 = AtomicU32::new(1);

/// Slots a period is kept for: every slot (`Slot` is a `u16`).
const SLOTS: usize = 1 << 16;

/// Per slot: `period << 32 | time`, the last period the slot worked in and
/// its time when it entered that period. Zeroed memory (period 0, before
/// the first) until a slot is used, so untouched pages cost nothing.
static ENTERED: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];

/// The current period.
#[inline(always)]
pub(crate) fn current() -> u32 {
    PERIOD.load(Ordering::Relaxed)
}

/// Detection was switched on after being off: starts a new period.
pub(crate) fn begin() {
    PERIOD.fetch_add(1, Ordering::AcqRel);
}

/// The thread on `slot`, whose own time is `own` and which has recorded
/// nothing in `period` yet, enters `period`. The caller then starts a new
/// epoch, so its accesses in the period are later than `own`.
pub(crate) fn enter(slot: Slot, own: u32, period: u32) {
    let e = &ENTERED[slot.index()];
    // Only the slot's owner writes its entry, so this test and store do not
    // race; an entry already in `period` belongs to an earlier owner of the
    // slot whose accesses in it are later than its time: keep it.
    if (e.load(Ordering::Relaxed) >> 32) as u32 != period {
        e.store(u64::from(period) << 32 | u64::from(own), Ordering::Relaxed);
    }
    // Every access this thread records from now on is a store after this
    // fence; a thread that reads one and then fences (`predates`) sees the
    // entry above, so it never takes a new access for an old one.
    fence(Ordering::Release);
}

/// Whether the access at `epoch`, found unordered by the clocks, was
/// recorded in an earlier period (and so counts as ordered).
#[cold]
pub(crate) fn predates(epoch: Epoch) -> bool {
    // Verdicts are made on the checking thread, in the period it entered
    // last (`rt::thread_period`); the engine's own tests, which drive the
    // shadow without a thread, are in none.
    let mine = crate::rt::thread_period();
    if mine == 0 {
        return false;
    }
    fence(Ordering::Acquire);
    let entry = ENTERED[epoch.slot.index()].load(Ordering::Relaxed);
    predates_in(entry, mine, epoch.clock)
}

/// [`predates`] for a slot whose [`ENTERED`] entry is `entry`, judged in
/// period `current`, of an access at time `clock`.
fn predates_in(entry: u64, current: u32, clock: u32) -> bool {
    let (period, entered_at) = ((entry >> 32) as u32, entry as u32);
    match period {
        // Never entered a period: not recorded by a thread.
        0 => false,
        p if p == current => clock <= entered_at,
        // A slot whose latest period is earlier, and so are its accesses;
        // or a later one (this thread is still finishing an operation it
        // began before detection went off and on again): its accesses are
        // no earlier than this thread's, leave the verdict to the clocks.
        p => p < current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(period: u32, at: u32) -> u64 {
        u64::from(period) << 32 | u64::from(at)
    }

    #[test]
    fn accesses_before_a_slot_entered_the_period_predate_it() {
        // A slot that never entered a period was never used by a thread.
        assert!(!predates_in(0, 3, 100));
        // One that entered only an earlier period: anything of it is older.
        assert!(predates_in(entry(2, 7), 3, 100));
        // Entered this period at time 7.
        assert!(predates_in(entry(3, 7), 3, 7), "recorded before entering");
        assert!(!predates_in(entry(3, 7), 3, 8), "recorded after entering");
    }

    #[test]
    fn a_later_owner_keeps_the_time_the_slot_entered_with() {
        // A slot no other test uses; the period is read once, and the
        // table is only read here (not through `predates`, whose period
        // other tests may move on).
        let slot = Slot(65_001);
        let p = current();
        enter(slot, 10, p);
        // A new owner of the slot continues above the old one's time.
        enter(slot, 20, p);
        let e = ENTERED[slot.index()].load(Ordering::Relaxed);
        assert_eq!(e, entry(p, 10));
        assert!(
            !predates_in(e, p, 15),
            "the first owner's access in this period stays in it"
        );
        // The next period takes the new owner's time.
        enter(slot, 30, p + 1);
        assert_eq!(
            ENTERED[slot.index()].load(Ordering::Relaxed),
            entry(p + 1, 30)
        );
    }
}
