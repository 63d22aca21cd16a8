//! `scan [PATH...]`: find tokens in files, directory trees or stdin, and say which still work.
//! The walk is the `ignore` crate's (ripgrep's), in parallel; the only module that uses it.
//! Only regular files are read in a walk; every input is read to a size cap at most.

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
use crate::scan::{Capped, Searched, find_tokens, show_size};
use crate::token::{self, Token, TokenHash};
use crate::verifier::{Known, Reading, Verifier};

mod staged;

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
    /// Search the blobs git's index holds for the files a commit would add or change, instead
    /// of `paths` (empty then).
    pub staged: bool,
    /// The most read of any one input ([`crate::scan::DEFAULT_MAX_SIZE`] unless said).
    pub max_size: u64,
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
/// [`Error::Usage`] for a path that does not exist, stdin to read that is a terminal, or
/// `--staged` outside a git work tree; the store's errors (a damaged or busy store), but not
/// its absence.
pub fn run(ctx: &Context, req: Scan, p: &mut Printer) -> Result<Outcome> {
    let mut paths = req.paths.clone();
    let blobs = if req.staged {
        staged::list()?
    } else {
        Vec::new()
    };
    if paths.is_empty() && !req.staged {
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
    let (mut verifier, missing) = match Verifier::at(&ctx.location, Reading::Memory, ctx.wait) {
        Ok(v) => (Some(v), None),
        Err(Error::NoStore(at)) => {
            p.no_store(
                &at,
                "every token found is reported as unknown, and any makes the exit status 1",
            );
            (None, Some(at))
        }
        Err(e) => return Err(e),
    };

    let progress = Progress::spinner("files searched");
    let mut raws = Vec::new();
    let mut summary = ScanSummary {
        no_store: missing,
        ..ScanSummary::default()
    };
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        let walk_paths: Vec<&PathBuf> = paths.iter().filter(|p| p.as_os_str() != STDIN).collect();
        let reads_stdin = walk_paths.len() < paths.len();
        let max = req.max_size;
        if !walk_paths.is_empty() {
            let walk_tx = tx.clone();
            s.spawn(move || walk(&walk_paths, &req, &walk_tx));
        }
        if reads_stdin {
            let stdin_tx = tx.clone();
            // What is piped in is searched whatever it holds: it was given on purpose.
            s.spawn(move || {
                search(Path::new(STDIN), io::stdin().lock(), false, max, &stdin_tx);
            });
        }
        if !blobs.is_empty() {
            let staged_tx = tx.clone();
            s.spawn(move || staged::search_all(&blobs, max, &staged_tx));
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
    let live = summary.live > 0 || (summary.no_store.is_some() && summary.found > 0);
    if !live && summary.unreadable > 0 {
        // The summary is the error's line: one line for the verdict, after one per file.
        let said = Printer::scan_summary_line(&summary).replacen("No tokens", "no tokens", 1);
        return Err(Error::usage(format!(
            "the scan is incomplete (what could not be read is named above): {}",
            said.strip_suffix('.').unwrap_or(&said)
        )));
    }
    p.scan_summary(&summary);
    Ok(if live {
        Outcome::Invalid
    } else {
        Outcome::Success
    })
}

/// Walks `paths` in parallel as ripgrep does, searching every regular file.
fn walk(paths: &[&PathBuf], req: &Scan, tx: &mpsc::Sender<Event>) {
    let obey = !req.no_ignore;
    // The walker reads the ignore files of every directory it enters and of those above a
    // named one, whole and following links: one that is a FIFO, a device or huge would stop
    // the walk for ever. Such a directory is not searched (and says so), since its rules are
    // unknown.
    let paths: Vec<&PathBuf> = paths
        .iter()
        .copied()
        .filter(|path| {
            !obey || {
                let bad = bad_ignore_file_above(path, req.max_size);
                if let Some(why) = &bad {
                    let _ = tx.send(Event::Unreadable(why.clone()));
                }
                bad.is_none()
            }
        })
        .collect();
    let Some((first, rest)) = paths.split_first() else {
        return;
    };
    let mut builder = WalkBuilder::new(first);
    for path in rest {
        builder.add(path);
    }
    if obey {
        let filter_tx = tx.clone();
        let max = req.max_size;
        builder.filter_entry(move |entry| {
            if !entry.file_type().is_some_and(|t| t.is_dir()) {
                return true;
            }
            match bad_ignore_file(entry.path(), max) {
                None => true,
                Some(why) => {
                    let _ = filter_tx.send(Event::Unreadable(why));
                    false
                }
            }
        });
    }
    builder
        .hidden(!req.hidden)
        .parents(obey)
        .ignore(obey)
        .git_ignore(obey)
        .git_global(obey)
        .git_exclude(obey)
        // As many threads as the machine has.
        .threads(0);
    let max = req.max_size;
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
            // A regular file, or a path named on the command line that is no directory (a
            // symlink to a file, a FIFO, a device): symlinks, FIFOs, devices and sockets met in
            // the walk are not read (the type is the entry's own: links are not followed).
            let named = entry.depth() == 0 && !entry.path().is_dir();
            if entry.file_type().is_some_and(|t| t.is_file()) || named {
                match open(entry.path(), named) {
                    // A file named on the command line is searched even if it looks binary, as
                    // ripgrep does; one met in the walk is skipped.
                    Ok(Some(file)) => search(entry.path(), file, !named, max, &tx),
                    // No longer a regular file since the directory was read: skipped too.
                    Ok(None) => {}
                    Err(e) => {
                        let _ = tx.send(unreadable(entry.path(), &e));
                    }
                }
            }
            WalkState::Continue
        })
    });
}

