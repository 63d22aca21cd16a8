//! `export` and `import`: token records as NDJSON, to move tokens between stores and systems.

use crate::engine::{Engine, Tokens as _};
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
use vbx_tokens::location::Location;

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

/// Every record, one JSON line each, with every field (the SHA-256 too, never a token),
/// streamed oldest first.
pub fn export(ctx: &Context, p: &mut Printer) -> Result<Outcome> {
    let store = ctx.engine(OpenMode::Records)?;
    // A store put back from an older copy exports the uses verify counts, not the fewer it
    // recorded: imported elsewhere, a spent token must stay spent.
    let witness = super::witness::Witness::of(&*store);
    let bar = Progress::spinner("exporting");
    let mut n = 0u64;
    store.each_record(|mut record| {
        let _ = witness.raise(&mut record);
        p.exported_record(&record);
        n += 1;
        if n.is_multiple_of(1024) {
            bar.set(n);
        }
        Ok(!p.output_failed())
    })?;
    bar.finish();
    Ok(Outcome::Success)
}

/// Reads every line, checks every line, then commits all of them. An empty input imports
/// nothing and succeeds, so `export | import` is the identity for an empty store too.
pub fn import(ctx: &Context, req: Import, p: &mut Printer) -> Result<Outcome> {
    let source = source_name(&req.file);
    let reader: Box<dyn BufRead> = if req.file.as_os_str() == "-" {
        // Typed lines would be imported only at end of input, with nothing said meanwhile:
        // as `import /dev/tty` is, a terminal is refused rather than waited on in silence.
        if io::IsTerminal::is_terminal(&io::stdin()) {
            return Err(Error::usage(
                "nothing to import: stdin is a terminal; pipe NDJSON in (`vbx-tokens export | vbx-tokens --store DIR import -`) or name a file",
            ));
        }
        Box::new(io::stdin().lock())
    } else {
        let file = super::files::open_input(&req.file)
            .map_err(|e| Error::unreadable("", &req.file, &e))?;
        Box::new(BufReader::new(file))
    };
    let rules = ImportRules {
        any_format: req.any_format,
    };
    let now = Time::now();
    let actor = current_user();
    // The store is opened first and the input streamed into it: pending records are checked
    // against the store as they come, and undone if any line fails.
    let store: Box<dyn Engine> = match &ctx.location {
        // A bigger cache for the bulk of it.
        Location::Dir(dir) => Box::new(Store::open_with_cache(
            dir,
            OpenMode::Create,
            ctx.wait,
            BULK_CACHE_BYTES,
        )?),
        Location::Postgres(_) => ctx.engine(OpenMode::Create)?,
    };
    let report = match stream(
        &*store,
        reader,
        &source,
        rules,
        now,
        &actor,
        req.skip_existing,
    ) {
        Ok(report) => report,
        Err(e) => {
            store.discard_if_new();
            return Err(e);
        }
    };
    drop(store);
    p.imported(report.imported, report.skipped.len(), &source);
    Ok(Outcome::Success)
}

/// Reads, checks and adds every line; the import is undone by the importer if one fails.
fn stream(
    store: &dyn Engine,
    reader: Box<dyn BufRead + '_>,
    source: &str,
    rules: ImportRules,
    now: Time,
    actor: &str,
    skip_existing: bool,
) -> Result<crate::store::ImportReport> {
    let mut importer = store.begin_import(skip_existing)?;
    let bar = Progress::spinner("importing");
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
            Line::TooLong => return Err(fail(format!("longer than {MAX_LINE} bytes"))),
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| fail("not valid UTF-8".into()))?;
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() {
            continue;
        }
        let item = transfer::parse_line(line_no, text, rules, now, actor).map_err(fail)?;
        importer.add(item)?;
        if line_no.is_multiple_of(1024) {
            bar.set(importer.accepted() as u64);
        }
    }
    let report = importer.finish()?;
    bar.finish();
    Ok(report)
}

fn source_name(file: &Path) -> String {
    if file.as_os_str() == "-" {
        "stdin".to_owned()
    } else {
        file.display().to_string()
    }
}
