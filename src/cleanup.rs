//! What a command leaves behind when it is stopped: temporary files and directories, and a
//! terminal with echo off.
//!
//! Every temporary file or directory a command makes beside a file it writes (a backup, a
//! vault export, a store being restored) is named [`temp_name`], `.vbx-PID-RANDOM.tmp`: short,
//! so that a target with the longest name a file system allows (255 bytes) still has a temp name
//! beside it, and recognisable, so that one a `kill -9` left is found by the next command that
//! writes there ([`sweep`]) and removed once its process is gone. While it lives it is
//! registered here ([`Temp`]); SIGINT, SIGTERM and SIGHUP are caught ([`catch_signals`]) and
//! their handler removes what is registered, puts back the terminal saved by a prompt
//! ([`TerminalGuard`]), prints one line and ends the process with 128 + the signal's number
//! (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP), as a shell reports a process a signal
//! ended.
//!
//! Why ending the process from the handler is safe with a store open: without the handler these
//! signals end the process at any instruction, without a destructor, exactly as `kill -9` does,
//! and every write of the store is built to survive that (success is printed only once the
//! write is durable; the crash tests stop a process at each step). The handler ends it the same
//! way (`_exit`: no destructor, no other thread running on), only after removing its temporary
//! files and restoring the terminal, so the store sees nothing it does not already survive.

use std::fs;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use rustix::termios::Termios;

/// The prefix of every temporary name we make beside a target.
pub const TEMP_PREFIX: &str = ".vbx-";
/// The suffix of every temporary name we make beside a target.
pub const TEMP_SUFFIX: &str = ".tmp";
/// A temporary file older than this is removed by [`sweep`] even when a process with its PID
/// lives: PIDs are reused, and no backup or restore takes a day.
pub const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The temporary paths alive now. The signal handler takes this lock and never lets it go, so a
/// command cannot make a new one while the handler removes them.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// The terminal as it was before a prompt changed it, and the descriptor to put it back on.
static TERMINAL: Mutex<Option<(OwnedFd, Termios)>> = Mutex::new(None);
/// Whether the command has made its change (see [`commit`]).
static COMMITTED: Mutex<bool> = Mutex::new(false);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding it leaves the list itself whole.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fresh temporary name for a file or directory in `dir`: `.vbx-PID-RANDOM.tmp`, at most 30
/// bytes whatever the target's name.
pub fn temp_name(dir: &Path) -> PathBuf {
    let random: u32 = rand::random();
    dir.join(format!(
        "{TEMP_PREFIX}{}-{random:08x}{TEMP_SUFFIX}",
        std::process::id()
    ))
}

/// A temporary path registered for removal on a signal; removes what is there when dropped,
/// unless [`Temp::keep`] said it has become the real thing (renamed or linked into place).
#[derive(Debug)]
pub struct Temp {
    path: PathBuf,
    kept: bool,
}

impl Temp {
    /// Registers a fresh temporary name in `dir` before anything is made under it, so a signal
    /// that comes between the making and the registering cannot miss it.
    pub fn new(dir: &Path) -> Temp {
        let path = temp_name(dir);
        lock(&LIVE).push(path.clone());
        Temp { path, kept: false }
    }

    /// The temporary path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Forgets the path without removing it: it was renamed into place.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.kept {
            remove(&self.path);
        }
        lock(&LIVE).retain(|p| p != &self.path);
    }
}

/// Registers a directory a command has just made for a new store (`top`, the highest one it
/// made), so that a signal before the command's change is made removes it: a stopped command
/// that made a store leaves none behind, as a failed one does. Registered before it is made.
pub fn remove_on_signal(top: &Path) {
    lock(&LIVE).push(top.to_owned());
}

/// Undoes [`remove_on_signal`]: the directory was removed some other way.
pub fn forget_on_signal(top: &Path) {
    lock(&LIVE).retain(|p| p != top);
}

fn remove(path: &Path) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_dir() {
        // Another thread may still be writing into it (sled's flusher): try a few times.
        for _ in 0..5 {
            if fs::remove_dir_all(path).is_ok() || !path.exists() {
                return;
            }
        }
    } else {
        let _ = fs::remove_file(path);
    }
}

/// Removes from `dir` the temporary files and directories of ours that a process stopped dead
/// (`kill -9`, a power cut) left there: those whose process is gone, or older than
/// [`STALE_AFTER`]. Returns what it removed. What cannot be removed (another user's, in a shared
/// directory) is left alone.
pub fn sweep(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(leftover_pid) else {
            continue;
        };
        // Only what this user's own commands leave: never a link, and never another user's
        // file, whatever it is named (in a shared directory anyone can make one by our name).
        let Ok(meta) = fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if meta.file_type().is_symlink() || meta.uid() != rustix::process::geteuid().as_raw() {
            continue;
        }
        let old = meta
            .modified()
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if pid != std::process::id() && (old || !alive(pid)) {
            let path = entry.path();
            remove(&path);
            if fs::symlink_metadata(&path).is_err() {
                removed.push(path);
            }
        }
    }
    removed
}

