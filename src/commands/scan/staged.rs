//! `scan --staged`: what a commit would record, read from git's index (`git diff --cached`, then
//! `git cat-file --batch`), never from the work tree. A staged symlink is searched as the path
//! it holds, and nothing the work tree holds (a link to `/dev/zero`, a FIFO, a file changed
//! since `git add`) is opened. The only place that runs git.

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;

use super::{Event, search};
use crate::error::{Error, Result, reason};

/// A file a commit would add or change: its path from the top of the work tree, and the id of
/// the blob the index holds for it.
pub(super) struct Blob {
    path: PathBuf,
    id: String,
}

/// The mode git gives a submodule: a commit of another repository, no blob to read.
const GITLINK: &[u8] = b"160000";

/// Every staged file a commit would record content of: all that `git diff --cached` lists
/// (`GIT_INDEX_FILE` and the like apply, as in a hook) but deletions. Not a list of the kinds
/// that have content (added, modified…): a kind left off it is a way past the hook (a file
/// that was a link, `T`, type changed, is new content as much as an `M` is).
///
/// # Errors
/// [`Error::Usage`] when git cannot be run, or says no (not a work tree), in one line.
pub(super) fn list() -> Result<Vec<Blob>> {
    // Outside a repository `git diff` would compare files instead, and say `--cached` is
    // unknown: asked first, so the line says what is wrong.
    // Not only "not in one": git also refuses a repository another user owns (`safe.directory`),
    // and its first line says which.
    git(
        &["rev-parse", "--git-dir"],
        "no repository git will use here",
    )?;
    let out = git(
        &[
            "diff",
            "--cached",
            "--raw",
            "-z",
            "--no-abbrev",
            "--no-renames",
            "--no-ext-diff",
            // Lowercase: all but deletions.
            "--diff-filter=d",
        ],
        "git could not list what is staged",
    )?;
    parse_raw(&out)
        .ok_or_else(|| Error::usage("--staged: git's list of staged files was not understood"))
}

/// `git`, told to run nothing the repository names and to write nothing: a repository's own
/// config (a cloned one, or one someone else made) can name a command for `core.fsmonitor`,
/// which `git diff` would run and wait on; and a scan only reads, so it takes none of git's
/// optional locks (it never rewrites the index, which a commit in progress may hold).
fn git_command() -> Command {
    let mut git = Command::new("git");
    // The repository's config is its owner's, not ours to obey: no fsmonitor to start, no
    // order file to read (`/dev/zero`, a FIFO), and paths from the top of the work tree.
    git.args([
        "--no-optional-locks",
        "-c",
        "core.fsmonitor=false",
        "-c",
        "diff.orderFile=/dev/null",
        "-c",
        "diff.relative=false",
    ])
    .env_remove("GIT_EXTERNAL_DIFF");
    git
}

/// What `git ARGS` printed, or a usage error saying `what` went wrong, with git's first line.
fn git(args: &[&str], what: &str) -> Result<Vec<u8>> {
    let out = git_command()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::usage(format!("--staged needs git: cannot run it: {}", reason(&e))))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let first = said.lines().next().unwrap_or("").trim();
        return Err(Error::usage(format!(
            "--staged: {what}: {}",
            if first.is_empty() {
                "git gave no reason"
            } else {
                first
            }
        )));
    }
    Ok(out.stdout)
}

/// The records of `git diff --raw -z`: `:OLDMODE NEWMODE OLDID NEWID STATUS\0PATH\0` each.
fn parse_raw(raw: &[u8]) -> Option<Vec<Blob>> {
    let mut fields = raw.split(|&b| b == 0).filter(|f| !f.is_empty());
    let mut blobs = Vec::new();
    while let Some(header) = fields.next() {
        let path = fields.next()?;
        let parts: Vec<&[u8]> = header.strip_prefix(b":")?.split(|&b| b == b' ').collect();
        let [_, mode, _, id, _] = parts[..] else {
            return None;
        };
        // A submodule is a commit of another repository; an unmerged path has no blob in the
        // index (git commits none until it is resolved, and then it is listed again).
        if mode == GITLINK || id.iter().all(|&b| b == b'0') {
            continue;
        }
        blobs.push(Blob {
            path: PathBuf::from(OsStr::from_bytes(path)),
            id: String::from_utf8(id.to_vec()).ok()?,
        });
    }
    Some(blobs)
}

