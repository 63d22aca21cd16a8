//! Typed errors, each with its exit code ([`Error::exit_code`]). The binary's `outcome` module
//! adds the verdicts and a failed stdout to decide the code a script sees.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::chain::Broken;
use crate::token;

/// Exit codes, documented in the README and in `--help`. Scripts rely on these numbers.
pub mod exit {
    /// Success, or a token that verified.
    pub const SUCCESS: u8 = 0;
    /// The token is not valid (unknown, revoked or malformed), or not every token of a batch
    /// was checked and valid.
    pub const INVALID: u8 = 1;
    /// Usage or bad input: a flag, a value, or a file the user named that cannot be read or is
    /// not what it should be.
    pub const USAGE: u8 = 2;
    /// No such token.
    pub const NOT_FOUND: u8 = 3;
    /// Vault: no passphrase, a wrong one, or a file that does not authenticate.
    pub const VAULT: u8 = 4;
    /// The store stayed locked by another process past the wait limit.
    pub const BUSY: u8 = 5;
    /// The store is damaged or unreadable, the disk is full, or another I/O failure (our output
    /// included, when the output is the product).
    pub const STORE: u8 = 6;
    /// Internal error: a bug.
    pub const INTERNAL: u8 = 7;
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Text that came from, or may hold, user input: anything token-shaped in it is masked
/// (`vbx_AbCd…`) when it is made, so no error built from it can echo a token.
#[derive(Clone, PartialEq, Eq)]
pub struct Masked(String);

impl Masked {
    pub fn new(text: impl AsRef<str>) -> Masked {
        let masked = Masked::where_it_stands(text.as_ref());
        // A token only its showing (bidi runs) or reading backwards makes whole: every long
        // run of what a token is made of is cut to its first characters, so none stays whole.
        if crate::disguise::holds_token(&masked.0) {
            return Masked(cut_runs(&masked.0));
        }
        masked
    }

