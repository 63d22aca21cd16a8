//! Where a passphrase comes from: exactly one of a file (`--passphrase-file` or
//! `$VBX_TOKENS_PASSPHRASE_FILE`), `$VBX_TOKENS_PASSPHRASE`, or the terminal. Never a
//! command-line value: arguments show in `ps`.

use std::io::Read;
use std::path::Path;

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::prompt;

/// A file holding the passphrase (the flag `--passphrase-file` wins over it).
pub const FILE_VAR: &str = "VBX_TOKENS_PASSPHRASE_FILE";
/// The passphrase itself: the weakest source, as the environment can leak to child processes
/// and to `/proc/PID/environ` of the same user.
pub const VALUE_VAR: &str = "VBX_TOKENS_PASSPHRASE";

/// Whether a passphrase is being checked or chosen; a chosen one is asked for twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Unlock,
    Choose,
}

/// The longest passphrase file we read, in bytes: far more than anyone types, and a bound on
/// what `--passphrase-file /dev/zero` can make us read.
pub const MAX_FILE_BYTES: u64 = 4096;

/// The vault's passphrase from the one source given. `file` is `--passphrase-file` or, through
/// clap, `$VBX_TOKENS_PASSPHRASE_FILE`.
///
/// What is taken: from a file, its contents less one trailing `\n` or `\r\n`; from
/// `$VBX_TOKENS_PASSPHRASE`, the value exactly as it is (nothing stripped); from the terminal,
/// the line typed. A passphrase being chosen must be one line (no `\n` or `\r` left in it),
/// so that a prompt can always type it.
///
/// # Errors
/// [`Error::Usage`] for two sources at once or an unreadable file (with the OS's reason);
/// [`Error::Vault`] for no source, an empty passphrase, or a chosen one of several lines.
pub fn read(file: Option<&Path>, purpose: Purpose) -> Result<SecretString> {
    // Set but empty counts as unset, as for every variable.
    let value = std::env::var_os(VALUE_VAR).filter(|v| !v.is_empty());
    let text = match (file, value) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(format!(
                "give the passphrase one way: --passphrase-file (or {FILE_VAR}) and {VALUE_VAR} are both set"
            )));
        }
        (Some(path), None) => return from_file(path, purpose),
        (None, Some(value)) => {
            let value = Zeroizing::new(
                value
                    .into_string()
                    .map_err(|_| Error::usage(format!("{VALUE_VAR} is not valid UTF-8")))?,
            );
            return accept(&value, purpose, VALUE_VAR);
        }
        (None, None) if prompt::interactive() => match purpose {
            Purpose::Unlock => ask("Vault passphrase", purpose)?,
            Purpose::Choose => ask("New vault passphrase", purpose)?,
        },
        (None, None) => {
            return Err(Error::vault(format!(
                "no passphrase: give it with --passphrase-file PATH, {FILE_VAR} or {VALUE_VAR}, or run in a terminal"
            )));
        }
    };
    accept(&text, purpose, "the prompt")
}

/// Asks in the terminal, twice when choosing.
pub fn ask(prompt_text: &str, purpose: Purpose) -> Result<Zeroizing<String>> {
    match purpose {
        Purpose::Unlock => prompt::secret(prompt_text),
        Purpose::Choose => prompt::new_secret(prompt_text),
    }
}

/// A passphrase from a file: one trailing newline (`\n` or `\r\n`) is stripped, nothing else.
///
/// # Errors
/// As for [`read`].
pub fn from_file(path: &Path, purpose: Purpose) -> Result<SecretString> {
    let unreadable = |e: std::io::Error| Error::unreadable("the passphrase file", path, &e);
    let mut bytes = Zeroizing::new(Vec::new());
    crate::commands::files::open_input(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::usage(format!(
            "the passphrase file {} is longer than {MAX_FILE_BYTES} bytes: it should hold one line",
            path.display()
        )));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::usage(format!(
            "the passphrase file {} is not valid UTF-8",
            path.display()
        ))
    })?;
    accept(
        strip_newline(text),
        purpose,
        &format!("the passphrase file {}", path.display()),
    )
}

/// Refuses an empty passphrase and, when one is being chosen, one of several lines. `source`
/// names where it came from, for the error.
pub fn accept(text: &str, purpose: Purpose, source: &str) -> Result<SecretString> {
    if text.is_empty() {
        return Err(Error::vault(format!(
            "the passphrase from {source} is empty"
        )));
    }
    if purpose == Purpose::Choose && text.contains(['\n', '\r', '\0']) {
        return Err(Error::vault(format!(
            "the passphrase from {source} holds a line break (or a NUL): a passphrase is one line, so that a prompt can type it"
        )));
    }
    Ok(SecretString::from(text.to_owned()))
}

fn strip_newline(text: &str) -> &str {
    text.strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn only_one_trailing_newline_is_stripped() {
        assert_eq!(strip_newline("pw\n"), "pw");
        assert_eq!(strip_newline("pw\r\n"), "pw");
        assert_eq!(strip_newline("pw\n\n"), "pw\n");
        assert_eq!(strip_newline(" pw "), " pw ");
        assert_eq!(strip_newline("pw"), "pw");
    }

    #[test]
    fn empty_is_refused_and_a_chosen_passphrase_is_one_line() {
        let take = |t: &str, p| accept(t, p, "x").map(|s| s.expose_secret().to_owned());
        assert!(take("", Purpose::Unlock).is_err());
        assert_eq!(
            take(" ", Purpose::Choose).expect("a space is a passphrase"),
            " "
        );
        assert!(take("a\nb", Purpose::Choose).is_err());
        assert!(take("a\rb", Purpose::Choose).is_err());
        assert!(take("pw\n", Purpose::Choose).is_err());
        // Unlocking takes what it is given: a vault set before this rule still opens.
        assert_eq!(take("a\nb", Purpose::Unlock).expect("ok"), "a\nb");
    }
}
