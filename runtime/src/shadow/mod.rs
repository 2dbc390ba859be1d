//! Shadow memory: the happens-before history of every tracked byte.
//!
//! * [`state`]: the per-location FastTrack state and its rules;
//! * [`word`]: one 8-byte word's state, its same-epoch fast path and locking;
//! * [`table`]: address → word lookup for raw accesses;
//! * [`shared`]: reads of an object recorded without the word's lock while
//!   the object's own lock is held shared;
//! * `live`: per-group counts of the table's words holding history, so the
//!   shadow of freed small objects goes back to the OS.
//!
//! Objects that racedet owns (`RaceMap`, `RaceCell`) embed a [`ShadowWord`]
//! directly, so their checks touch the cache line of the object itself and
//! their history dies with them. Raw addresses (annotations, the future C
//! ABI) go through the [`ShadowTable`].

pub(crate) mod live;
pub mod shared;
pub mod state;
pub mod table;
pub mod word;

pub use state::{Access, AccessKind, Conflict, History, VarState};
pub use table::ShadowTable;
pub use word::{Accessor, Outcome, ShadowWord, WordRef};

/// Byte masks of an access of `size` bytes at `addr`, split at word
/// boundaries: yields `(word_address, mask, bytes_in_word)`.
pub fn word_masks(addr: usize, size: usize) -> impl Iterator<Item = (usize, u8, u8)> {
    let end = addr.saturating_add(size);
    let mut cur = addr;
    std::iter::from_fn(move || {
        if cur >= end {
            return None;
        }
        let word = cur & !7;
        let lo = cur - word;
        let hi = (end - word).min(8);
        let mask = (((1u16 << hi) - 1) & !((1u16 << lo) - 1)) as u8;
        cur = word + 8;
        Some((word, mask, (hi - lo) as u8))
    })
}

#[cfg(test)]
mod tests {
    use super::word_masks;

    #[test]
    fn masks() {
        assert_eq!(word_masks(0x10, 8).collect::<Vec<_>>(), [(0x10, 0xFF, 8)]);
        assert_eq!(word_masks(0x12, 2).collect::<Vec<_>>(), [(0x10, 0x0C, 2)]);
        assert_eq!(
            word_masks(0x16, 4).collect::<Vec<_>>(),
            [(0x10, 0xC0, 2), (0x18, 0x03, 2)]
        );
        assert_eq!(word_masks(0x10, 0).count(), 0);
        assert_eq!(word_masks(0x11, 16).count(), 3);
    }
}
