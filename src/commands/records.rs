//! `export` and `import`: token records as NDJSON, to move tokens between stores and systems.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::Path;

use jiff::Timestamp;

use super::{Context, Outcome};
use crate::error::{Error, Result};
use crate::output;
use crate::progress::Progress;
use crate::store::{BULK_CACHE_BYTES, OpenMode, Store, current_user};
use crate::transfer::{self, ImportRules};

/// Every record, one JSON line each, with every field (the SHA-256 too, never a token).
pub fn export(ctx: &Context, out: &mut impl Write) -> Result<Outcome> {
    let records = ctx.open(OpenMode::Existing)?.records()?;
    let bar = Progress::new(records.len() as u64, "exporting");
    for (n, record) in records.iter().enumerate() {
        output::json_line(out, record)?;
        if n % 1024 == 0 {
            bar.set(n as u64);
        }
    }
    bar.finish();
    Ok(Outcome::Success)
}

pub struct ImportArgs<'a> {
    pub file: &'a Path,
    pub any_format: bool,
    pub skip_existing: bool,
}

/// Reads every line, checks every line, then commits all of them in one transaction.
pub fn import(ctx: &Context, args: ImportArgs<'_>, out: &mut impl Write) -> Result<Outcome> {
    let text = read_input(args.file)?;
    let rules = ImportRules {
        any_format: args.any_format,
    };
    let now = Timestamp::now();
    let actor = current_user();
    let mut incoming = Vec::new();
    let mut ids = HashSet::new();
    for (n, line) in text.split('\n').enumerate() {
        let line_no = n + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let fail =
            |why: String| Error::Usage(format!("line {line_no}: {why}; nothing was imported"));
        let item = transfer::parse_line(line_no, line, rules, now, &actor).map_err(fail)?;
        if item.keeps_id && !ids.insert(item.record.id.clone()) {
            return Err(fail(format!(
                "the id {} appears twice in the input",
                item.record.id
            )));
        }
        incoming.push(item);
    }
    if incoming.is_empty() {
        return Err(Error::Usage(format!(
            "{} holds no records",
            name(args.file)
        )));
    }

    let store =
        Store::open_with_cache(&ctx.store_dir, OpenMode::Create, ctx.wait, BULK_CACHE_BYTES)?;
    let bar = Progress::new(incoming.len() as u64, "importing");
    let report = store.import(&incoming, args.skip_existing, &|n| bar.set(n))?;
    bar.finish();
    drop(store);

    if ctx.json {
        output::json(
            out,
            &serde_json::json!({"imported": report.imported, "skipped": report.skipped.len()}),
        )?;
    } else {
        eprintln!(
            "Imported {} token(s) from {}{}.",
            report.imported,
            name(args.file),
            if report.skipped.is_empty() {
                String::new()
            } else {
                format!("; skipped {} that already exist", report.skipped.len())
            }
        );
    }
    Ok(Outcome::Success)
}

fn name(file: &Path) -> String {
    if file.as_os_str() == "-" {
        "stdin".to_owned()
    } else {
        file.display().to_string()
    }
}

fn read_input(file: &Path) -> Result<String> {
    let mut bytes = Vec::new();
    let read = if file.as_os_str() == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes).map(drop)
    } else {
        std::fs::read(file).map(|b| bytes = b)
    };
    read.map_err(|e| Error::Usage(format!("cannot read {}: {e}", name(file))))?;
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        Error::Usage(format!(
            "line {line}: not valid UTF-8; nothing was imported"
        ))
    })
}
