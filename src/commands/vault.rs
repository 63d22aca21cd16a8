//! `vault …`: keep chosen secrets under a passphrase.
//!
//! Passphrases are asked for with the store closed, and the key derivation (a tenth of a second
//! at the defaults) runs outside it too; each change then reopens the store and commits only if
//! the vault header is still the one that was unlocked.

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use secrecy::SecretString;
use serde::Serialize;

use super::{Context, Outcome};
use crate::cli::{KdfArgs, VaultCommand};
use crate::error::{Error, Result};
use crate::output;
use crate::passphrase::{self, Purpose};
use crate::prompt;
use crate::record::EventKind;
use crate::store::{OpenMode, Store};
use crate::vault::{DEFAULT_KDF, Export, Header, KdfParams, Vault, VaultError};

pub fn run(ctx: &Context, command: VaultCommand, out: &mut impl Write) -> Result<Outcome> {
    match command {
        VaultCommand::Init { kdf, passphrase } => {
            init(ctx, &kdf, passphrase.passphrase_file.as_deref(), out)
        }
        VaultCommand::Reveal { token, passphrase } => {
            reveal(ctx, &token, passphrase.passphrase_file.as_deref(), out)
        }
        VaultCommand::Status => status(ctx, out),
        VaultCommand::Passwd {
            new_passphrase_file,
            kdf,
            passphrase,
        } => passwd(
            ctx,
            &kdf,
            passphrase.passphrase_file.as_deref(),
            new_passphrase_file.as_deref(),
            out,
        ),
        VaultCommand::Forget { token } => forget(ctx, &token, out),
        VaultCommand::Export { file, passphrase } => {
            export(ctx, &file, passphrase.passphrase_file.as_deref(), out)
        }
        VaultCommand::Import {
            file,
            from_passphrase_file,
            passphrase,
        } => import(
            ctx,
            &file,
            passphrase.passphrase_file.as_deref(),
            from_passphrase_file.as_deref(),
            out,
        ),
    }
}

/// The vault header, or the error that says how to make one.
pub fn require_header(store: &Store) -> Result<Vec<u8>> {
    store.vault_header()?.ok_or_else(|| {
        Error::Vault("this store has no vault: run `vbx-tokens vault init` first".into())
    })
}

/// Unlocks with a passphrase from the usual sources.
pub fn unlock(header: &[u8], passphrase_file: Option<&Path>) -> Result<Vault> {
    let pass = passphrase::read(passphrase_file, Purpose::Unlock)?;
    Ok(Vault::unlock(header, &pass)?)
}

/// Parameters from the flags, each missing one taken from `base`.
fn kdf_params(args: &KdfArgs, base: KdfParams) -> Result<KdfParams> {
    if args.kdf_memory_mib.is_none()
        && args.kdf_iterations.is_none()
        && args.kdf_parallelism.is_none()
    {
        return Ok(base);
    }
    Ok(KdfParams::chosen(
        args.kdf_memory_mib.unwrap_or(base.memory_kib / 1024),
        args.kdf_iterations.unwrap_or(base.iterations),
        args.kdf_parallelism.unwrap_or(base.parallelism),
    )?)
}

fn init(
    ctx: &Context,
    kdf: &KdfArgs,
    passphrase_file: Option<&Path>,
    out: &mut impl Write,
) -> Result<Outcome> {
    let params = kdf_params(kdf, DEFAULT_KDF)?;
    if ctx.open(OpenMode::Create)?.vault_header()?.is_some() {
        return Err(Error::Vault(
            "this store already has a vault: use `vbx-tokens vault passwd` to change its passphrase".into(),
        ));
    }
    let pass = passphrase::read(passphrase_file, Purpose::Choose)?;
    let vault = Vault::create(&pass, params)?;
    let store = ctx.open(OpenMode::Create)?;
    store.write_vault(None, &vault.header().to_bytes(), &[], EventKind::VaultInit)?;
    if ctx.json {
        output::json(out, &StatusView::of(Some(vault.header()), 0))?;
    } else {
        eprintln!(
            "Vault ready ({}). Keep the passphrase safe: without it, kept tokens cannot be revealed.",
            describe(params)
        );
    }
    Ok(Outcome::Success)
}

fn describe(p: KdfParams) -> String {
    format!(
        "Argon2id, {} MiB, {} iterations, {} lanes",
        p.memory_kib / 1024,
        p.iterations,
        p.parallelism
    )
}

#[derive(Serialize)]
struct Revealed<'a> {
    id: &'a str,
    name: &'a str,
    token: &'a str,
}

