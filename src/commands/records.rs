//! `export` and `import`: token records as NDJSON, to move tokens between stores and systems.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::Context;
use crate::error::{Error, Result, reason};
use crate::lines::{BoundedLines, Line};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::progress::Progress;
use crate::store::{BULK_CACHE_BYTES, OpenMode, Store, current_user};
use crate::time::Time;
use crate::transfer::{self, ImportRules};

/// The longest import line, in bytes: a record with a full note and room to spare.
pub const MAX_LINE: usize = 64 * 1024;
/// The most lines one import reads, blank ones included: an endless stdin ends here.
pub const MAX_LINES: usize = 10_000_000;

/// `import FILE|- [--any-format] [--skip-existing]`.
#[derive(Debug, Clone)]
pub struct Import {
    /// The NDJSON file, or `-` for stdin.
    pub file: PathBuf,
    pub any_format: bool,
    pub skip_existing: bool,
}

/// Every record, one JSON line each, with every field (the SHA-256 too, never a token).
pub fn export(ctx: &Context, p: &mut Printer) -> Result<Outcome> {
    let records = ctx.open(OpenMode::Existing)?.records()?;
    let bar = Progress::new(records.len() as u64, "exporting");
    for (n, record) in records.iter().enumerate() {
        p.exported_record(record);
        if p.output_failed() {
            break;
        }
        if n % 1024 == 0 {
            bar.set(n as u64);
        }
    }
    bar.finish();
    Ok(Outcome::Success)
}

/// Reads every line, checks every line, then commits all of them. An empty input imports
/// nothing and succeeds, so `export | import` is the identity for an empty store too.
pub fn import(ctx: &Context, req: Import, p: &mut Printer) -> Result<Outcome> {
    let source = source_name(&req.file);
    let reader: Box<dyn BufRead> = if req.file.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        let file = File::open(&req.file).map_err(|e| Error::unreadable("", &req.file, &e))?;
        Box::new(BufReader::new(file))
    };
    let rules = ImportRules {
        any_format: req.any_format,
    };
    let now = Time::now();
    let actor = current_user();
    let mut incoming = Vec::new();
    let mut ids = HashSet::new();
    let mut lines = BoundedLines::new(reader, MAX_LINE);
    loop {
        let next = lines
            .next_line()
            .map_err(|e| Error::usage(format!("cannot read {source}: {}", reason(&e))))?;
        let Some((line_no, line)) = next else { break };
        let fail =
            |why: String| Error::usage(format!("line {line_no}: {why}; nothing was imported"));
        if line_no > MAX_LINES {
            return Err(fail(format!(
                "an import holds at most {MAX_LINES} lines: split the input"
            )));
        }
        let bytes = match line {
            Line::Text(bytes) => bytes,
            Line::TooLong => {
                return Err(fail(format!("longer than {MAX_LINE} bytes")));
            }
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| fail("not valid UTF-8".into()))?;
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() {
            continue;
        }
        let item = transfer::parse_line(line_no, text, rules, now, &actor).map_err(fail)?;
        if item.keeps_id && !ids.insert(item.record.id.clone()) {
            return Err(fail(format!(
                "the id {} appears twice in the input",
                item.record.id
            )));
        }
        incoming.push(item);
    }

    let store =
        Store::open_with_cache(&ctx.store_dir, OpenMode::Create, ctx.wait, BULK_CACHE_BYTES)?;
    let bar = Progress::new(incoming.len() as u64, "importing");
    let report = match store.import(&incoming, req.skip_existing, &|n| bar.set(n)) {
        Ok(report) => report,
        Err(e) => {
            store.discard_if_new();
            return Err(e);
        }
    };
    bar.finish();
    drop(store);
    p.imported(report.imported, report.skipped.len(), &source);
    Ok(Outcome::Success)
}

fn source_name(file: &Path) -> String {
    if file.as_os_str() == "-" {
        "stdin".to_owned()
    } else {
        file.display().to_string()
    }
}
