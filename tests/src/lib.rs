//! End-to-end tests (in `tests/`) and the benchmark workloads shared by the
//! bench runner and the CI smoke test.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod workloads;