    fn where_it_stands(text: &str) -> Masked {
        // A token hidden by a zero-width character or typed in full width is masked in the form
        // it shows in.
        if !token::contains_token_shape(text) {
            let visible = crate::disguise::visible_form(text);
            if token::contains_token_shape(&visible) {
                return Masked(token::mask_tokens(&visible).into_owned());
            }
        }
        // One written with look-alike letters or combining marks is masked where it stands,
        // showing what a hint would (its first characters), never the rest.
        let disguised = crate::disguise::disguised_tokens(text.as_bytes());
        if disguised.is_empty() {
            return Masked(token::mask_tokens(text).into_owned());
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (range, looks) in disguised {
            out.push_str(&text[last..range.start]);
            // What a hint would show of the token it stands for (a token written backwards
            // shows its first characters, not its last).
            out.push_str(&token::mask(&looks));
            last = range.end;
        }
        out.push_str(&text[last..]);
        Masked(token::mask_tokens(&out).into_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `text` with every run of 12 or more letters, digits, `_`, `-` and invisible characters cut
/// to its first four visible characters and `…`.
fn cut_runs(text: &str) -> String {
    let part =
        |c: char| c.is_alphanumeric() || c == '_' || c == '-' || crate::disguise::is_invisible(c);
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run
            .chars()
            .filter(|c| !crate::disguise::is_invisible(*c))
            .count()
            >= 12
        {
            out.extend(
                run.chars()
                    .filter(|c| !crate::disguise::is_invisible(*c))
                    .take(4),
            );
            out.push('…');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if part(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

impl fmt::Display for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A path, shown masked (it is user input too).
fn shown(path: &Path) -> Masked {
    Masked::new(path.display().to_string())
}

/// Everything that can go wrong, each variant worded to say what failed and how to fix it. Every
/// variant that carries text carries it [`Masked`], and `Debug` shows the masked message.
#[derive(thiserror::Error)]
pub enum Error {
    /// Bad flags, values or input (exit 2).
    #[error("{0}")]
    Usage(Masked),

    /// No token by that id or name (exit 3).
    #[error("no token with id or name {0:?}: `vbx-tokens list --all` shows them")]
    NotFound(Masked),

    /// No passphrase, a wrong one, or a file that does not authenticate (exit 4).
    #[error("{0}")]
    Vault(Masked),

    /// The store stayed locked past the wait limit (exit 5).
    #[error(
        "store busy: {} is locked by another process; gave up after {:.1}s (raise --wait or VBX_TOKENS_WAIT)",
        shown(path),
        waited.as_secs_f64()
    )]
    Busy { path: PathBuf, waited: Duration },

    /// A PostgreSQL store's server did not answer: down, unreachable, or no answer (or no
    /// lock) within the wait limit (exit 5). The text names the host, never a password.
    #[error("{0}")]
    Unreachable(Masked),

    /// A command that needs a store found none (exit 6).
    #[error("no store at {}: run `vbx-tokens create` to make one", shown(.0))]
    NoStore(PathBuf),

    /// The store, a directory above it or a file in it could have been written by someone
    /// other than the caller, root or an owner opted into (exit 6): nothing in it is believed.
    #[error(
        "not trusting the store at {}: {} {problem}",
        shown(store),
        shown(path)
    )]
    Untrusted {
        store: PathBuf,
        path: PathBuf,
        problem: String,
    },

    /// The store is damaged, or from a newer build (exit 6).
    #[error("{0}")]
    Store(Masked),

    /// The audit log's hash chain is broken: the first broken event and what is wrong (exit 6).
    /// Its text comes from the log, so it is shown masked.
    #[error("{}", Masked::new(.0.to_string()))]
    BrokenLog(Box<Broken>),

    /// A write failed for want of space, or past the file-size limit (exit 6).
    #[error(
        "cannot write to {}: {}: free some space (or raise `ulimit -f`) and try again",
        shown(path),
        reason(source)
    )]
    DiskFull {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// Any other I/O failure, with what was being done (exit 6).
    #[error("{context}: {}", reason(source))]
    Io {
        context: Masked,
        #[source]
        source: io::Error,
    },

    /// A bug (exit 7).
    #[error("internal error (a bug, please report it): {0}")]
    Internal(Masked),
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Error({:?}, exit {})",
            self.to_string(),
            self.exit_code()
        )
    }
}

impl Error {
    pub fn usage(text: impl AsRef<str>) -> Error {
        Error::Usage(Masked::new(text))
    }

    pub fn not_found(id_or_name: impl AsRef<str>) -> Error {
        // Quoted in the line: a long one is cut, as every value an error quotes is.
        let masked = Masked::new(id_or_name);
        let given = masked.as_str();
        let mut cut: String = given.chars().take(crate::policy::SHOWN_CHARS).collect();
        if cut.len() < given.len() {
            cut.push('…');
        }
        Error::NotFound(Masked(cut))
    }

    pub fn vault(text: impl AsRef<str>) -> Error {
        Error::Vault(Masked::new(text))
    }

    pub fn unreachable(text: impl AsRef<str>) -> Error {
        Error::Unreachable(Masked::new(text))
    }

    pub fn store(text: impl AsRef<str>) -> Error {
        Error::Store(Masked::new(text))
    }

    pub fn internal(text: impl AsRef<str>) -> Error {
        Error::Internal(Masked::new(text))
    }

    /// An I/O failure while doing `context` on `path`: a full disk (or `ulimit -f`) says so;
    /// anything else is reported with the OS's reason.
    pub fn io_at(context: impl AsRef<str>, path: &Path, source: io::Error) -> Error {
        if is_disk_full(&source) {
            return Error::DiskFull {
                path: path.to_owned(),
                source,
            };
        }
        Error::io(context, source)
    }

    pub fn io(context: impl AsRef<str>, source: io::Error) -> Error {
        Error::Io {
            context: Masked::new(context),
            source,
        }
    }

