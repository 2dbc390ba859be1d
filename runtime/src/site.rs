//! Call sites: where in the program an access happened.
//!
//! A [`Site`] is one machine word. Rust callers pass the `&'static
//! Location` captured by `#[track_caller]` (free at run time: the compiler
//! materialises it as a constant), so the exact file:line:col of *both*
//! accesses of a race is always known, with no interning table and no lock.
//! Foreign callers (the future `__tsan_*` C ABI) pass a program counter,
//! tagged in the low bit so the two cannot be confused.

use std::panic::Location;

/// An access's call site: a tagged `&'static Location` or program counter.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Site(usize);

impl Site {
    /// No call site known.
    pub const UNKNOWN: Site = Site(0);

    /// The site of a `#[track_caller]` caller.
    #[inline]
    pub fn from_location(loc: &'static Location<'static>) -> Site {
        // `Location` is pointer-aligned, so the low bit is free for the tag.
        Site(loc as *const Location<'static> as usize)
    }

    /// The caller of the (track_caller) function that calls this.
    #[inline]
    #[track_caller]
    pub fn caller() -> Site {
        Site::from_location(Location::caller())
    }

    /// A program counter from uninstrumented or foreign code.
    pub fn from_pc(pc: usize) -> Site {
        Site((pc << 1) | 1)
    }

    pub fn location(self) -> Option<&'static Location<'static>> {
        if self.0 == 0 || self.0 & 1 == 1 {
            return None;
        }
        // SAFETY: a non-zero untagged value is only ever built by
        // `from_location` from a `&'static Location<'static>`, which lives for
        // the whole program.
        Some(unsafe { &*(self.0 as *const Location<'static>) })
    }

    pub fn pc(self) -> Option<usize> {
        (self.0 & 1 == 1).then_some(self.0 >> 1)
    }

    pub fn is_known(self) -> bool {
        self.0 != 0
    }

    pub fn raw(self) -> usize {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_round_trips() {
        let s = Site::caller();
        let loc = s.location().unwrap();
        assert!(loc.file().ends_with("site.rs"));
        assert_eq!(s.pc(), None);
        assert_eq!(Site::from_pc(0x1234).pc(), Some(0x1234));
        assert!(Site::from_pc(0x1234).location().is_none());
        assert!(!Site::UNKNOWN.is_known());
    }
}