/// The PID in one of our temporary names (`.vbx-PID-RANDOM.tmp`), or `None` for any other name.
fn leftover_pid(name: &str) -> Option<u32> {
    let middle = name.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX)?;
    let (pid, random) = middle.split_once('-')?;
    (random.len() == 8 && random.bytes().all(|b| b.is_ascii_hexdigit())).then_some(())?;
    pid.parse().ok()
}

fn alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    // EPERM: it lives, as another user's process.
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

/// While alive, the terminal's settings as they were when it was made are what a signal puts
/// back; dropped, it puts them back itself, whatever way the prompt ended (an answer, an error,
/// a panic).
#[derive(Debug)]
pub struct TerminalGuard(());

impl TerminalGuard {
    /// Saves the settings of the terminal on stdin (where prompts read). When stdin is no
    /// terminal there is nothing to save, and the guard does nothing.
    pub fn save() -> TerminalGuard {
        let saved = rustix::io::dup(io::stdin())
            .ok()
            .and_then(|fd| rustix::termios::tcgetattr(&fd).ok().map(|t| (fd, t)));
        *lock(&TERMINAL) = saved;
        TerminalGuard(())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if let Some((fd, termios)) = lock(&TERMINAL).take() {
            restore_terminal(&fd, &termios);
        }
    }
}

fn restore_terminal(fd: &OwnedFd, termios: &Termios) {
    // TCSAFLUSH, as the prompt set it: what was typed and not read is dropped, not echoed later.
    let _ = rustix::termios::tcsetattr(fd, rustix::termios::OptionalActions::Flush, termios);
}

/// The signals that end a command cleanly: Ctrl-C, `kill`, a closed terminal, `Ctrl-\`, and
/// every other sent from outside whose default is to end the process, real-time ones included
/// (so none leaves a terminal with echo off). Not these: SIGPIPE, which Rust's runtime ignores
/// (a closed pipe is a failed write), SIGXFSZ (a write past `ulimit -f` then fails like one on
/// a full disk), and the signals of a fault in the process itself (SIGSEGV, SIGBUS, SIGILL,
/// SIGFPE, SIGTRAP, SIGSYS, SIGABRT), which must end it where it stands.
pub fn signals() -> Vec<i32> {
    let mut all = vec![
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGXCPU,
        libc::SIGIO,
        libc::SIGPWR,
        libc::SIGSTKFLT,
    ];
    all.extend(libc::SIGRTMIN()..=libc::SIGRTMAX());
    all
}

/// Ctrl-C typed at a yes/no prompt, which reads the terminal in raw mode (where the key is a
/// byte, not a signal): sends this process SIGINT, so that it ends exactly as Ctrl-C anywhere
/// else does, and waits for the handler to end it. Also called when a prompt's read is
/// interrupted by a signal: the signal already delivered is handled first, so the line names
/// it. Returns only when no handler is installed (a library caller).
pub fn interrupted() {
    raise(rustix::process::Signal::INT);
}

/// Sends this process `signal` and waits for the handler to end it, as [`interrupted`] does for
/// SIGINT: for `Ctrl-\` typed at a yes/no prompt (SIGQUIT), a key there and not a signal.
/// Returns only when no handler is installed.
pub fn raise(signal: rustix::process::Signal) {
    let _ = rustix::process::kill_process(rustix::process::getpid(), signal);
    std::thread::sleep(Duration::from_secs(5));
}

/// Marks the point of no return: called just before the step that puts a command's change in
/// place (a file linked to its name, a restored store renamed into place). A signal after it
/// no longer stops the command, which goes on to log and report what it did; stopping then
/// would say "nothing more was done" of a change that was made. A signal being handled already
/// holds this off for good (the process is ending, and the change is not made).
pub fn commit() {
    *lock(&COMMITTED) = true;
}

/// Catches [`signals`] on a thread of its own, which then removes the registered temporary
/// paths, restores the terminal, prints one line and ends the process with 128 + the signal.
///
/// # Errors
/// The I/O error of registering the handlers or starting the thread.
pub fn catch_signals() -> io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new(signals())?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            // Each signal is handled; after a commit they are let pass.
            loop {
                let pending: Vec<i32> = signals.wait().collect();
                // A signal that cuts short a yes/no prompt's read makes `console` raise SIGINT
                // too (it takes any interrupted read for Ctrl-C), and pending signals come in
                // number order: the other one is the signal that came.
                let first = pending.iter().copied().find(|&s| s != libc::SIGINT);
                if let Some(signal) = first.or(pending.first().copied()) {
                    stop(signal);
                }
            }
        })?;
    Ok(())
}

