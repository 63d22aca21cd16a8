//! `scan [PATH...]`: find tokens in files, directory trees or stdin, and say which still work.
//! The walk is the `ignore` crate's (ripgrep's), in parallel; the only module that uses it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use ignore::{WalkBuilder, WalkState};

use super::Context;
use crate::error::{Error, Result, reason};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::output::views::{ScanFinding, ScanSummary};
use crate::progress::Progress;
use crate::scan::{Searched, find_tokens};
use crate::token::{self, Token, TokenHash};
use crate::verifier::{Known, Reading, Verifier};

/// The path stdin is reported under, and may be named by.
const STDIN: &str = "-";

/// `scan [--hidden] [--no-ignore] [PATH...]`.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Files and directories; empty means stdin.
    pub paths: Vec<PathBuf>,
    /// Search hidden files and directories too.
    pub hidden: bool,
    /// Search what .gitignore, .ignore and git's excludes leave out.
    pub no_ignore: bool,
}

/// A token where it was found, before it is looked up.
struct Raw {
    path: PathBuf,
    line: u64,
    column: u64,
    token: Token,
}

/// What the searching threads report to the one that prints.
enum Event {
    Found(Raw),
    /// A file searched.
    Searched,
    /// A file met in a walk that looks binary, and was not searched.
    Binary,
    /// A file or directory that could not be read, said in a line.
    Unreadable(String),
}

/// Finds, looks up and reports. Exit 1 when a token still verifies (or, with no store, when any
/// is found: nothing shows it dead); else exit 2 when a file could not be read, since the answer
/// is incomplete (as ripgrep exits 2 on errors); else 0.
///
/// # Errors
/// [`Error::Usage`] for a path that does not exist, or stdin to read that is a terminal; the
/// store's errors (a damaged or busy store), but not its absence.
pub fn run(ctx: &Context, req: Scan, p: &mut Printer) -> Result<Outcome> {
    let mut paths = req.paths.clone();
    if paths.is_empty() {
        if io::stdin().is_terminal() {
            return Err(Error::usage(
                "nothing to scan: name files or directories (`vbx-tokens scan .`), or pipe text in",
            ));
        }
        paths.push(PathBuf::from(STDIN));
    }
    // Checked before anything is searched: a typo in a path is a usage error, not a clean scan.
    for path in paths.iter().filter(|p| p.as_os_str() != STDIN) {
        if let Err(e) = std::fs::metadata(path) {
            return Err(Error::unreadable("", path, &e));
        }
    }
    let mut verifier = match Verifier::with(&ctx.store_dir, Reading::Memory, ctx.wait) {
        Ok(v) => Some(v),
        Err(Error::NoStore(_)) => {
            p.no_store(
                &ctx.store_dir,
                "every token found is reported as unknown, and any makes the exit status 1",
            );
            None
        }
        Err(e) => return Err(e),
    };

    let progress = Progress::spinner("files searched");
    let mut raws = Vec::new();
    let mut summary = ScanSummary {
        no_store: verifier.is_none().then(|| ctx.store_dir.clone()),
        ..ScanSummary::default()
    };
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        let walk_paths: Vec<&PathBuf> = paths.iter().filter(|p| p.as_os_str() != STDIN).collect();
        let reads_stdin = walk_paths.len() < paths.len();
        if !walk_paths.is_empty() {
            let walk_tx = tx.clone();
            s.spawn(move || walk(&walk_paths, &req, &walk_tx));
        }
        if reads_stdin {
            let stdin_tx = tx.clone();
            // What is piped in is searched whatever it holds: it was given on purpose.
            s.spawn(move || search(Path::new(STDIN), io::stdin().lock(), false, &stdin_tx));
        }
        // The loop ends when every searcher is done and has dropped its sender.
        drop(tx);
        for event in rx {
            match event {
                Event::Found(raw) => raws.push(raw),
                Event::Searched => {
                    summary.files_searched += 1;
                    progress.set(summary.files_searched as u64);
                }
                Event::Binary => summary.binary_skipped += 1,
                Event::Unreadable(what) => {
                    summary.unreadable += 1;
                    progress.suspend(|| p.scan_unreadable(&what));
                }
            }
        }
    });
    progress.finish();

    // The walk is parallel; the report is not.
    raws.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    let mut known: HashMap<TokenHash, Option<Known>> = HashMap::new();
    let mut findings = Vec::with_capacity(raws.len());
    let mut files_with: Vec<&Path> = Vec::new();
    for raw in &raws {
        let hash = raw.token.hash();
        let k = match known.get(&hash) {
            Some(k) => k.clone(),
            None => {
                let k = match verifier.as_mut() {
                    Some(v) => v.inspect(raw.token.expose())?,
                    None => None,
                };
                known.insert(hash, k.clone());
                k
            }
        };
        if files_with.last() != Some(&raw.path.as_path()) {
            files_with.push(&raw.path);
        }
        summary.live += usize::from(k.as_ref().is_some_and(|k| k.live));
        findings.push(ScanFinding {
            path: token::mask_tokens(&raw.path.to_string_lossy()).into_owned(),
            line: raw.line,
            column: raw.column,
            id: k.as_ref().map(|k| k.id.clone()),
            name: k.as_ref().map(|k| k.name.clone()),
            status: k.as_ref().map_or("unknown", |k| k.state.as_str()),
            token: token::mask(raw.token.expose()),
        });
    }
    summary.found = findings.len();
    summary.files_with = files_with.len();
    p.scan_findings(&findings);
    p.scan_summary(&summary);

    if summary.live > 0 || (summary.no_store.is_some() && summary.found > 0) {
        Ok(Outcome::Invalid)
    } else if summary.unreadable > 0 {
        Err(Error::usage(format!(
            "the scan is incomplete: {} file(s) could not be read (named above)",
            summary.unreadable
        )))
    } else {
        Ok(Outcome::Success)
    }
}

