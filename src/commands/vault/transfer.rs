//! `vault export` and `vault import`: the encrypted vault as one file.

use crate::engine::Tokens as _;
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::{Unlocked, in_file, in_store, unlock};
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::passphrase::{self, Purpose};
use crate::prompt;
use crate::record::EventKind;
use crate::store::OpenMode;
use crate::token::TokenHash;
use crate::vault::{Export, HEADER_LEN, Header, Vault};

/// The largest file `vault import` reads: an export of 600,000 kept tokens, far more than a
/// vault that keeps chosen tokens holds.
pub const MAX_EXPORT_BYTES: u64 = 64 * 1024 * 1024;

pub fn export(
    ctx: &Context,
    file: &Path,
    passphrase_file: Option<&Path>,
    p: &mut Printer,
) -> Result<Outcome> {
    let to_stdout = file.as_os_str() == "-";
    if !to_stdout && file.exists() {
        return Err(Error::usage(format!(
            "{} already exists: remove it or choose another file",
            file.display()
        )));
    }
    let (Unlocked { vault, .. }, records) = unlock(ctx, passphrase_file, |s| s.kept_all())?;
    // Export only what opens: a damaged record is found now, not on the day of the restore.
    for (id, sealed) in &records {
        vault.open(id, sealed).map_err(in_store)?;
    }
    let bytes = vault.export(&records);
    if to_stdout {
        p.vault_export_bytes(&bytes);
    } else {
        super::super::files::write_new_file(file, |w| w.write_all(&bytes))?;
    }
    ctx.engine(OpenMode::Existing)?
        .log_event(EventKind::VaultExported, None)?;
    if !to_stdout {
        p.vault_exported(file, records.len());
    }
    Ok(Outcome::Success)
}

/// Reads a file the user named as an export: the header first, so what is not an export at
/// all (`/dev/zero`, a text file) is refused after 163 bytes; then at most
/// [`MAX_EXPORT_BYTES`].
fn read_export(file: &Path) -> Result<Vec<u8>> {
    let unreadable = |e: std::io::Error| Error::unreadable("", file, &e);
    let mut f = crate::commands::files::open_input(file).map_err(unreadable)?;
    let mut bytes = Vec::new();
    (&mut f)
        .take(HEADER_LEN as u64)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    Header::parse(&bytes).map_err(|e| in_file(file, e))?;
    f.take(MAX_EXPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_EXPORT_BYTES {
        return Err(Error::usage(format!(
            "{} is larger than any vault export ({} MiB): nothing was imported",
            file.display(),
            MAX_EXPORT_BYTES / 1024 / 1024
        )));
    }
    Ok(bytes)
}

/// What an import keeps: per token id, the secret and its record as sealed in the file.
struct Sorted {
    imported: Vec<(String, Zeroizing<String>, Vec<u8>)>,
    /// Ids not imported.
    skipped: Vec<String>,
    /// Ids with a secret that is not the token this store knows by that id (even where another
    /// copy of the record was the right one and was imported).
    mismatched: Vec<String>,
}

/// Keeps each secret whose token this store has (active, same id) and whose SHA-256 is that
/// record's; names the others. A record that appears twice counts once.
fn sort<'a>(
    secrets: Vec<(String, Zeroizing<Vec<u8>>)>,
    sealed: impl Iterator<Item = (&'a str, &'a [u8])>,
    active: &HashMap<String, String>,
) -> Sorted {
    let mut out = Sorted {
        imported: Vec::new(),
        skipped: Vec::new(),
        mismatched: Vec::new(),
    };
    let mut done = HashSet::new();
    for ((id, secret), (_, sealed)) in secrets.into_iter().zip(sealed) {
        let Some(sha256) = active.get(&id) else {
            if !out.skipped.contains(&id) {
                out.skipped.push(id);
            }
            continue;
        };
        // Text, and the token the record describes: else it is not this token's secret.
        let text = std::str::from_utf8(&secret).ok();
        match text.filter(|t| TokenHash::of(t).to_hex() == *sha256) {
            Some(t) if !done.contains(&id) => {
                done.insert(id.clone());
                out.imported
                    .push((id, Zeroizing::new(t.to_owned()), sealed.to_vec()));
            }
            Some(_) => {}
            None => {
                if !out.mismatched.contains(&id) {
                    out.mismatched.push(id.clone());
                }
                if !out.skipped.contains(&id) {
                    out.skipped.push(id);
                }
            }
        }
    }
    out.skipped.retain(|id| !done.contains(id));
    out
}

