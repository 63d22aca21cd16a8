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
    let reader: Box<dyn BufRead + Send> = if req.file.as_os_str() == "-" {
        // Typed lines would be imported only at end of input, with nothing said meanwhile:
        // as `import /dev/tty` is, a terminal is refused rather than waited on in silence.
        if io::IsTerminal::is_terminal(&io::stdin()) {
            return Err(Error::usage(
                "nothing to import: stdin is a terminal; pipe NDJSON in (`vbx-tokens export | vbx-tokens --store DIR import -`) or name a file",
            ));
        }
        // Not locked: the lines are read on a thread of their own (`stream`).
        Box::new(BufReader::new(io::stdin()))
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

/// How many checked lines may wait for the store: enough to keep the reader busy while the
/// store writes a batch (the PostgreSQL importer's is 10,000), in a few MiB.
const PARSED_AHEAD: usize = 16_384;

/// Reads, checks and adds every line; the import is undone by the importer if one fails.
/// Lines are read and checked on a thread of their own, while the store takes those before
/// them: on two cores an import costs about the slower of the two, not their sum (100k lines
/// into PostgreSQL: the checks are a third of it). They reach the importer in order, and the
/// first line that fails ends both.
fn stream(
    store: &dyn Engine,
    reader: Box<dyn BufRead + Send>,
    source: &str,
    rules: ImportRules,
    now: Time,
    actor: &str,
    skip_existing: bool,
) -> Result<crate::store::ImportReport> {
    let mut importer = store.begin_import(skip_existing)?;
    let bar = Progress::spinner("importing");
    let (send, checked) = std::sync::mpsc::sync_channel::<Result<transfer::Incoming>>(PARSED_AHEAD);
    let (source_owned, actor_owned) = (source.to_owned(), actor.to_owned());
    // Not joined when the store fails: the reader may be waiting on a pipe that stays open,
    // and the command ends without it.
    let reader_thread = std::thread::spawn(move || {
        let mut lines = BoundedLines::new(reader, MAX_LINE);
        loop {
            let item = read_one(&mut lines, &source_owned, rules, now, &actor_owned).transpose();
            let Some(item) = item else { return };
            let failed = item.is_err();
            // A closed channel: the store failed, and nothing more is wanted.
            if send.send(item).is_err() || failed {
                return;
            }
        }
    });
    for item in checked {
        let item = item?;
        let line_no = item.line;
        importer.add(item)?;
        if line_no.is_multiple_of(1024) {
            bar.set(importer.accepted() as u64);
        }
    }
    // The end of the lines, or of a reader that panicked: only the first is the whole input.
    reader_thread
        .join()
        .map_err(|_| Error::internal("the import's reader stopped; nothing was imported"))?;
    let report = importer.finish()?;
    bar.finish();
    Ok(report)
}

/// The next line of `lines` that holds something, checked; `None` at the end of the input.
fn read_one<R: BufRead>(
    lines: &mut BoundedLines<R>,
    source: &str,
    rules: ImportRules,
    now: Time,
    actor: &str,
) -> Result<Option<transfer::Incoming>> {
    loop {
        let next = lines
            .next_line()
            .map_err(|e| Error::usage(format!("cannot read {source}: {}", reason(&e))))?;
        let Some((line_no, line)) = next else {
            return Ok(None);
        };
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
        return transfer::parse_line(line_no, text, rules, now, actor)
            .map(Some)
            .map_err(fail);
    }
}

fn source_name(file: &Path) -> String {
    if file.as_os_str() == "-" {
        "stdin".to_owned()
    } else {
        file.display().to_string()
    }
}
