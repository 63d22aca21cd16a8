//! The checks behind every fuzz target, in one module the main crate's tests also include.

pub mod checks;
