//! Signals and long names: a signal at a hidden prompt puts the terminal back and exits 128+N
//! with one line and nothing changed; a target with a 255-byte name can be written.

use std::fs::File;
use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustix::termios::{LocalModes, tcgetattr};

use crate::common::*;

/// A pseudo-terminal: the master to read what the child prints, the slave as its stdin/stderr.
fn pty() -> (File, File) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    // Close-on-exec, so a child holds only the slave: closing the master then hangs it up.
    let master =
        openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).expect("openpt");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().expect("utf-8"))
        .expect("slave");
    (File::from(master), slave)
}

/// Starts `args` with the pty as its controlling terminal and stdin, stderr to `stderr`.
fn spawn_in_pty(
    env: &Env,
    args: &[&str],
    master: &File,
    slave: &File,
    stderr: Stdio,
) -> std::process::Child {
    let slave_path = rustix::pty::ptsname(master, Vec::new()).expect("ptsname");
    let slave_path = slave_path.to_str().expect("utf-8").to_owned();
    let mut command = env.std_cmd();
    // The pty is the child's controlling terminal, so that `/dev/tty` is it.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(move || {
            rustix::process::setsid().map_err(std::io::Error::from)?;
            let tty = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&slave_path)?;
            rustix::process::ioctl_tiocsctty(&tty).map_err(std::io::Error::from)?;
            std::mem::forget(tty);
            Ok(())
        });
    }
    command
        .args(args)
        .stdin(slave.try_clone().expect("dup"))
        .stderr(stderr)
        // Not /dev/null: `vault reveal` and `create` refuse to run when their output would be
        // lost.
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// Waits until the prompt of `child` has turned echo off (every prompt does: a yes/no one's
/// raw mode and a line's read included).
fn wait_for_prompt(child: &mut std::process::Child, slave: &File, args: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tcgetattr(slave)
        .expect("tcgetattr")
        .local_modes
        .contains(LocalModes::ECHO)
    {
        assert!(Instant::now() < deadline, "{args:?} never turned echo off");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "{args:?} ended before its prompt"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How a prompt is stopped.
#[derive(Clone, Copy, Debug)]
enum Stop {
    /// A signal sent to the process.
    Signal(rustix::process::Signal),
    /// A signal sent by number with kill(1), for those rustix has no name for (real-time ones;
    /// glibc's SIGRTMIN is 34).
    Named(&'static str),
    /// Keys typed at the terminal (Ctrl-C is `\x03`).
    Keys(&'static [u8]),
}

/// Starts `args` at a prompt in a pseudo-terminal, sends `signal` once echo is off, and checks
/// the exit code, the one line and the terminal's settings afterwards.
fn signal_at_prompt(env: &Env, args: &[&str], signal: rustix::process::Signal, code: i32) {
    stop_at_prompt(env, args, Stop::Signal(signal), code, false);
}

/// [`signal_at_prompt`], stopped by `stop`, with stderr on a file when `stderr_to_file` (the
/// question is then asked on the terminal itself, and the one line is in the file). The cursor
/// a yes/no prompt hid is shown again.
fn stop_at_prompt(env: &Env, args: &[&str], stop: Stop, code: i32, stderr_to_file: bool) {
    use std::io::Write;
    let (mut master, slave) = pty();
    let before = tcgetattr(&slave).expect("tcgetattr");
    assert!(before.local_modes.contains(LocalModes::ECHO));
    let err_file = env.tmp.path().join("prompt-stderr");
    let stderr = if stderr_to_file {
        Stdio::from(File::create(&err_file).expect("stderr file"))
    } else {
        Stdio::from(slave.try_clone().expect("dup"))
    };
    let mut writer = master.try_clone().expect("dup");
    let mut child = spawn_in_pty(env, args, &master, &slave, stderr);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().expect("lock").extend_from_slice(&buf[..n]);
        }
    });
    wait_for_prompt(&mut child, &slave, args);
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
    match stop {
        Stop::Signal(signal) => rustix::process::kill_process(pid, signal).expect("kill"),
        Stop::Named(name) => {
            let sent = std::process::Command::new("kill")
                .args(["-s", name, &pid.as_raw_nonzero().to_string()])
                .status()
                .expect("kill(1) runs");
            assert!(sent.success(), "kill -s {name}");
        }
        Stop::Keys(keys) => writer.write_all(keys).expect("type"),
    }
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(code), "{args:?} {stop:?}");
    let after = tcgetattr(&slave).expect("tcgetattr");
    assert!(after.local_modes.contains(LocalModes::ECHO), "{args:?}");
    assert_eq!(after.local_modes, before.local_modes, "{args:?}");
    assert_eq!(after.input_modes, before.input_modes, "{args:?}");
    std::thread::sleep(Duration::from_millis(100));
    let shown = String::from_utf8_lossy(&seen.lock().expect("lock")).into_owned();
    if let Some(hidden) = shown.rfind("\x1b[?25l") {
        assert!(
            shown[hidden..].contains("\x1b[?25h"),
            "{args:?}: the cursor stays hidden"
        );
    }
    let text = if stderr_to_file {
        assert!(
            shown.contains('?') || shown.contains(':'),
            "asked on the terminal: {shown:?}"
        );
        std::fs::read_to_string(&err_file).expect("stderr")
    } else {
        shown
    };
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("vbx-tokens:")).collect();
    assert_eq!(lines.len(), 1, "{args:?}: {text:?}");
    // On a line of its own, the prompt's line ended on the terminal; a file gets that line alone.
    assert!(lines[0].starts_with("vbx-tokens: stopped by"), "{text:?}");
    if stderr_to_file {
        assert_eq!(text, format!("{}\n", lines[0]), "{args:?}");
    }
    // Named by the code it ends with (Ctrl-C is SIGINT).
    let name = match code {
        129 => "SIGHUP",
        130 => "SIGINT",
        131 => "SIGQUIT",
        138 => "SIGUSR1",
        140 => "SIGUSR2",
        142 => "SIGALRM",
        143 => "SIGTERM",
        144 => "SIGSTKFLT",
        152 => "SIGXCPU",
        154 => "SIGVTALRM",
        155 => "SIGPROF",
        157 => "SIGIO",
        158 => "SIGPWR",
        163 => "SIGRTMIN+1",
        192 => "SIGRTMIN+30",
        _ => panic!("no signal ends with {code}"),
    };
    assert!(
        lines[0].contains(&format!("by {name}:")),
        "{name}: {}",
        lines[0]
    );
}

