//! Integration tests: the real binary in a private temporary store.

mod bounds;
mod chain;
mod common;
mod completion;
mod concurrency;
mod crash;
mod crash_points;
mod disguise;
mod errors;
mod escaping;
mod export_format;
mod faults;
mod forged;
mod fuzz_seeds;
mod lifecycle;
mod output;
mod ownership;
mod policy;
mod reliability;
mod scan;
mod scan_inputs;
mod sealed_backup;
mod secrets;
mod terminal;
mod transfer;
mod vault;
