//! Running the real binary as a child: a clean environment, stdin fed from a thread, a time limit,
//! and the verdicts the harnesses share (a clean error, a panic, a hang).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use std::os::unix::process::ExitStatusExt;

/// Variables that would change the binary's behaviour if the caller's shell had them set.
const OURS: &[&str] = &[
    "VBX_TOKENS_HOME",
    "VBX_TOKENS_WAIT",
    "VBX_TOKEN",
    "VBX_TOKENS_PASSPHRASE",
    "VBX_TOKENS_PASSPHRASE_FILE",
    "VBX_TOKENS_FAULT",
    "NO_COLOR",
    "RUST_BACKTRACE",
];

/// The state directory (where the use witness lives) of the store at `store`: one per store,
/// beside it, so no run leaves counts in the user's own and no store sees another's.
pub fn state_of(store: &Path) -> PathBuf {
    PathBuf::from(format!("{}.state", store.display()))
}

/// The binary under test.
#[derive(Clone)]
pub struct Bin {
    pub path: PathBuf,
}

impl Bin {
    /// The binary with this store, nothing on stdin, and a wait limit of `wait` seconds.
    pub fn cmd(&self, store: &Path, wait: u32) -> Command {
        let mut c = Command::new(&self.path);
        for var in OURS {
            c.env_remove(var);
        }
        c.env("VBX_TOKENS_HOME", store)
            .env("XDG_STATE_HOME", state_of(store))
            .env("VBX_TOKENS_WAIT", wait.to_string());
        c
    }

    /// The binary run by `sh` under a file-size limit of `blocks` (of 512 bytes), with SIGXFSZ
    /// ignored when `ignore_xfsz` (so writes fail with EFBIG, as on a full disk).
    pub fn limited(&self, store: &Path, blocks: u64, ignore_xfsz: bool) -> Command {
        let trap = if ignore_xfsz { "trap '' XFSZ; " } else { "" };
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!(r#"{trap}ulimit -f {blocks}; exec "$BIN" "$@""#))
            .arg("sh")
            .env("BIN", &self.path);
        for var in OURS {
            c.env_remove(var);
        }
        c.env("VBX_TOKENS_HOME", store)
            .env("XDG_STATE_HOME", state_of(store))
            .env("VBX_TOKENS_WAIT", "10");
        c
    }
}

/// How a child ended.
#[derive(Debug)]
pub struct Run {
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
    pub timed_out: bool,
}

impl Run {
    /// The exit code, if it exited (not killed by a signal, not timed out).
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    pub fn signal(&self) -> Option<i32> {
        self.status.and_then(|s| s.signal())
    }

    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.stdout).ok()
    }

    /// A panic, an abort or another death by signal: never acceptable.
    pub fn crashed(&self) -> bool {
        let text = self.err();
        text.contains("panicked")
            || text.contains("RUST_BACKTRACE")
            || self.code() == Some(101)
            || self.code() == Some(7)
            || (self.signal().is_some() && !self.timed_out)
    }

    /// Exactly one line on stderr, in the binary's voice.
    pub fn one_line_error(&self) -> bool {
        let text = self.err();
        text.starts_with("vbx-tokens: ") && text.ends_with('\n') && text.matches('\n').count() == 1
    }

    /// A documented failure: exit 2–6 with one line on stderr and no panic.
    pub fn clean_error(&self) -> bool {
        matches!(self.code(), Some(2..=6)) && self.one_line_error() && !self.crashed()
    }

    /// A short description for a report.
    pub fn describe(&self) -> String {
        let end = match (self.timed_out, self.code(), self.signal()) {
            (true, _, _) => "timed out".to_owned(),
            (_, Some(c), _) => format!("exit {c}"),
            (_, _, Some(s)) => format!("signal {s}"),
            _ => "?".to_owned(),
        };
        let err = self.err();
        let first: String = err.lines().take(3).collect::<Vec<_>>().join(" | ");
        format!("{end}: {first}")
    }
}

