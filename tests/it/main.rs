//! Integration tests: the real binary in a private temporary store.

mod chain;
mod common;
mod completion;
mod concurrency;
mod crash;
mod crash_points;
mod errors;
mod export_format;
mod faults;
mod fuzz_seeds;
mod lifecycle;
mod output;
mod policy;
mod reliability;
mod scan;
mod secrets;
mod signals;
mod terminal;
mod transfer;
mod vault;