/// Every signal whose default ends the process, Ctrl-C typed at a yes/no prompt, and a prompt
/// asked on the terminal while stderr goes to a file: each ends with 128 + N and one line
/// naming the signal, the terminal (echo, cursor) as it was, and nothing changed.
#[test]
fn every_way_of_stopping_a_prompt_leaves_the_terminal_as_it_was() {
    use rustix::process::Signal;
    let env = Env::new();
    env.create("plain");
    let before = env.snapshot();
    let revoke = ["revoke", "plain"];
    for (signal, code) in [
        (Signal::INT, 130),
        (Signal::TERM, 143),
        (Signal::HUP, 129),
        (Signal::QUIT, 131),
        (Signal::USR1, 138),
        (Signal::USR2, 140),
        (Signal::ALARM, 142),
    ] {
        stop_at_prompt(&env, &revoke, Stop::Signal(signal), code, false);
        stop_at_prompt(&env, &["verify"], Stop::Signal(signal), code, false);
    }
    // The rarer ones whose default ends a process too (SIGXCPU, SIGVTALRM, SIGPROF, SIGIO,
    // SIGPWR, SIGSTKFLT), real-time signals included.
    for (name, code) in [
        ("26", 154),
        ("27", 155),
        ("24", 152),
        ("29", 157),
        ("30", 158),
        ("16", 144),
        ("35", 163),
        ("64", 192),
    ] {
        stop_at_prompt(&env, &revoke, Stop::Named(name), code, false);
        stop_at_prompt(&env, &["verify"], Stop::Named(name), code, false);
    }
    stop_at_prompt(&env, &revoke, Stop::Keys(b"\x03"), 130, false);
    stop_at_prompt(&env, &revoke, Stop::Keys(b"\x03"), 130, true);
    // `Ctrl-\` is a key in the raw mode a yes/no prompt reads in: SIGQUIT all the same.
    stop_at_prompt(&env, &revoke, Stop::Keys(b"\x1c"), 131, false);
    stop_at_prompt(&env, &["verify"], Stop::Signal(Signal::TERM), 143, true);
    assert_eq!(env.snapshot(), before, "nothing changed");
}