fn reveal(
    ctx: &Context,
    token: &str,
    passphrase_file: Option<&Path>,
    out: &mut impl Write,
) -> Result<Outcome> {
    let (record, header, sealed) = {
        let store = ctx.open(OpenMode::Existing)?;
        let record = store.resolve(token)?;
        let header = require_header(&store)?;
        let sealed = store.kept(&record.id)?.ok_or_else(|| {
            Error::Vault(format!(
                "{:?} ({}) has no kept secret: only tokens made with `create --keep` do",
                record.name, record.id
            ))
        })?;
        (record, header, sealed)
    };
    let vault = unlock(&header, passphrase_file)?;
    let secret = vault.open(&record.id, &sealed)?;
    // Revealing a secret is worth an audit line; it is written before the secret is shown.
    ctx.open(OpenMode::Existing)?
        .log_event(EventKind::Revealed, Some(&record))?;
    if ctx.json {
        output::json(
            out,
            &Revealed {
                id: &record.id,
                name: &record.name,
                token: &secret,
            },
        )?;
    } else {
        writeln!(out, "{}", &*secret)?;
    }
    Ok(Outcome::Success)
}

/// `vault status --json`.
#[derive(Serialize)]
struct StatusView {
    initialized: bool,
    vault_id: Option<String>,
    kdf: Option<KdfView>,
    kept: usize,
}

#[derive(Serialize)]
struct KdfView {
    algorithm: &'static str,
    version: u32,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl StatusView {
    fn of(header: Option<&Header>, kept: usize) -> StatusView {
        StatusView {
            initialized: header.is_some(),
            vault_id: header.map(Header::vault_id_hex),
            kdf: header.map(|h| KdfView {
                algorithm: "argon2id",
                version: crate::vault::ARGON2_VERSION,
                memory_kib: h.kdf.memory_kib,
                iterations: h.kdf.iterations,
                parallelism: h.kdf.parallelism,
            }),
            kept,
        }
    }
}

fn status(ctx: &Context, out: &mut impl Write) -> Result<Outcome> {
    let (header, kept) = match ctx.open(OpenMode::Existing) {
        Ok(store) => match store.vault_header()? {
            Some(bytes) => (Some(Header::parse(&bytes)?), store.kept_all()?.len()),
            None => (None, 0),
        },
        // No store yet means no vault yet: that is an answer, not an error.
        Err(Error::NoStore(_)) => (None, 0),
        Err(e) => return Err(e),
    };
    if ctx.json {
        output::json(out, &StatusView::of(header.as_ref(), kept))?;
    } else {
        match &header {
            Some(h) => {
                writeln!(out, "vault:  initialised (id {})", h.vault_id_hex())?;
                writeln!(out, "kdf:    {}", describe(h.kdf))?;
                writeln!(out, "kept:   {kept}")?;
            }
            None => writeln!(out, "vault:  not initialised (run `vbx-tokens vault init`)")?,
        }
    }
    Ok(Outcome::Success)
}

fn passwd(
    ctx: &Context,
    kdf: &KdfArgs,
    passphrase_file: Option<&Path>,
    new_passphrase_file: Option<&Path>,
    out: &mut impl Write,
) -> Result<Outcome> {
    let (header, kept) = {
        let store = ctx.open(OpenMode::Existing)?;
        (require_header(&store)?, store.kept_all()?.len())
    };
    let vault = unlock(&header, passphrase_file)?;
    let params = kdf_params(kdf, vault.header().kdf)?;
    let new_pass = match new_passphrase_file {
        Some(path) => passphrase::from_file(path)?,
        None if prompt::interactive() => {
            passphrase::accept(&passphrase::ask("New passphrase", Purpose::Choose)?)?
        }
        None => {
            return Err(Error::Vault(
                "no new passphrase: give it with --new-passphrase-file PATH, or run in a terminal"
                    .into(),
            ));
        }
    };
    let rewrapped = vault.rewrap(&new_pass, params)?;
    let new_header = rewrapped.header().to_bytes();
    ctx.open(OpenMode::Existing)?.write_vault(
        Some(&header),
        &new_header,
        &[],
        EventKind::PassphraseChanged,
    )?;
    if ctx.json {
        output::json(out, &StatusView::of(Some(rewrapped.header()), kept))?;
    } else {
        eprintln!("Passphrase changed ({}).", describe(params));
    }
    Ok(Outcome::Success)
}

fn forget(ctx: &Context, token: &str, out: &mut impl Write) -> Result<Outcome> {
    let store = ctx.open(OpenMode::Existing)?;
    let record = store.resolve(token)?;
    require_header(&store)?;
    let forgotten = store.forget(&record)?;
    drop(store);
    if ctx.json {
        output::json(
            out,
            &serde_json::json!({"id": record.id, "name": record.name, "forgotten": forgotten}),
        )?;
    } else if forgotten {
        eprintln!(
            "Forgot the kept secret of {:?} ({}); the token still works.",
            record.name, record.id
        );
    } else {
        eprintln!("{:?} ({}) had no kept secret.", record.name, record.id);
    }
    Ok(Outcome::Success)
}

fn export(
    ctx: &Context,
    file: &Path,
    passphrase_file: Option<&Path>,
    out: &mut impl Write,
) -> Result<Outcome> {
    let to_stdout = file.as_os_str() == "-";
    if !to_stdout && file.exists() {
        return Err(Error::Usage(format!(
            "{} already exists: remove it or choose another file",
            file.display()
        )));
    }
    let (header, records) = {
        let store = ctx.open(OpenMode::Existing)?;
        (require_header(&store)?, store.kept_all()?)
    };
    let vault = unlock(&header, passphrase_file)?;
    // Export only what opens: a damaged record is found now, not on the day of the restore.
    for (id, sealed) in &records {
        vault.open(id, sealed)?;
    }
    let bytes = vault.export(&records);
    if to_stdout {
        out.write_all(&bytes)?;
    } else {
        write_new_file(file, &bytes)?;
    }
    ctx.open(OpenMode::Existing)?
        .log_event(EventKind::VaultExported, None)?;
    if !to_stdout {
        if ctx.json {
            output::json(
                out,
                &serde_json::json!({"file": file, "kept": records.len()}),
            )?;
        } else {
            eprintln!(
                "Exported {} kept secret(s) to {}, encrypted: the vault passphrase opens it.",
                records.len(),
                file.display()
            );
        }
    }
    Ok(Outcome::Success)
}

/// Writes a new private file and makes it durable before we say it exists.
fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let io_err = |e| Error::io(format!("cannot write {}", path.display()), e);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_err)?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io_err)
}