/// A child running, its output read by threads.
pub struct Running {
    child: Child,
    started: Instant,
    stdout: thread::JoinHandle<Vec<u8>>,
    stderr: thread::JoinHandle<Vec<u8>>,
}

fn reader(mut r: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// Starts `cmd` with `stdin` written to it by a thread (then closed); stdin is /dev/null when
/// `None`.
pub fn spawn(mut cmd: Command, stdin: Option<Vec<u8>>) -> Running {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("the binary starts (check --bin)");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("piped stdin");
        thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    let stdout = reader(child.stdout.take().expect("piped stdout"));
    let stderr = reader(child.stderr.take().expect("piped stderr"));
    Running {
        child,
        started,
        stdout,
        stderr,
    }
}

impl Running {
    /// Kills it with SIGKILL (unless it has already ended) and collects it. The child is not
    /// reaped before the kill, so its pid cannot have been reused.
    pub fn kill(mut self) -> Run {
        let _ = self.child.kill();
        let status = self.child.wait().ok();
        self.collect(status, false)
    }

    /// Whether it has ended (without reaping it for good: `try_wait` keeps the status).
    pub fn ended(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits up to `limit`; past it, kills the child and reports a hang.
    pub fn wait(self, limit: Duration) -> Run {
        let Running {
            mut child,
            started,
            stdout,
            stderr,
        } = self;
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        let waiter = thread::spawn(move || {
            let status = child.wait().ok();
            let _ = tx.send(());
            status
        });
        let timed_out = rx.recv_timeout(limit).is_err();
        if timed_out {
            // Still running (the waiter has not reaped it), so the pid is still ours.
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        let status = waiter.join().expect("waiter");
        let elapsed = started.elapsed();
        Run {
            status,
            stdout: stdout.join().expect("stdout reader"),
            stderr: stderr.join().expect("stderr reader"),
            elapsed,
            timed_out,
        }
    }

    fn collect(self, status: Option<ExitStatus>, timed_out: bool) -> Run {
        let elapsed = self.started.elapsed();
        Run {
            status,
            stdout: self.stdout.join().expect("stdout reader"),
            stderr: self.stderr.join().expect("stderr reader"),
            elapsed,
            timed_out,
        }
    }
}

/// Runs `cmd` to its end (at most `limit`).
pub fn run(cmd: Command, stdin: Option<Vec<u8>>, limit: Duration) -> Run {
    spawn(cmd, stdin).wait(limit)
}

/// Tokens of our format: `vbx_` + 30 base62 characters + the CRC-32 of those, in base62,
/// left-padded to 6 (README, "How it keeps its promises").
pub mod token {
    use rand::Rng;

    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    pub fn checksum(body: &str) -> String {
        let mut n = crc32fast::hash(body.as_bytes());
        let mut out = Vec::new();
        while n > 0 {
            out.push(BASE62[(n % 62) as usize]);
            n /= 62;
        }
        while out.len() < 6 {
            out.push(b'0');
        }
        out.reverse();
        String::from_utf8(out).expect("ascii")
    }

    /// A fresh, well-formed token nobody has.
    pub fn random(rng: &mut impl Rng) -> String {
        let body: String = (0..30)
            .map(|_| BASE62[rng.random_range(0..62)] as char)
            .collect();
        let sum = checksum(&body);
        format!("vbx_{body}{sum}")
    }

    /// The token with one character of its random part changed, and its checksum made right
    /// again: well-formed, but not the token.
    pub fn altered(token: &str, rng: &mut impl Rng) -> String {
        let mut body: Vec<u8> = token.as_bytes()[4..34].to_vec();
        let at = rng.random_range(0..30);
        let old = body[at];
        while body[at] == old {
            body[at] = BASE62[rng.random_range(0..62)];
        }
        let body = String::from_utf8(body).expect("ascii");
        let sum = checksum(&body);
        format!("vbx_{body}{sum}")
    }

    /// The README's check value, so a harness never builds tokens the binary would call
    /// malformed.
    pub fn self_check() {
        assert_eq!(checksum("zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ"), "0mLq17");
    }
}

/// Percentile of sorted durations, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Copies a directory tree (files and directories only).
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