/// Searches each blob, as a named file is searched (binary or not), to the size cap `max`.
pub(super) fn search_all(blobs: &[Blob], max: u64, tx: &mpsc::Sender<Event>) {
    let child = git_command()
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            let _ = tx.send(Event::Unreadable(format!(
                "cannot run git cat-file to read what is staged: {}",
                reason(&e)
            )));
            return;
        }
    };
    let (Some(mut input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    let ids: String = blobs.iter().map(|b| format!("{}\n", b.id)).collect();
    std::thread::scope(|s| {
        // Written while the answers are read: a pipe holds only so much either way. Dropping
        // the input when done lets git end.
        s.spawn(move || {
            let _ = input.write_all(ids.as_bytes());
        });
        let mut output = BufReader::new(output);
        for blob in blobs {
            if let Err(why) = read_one(&mut output, blob, max, tx) {
                let _ = tx.send(Event::Unreadable(format!(
                    "cannot read the staged {}: {why}",
                    blob.path.display()
                )));
                if why.stops {
                    break;
                }
            }
        }
        // Unread answers (after a stop) must not keep git writing into a full pipe.
        drop(output);
    });
    let _ = child.kill();
    let _ = child.wait();
}

/// Why a blob was not read.
struct Why {
    text: String,
    /// The answers from git can no longer be followed: the rest cannot be read either.
    stops: bool,
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Reads git's answer for `blob` (`ID blob SIZE\n`, the bytes, `\n`) and searches it.
fn read_one(
    output: &mut impl BufRead,
    blob: &Blob,
    max: u64,
    tx: &mpsc::Sender<Event>,
) -> std::result::Result<(), Why> {
    let stop = |text: String| Why { text, stops: true };
    let mut header = Vec::new();
    output
        .read_until(b'\n', &mut header)
        .map_err(|e| stop(reason(&e)))?;
    let header = String::from_utf8_lossy(&header);
    let parts: Vec<&str> = header.trim_end().split(' ').collect();
    let size = match parts[..] {
        [id, "blob", size] if id == blob.id => size
            .parse::<u64>()
            .map_err(|_| stop("git cat-file gave a size that is no number".to_owned()))?,
        [_, "missing"] => {
            return Err(Why {
                text: "git has no such object".to_owned(),
                stops: false,
            });
        }
        _ => {
            return Err(stop(
                "git cat-file stopped or answered out of turn".to_owned(),
            ));
        }
    };
    let mut body = output.by_ref().take(size);
    search(&blob.path, &mut body, false, max, tx);
    // What the cap left unread, then the line break that ends the answer.
    io::copy(&mut body, &mut io::sink()).map_err(|e| stop(reason(&e)))?;
    if body.limit() > 0 {
        return Err(stop("git cat-file ended early".to_owned()));
    }
    io::copy(&mut output.by_ref().take(1), &mut io::sink()).map_err(|e| stop(reason(&e)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_records_give_paths_and_ids_and_leave_submodules_out() {
        let raw = b":000000 100644 0000 aaaa A\0dir/a b.txt\0:100644 120000 bbbb cccc M\0link\0:000000 160000 0000 dddd A\0sub\0";
        let blobs = parse_raw(raw).expect("parses");
        let got: Vec<(&str, &str)> = blobs
            .iter()
            .map(|b| (b.path.to_str().expect("utf-8"), b.id.as_str()))
            .collect();
        assert_eq!(got, [("dir/a b.txt", "aaaa"), ("link", "cccc")]);
        assert!(parse_raw(b"").expect("parses").is_empty());
        assert!(parse_raw(b":100644 100644 a b\0p\0").is_none());
        assert!(parse_raw(b":000000 100644 0000 aaaa A\0").is_none());
    }
}
