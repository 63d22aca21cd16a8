//! `create`: make a token, store its hash, show it once.

use std::io::Write;

use serde::Serialize;

use super::{Context, Outcome};
use crate::cli::CreateArgs;
use crate::error::{Error, Result};
use crate::output;
use crate::prompt;
use crate::record::{clean_name, clean_note};
use crate::store::{OpenMode, looks_like_id};
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

    let store = ctx.open(OpenMode::Create)?;
    let token = Token::generate();
    let record = store.create(&token, &name, note)?;
    // The record is durable now; only from here may the token be shown.
    drop(store);

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