fn stop(signal: i32) {
    // Held until the end, so a change not yet committed never is.
    let committed = lock(&COMMITTED);
    if *committed {
        // Past the point of no return: the command finishes and reports what it did.
        return;
    }
    // Both locks stay held until the end: no new temp, no new prompt meanwhile.
    let terminal = lock(&TERMINAL);
    if let Some((fd, termios)) = terminal.as_ref() {
        restore_terminal(fd, termios);
        // A yes/no prompt hides the cursor while it waits: show it again. The cursor may be at
        // the end of the prompt's line: end that line on the terminal the prompt was on, so
        // the message below starts a line of its own, and stderr (a file, maybe) gets only it.
        let _ = rustix::io::write(fd, SHOW_CURSOR);
        let _ = rustix::io::write(fd, b"\n");
    }
    let live = lock(&LIVE);
    for path in live.iter() {
        remove(path);
    }
    let name = signal_name(signal);
    let _ = writeln!(
        io::stderr(),
        "vbx-tokens: stopped by {name}: nothing more was done and its temporary files were removed"
    );
    signal_hook::low_level::exit(exit_code(signal).into())
}

/// The VT100 sequence that shows the cursor.
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

/// The exit code for a process a signal ended: 128 + its number, as shells report it.
pub fn exit_code(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(u8::MAX)
}

fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGALRM => "SIGALRM",
        libc::SIGVTALRM => "SIGVTALRM",
        libc::SIGPROF => "SIGPROF",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGIO => "SIGIO",
        libc::SIGPWR => "SIGPWR",
        libc::SIGSTKFLT => "SIGSTKFLT",
        _ if (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&signal) => {
            return format!("SIGRTMIN+{}", signal - libc::SIGRTMIN());
        }
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_short_and_recognised() {
        let p = temp_name(Path::new("/d"));
        let name = p.file_name().expect("name").to_str().expect("utf-8");
        assert!(name.len() <= 30, "{name}");
        assert_eq!(leftover_pid(name), Some(std::process::id()));
        for other in [
            ".vbx-12-zzzzzzzz.tmp",
            ".vbx-12-abc.tmp",
            ".vbx-x-0000000a.tmp",
            "vbx-12-0000000a.tmp",
            ".vbx-12-0000000a.tmpx",
            ".backup.json.12.tmp",
        ] {
            assert_eq!(leftover_pid(other), None, "{other}");
        }
        assert_eq!(leftover_pid(".vbx-12-0000000a.tmp"), Some(12));
    }

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        assert_eq!(exit_code(signal_hook::consts::SIGINT), 130);
        assert_eq!(exit_code(signal_hook::consts::SIGTERM), 143);
        assert_eq!(exit_code(signal_hook::consts::SIGHUP), 129);
        assert_eq!(exit_code(signal_hook::consts::SIGQUIT), 131);
        for s in signals() {
            assert!(signal_name(s).starts_with("SIG"), "{s}");
        }
        assert_eq!(signal_name(libc::SIGRTMIN() + 2), "SIGRTMIN+2");
        assert_eq!(exit_code(libc::SIGRTMAX()), 192);
    }

    #[test]
    fn a_dropped_temp_is_removed_and_a_kept_one_stays() {
        let dir = tempfile::tempdir().expect("dir");
        let t = Temp::new(dir.path());
        fs::write(t.path(), "x").expect("write");
        let path = t.path().to_owned();
        assert!(lock(&LIVE).contains(&path));
        drop(t);
        assert!(!path.exists());
        assert!(!lock(&LIVE).contains(&path));
        let t = Temp::new(dir.path());
        fs::create_dir(t.path()).expect("dir");
        let path = t.path().to_owned();
        t.keep();
        assert!(path.exists());
        assert!(!lock(&LIVE).contains(&path));
    }

    #[test]
    fn sweep_removes_only_leftovers_of_dead_processes() {
        let dir = tempfile::tempdir().expect("dir");
        // PID 0x7fff_fff0 is above any pid_max, so no process has it.
        let dead = dir.path().join(".vbx-2147483632-0000abcd.tmp");
        fs::create_dir(&dead).expect("dir");
        fs::write(dead.join("f"), "x").expect("f");
        let mine = temp_name(dir.path());
        fs::write(&mine, "x").expect("mine");
        let other = dir.path().join(".vbx-2147483632-x.tmp");
        fs::write(&other, "x").expect("other");
        // A link by our name is never followed or removed.
        let link = dir.path().join(".vbx-2147483633-0000abce.tmp");
        std::os::unix::fs::symlink(&mine, &link).expect("link");
        assert_eq!(sweep(dir.path()), vec![dead.clone()]);
        assert!(!dead.exists() && mine.exists() && other.exists());
        assert!(fs::symlink_metadata(&link).is_ok());
    }

    #[test]
    fn sweep_leaves_another_users_file_by_our_name() {
        if !rustix::process::geteuid().is_root() {
            return;
        }
        let dir = tempfile::tempdir().expect("dir");
        let planted = dir.path().join(".vbx-2147483632-0000abcd.tmp");
        fs::write(&planted, "theirs").expect("write");
        std::os::unix::fs::chown(&planted, Some(4242), None).expect("chown");
        assert!(sweep(dir.path()).is_empty());
        assert!(planted.exists());
    }
}
