//! `vault …`: keep chosen secrets under a passphrase.
//!
//! Every command that needs the data key goes through [`unlock`]: the vault header (and
//! whatever else the command needs) is read with the store open, the store is closed while the
//! passphrase is asked and the key derivation runs (a tenth of a second at the defaults), and a
//! change then reopens the store and commits only if the header is still the one unlocked
//! (`Store::write_vault` and `create --keep` check it in their transaction).

mod keys;
mod secrets;
mod transfer;

use crate::engine::Engine;
use std::path::{Path, PathBuf};

use super::Context;
use crate::cli::{KdfArgs, VaultCommand};
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::output::views::VaultStatus;
use crate::passphrase::{self, Purpose};
use crate::store::OpenMode;
use crate::vault::{Header, KdfParams, Vault, VaultError};

/// Argon2id parameters a user asked for; each missing one is taken from the vault (or the
/// defaults).
#[derive(Debug, Clone, Copy, Default)]
pub struct Kdf {
    pub memory_mib: Option<u32>,
    pub iterations: Option<u32>,
    pub parallelism: Option<u32>,
}

impl From<KdfArgs> for Kdf {
    fn from(a: KdfArgs) -> Kdf {
        Kdf {
            memory_mib: a.kdf_memory_mib,
            iterations: a.kdf_iterations,
            parallelism: a.kdf_parallelism,
        }
    }
}

/// The vault subcommands, as plain values.
#[derive(Debug)]
pub enum VaultRequest {
    Init {
        kdf: Kdf,
        passphrase_file: Option<PathBuf>,
    },
    Reveal {
        token: String,
        passphrase_file: Option<PathBuf>,
    },
    Status,
    Passwd {
        new_passphrase_file: Option<PathBuf>,
        kdf: Kdf,
        passphrase_file: Option<PathBuf>,
    },
    Forget {
        token: String,
    },
    Export {
        file: PathBuf,
        passphrase_file: Option<PathBuf>,
    },
    Import {
        file: PathBuf,
        from_passphrase_file: Option<PathBuf>,
        passphrase_file: Option<PathBuf>,
    },
}

impl From<VaultCommand> for VaultRequest {
    fn from(c: VaultCommand) -> VaultRequest {
        match c {
            VaultCommand::Init { kdf, passphrase } => VaultRequest::Init {
                kdf: kdf.into(),
                passphrase_file: passphrase.passphrase_file,
            },
            VaultCommand::Reveal { token, passphrase } => VaultRequest::Reveal {
                token,
                passphrase_file: passphrase.passphrase_file,
            },
            VaultCommand::Status => VaultRequest::Status,
            VaultCommand::Passwd {
                new_passphrase_file,
                kdf,
                passphrase,
            } => VaultRequest::Passwd {
                new_passphrase_file,
                kdf: kdf.into(),
                passphrase_file: passphrase.passphrase_file,
            },
            VaultCommand::Forget { token } => VaultRequest::Forget { token },
            VaultCommand::Export { file, passphrase } => VaultRequest::Export {
                file,
                passphrase_file: passphrase.passphrase_file,
            },
            VaultCommand::Import {
                file,
                from_passphrase_file,
                passphrase,
            } => VaultRequest::Import {
                file,
                from_passphrase_file,
                passphrase_file: passphrase.passphrase_file,
            },
        }
    }
}