    /// A file the user named (`what`, such as "the passphrase file", may be empty) could not
    /// be read: bad input (exit 2), with the OS's reason.
    pub fn unreadable(what: &str, path: &Path, source: &io::Error) -> Error {
        let what = if what.is_empty() {
            String::new()
        } else {
            format!("{what} ")
        };
        Error::usage(format!(
            "cannot read {what}{}: {}",
            path.display(),
            reason(source)
        ))
    }

    /// The exit code of this error (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::NotFound(_) => exit::NOT_FOUND,
            Error::Vault(_) => exit::VAULT,
            Error::Busy { .. } | Error::Unreachable(_) => exit::BUSY,
            Error::NoStore(_)
            | Error::Store(_)
            | Error::Untrusted { .. }
            | Error::BrokenLog(_)
            | Error::DiskFull { .. }
            | Error::Io { .. } => exit::STORE,
            Error::Internal(_) => exit::INTERNAL,
        }
    }
}

/// ENOSPC, EDQUOT and EFBIG (the file-size limit, `ulimit -f`, with SIGXFSZ ignored).
pub fn is_disk_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge
    ) || matches!(e.raw_os_error(), Some(28 | 122 | 27))
}

/// The OS's reason in lower case and without the `(os error N)` tail: "permission denied".
/// An error that only wraps one (sled's carry the inner error's debug text) is reported by its
/// kind instead.
pub fn reason(e: &io::Error) -> String {
    let text = match (e.raw_os_error(), e.kind()) {
        (Some(code), _) => io::Error::from_raw_os_error(code).to_string(),
        (None, io::ErrorKind::Other) => e.to_string(),
        (None, kind) if e.to_string().contains("kind: ") => kind.to_string(),
        (None, _) => e.to_string(),
    };
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_documented_code() {
        assert_eq!(Error::usage("x").exit_code(), 2);
        assert_eq!(Error::not_found("x").exit_code(), 3);
        assert_eq!(Error::vault("x").exit_code(), 4);
        let busy = Error::Busy {
            path: "/s".into(),
            waited: Duration::from_secs(1),
        };
        assert_eq!(busy.exit_code(), 5);
        assert!(busy.to_string().contains("/s"));
        assert_eq!(Error::NoStore("/s".into()).exit_code(), 6);
        assert_eq!(Error::store("x").exit_code(), 6);
        assert_eq!(Error::io("x", io::Error::other("y")).exit_code(), 6);
        assert_eq!(Error::internal("x").exit_code(), 7);
    }

    #[test]
    fn a_full_disk_says_so() {
        for raw in [28, 122, 27] {
            let e = Error::io_at(
                "cannot sync",
                Path::new("/s"),
                io::Error::from_raw_os_error(raw),
            );
            assert!(matches!(e, Error::DiskFull { .. }), "{raw}");
            assert_eq!(e.exit_code(), 6);
        }
        let e = Error::io_at(
            "cannot sync",
            Path::new("/s"),
            io::Error::from_raw_os_error(28),
        );
        assert!(e.to_string().contains("no space left on device"), "{e}");
        let e = Error::io_at(
            "cannot sync",
            Path::new("/s"),
            io::Error::from_raw_os_error(5),
        );
        assert_eq!(e.to_string(), "cannot sync: input/output error");
    }

    #[test]
    fn errors_never_carry_a_token() {
        let t = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";
        for e in [
            Error::usage(format!("bad {t}")),
            Error::not_found(t),
            Error::vault(t),
            Error::store(t),
            Error::internal(t),
            Error::NoStore(PathBuf::from(format!("/x/{t}"))),
            Error::io(t, io::Error::other("y")),
        ] {
            assert!(!e.to_string().contains(t), "{e}");
            assert!(!format!("{e:?}").contains(t), "{e:?}");
            assert!(e.to_string().contains("vbx_zQWB…"), "{e}");
        }
    }

    #[test]
    fn os_reasons_read_as_words() {
        assert_eq!(
            reason(&io::Error::from_raw_os_error(13)),
            "permission denied"
        );
        assert_eq!(reason(&io::Error::other("Odd")), "odd");
    }
}