fn import(
    ctx: &Context,
    file: &Path,
    passphrase_file: Option<&Path>,
    from_passphrase_file: Option<&Path>,
    out: &mut impl Write,
) -> Result<Outcome> {
    let bytes = std::fs::read(file)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", file.display())))?;
    let export = Export::parse(bytes).map_err(|e| in_file(file, e))?;
    let (local_header, active) = {
        let store = ctx.open(OpenMode::Existing)?;
        let active: HashSet<String> = store
            .records()?
            .into_iter()
            .filter(|r| r.is_active())
            .map(|r| r.id)
            .collect();
        (store.vault_header()?, active)
    };

    // Authenticate the whole file before anything is kept.
    let (file_vault, this_vault) = match &local_header {
        None => {
            let pass = passphrase::read(passphrase_file, Purpose::Unlock)?;
            (
                Vault::unlock(export.header(), &pass).map_err(|e| in_file(file, e))?,
                None,
            )
        }
        Some(header) => {
            let this_pass = passphrase::read(passphrase_file, Purpose::Unlock)?;
            let this_vault = Vault::unlock(header, &this_pass)?;
            let file_pass = file_passphrase(file, from_passphrase_file, this_pass)?;
            let file_vault =
                Vault::unlock(export.header(), &file_pass).map_err(|e| in_file(file, e))?;
            (file_vault, Some(this_vault))
        }
    };
    let secrets = export.open(&file_vault).map_err(|e| in_file(file, e))?;

    let (wanted, skipped): (Vec<_>, Vec<_>) =
        secrets.into_iter().partition(|(id, _)| active.contains(id));
    let imported: Vec<String> = wanted.iter().map(|(id, _)| id.clone()).collect();
    let skipped: Vec<String> = skipped.into_iter().map(|(id, _)| id).collect();
    let store = ctx.open(OpenMode::Existing)?;
    match (&local_header, &this_vault) {
        (Some(header), Some(this_vault)) => {
            let kept: Vec<(String, Vec<u8>)> = wanted
                .iter()
                .map(|(id, secret)| (id.clone(), this_vault.seal(id, secret)))
                .collect();
            store.write_vault(Some(header), header, &kept, EventKind::VaultImported)?;
        }
        _ => {
            // Adopted as it is: the file's header and its records, sealed as they were.
            let kept: Vec<(String, Vec<u8>)> = export
                .sealed_records()
                .iter()
                .filter(|(id, _)| active.contains(id))
                .cloned()
                .collect();
            store.write_vault(None, export.header(), &kept, EventKind::VaultImported)?;
        }
    }
    drop(store);

    if ctx.json {
        output::json(
            out,
            &serde_json::json!({"imported": imported, "skipped": skipped}),
        )?;
    } else {
        eprintln!(
            "Imported {} kept secret(s) from {}.",
            imported.len(),
            file.display()
        );
        if !skipped.is_empty() {
            eprintln!(
                "Skipped {} with no active token of that id here: {}",
                skipped.len(),
                skipped.join(", ")
            );
        }
    }
    Ok(Outcome::Success)
}

/// The export's passphrase: its own file, else the prompt (empty for "the same as this
/// vault's"), else this vault's.
fn file_passphrase(file: &Path, from: Option<&Path>, this: SecretString) -> Result<SecretString> {
    if let Some(path) = from {
        return passphrase::from_file(path);
    }
    if prompt::interactive() {
        let typed = prompt::secret(&format!(
            "Passphrase of {} (Enter if it is this vault's)",
            file.display()
        ))?;
        if !typed.is_empty() {
            return passphrase::accept(&typed);
        }
    }
    Ok(this)
}

/// Names the file in a vault error about it.
fn in_file(file: &Path, e: VaultError) -> Error {
    match e {
        VaultError::WrongPassphrase => {
            Error::Vault(format!("wrong passphrase for {}", file.display()))
        }
        VaultError::Damaged(what) => Error::Store(format!(
            "{}: vault damaged: {what}; nothing was imported",
            file.display()
        )),
        other => other.into(),
    }
}