pub fn run(ctx: &Context, req: VaultRequest, p: &mut Printer) -> Result<Outcome> {
    match req {
        VaultRequest::Init {
            kdf,
            passphrase_file,
        } => keys::init(ctx, kdf, passphrase_file.as_deref(), p),
        VaultRequest::Reveal {
            token,
            passphrase_file,
        } => secrets::reveal(ctx, &token, passphrase_file.as_deref(), p),
        VaultRequest::Status => secrets::status(ctx, p),
        VaultRequest::Passwd {
            new_passphrase_file,
            kdf,
            passphrase_file,
        } => keys::passwd(
            ctx,
            kdf,
            passphrase_file.as_deref(),
            new_passphrase_file.as_deref(),
            p,
        ),
        VaultRequest::Forget { token } => secrets::forget(ctx, &token, p),
        VaultRequest::Export {
            file,
            passphrase_file,
        } => transfer::export(ctx, &file, passphrase_file.as_deref(), p),
        VaultRequest::Import {
            file,
            from_passphrase_file,
            passphrase_file,
        } => transfer::import(
            ctx,
            &file,
            passphrase_file.as_deref(),
            from_passphrase_file.as_deref(),
            p,
        ),
    }
}

/// A vault unlocked with the store closed, and the header it was unlocked from: a change
/// commits only while the store's header is still this one.
pub struct Unlocked {
    pub header: Vec<u8>,
    pub vault: Vault,
}

/// Reads the vault header, and whatever `read` gathers, with the store open; then closes the
/// store, reads the passphrase and unlocks.
///
/// # Errors
/// [`Error::NoStore`]; [`Error::Vault`] when there is no vault or the passphrase is wrong;
/// the store's own errors; a damaged header is a damaged store.
pub fn unlock<T>(
    ctx: &Context,
    passphrase_file: Option<&Path>,
    read: impl FnOnce(&dyn Engine) -> Result<T>,
) -> Result<(Unlocked, T)> {
    let (header, gathered) = {
        let store = ctx.engine(OpenMode::Existing)?;
        let header = store.vault_header()?.ok_or_else(no_vault)?;
        let gathered = read(&*store)?;
        (header, gathered)
    };
    let pass = passphrase::read(passphrase_file, Purpose::Unlock)?;
    let vault = Vault::unlock(&header, &pass).map_err(in_store)?;
    Ok((Unlocked { header, vault }, gathered))
}

pub fn no_vault() -> Error {
    Error::vault("this store has no vault: run `vbx-tokens vault init` first")
}

/// A vault error about the store's own vault: damage there is the store's (exit 6).
pub fn in_store(e: VaultError) -> Error {
    match e {
        VaultError::WrongPassphrase => Error::vault("wrong passphrase"),
        VaultError::Malformed(what) | VaultError::Unauthentic(what) => Error::store(format!(
            "the store's vault is damaged: {what}; restore it from a backup or a vault export"
        )),
        VaultError::BadParams(what) => Error::usage(what),
    }
}

/// A vault error about a file the user named: not an export at all (exit 2), or one that does
/// not authenticate (exit 4). Nothing was changed.
pub fn in_file(file: &Path, e: VaultError) -> Error {
    let file = file.display();
    match e {
        VaultError::WrongPassphrase => {
            Error::vault(format!("wrong passphrase for {file}; nothing was imported"))
        }
        VaultError::Malformed(what) => Error::usage(format!(
            "{file} is not a vbx-tokens vault export ({what}); nothing was imported"
        )),
        VaultError::Unauthentic(what) => Error::vault(format!(
            "{file} does not authenticate ({what}): it was changed, or is another vault's; nothing was imported"
        )),
        VaultError::BadParams(what) => Error::usage(what),
    }
}

/// What `vault status` and friends report of a vault.
pub fn status_of(header: Option<&Header>, kept: usize) -> VaultStatus {
    VaultStatus {
        vault: header.map(|h| (h.vault_id_hex(), h.kdf)),
        kept,
    }
}

/// Parameters from the flags, each missing one taken from `base`.
fn kdf_params(kdf: Kdf, base: KdfParams) -> Result<KdfParams> {
    if kdf.memory_mib.is_none() && kdf.iterations.is_none() && kdf.parallelism.is_none() {
        return Ok(base);
    }
    KdfParams::chosen(
        kdf.memory_mib.unwrap_or(base.memory_kib / 1024),
        kdf.iterations.unwrap_or(base.iterations),
        kdf.parallelism.unwrap_or(base.parallelism),
    )
    .map_err(in_store)
}