/// Walks `paths` in parallel as ripgrep does, searching every file.
fn walk(paths: &[&PathBuf], req: &Scan, tx: &mpsc::Sender<Event>) {
    let mut builder = WalkBuilder::new(paths[0]);
    for path in &paths[1..] {
        builder.add(path);
    }
    let obey = !req.no_ignore;
    builder
        .hidden(!req.hidden)
        .parents(obey)
        .ignore(obey)
        .git_ignore(obey)
        .git_global(obey)
        .git_exclude(obey)
        // As many threads as the machine has.
        .threads(0);
    builder.build_parallel().run(|| {
        let tx = tx.clone();
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let _ = tx.send(Event::Unreadable(e.to_string()));
                    return WalkState::Continue;
                }
            };
            // A file, or a path named on the command line that is no directory (a symlink to
            // a file, a FIFO): symlinks met in the walk are not followed, as in ripgrep.
            let named = entry.depth() == 0 && !entry.path().is_dir();
            if entry.file_type().is_some_and(|t| t.is_file()) || named {
                match File::open(entry.path()) {
                    // A file named on the command line is searched even if it looks binary, as
                    // ripgrep does; one met in the walk is skipped.
                    Ok(file) => search(entry.path(), file, !named, &tx),
                    Err(e) => {
                        let _ = tx.send(unreadable(entry.path(), &e));
                    }
                }
            }
            WalkState::Continue
        })
    });
}

/// Searches one stream, sending what it finds.
fn search(path: &Path, reader: impl io::Read, skip_binary: bool, tx: &mpsc::Sender<Event>) {
    let result = find_tokens(reader, skip_binary, |o| {
        let _ = tx.send(Event::Found(Raw {
            path: path.to_owned(),
            line: o.line,
            column: o.column,
            token: o.token,
        }));
    });
    let _ = tx.send(match result {
        Ok(Searched::Text) => Event::Searched,
        Ok(Searched::Binary) => Event::Binary,
        Err(e) => unreadable(path, &e),
    });
}

fn unreadable(path: &Path, e: &io::Error) -> Event {
    Event::Unreadable(format!("cannot read {}: {}", path.display(), reason(e)))
}