pub fn import(
    ctx: &Context,
    file: &Path,
    passphrase_file: Option<&Path>,
    from_passphrase_file: Option<&Path>,
    p: &mut Printer,
) -> Result<Outcome> {
    let export = Export::parse(read_export(file)?).map_err(|e| in_file(file, e))?;
    let (local_header, active) = {
        let store = ctx.engine(OpenMode::Existing)?;
        let active: HashMap<String, String> = store
            .records()?
            .into_iter()
            .filter(|r| r.is_active())
            .map(|r| (r.id, r.sha256))
            .collect();
        (store.vault_header()?, active)
    };

    // Authenticate the whole file before anything is kept.
    let (file_vault, this_vault) = match &local_header {
        // The file's vault comes in as it is, with its own passphrase: the one named for the
        // file if one is, else the usual one. Every passphrase file named is read.
        None => {
            let pass = match from_passphrase_file {
                Some(from) => {
                    let pass = passphrase::from_file(from, Purpose::Unlock)?;
                    if let Some(this) = passphrase_file {
                        let this = passphrase::from_file(this, Purpose::Unlock)?;
                        if this.expose_secret() != pass.expose_secret() {
                            return Err(Error::usage(
                                "this store has no vault, so the file's comes in with its own passphrase: --passphrase-file and --from-passphrase-file name two different ones",
                            ));
                        }
                    }
                    pass
                }
                None => passphrase::read(passphrase_file, Purpose::Unlock)?,
            };
            let file_vault = Vault::unlock(export.header(), &pass).map_err(|e| in_file(file, e))?;
            (file_vault, None)
        }
        Some(header) => {
            let this_pass = passphrase::read(passphrase_file, Purpose::Unlock)?;
            let this_vault = Vault::unlock(header, &this_pass).map_err(in_store)?;
            let file_pass = file_passphrase(file, from_passphrase_file, this_pass)?;
            let file_vault =
                Vault::unlock(export.header(), &file_pass).map_err(|e| in_file(file, e))?;
            (file_vault, Some(this_vault))
        }
    };
    let secrets = export.open(&file_vault).map_err(|e| in_file(file, e))?;
    let sorted = sort(secrets, export.sealed_records(), &active);

    let (header, kept): (&[u8], Vec<(String, Vec<u8>)>) = match (&local_header, &this_vault) {
        // Re-encrypted under this store's vault.
        (Some(header), Some(this_vault)) => (
            header,
            sorted
                .imported
                .iter()
                .map(|(id, secret, _)| (id.clone(), this_vault.seal(id, secret)))
                .collect(),
        ),
        // Adopted as it is: the file's header and its records, sealed as they were.
        _ => (
            export.header(),
            sorted
                .imported
                .iter()
                .map(|(id, _, sealed)| (id.clone(), sealed.clone()))
                .collect(),
        ),
    };
    ctx.engine(OpenMode::Existing)?.write_vault(
        local_header.as_deref(),
        header,
        &kept,
        EventKind::VaultImported,
    )?;
    let imported: Vec<String> = kept.into_iter().map(|(id, _)| id).collect();
    p.vault_imported(file, &imported, &sorted.skipped, &sorted.mismatched);
    Ok(Outcome::Success)
}

/// The export's passphrase: its own file, else the prompt (empty for "the same as this
/// vault's"), else this vault's.
fn file_passphrase(file: &Path, from: Option<&Path>, this: SecretString) -> Result<SecretString> {
    if let Some(path) = from {
        return passphrase::from_file(path, Purpose::Unlock);
    }
    if prompt::interactive() {
        let typed = prompt::secret(&format!(
            "Passphrase of {} (Enter if it is this vault's)",
            file.display()
        ))?;
        if !typed.is_empty() {
            return passphrase::accept(&typed, Purpose::Unlock, "the prompt");
        }
    }
    Ok(this)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_secrets_that_are_their_records_token_are_kept_once() {
        let active: HashMap<String, String> = [
            ("tok_a".to_owned(), TokenHash::of("A").to_hex()),
            ("tok_b".to_owned(), TokenHash::of("B").to_hex()),
            ("tok_c".to_owned(), TokenHash::of("C").to_hex()),
            ("tok_d".to_owned(), TokenHash::of("D").to_hex()),
        ]
        .into();
        let secret = |s: &[u8]| Zeroizing::new(s.to_vec());
        let secrets = vec![
            ("tok_a".to_owned(), secret(b"A")),
            ("tok_a".to_owned(), secret(b"A")),
            ("tok_b".to_owned(), secret(b"not B")),
            ("tok_c".to_owned(), secret(b"wrong")),
            ("tok_c".to_owned(), secret(b"C")),
            ("tok_d".to_owned(), secret(b"\xff\xfe")),
            ("tok_x".to_owned(), secret(b"X")),
        ];
        let sealed: Vec<(String, Vec<u8>)> = secrets
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.clone(), vec![i as u8]))
            .collect();
        let s = sort(
            secrets,
            sealed.iter().map(|(id, b)| (id.as_str(), b.as_slice())),
            &active,
        );
        let ids: Vec<(&str, u8)> = s
            .imported
            .iter()
            .map(|(id, _, sealed)| (id.as_str(), sealed[0]))
            .collect();
        assert_eq!(ids, [("tok_a", 0), ("tok_c", 4)]);
        // tok_c's wrong copy is named though its right one was kept; a secret that is not text
        // is no token.
        assert_eq!(s.mismatched, ["tok_b", "tok_c", "tok_d"]);
        assert_eq!(s.skipped, ["tok_b", "tok_d", "tok_x"]);
    }
}
