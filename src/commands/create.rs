//! `create`: make a token, store its hash, show it once.

use std::io::Write;

use serde::Serialize;

use super::{Context, Outcome, vault};
use crate::cli::CreateArgs;
use crate::error::{Error, Result};
use crate::output;
use crate::prompt;
use crate::record::{clean_name, clean_note};
use crate::store::{Keep, OpenMode, looks_like_id};
use crate::token::Token;

/// `create --json`.
#[derive(Serialize)]
struct Created<'a> {
    id: &'a str,
    name: &'a str,
    token: &'a str,
    hint: &'a str,
    created_at: jiff::Timestamp,
    created_by: &'a str,
}

pub fn run(ctx: &Context, args: CreateArgs, out: &mut impl Write) -> Result<Outcome> {
    let raw_name = match args.name {
        Some(name) => name,
        None if prompt::interactive() => prompt::name()?,
        None => {
            return Err(Error::Usage(
                "a name is required: vbx-tokens create --name NAME".into(),
            ));
        }
    };
    let name = clean_name(&raw_name)?;
    if looks_like_id(&name) {
        return Err(Error::Usage(format!(
            "{name:?} looks like a token id: pick a name that doesn't start with tok_"
        )));
    }
    let note = args.note.as_deref().map(clean_note).transpose()?.flatten();

    // With --keep, unlock the vault first, with the store closed while the passphrase is asked.
    let unlocked = if args.keep {
        let header = vault::require_header(&ctx.open(OpenMode::Existing)?)?;
        let key = vault::unlock(&header, args.passphrase.passphrase_file.as_deref())?;
        Some((header, key))
    } else {
        None
    };

    let token = Token::generate();
    let plaintext = token.expose();
    let seal = unlocked
        .as_ref()
        .map(|(_, key)| move |id: &str| key.seal(id, plaintext));
    let keep = match (&unlocked, &seal) {
        (Some((header, _)), Some(seal)) => Some(Keep { header, seal }),
        _ => None,
    };
    let record = ctx
        .open(OpenMode::Create)?
        .create(&token, &name, note, keep)?;
    // The record is durable and the store closed; only from here may the token be shown.

    if ctx.json {
        let created = Created {
            id: &record.id,
            name: &record.name,
            token: token.expose(),
            hint: &record.hint,
            created_at: record.created_at,
            created_by: &record.created_by,
        };
        output::json(out, &created)?;
    } else if args.quiet {
        writeln!(out, "{}", token.expose())?;
    } else {
        eprintln!("Created token {:?} (id {}).", record.name, record.id);
        writeln!(out, "{}", token.expose())?;
        eprintln!("Copy this token now: it will not be shown again.");
    }
    Ok(Outcome::Success)
}
