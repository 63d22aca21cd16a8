//! vbx-tokens: local API tokens for VasBox.
//!
//! The library is what the `vbx-tokens` binary is built on, and what a Rust service can embed to
//! verify tokens in-process:
//!
//! ```no_run
//! use std::time::Duration;
//! use vbx_tokens::store::{OpenMode, Store, Touch};
//!
//! let store = Store::open("/var/lib/vbx-tokens".as_ref(), OpenMode::Existing, Duration::from_secs(10))?;
//! let verdict = store.verify("vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17", Touch::Yes)?;
//! println!("{}", verdict.reason.as_str());
//! # Ok::<(), vbx_tokens::error::Error>(())
//! ```
//!
//! Opening a store sets the process umask to 077 (sled creates files with the default mode), and
//! holds the store's lock until the [`store::Store`] is dropped.

#![forbid(unsafe_code)]

pub use error::{Error, Result};
pub use store::{OpenMode, Store};
pub use token::{Token, TokenHash};
pub use verdict::{Reason, Touch, Verdict};
pub use verifier::{Reading, Verifier};

pub mod error;
pub mod fault;
pub mod index;
pub mod journal;
pub mod lines;
pub mod name;
pub mod paths;
pub mod record;
pub mod store;
pub mod time;
pub mod token;
pub mod transfer;
pub mod vault;
pub mod verdict;
pub mod verifier;
