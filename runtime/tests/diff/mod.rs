//! Support for `differential.rs`: traces, the reference detector, the
//! engine driver and the shrinker.

pub mod engine;
pub mod reference;
pub mod trace;
