//! Where a passphrase comes from: exactly one of a file (`--passphrase-file` or
//! `$VBX_TOKENS_PASSPHRASE_FILE`), `$VBX_TOKENS_PASSPHRASE`, or the terminal. Never a
//! command-line value: arguments show in `ps`.

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

/// The vault's passphrase from the one source given. `file` is `--passphrase-file` or, through
/// clap, `$VBX_TOKENS_PASSPHRASE_FILE`.
pub fn read(file: Option<&Path>, purpose: Purpose) -> Result<SecretString> {
    let value = std::env::var_os(VALUE_VAR);
    let text = match (file, value) {
        (Some(_), Some(_)) => {
            return Err(Error::Usage(format!(
                "give the passphrase one way: --passphrase-file (or {FILE_VAR}) and {VALUE_VAR} are both set"
            )));
        }
        (Some(path), None) => return from_file(path),
        (None, Some(value)) => Zeroizing::new(
            value
                .into_string()
                .map_err(|_| Error::Vault(format!("{VALUE_VAR} is not valid UTF-8")))?,
        ),
        (None, None) if prompt::interactive() => match purpose {
            Purpose::Unlock => ask("Vault passphrase", purpose)?,
            Purpose::Choose => ask("New vault passphrase", purpose)?,
        },
        (None, None) => {
            return Err(Error::Vault(format!(
                "no passphrase: give it with --passphrase-file PATH, {FILE_VAR} or {VALUE_VAR}, or run in a terminal"
            )));
        }
    };
    accept(&text)
}

/// Asks in the terminal, twice when choosing.
pub fn ask(prompt_text: &str, purpose: Purpose) -> Result<Zeroizing<String>> {
    match purpose {
        Purpose::Unlock => prompt::secret(prompt_text),
        Purpose::Choose => prompt::new_secret(prompt_text),
    }
}

/// A passphrase from a file: only a trailing newline (`\n` or `\r\n`) is stripped.
pub fn from_file(path: &Path) -> Result<SecretString> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
        Error::Vault(format!(
            "cannot read the passphrase file {}: {e}",
            path.display()
        ))
    })?);
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::Vault(format!(
            "the passphrase file {} is not valid UTF-8",
            path.display()
        ))
    })?;
    accept(text)
}

/// Strips one trailing newline and refuses an empty passphrase.
pub fn accept(text: &str) -> Result<SecretString> {
    let text = strip_newline(text);
    if text.is_empty() {
        return Err(Error::Vault("the passphrase is empty".into()));
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
    fn empty_is_refused() {
        assert!(accept("\n").is_err());
        assert!(accept("").is_err());
        assert_eq!(
            accept(" \n")
                .expect("a space is a passphrase")
                .expose_secret(),
            " "
        );
    }
}