#[test]
fn a_signal_at_a_hidden_prompt_restores_the_terminal_and_changes_nothing() {
    use rustix::process::Signal;
    let signals = [(Signal::INT, 130), (Signal::TERM, 143), (Signal::HUP, 129)];
    let env = Env::new();
    for (signal, code) in signals {
        signal_at_prompt(&env, &["vault", "init"], signal, code);
        assert!(!env.store().exists(), "no vault, no store made");
    }
    let (_, token) = env.vault_with("kept");
    env.create("plain");
    let before = env.snapshot();
    for (signal, code) in signals {
        signal_at_prompt(&env, &["verify"], signal, code);
        signal_at_prompt(&env, &["vault", "passwd"], signal, code);
        signal_at_prompt(&env, &["vault", "reveal", "kept"], signal, code);
        signal_at_prompt(&env, &["create", "--name", "more", "--keep"], signal, code);
    }
    assert_eq!(env.snapshot(), before, "nothing changed");
    let _ = token;
}

#[test]
fn a_target_with_a_255_byte_name_is_written() {
    let env = Env::new();
    let (pass, _) = env.vault_with("kept");
    let long = "b".repeat(255);
    let dir = env.tmp.path().join("out");
    std::fs::create_dir(&dir).expect("dir");
    let backup = dir.join(&long);
    let out = env.run(&[
        "backup",
        backup.to_str().expect("utf-8"),
        "--passphrase-file",
        &pass,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let export = dir.join("e".repeat(255));
    let out = env.run(&[
        "vault",
        "export",
        export.to_str().expect("utf-8"),
        "--passphrase-file",
        &pass,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(backup.is_file() && export.is_file());
    // One byte more is bad input, exit 2, and leaves nothing.
    let too_long = dir.join("c".repeat(256));
    let out = env.run(&["backup", too_long.to_str().expect("utf-8")]);
    let err = assert_one_line_error(&out, 2);
    assert!(err.contains("too long"), "{err}");
    // A restore into a store with a 255-byte name, then over it (the old one put aside).
    let store = dir.join("s".repeat(255));
    for force in [&[][..], &["--force"]] {
        let out = env
            .cmd()
            .env("VBX_TOKENS_HOME", &store)
            .args([
                "restore",
                backup.to_str().expect("utf-8"),
                "--yes",
                "--passphrase-file",
                &pass,
            ])
            .args(force)
            .output()
            .expect("runs");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn a_leftover_of_a_dead_process_is_removed_by_the_next_writer() {
    let env = Env::new();
    env.create("a");
    let dir = env.tmp.path().join("out");
    std::fs::create_dir(&dir).expect("dir");
    let leftover = dir.join(".vbx-2147483632-0000abcd.tmp");
    std::fs::write(&leftover, "half a backup").expect("write");
    let backup = dir.join("b.json");
    env.ok(&["backup", backup.to_str().expect("utf-8")]);
    assert!(!leftover.exists());
    assert!(backup.is_file());
}

/// A signal while `backup` has its temp file, or while `restore` has its half-built store:
/// 128+N, one line, nothing left behind.
#[cfg(feature = "fault-injection")]
#[test]
fn a_signal_mid_write_removes_the_temporaries() {
    use rustix::process::Signal;
    let env = Env::new();
    env.create("a");
    let dir = env.tmp.path().join("out");
    std::fs::create_dir(&dir).expect("dir");
    let backup = dir.join("b.json");
    env.ok(&["backup", backup.to_str().expect("utf-8")]);
    let target = dir.join("target");
    let ours = |d: &std::path::Path| {
        std::fs::read_dir(d)
            .expect("dir")
            .filter(|e| {
                let n = e.as_ref().expect("e").file_name();
                n.to_string_lossy().starts_with(".vbx-")
            })
            .count()
    };
    for (signal, code) in [(Signal::INT, 130), (Signal::TERM, 143), (Signal::HUP, 129)] {
        for (hold, args, extra) in [
            (
                "temp-written",
                vec![
                    "backup".to_owned(),
                    dir.join("c.json").to_string_lossy().into_owned(),
                ],
                None,
            ),
            (
                "restore-built",
                vec![
                    "restore".to_owned(),
                    backup.to_string_lossy().into_owned(),
                    "--yes".to_owned(),
                ],
                Some(&target),
            ),
        ] {
            let mut cmd = env.std_cmd();
            if let Some(t) = extra {
                cmd.env("VBX_TOKENS_HOME", t);
            }
            let child = cmd
                .env("VBX_TOKENS_HOLD", hold)
                .args(&args)
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn");
            let deadline = Instant::now() + Duration::from_secs(20);
            while ours(&dir) == 0 {
                assert!(Instant::now() < deadline, "{hold}: no temp appeared");
                std::thread::sleep(Duration::from_millis(20));
            }
            let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
            rustix::process::kill_process(pid, signal).expect("kill");
            let out = child.wait_with_output().expect("wait");
            assert_eq!(out.status.code(), Some(code), "{hold}");
            assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
            assert_eq!(ours(&dir), 0, "{hold} {signal:?}: a temporary was left");
            assert!(!dir.join("c.json").exists() && !target.exists());
        }
    }
}

/// A restore into a path none of which exists makes the directories on the way; stopped before
/// the store is in place, it removes them as well as the half-built store.
#[cfg(feature = "fault-injection")]
#[test]
fn a_signal_during_restore_into_a_new_path_leaves_no_directory() {
    use rustix::process::Signal;
    let env = Env::new();
    env.create("a");
    let backup = env.tmp.path().join("b.json");
    env.ok(&["backup", backup.to_str().expect("utf-8")]);
    let new = env.tmp.path().join("new");
    let deep = new.join("deep/er");
    for (signal, code) in [(Signal::INT, 130), (Signal::TERM, 143)] {
        let child = env
            .std_cmd()
            .env("VBX_TOKENS_HOME", deep.join("store"))
            .env("VBX_TOKENS_HOLD", "restore-built")
            .args(["restore", backup.to_str().expect("utf-8"), "--yes"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !std::fs::read_dir(&deep).is_ok_and(|mut d| d.next().is_some()) {
            assert!(Instant::now() < deadline, "no half-built store appeared");
            std::thread::sleep(Duration::from_millis(20));
        }
        let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
        rustix::process::kill_process(pid, signal).expect("kill");
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        assert!(!new.exists(), "{signal:?}: the directories made were left");
    }
    // Not stopped, it keeps them: the store stands in them, private.
    env.cmd()
        .env("VBX_TOKENS_HOME", deep.join("store"))
        .args(["restore", backup.to_str().expect("utf-8"), "--yes"])
        .assert()
        .success();
    assert!(deep.join("store").is_dir());
}

#[cfg(feature = "fault-injection")]
#[test]
fn a_signal_past_the_point_of_no_return_lets_the_command_finish_and_say_so() {
    use rustix::process::Signal;
    let env = Env::new();
    env.create("a");
    let dir = env.tmp.path().to_owned();
    let backup = dir.join("b.json");
    env.ok(&["backup", backup.to_str().expect("utf-8")]);
    let target = dir.join("target");
    for (pause, args, store, done) in [
        (
            "file-linked",
            vec![
                "backup".to_owned(),
                dir.join("c.json").to_string_lossy().into_owned(),
            ],
            env.store(),
            dir.join("c.json"),
        ),
        (
            "restore-swapped",
            vec![
                "restore".to_owned(),
                backup.to_string_lossy().into_owned(),
                "--yes".to_owned(),
            ],
            target.clone(),
            target.join("vbx-tokens-store"),
        ),
    ] {
        let child = env
            .std_cmd()
            .env("VBX_TOKENS_HOME", &store)
            .env("VBX_TOKENS_PAUSE", pause)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done.exists() {
            assert!(
                Instant::now() < deadline,
                "{pause}: nothing was put in place"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
        rustix::process::kill_process(pid, Signal::TERM).expect("kill");
        let out = child.wait_with_output().expect("wait");
        // The change was made: the command logs it and says so, instead of "nothing was done".
        assert_eq!(out.status.code(), Some(0), "{pause}: {}", stderr(&out));
        assert!(!stderr(&out).contains("stopped by"), "{}", stderr(&out));
        let log = env
            .cmd()
            .env("VBX_TOKENS_HOME", &store)
            .args(["log", "--json"])
            .output()
            .expect("runs");
        let kind = if pause == "file-linked" {
            "backed_up"
        } else {
            "restored"
        };
        assert!(
            parse(&log.stdout)
                .as_array()
                .expect("array")
                .iter()
                .any(|e| e["event"] == kind),
            "{pause}: no {kind} event"
        );
    }
}

/// Starts `import -` of `lines` in store `store` with `knob` (`VBX_TOKENS_HOLD` or
/// `VBX_TOKENS_PAUSE`) at `point`, waits until it is there, sends SIGTERM, and returns the output.
#[cfg(feature = "fault-injection")]
fn import_signalled(
    env: &Env,
    store: &std::path::Path,
    knob: &str,
    point: &str,
    lines: &str,
) -> std::process::Output {
    use std::io::Write;
    let reached = env.tmp.path().join("reached");
    let _ = std::fs::remove_file(&reached);
    let mut child = env
        .std_cmd()
        .env("VBX_TOKENS_HOME", store)
        .env(knob, point)
        .env("VBX_TOKENS_REACHED", &reached)
        .args(["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("write");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reached.exists() {
        assert!(Instant::now() < deadline, "{point} was not reached");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("kill");
    child.wait_with_output().expect("wait")
}

/// An import stopped before its last transaction is undone and says so; one stopped after it
/// finishes and reports the tokens it imported, never "nothing more was done".
#[cfg(feature = "fault-injection")]
#[test]
fn a_signal_during_import_is_told_as_it_is() {
    let env = Env::new();
    env.create("kept");
    let (_, lines) = import_lines(3, "imp");
    let out = import_signalled(
        &env,
        &env.store(),
        "VBX_TOKENS_HOLD",
        "import-chunk",
        &lines,
    );
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    assert!(stderr(&out).contains("nothing more was done"));
    let names = || -> Vec<String> {
        parse(&env.ok(&["list", "--json"]))
            .as_array()
            .expect("array")
            .iter()
            .map(|r| r["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(names(), ["kept"]);
    let out = import_signalled(
        &env,
        &env.store(),
        "VBX_TOKENS_PAUSE",
        "import-durable",
        &lines,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("stopped by"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Imported 3 token"),
        "{}",
        stderr(&out)
    );
    assert_eq!(names().len(), 4);
}

/// An import into a store it was making, stopped before it commits, leaves no store and none
/// of the directories it made.
#[cfg(feature = "fault-injection")]
#[test]
fn a_signal_during_import_into_a_new_store_leaves_no_store() {
    let env = Env::new();
    let top = env.tmp.path().join("made");
    let store = top.join("by").join("import");
    let (_, lines) = import_lines(3, "imp");
    let out = import_signalled(&env, &store, "VBX_TOKENS_HOLD", "import-chunk", &lines);
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    assert!(!top.exists(), "the directories it made are removed");
}

/// A terminal closed at a prompt (its window shut, the connection dropped) ends the command as
/// SIGHUP does, 129 with one line, however the read and the signal race; nothing changed.
#[test]
fn a_terminal_closed_at_a_prompt_ends_as_sighup() {
    let env = Env::new();
    env.create("plain");
    let before = env.snapshot();
    for args in [&["verify"][..], &["revoke", "plain"], &["create"]] {
        // Stderr on the terminal (the usual case, where the line is lost with it), then on a
        // file, where it can be read.
        for on_terminal in [true, true, true, true, true, true, false, false] {
            let (master, slave) = pty();
            let err_file = env.tmp.path().join("hangup-stderr");
            let stderr = if on_terminal {
                Stdio::from(slave.try_clone().expect("dup"))
            } else {
                Stdio::from(File::create(&err_file).expect("stderr file"))
            };
            let mut child = spawn_in_pty(&env, args, &master, &slave, stderr);
            if args == ["create"] {
                // The name is read in the terminal's own mode, echo on: wait for the question.
                let mut master = &master;
                let mut seen = Vec::new();
                let mut buf = [0u8; 256];
                while !String::from_utf8_lossy(&seen).contains("Name for the new token") {
                    let n = master.read(&mut buf).expect("read the terminal");
                    assert!(n > 0, "the terminal closed before the question");
                    seen.extend_from_slice(&buf[..n]);
                }
            } else {
                wait_for_prompt(&mut child, &slave, args);
            }
            drop(master);
            drop(slave);
            let status = child.wait().expect("wait");
            if on_terminal {
                assert_eq!(status.code(), Some(129), "{args:?}, stderr on the terminal");
                continue;
            }
            let text = std::fs::read_to_string(&err_file).expect("stderr");
            assert_eq!(status.code(), Some(129), "{args:?}: {text}");
            assert!(
                text.starts_with("vbx-tokens: stopped by SIGHUP:"),
                "{text:?}"
            );
            assert_eq!(text.lines().count(), 1, "{text:?}");
        }
    }
    assert_eq!(env.snapshot(), before, "nothing changed");
}
