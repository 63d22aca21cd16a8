//! Typed errors, and the one place that decides each one's exit code.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Exit codes, documented in the README and in `--help`. Scripts rely on these numbers.
pub mod exit {
    /// Success, or a token that verified.
    pub const SUCCESS: u8 = 0;
    /// The token is not valid (unknown, revoked or malformed).
    pub const INVALID: u8 = 1;
    /// Usage or bad input.
    pub const USAGE: u8 = 2;
    /// No such token.
    pub const NOT_FOUND: u8 = 3;
    /// Vault error: locked, wrong passphrase, no passphrase given.
    pub const VAULT: u8 = 4;
    /// The store stayed locked by another process past the wait limit.
    pub const BUSY: u8 = 5;
    /// The store is damaged or unreadable, or an I/O failure.
    pub const STORE: u8 = 6;
    /// Internal error: a bug.
    pub const INTERNAL: u8 = 7;
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, each variant worded to say what failed and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),

    #[error("no token with id or name {0:?}: `vbx-tokens list --all` shows them")]
    NotFound(String),

    #[error("{0}")]
    Vault(String),

    #[error(
        "store busy: {} is locked by another vbx-tokens process; gave up after {:.1}s (raise --wait or VBX_TOKENS_WAIT)",
        path.display(),
        waited.as_secs_f64()
    )]
    Busy { path: PathBuf, waited: Duration },

    #[error("no store at {}: run `vbx-tokens create` to make one", .0.display())]
    NoStore(PathBuf),

    #[error("{0}")]
    Store(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    /// Writing our own output failed. A closed pipe is not an error for us (see `main`).
    #[error("cannot write output: {0}")]
    Output(#[source] io::Error),

    #[error("internal error (a bug, please report it): {0}")]
    Internal(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::NotFound(_) => exit::NOT_FOUND,
            Error::Vault(_) => exit::VAULT,
            Error::Busy { .. } => exit::BUSY,
            Error::NoStore(_) | Error::Store(_) | Error::Io { .. } | Error::Output(_) => {
                exit::STORE
            }
            Error::Internal(_) => exit::INTERNAL,
        }
    }

    /// True when the reader of our output went away (`vbx-tokens list | head -1`): we stop
    /// quietly, as ripgrep does.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }

    pub fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Output errors are always ours to map: `?` on a `write!` to stdout lands here.
impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Output(e)
    }
}

/// The vault's errors, each to its exit code: a wrong passphrase is the user's (4), damage is
/// the store's or the file's (6), refused parameters are bad input (2).
impl From<crate::vault::VaultError> for Error {
    fn from(e: crate::vault::VaultError) -> Error {
        use crate::vault::VaultError;
        match e {
            VaultError::WrongPassphrase => Error::Vault(e.to_string()),
            VaultError::Damaged(_) => Error::Store(e.to_string()),
            VaultError::BadParams(_) => Error::Usage(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_documented_code() {
        assert_eq!(Error::Usage("x".into()).exit_code(), 2);
        assert_eq!(Error::NotFound("x".into()).exit_code(), 3);
        assert_eq!(Error::Vault("x".into()).exit_code(), 4);
        let busy = Error::Busy {
            path: "/s".into(),
            waited: Duration::from_secs(1),
        };
        assert_eq!(busy.exit_code(), 5);
        assert!(busy.to_string().contains("/s"));
        assert_eq!(Error::NoStore("/s".into()).exit_code(), 6);
        assert_eq!(Error::Store("x".into()).exit_code(), 6);
        assert_eq!(Error::io("x", io::Error::other("y")).exit_code(), 6);
        assert_eq!(Error::Internal("x".into()).exit_code(), 7);
    }

    #[test]
    fn broken_pipe_is_recognised() {
        let e = Error::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(e.is_broken_pipe());
        assert!(!Error::Usage("x".into()).is_broken_pipe());
    }
}