/// Opens `path` to search it without waiting: a FIFO with no writer, or a device, must not
/// block the open. A regular file is read as it is. Anything else is `None` when met in a walk;
/// when `named` on the command line, a pipe or a device is read like stdin (to the size cap),
/// and a terminal is refused, since nothing would end its input.
fn open(path: &Path, named: bool) -> io::Result<Option<File>> {
    if named {
        return super::files::open_input(path).map(Some);
    }
    let file = super::files::open_nonblocking(path)?;
    Ok(file.metadata()?.file_type().is_file().then_some(file))
}

/// The first ignore file the walker would read in `dir` that it must not: one that is no
/// regular file once links are followed (a FIFO would block the walk, `/dev/zero` would never
/// end), or larger than `max` (it is read whole); said in a line.
fn bad_ignore_file(dir: &Path, max: u64) -> Option<String> {
    let git = dir.join(".git");
    let mut candidates = vec![dir.join(".ignore"), dir.join(".gitignore")];
    match std::fs::metadata(&git) {
        // A work tree's `.git`: its exclude file.
        Ok(m) if m.is_dir() => candidates.push(git.join("info").join("exclude")),
        // A linked work tree or submodule: `.git` is a file naming the real one.
        Ok(_) => candidates.push(git),
        Err(_) => {}
    }
    candidates.into_iter().find_map(|path| {
        let meta = std::fs::metadata(&path).ok()?;
        let what = if !meta.is_file() {
            "not a regular file".to_owned()
        } else if meta.len() > max {
            format!("larger than {}, the size cap", show_size(max))
        } else {
            return None;
        };
        Some(format!(
            "cannot read {}: {what}, so {} was not searched",
            path.display(),
            dir.display()
        ))
    })
}

/// [`bad_ignore_file`] of a named directory or of any directory above it (whose rules apply).
fn bad_ignore_file_above(path: &Path, max: u64) -> Option<String> {
    if !path.is_dir() {
        return None;
    }
    let full = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    full.ancestors().find_map(|dir| {
        bad_ignore_file(dir, max).map(|why| {
            if dir == full {
                why
            } else {
                format!("{why}, nor {} below it", path.display())
            }
        })
    })
}

/// Searches one stream, sending what it finds: at most `max` bytes of it.
fn search(
    path: &Path,
    reader: impl io::Read,
    skip_binary: bool,
    max: u64,
    tx: &mpsc::Sender<Event>,
) {
    let result = find_tokens(Capped::new(reader, max), skip_binary, |o| {
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
        Err(e) if e.kind() == io::ErrorKind::FileTooLarge => Event::Unreadable(format!(
            "cannot read {} past {}, the size cap (--max-size raises it)",
            path.display(),
            show_size(max)
        )),
        Err(e) => unreadable(path, &e),
    });
}

fn unreadable(path: &Path, e: &io::Error) -> Event {
    Event::Unreadable(format!("cannot read {}: {}", path.display(), reason(e)))
}
