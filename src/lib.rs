//! vbx-tokens: local API tokens for VasBox.
//!
//! The library is what the `vbx-tokens` binary is built on, and what a Rust service can embed
//! to verify tokens in-process. A [`Location`] names a store: a directory (the embedded
//! engine) or a PostgreSQL URL ([`Location::resolve`] reads it as the binary does). Opened,
//! it is the system of record, an [`engine::Engine`], and the lifecycle ([`Tokens`]) runs on
//! it; a [`Verifier`] answers from the store without its lock (a directory store's
//! verification index in about a microsecond or two, a PostgreSQL store on one connection it
//! keeps) and counts uses:
//!
//! ```
//! use std::time::Duration;
//! use vbx_tokens::{Location, OpenMode, Reading, Reason, Token, Tokens, Touch, Verifier};
//!
//! let dir = tempfile::tempdir()?;
//! let location = Location::Dir(dir.path().to_owned());
//! let wait = Duration::from_secs(10);
//! let token = Token::generate();
//! let store = location.open(OpenMode::Create, wait)?;
//! let record = store.create(&token, "billing", None, &Default::default(), None)?;
//! drop(store); // let go of the lock: verifying does not need it
//!
//! let mut verifier = Verifier::at(&location, Reading::File, wait)?;
//! let verdict = verifier.verify(token.expose(), Touch::Yes)?;
//! assert!(verdict.is_valid());
//! assert_eq!(verdict.id.as_deref(), Some(record.id.as_str()));
//! assert_eq!(verifier.verify("vbx_nope", Touch::Yes)?.reason, Reason::Malformed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! No library call changes the process umask (the store directory is made 0700, its files
//! 0600) or panics on bad input.

#![forbid(unsafe_code)]

pub use engine::Tokens;
pub use error::{Error, Result};
pub use location::Location;
pub use store::{OpenMode, Store};
pub use token::{Token, TokenHash};
pub use verdict::{Reason, Touch, Verdict};
pub use verifier::{Known, Reading, Verifier};

pub mod backup;
pub mod chain;
pub mod cleanup;
pub mod counters;
pub mod disguise;
pub mod engine;
pub mod error;
pub mod fault;
pub mod index;
pub mod journal;
pub mod lines;
pub mod location;
pub mod lockfile;
pub mod name;
pub mod paths;
pub mod pg;
pub mod policy;
pub mod record;
pub mod scan;
pub mod store;
pub mod time;
pub mod token;
pub mod transfer;
pub mod trust;
pub mod uses;
pub mod vault;
pub mod verdict;
pub mod verifier;
