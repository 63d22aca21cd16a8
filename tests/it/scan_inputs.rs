//! What `scan` (and `redact`) read: UTF-16 and UTF-32 text, and inputs that never end or
//! never start (devices, FIFOs, links to them), which must each end in bounded time; and the
//! README's pre-commit hook in a real repository.

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// A run that takes longer has hung: it fails rather than blocks the suite.
const HANG: Duration = Duration::from_secs(20);

fn utf16(text: &str, le: bool, bom: bool) -> Vec<u8> {
    let text = if bom {
        format!("\u{feff}{text}")
    } else {
        text.to_owned()
    };
    text.encode_utf16()
        .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
        .collect()
}

/// A store with one live token: the token, its id, and how `redact` writes it
/// (`vbx_AbCd…[tok_…]`).
fn live_token(env: &Env) -> (String, String, String) {
    let live = env.create("live");
    let id = env.record("live")["id"].as_str().expect("an id").to_owned();
    let masked = format!("{}…[{id}]", &live[..8]);
    (live, id, masked)
}

fn utf32(text: &str, le: bool, bom: bool) -> Vec<u8> {
    let text = if bom {
        format!("\u{feff}{text}")
    } else {
        text.to_owned()
    };
    text.chars()
        .flat_map(|c| {
            let u = u32::from(c);
            if le { u.to_le_bytes() } else { u.to_be_bytes() }
        })
        .collect()
}

/// Runs the binary with `args` in `dir` under `timeout`, so a hang fails instead of blocking.
#[track_caller]
fn run_bounded(env: &Env, dir: &Path, args: &[&str], stdin: Option<Stdio>) -> Output {
    let started = Instant::now();
    let inner = env.std_cmd();
    let mut cmd = StdCommand::new("timeout");
    cmd.arg(HANG.as_secs().to_string())
        .arg(BIN)
        .args(args)
        .current_dir(dir);
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.stdin(stdin.unwrap_or_else(Stdio::null));
    let out = cmd.output().expect("runs");
    assert!(
        started.elapsed() < HANG && code(&out) != 124,
        "scan {args:?} hung: {}",
        stderr(&out)
    );
    out
}

fn paths_and_lines(out: &Output) -> Vec<(String, u64, u64, String)> {
    let found = parse(&out.stdout);
    found
        .as_array()
        .expect("an array")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().expect("a path").to_owned(),
                f["line"].as_u64().expect("a line"),
                f["column"].as_u64().expect("a column"),
                f["status"].as_str().expect("a status").to_owned(),
            )
        })
        .collect()
}

/// UTF-16 without a mark whose text is mostly beyond ASCII (Chinese, with 一, U+4E00, whose low
/// byte is a NUL; Cyrillic; emoji, whose low surrogates end in 00): a walk reads it as UTF-16,
/// not as a binary, and finds the token at its line.
#[test]
fn utf16_text_mostly_beyond_ascii_is_searched_in_walks() {
    let env = Env::new();
    let live = env.create("live");
    let root = env.tmp.path().join("t");
    std::fs::create_dir_all(&root).expect("mkdir");
    let mut names = Vec::new();
    for (i, line) in [
        "配置文件：这是一个测试环境的说明。",
        "Ā 設定 Ѐ Привет, это тестовая среда.",
        "😀 絵文字 😀 のテストです。",
    ]
    .into_iter()
    .enumerate()
    {
        let text = format!("{}api_key={live}\n", format!("{line}\n").repeat(20));
        for le in [true, false] {
            let name = format!("notes-{i}-{}.txt", if le { "le" } else { "be" });
            std::fs::write(root.join(&name), utf16(&text, le, false)).expect("write");
            names.push(name);
        }
    }
    let out = run_bounded(&env, env.tmp.path(), &["scan", "t", "--json"], None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let mut expected: Vec<(String, u64, u64, String)> = names
        .iter()
        .map(|n| (format!("t/{n}"), 21, 9, "active".to_owned()))
        .collect();
    expected.sort();
    assert_eq!(paths_and_lines(&out), expected, "{}", stderr(&out));
}

#[test]
fn utf16_and_utf32_text_is_searched_in_walks_named_files_and_stdin() {
    let env = Env::new();
    let live = env.create("live");
    // Non-ASCII before the token: the column counts bytes of its UTF-8 form (`ü` is two).
    let text = format!("[Einstellungen]\r\nschlüssel=1\r\n  Schlüssel = {live}\r\n");
    let root = env.tmp.path().join("t");
    std::fs::create_dir_all(&root).expect("mkdir");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("le-bom.txt", utf16(&text, true, true)),
        ("le.txt", utf16(&text, true, false)),
        ("be-bom.txt", utf16(&text, false, true)),
        ("be.txt", utf16(&text, false, false)),
        ("u32le.txt", utf32(&text, true, true)),
        ("u32be.txt", utf32(&text, false, false)),
    ];
    for (name, bytes) in &files {
        std::fs::write(root.join(name), bytes).expect("write");
    }
    // A token in disguise is left out in UTF-16 as in UTF-8; a real binary is still skipped.
    let disguised = format!("{}\u{200d}{}\n", &live[..20], &live[20..]);
    std::fs::write(root.join("disguised.txt"), utf16(&disguised, true, true)).expect("write");
    let mut blob = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0];
    blob.extend_from_slice(live.as_bytes());
    std::fs::write(root.join("program.bin"), blob).expect("write");

    let out = run_bounded(&env, env.tmp.path(), &["scan", "t", "--json"], None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let mut expected: Vec<(String, u64, u64, String)> = files
        .iter()
        .map(|(name, _)| (format!("t/{name}"), 3, 16, "active".to_owned()))
        .collect();
    expected.sort();
    assert_eq!(paths_and_lines(&out), expected);
    assert_eq!(
        stderr(&out),
        "6 tokens found in 6 files, 6 still valid; 1 file skipped as binary (name a file to search it).\n"
    );
    assert!(!stdout(&out).contains(&live[8..]));

    // Named, and piped in.
    let out = run_bounded(&env, &root, &["scan", "be.txt", "--json"], None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        paths_and_lines(&out),
        [("be.txt".to_owned(), 3, 16, "active".to_owned())]
    );
    let file = std::fs::File::open(root.join("u32le.txt")).expect("opens");
    let out = run_bounded(&env, &root, &["scan", "--json"], Some(file.into()));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        paths_and_lines(&out),
        [("-".to_owned(), 3, 16, "active".to_owned())]
    );
    // Revoked, it no longer fails the scan, UTF-16 or not.
    env.ok(&["revoke", "live", "--yes"]);
    let out = run_bounded(&env, &root, &["scan", "le.txt"], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn redact_writes_utf16_back_in_utf16() {
    let env = Env::new();
    let live = env.create("live");
    let id = env.record("live")["id"].as_str().expect("an id").to_owned();
    let text = format!("zeile 1\nGET /?key={live}&x=1\n");
    let masked = format!("zeile 1\nGET /?key={}…[{id}]&x=1\n", &live[..8]);
    for (le, bom) in [(true, true), (false, false)] {
        let out = env.run_in(&["redact"], utf16(&text, le, bom));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(out.stdout, utf16(&masked, le, bom), "le {le} bom {bom}");
    }
    let out = env.run_in(&["redact"], utf32(&text, true, true));
    assert_eq!(out.stdout, utf32(&masked, true, true));
}

/// A BOM-less UTF-16 or UTF-32 stream with a unit in it that does not decode (an unpaired
/// surrogate, a NUL, a unit past U+10FFFF, a byte cut short at the end) is still text: `scan`
/// finds the token after it, and `redact` changes nothing but the token, byte for byte.
#[test]
fn a_unit_that_does_not_decode_hides_no_token_and_is_written_back_as_it_was() {
    let env = Env::new();
    let live = env.create("live");
    let id = env.record("live")["id"].as_str().expect("an id").to_owned();
    let before = "x\r\nfirst line of an export\r\n";
    let after = format!("key={live}&more text here\r\n");
    let masked = format!("key={}…[{id}]&more text here\r\n", &live[..8]);
    let dir = env.tmp.path();
    for wide in [false, true] {
        for le in [true, false] {
            let units: &[u32] = if wide {
                &[0x11_0000, 0xd800, 0]
            } else {
                &[0xd800, 0xdfff, 0]
            };
            for &bad in units {
                let enc = |t: &str| {
                    if wide {
                        utf32(t, le, false)
                    } else {
                        utf16(t, le, false)
                    }
                };
                let unit = if wide {
                    if le {
                        bad.to_le_bytes().to_vec()
                    } else {
                        bad.to_be_bytes().to_vec()
                    }
                } else {
                    let u = bad as u16;
                    if le {
                        u.to_le_bytes().to_vec()
                    } else {
                        u.to_be_bytes().to_vec()
                    }
                };
                let input = [enc(before), unit.clone(), enc(&after), vec![0x41]].concat();
                let why = format!("wide {wide} le {le} unit {bad:x}");
                std::fs::write(dir.join("export.txt"), &input).expect("write");
                let out = run_bounded(&env, dir, &["scan", "export.txt", "--json"], None);
                assert_eq!(code(&out), 1, "{why}: {}", stderr(&out));
                assert_eq!(paths_and_lines(&out)[0].1, 3, "{why}");
                let out = env.run_in(&["redact"], input);
                assert_eq!(code(&out), 0, "{why}: {}", stderr(&out));
                let wanted = [enc(before), unit, enc(&masked), vec![0x41]].concat();
                assert_eq!(out.stdout, wanted, "{why}");
            }
        }
    }
}

#[test]
fn endless_inputs_stop_at_the_size_cap_with_exit_2() {
    let env = Env::new();
    let dir = env.tmp.path();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero-link")).expect("symlink");
    // Named directly, through a link, and as stdin: the default cap (64 MiB) ends each.
    for (args, stdin, shown) in [
        (vec!["scan", "/dev/zero"], None, "/dev/zero"),
        (vec!["scan", "zero-link"], None, "zero-link"),
        (
            vec!["scan", "-"],
            Some(std::fs::File::open("/dev/zero").expect("opens").into()),
            "-",
        ),
    ] {
        let out = run_bounded(&env, dir, &args, stdin);
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{err}");
        assert!(
            err.contains(&format!(
                "vbx-tokens: cannot read {shown} past 64 MiB, the size cap (--max-size raises it); skipped\n"
            )),
            "{err}"
        );
        assert!(err.contains("the scan is incomplete"), "{err}");
        assert_eq!(
            err.lines().count(),
            2 + usize::from(err.contains("no store")),
            "{err}"
        );
    }

    // What comes before the cap is searched: a live token there still makes it exit 1.
    let live = env.create("live");
    let mut big = format!("{live}\n").into_bytes();
    big.resize(3 << 20, b'x');
    std::fs::write(dir.join("big.log"), &big).expect("write");
    let out = run_bounded(&env, dir, &["scan", "big.log", "--max-size", "1M"], None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot read big.log past 1 MiB"));
    // A file of exactly the cap is whole; --max-size raises the cap.
    let out = run_bounded(&env, dir, &["scan", "big.log", "--max-size", "3M"], None);
    assert_eq!(code(&out), 1);
    assert!(!stderr(&out).contains("past"), "{}", stderr(&out));
    for bad in ["0", "1T", "lots"] {
        let out = env.run(&["scan", "big.log", "--max-size", bad]);
        assert_eq!(code(&out), 2, "{bad}");
    }
}

#[test]
fn walks_skip_fifos_links_and_devices_and_named_fifos_do_not_block() {
    let env = Env::new();
    let live = env.create("live");
    let root = env.tmp.path().join("t");
    std::fs::create_dir_all(&root).expect("mkdir");
    mkfifo(&root.join("fifo"));
    std::os::unix::fs::symlink("/dev/zero", root.join("zero")).expect("symlink");
    std::os::unix::fs::symlink("/dev/null", root.join("null")).expect("symlink");
    std::fs::write(root.join("file.txt"), format!("{live}\n")).expect("write");
    let out = run_bounded(&env, env.tmp.path(), &["scan", "t", "--json"], None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        paths_and_lines(&out),
        [("t/file.txt".to_owned(), 1, 1, "active".to_owned())]
    );
    assert_eq!(stderr(&out), "1 token found in 1 file, 1 still valid.\n");

    // A FIFO named with no writer is an empty input, not a wait.
    let out = run_bounded(&env, &root, &["scan", "fifo"], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "No tokens found in 1 file.\n");
    // With a writer it is read like stdin, to its end.
    let fifo = root.join("fifo");
    let token = live.clone();
    let writer = std::thread::spawn(move || {
        // Opening for writing waits for the reader: the scan below.
        std::fs::write(&fifo, format!("one\ntwo {token}\n")).expect("writes");
    });
    let mut out = None;
    for _ in 0..50 {
        // The scan may open the FIFO before the writer does, and find it empty: try again.
        let o = run_bounded(&env, &root, &["scan", "fifo", "--json"], None);
        if code(&o) == 1 {
            out = Some(o);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    writer.join().expect("writer");
    let out = out.expect("the token written into the FIFO is found");
    assert_eq!(
        paths_and_lines(&out),
        [("fifo".to_owned(), 2, 5, "active".to_owned())]
    );
}

#[test]
fn a_directory_whose_ignore_file_would_never_end_is_reported_not_waited_on() {
    let env = Env::new();
    let live = env.create("live");
    let root = env.tmp.path().join("t");
    for dir in ["fifo", "zero", "fine"] {
        std::fs::create_dir_all(root.join(dir)).expect("mkdir");
        std::fs::write(root.join(dir).join("a.txt"), format!("{live}\n")).expect("write");
    }
    mkfifo(&root.join("fifo/.gitignore"));
    std::os::unix::fs::symlink("/dev/zero", root.join("zero/.ignore")).expect("symlink");
    let out = run_bounded(&env, env.tmp.path(), &["scan", "t", "--json"], None);
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "the token in t/fine still counts: {err}");
    assert_eq!(
        paths_and_lines(&out),
        [("t/fine/a.txt".to_owned(), 1, 1, "active".to_owned())]
    );
    for (file, dir) in [
        ("t/fifo/.gitignore", "t/fifo"),
        ("t/zero/.ignore", "t/zero"),
    ] {
        assert!(
            err.contains(&format!(
                "cannot read {file}: not a regular file, so {dir} was not searched"
            )),
            "{err}"
        );
    }
    // Named, such a directory is reported the same; its rules off, it is searched.
    let out = run_bounded(&env, env.tmp.path(), &["scan", "t/fifo"], None);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let out = run_bounded(
        &env,
        env.tmp.path(),
        &["scan", "t", "--no-ignore", "--json"],
        None,
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(paths_and_lines(&out).len(), 3, "{}", stderr(&out));
}

/// The README's pre-commit hook, as printed there.
fn readme_hook() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let start = readme
        .find("```sh\n#!/bin/sh\n# Refuse a commit")
        .expect("the hook is in the README")
        + "```sh\n".len();
    let len = readme[start..].find("```").expect("the block ends");
    readme[start..start + len].to_owned()
}

fn git(repo: &Path, env: &Env, args: &[&str]) -> Output {
    let bin_dir = Path::new(BIN).parent().expect("a directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // `timeout` ends the whole process group: the hook's children too.
    StdCommand::new("timeout")
        .arg(HANG.as_secs().to_string())
        .arg("git")
        .current_dir(repo)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.test"])
        .args(args)
        .env("PATH", path)
        .env("VBX_TOKENS_HOME", env.store())
        .env_remove("VBX_TOKENS_WAIT")
        .stdin(Stdio::null())
        .output()
        .expect("git runs")
}

/// A store with a live token, and a new git repository in its temp directory; `None` (the test
/// skips) without git.
fn repo_with_live_token() -> Option<(Env, String, PathBuf)> {
    if !have("git", "git") {
        return None;
    }
    let env = Env::new();
    let live = env.create("live");
    let repo: PathBuf = env.tmp.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    assert!(git(&repo, &env, &["init", "-q"]).status.success());
    Some((env, live, repo))
}

#[test]
fn the_readme_hook_scans_what_is_staged_and_never_hangs() {
    let Some((env, live, repo)) = repo_with_live_token() else {
        return;
    };
    let hook = repo.join(".git/hooks/pre-commit");
    std::fs::write(&hook, readme_hook()).expect("hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    // A link to /dev/zero (its blob is the path it holds), and a UTF-16 file with a live token.
    std::os::unix::fs::symlink("/dev/zero", repo.join("zero")).expect("symlink");
    std::fs::write(
        repo.join("export.txt"),
        utf16(&format!("line one\r\nkey={live}\r\n"), true, true),
    )
    .expect("write");
    assert!(
        git(&repo, &env, &["add", "zero", "export.txt"])
            .status
            .success()
    );

    let started = Instant::now();
    let out = git(&repo, &env, &["commit", "-q", "-m", "x"]);
    assert!(started.elapsed() < HANG, "the hook hung");
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "the commit must be refused: {said}");
    assert!(
        said.contains("export.txt") && said.contains("active"),
        "{said}"
    );
    assert!(!said.contains(&live[8..]), "{said}");
    assert!(
        !git(&repo, &env, &["rev-parse", "-q", "--verify", "HEAD"])
            .status
            .success()
    );

    // The work tree cleaned but the index not: still refused, since the index is committed.
    std::fs::write(repo.join("export.txt"), utf16("clean\r\n", true, true)).expect("write");
    let out = git(&repo, &env, &["commit", "-q", "-m", "x"]);
    assert!(
        !out.status.success(),
        "the staged blob still holds the token"
    );

    // Staged clean: the commit goes through, the link to /dev/zero with it.
    assert!(git(&repo, &env, &["add", "export.txt"]).status.success());
    let out = git(&repo, &env, &["commit", "-q", "-m", "x"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(started.elapsed() < HANG * 2);

    // A staged file holding the live token, then cleaned in the work tree: the token is found
    // at its line in the index's blob, named by its path.
    std::fs::write(repo.join("b.txt"), format!("a\nb\n{live}\n")).expect("write");
    assert!(git(&repo, &env, &["add", "b.txt"]).status.success());
    std::fs::write(repo.join("b.txt"), "clean\n").expect("write");
    let out = run_bounded(&env, &repo, &["scan", "--staged", "--json"], None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        paths_and_lines(&out),
        [("b.txt".to_owned(), 3, 1, "active".to_owned())]
    );
}

#[test]
fn scan_staged_outside_a_repository_or_with_paths_is_a_usage_error() {
    if !have("git", "git") {
        return;
    }
    let env = Env::new();
    let out = run_bounded(&env, env.tmp.path(), &["scan", "--staged"], None);
    let err = assert_one_line_error(&out, 2);
    assert!(
        err.contains("--staged: no repository git will use here: fatal: not a git repository"),
        "{err}"
    );
    let out = env.run(&["scan", "--staged", "."]);
    assert_one_line_error(&out, 2);
    // One another user owns: git's reason is the one given, not "no repository".
    if crate::ownership::root() {
        let repo = env.tmp.path().join("theirs");
        std::fs::create_dir(&repo).expect("mkdir");
        let init = StdCommand::new("git")
            .args(["init", "-q"])
            .current_dir(&repo)
            .status()
            .expect("git runs");
        assert!(init.success());
        crate::ownership::give_all(&repo, crate::ownership::STRANGER);
        let out = run_bounded(&env, &repo, &["scan", "--staged"], None);
        let err = assert_one_line_error(&out, 2);
        assert!(err.contains("dubious ownership"), "{err}");
    }
}

/// A repository's own config names no command `scan --staged` runs: an fsmonitor that would
/// hang (or do anything else) is never started.
#[test]
fn scan_staged_runs_no_command_the_repository_names() {
    let Some((env, live, repo)) = repo_with_live_token() else {
        return;
    };
    std::fs::write(repo.join("a.txt"), format!("{live}\n")).expect("write");
    assert!(git(&repo, &env, &["add", "a.txt"]).status.success());
    let ran = env.tmp.path().join("fsmonitor-ran");
    let monitor = env.tmp.path().join("monitor.sh");
    std::fs::write(
        &monitor,
        format!("#!/bin/sh\ntouch '{}'\nsleep 600\n", ran.display()),
    )
    .expect("write");
    std::fs::set_permissions(
        &monitor,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let monitor = monitor.to_str().expect("utf-8");
    assert!(
        git(&repo, &env, &["config", "core.fsmonitor", monitor])
            .status
            .success()
    );
    let started = Instant::now();
    let out = run_bounded(&env, &repo, &["scan", "--staged", "--json"], None);
    assert!(started.elapsed() < HANG, "scan --staged hung");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        paths_and_lines(&out),
        [("a.txt".to_owned(), 1, 1, "active".to_owned())]
    );
    assert!(!ran.exists(), "the repository's fsmonitor was run");
}

/// The repository's config names no file `scan --staged` reads and changes no path it
/// reports: an order file that never ends (`/dev/zero`, a FIFO) is not read, and
/// `diff.relative` does not hide what is staged above the directory it runs in.
#[test]
fn scan_staged_reads_no_file_the_repository_config_names() {
    let Some((env, live, repo)) = repo_with_live_token() else {
        return;
    };
    std::fs::write(repo.join("top.txt"), format!("{live}\n")).expect("write");
    std::fs::create_dir(repo.join("sub")).expect("mkdir");
    std::fs::write(repo.join("sub/a.txt"), "clean\n").expect("write");
    assert!(
        git(&repo, &env, &["add", "top.txt", "sub/a.txt"])
            .status
            .success()
    );
    let fifo = env.tmp.path().join("order");
    mkfifo(&fifo);
    for (key, value) in [
        ("diff.orderFile", "/dev/zero"),
        ("diff.orderFile", fifo.to_str().expect("utf-8")),
        ("diff.relative", "true"),
    ] {
        assert!(git(&repo, &env, &["config", key, value]).status.success());
        let started = Instant::now();
        let out = run_bounded(
            &env,
            &repo.join("sub"),
            &["scan", "--staged", "--json"],
            None,
        );
        assert!(
            started.elapsed() < HANG,
            "{key}={value}: scan --staged hung"
        );
        assert_eq!(code(&out), 1, "{key}={value}: {}", stderr(&out));
        let found = paths_and_lines(&out);
        assert_eq!(found.len(), 1, "{key}={value}: {found:?}");
        assert_eq!(found[0].0, "top.txt", "{key}={value}");
        assert!(
            git(&repo, &env, &["config", "--unset", key])
                .status
                .success()
        );
    }
}

/// Every file a command reads that the user names (a backup, an import, a vault export, a
/// passphrase file) is opened as `scan` opens one: a FIFO with no writer is an empty input, at
/// once, never a wait; a terminal is refused. Each says so in one line and changes nothing.
#[test]
fn a_fifo_with_no_writer_named_as_any_input_never_hangs() {
    let env = Env::new();
    let dir = env.tmp.path();
    let fifo = dir.join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .expect("mkfifo");
    let f = fifo.to_str().expect("utf-8");
    for (args, code_wanted, says) in [
        (vec!["restore", f, "--yes"], 2, "empty"),
        (
            vec!["vault", "import", f],
            2,
            "not a vbx-tokens vault export",
        ),
        (vec!["vault", "init", "--passphrase-file", f], 4, "is empty"),
    ] {
        let out = run_bounded(&env, dir, &args, None);
        let err = assert_one_line_error(&out, code_wanted);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // An empty import is an empty store's export: nothing to do, done at once.
    let out = run_bounded(&env, dir, &["import", f], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Imported 0 token(s)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn redact_keeps_the_letters_glued_to_a_token_whatever_their_script() {
    let env = Env::new();
    let (t, _, masked) = live_token(&env);
    for after in [
        "é y",
        "ñandú",
        "über",
        "abc",
        "_b",
        "日本",
        "\u{ff41}\u{ff42}",
    ] {
        let out = env.run_in(&["redact"], format!("x {t}{after}\n"));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(stdout(&out), format!("x {masked}{after}\n"), "{after:?}");
    }
    // A token in disguise (full width here, with an `m` or `w`, which the look-alike skeleton
    // would make `rn` and `vv`) keeps the letters glued to it too.
    let disguised = (0..20)
        .map(|i| env.create(&format!("fw{i}")))
        .find(|t| t[4..].contains(['m', 'w']))
        .expect("a token with an m or a w");
    let full_width: String = disguised
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xfee0).expect("full width"))
        .collect();
    let out = env.run_in(&["redact"], format!("x {full_width}abc y\n"));
    assert_eq!(stdout(&out), format!("x {}…abc y\n", &disguised[..8]));
    // However long the word it is glued to, in UTF-8 or UTF-16, none of it is lost.
    let word = "é".repeat(300_000);
    let out = env.run_in(&["redact"], format!("x {t}{word} y\n"));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("x {masked}{word} y\n"));
    let out = env.run_in(&["redact"], utf16(&format!("x {t}{word} y\n"), true, true));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        out.stdout,
        utf16(&format!("x {masked}{word} y\n"), true, true)
    );
}

/// A byte order mark (or UTF-16 text) followed by text in another encoding: ASCII lines
/// appended to a PowerShell file, two bytes put at the start of a log. The token in the ASCII
/// is found by `scan` and masked by `redact`, and every other byte is written as it was.
#[test]
fn a_mark_or_utf16_text_before_ascii_hides_no_token() {
    let env = Env::new();
    let (live, id, masked) = live_token(&env);
    let ascii = |token: &str| format!("key={token}\n").into_bytes();
    let mut cases: Vec<(&str, Vec<u8>, Vec<u8>)> = Vec::new();
    for (name, mark) in [
        ("utf-16le mark", &b"\xff\xfe"[..]),
        ("utf-16be mark", b"\xfe\xff"),
        ("utf-32le mark", b"\xff\xfe\0\0"),
        ("utf-32be mark", b"\0\0\xfe\xff"),
    ] {
        let mut before = mark.to_vec();
        before.push(b'\n');
        cases.push((name, before, ascii(&live)));
    }
    cases.push((
        "a PowerShell file with a line appended",
        utf16("hi\r\n", true, true),
        ascii(&live),
    ));
    cases.push((
        "UTF-16 text with no mark, then ASCII",
        utf16(&format!("{}\n", "h".repeat(5000)), true, false),
        ascii(&live),
    ));
    for (name, before, after) in cases {
        let mut input = before.clone();
        input.extend_from_slice(&after);
        let out = env.run_in(&["scan", "--json", "-"], input.clone());
        assert_eq!(code(&out), 1, "{name}: {}", stderr(&out));
        assert_eq!(parse(&out.stdout)[0]["id"], id.as_str(), "{name}");
        let out = env.run_in(&["redact"], input);
        assert_eq!(code(&out), 0, "{name}: {}", stderr(&out));
        let mut wanted = before;
        wanted.extend_from_slice(&ascii(&masked));
        assert_eq!(out.stdout, wanted, "{name}");
    }
}

/// A UTF-16 token after a stray byte (an odd number of bytes of something else before it) is
/// one byte out of step with the text around it: found by `scan` and masked by `redact` all
/// the same, in its own encoding, and every other byte kept.
#[test]
fn a_wide_token_out_of_step_with_the_text_is_found_and_masked() {
    let env = Env::new();
    let (live, id, masked) = live_token(&env);
    let be = |text: &str| utf16(text, false, false);
    let le = |text: &str| utf16(text, true, false);
    // (what it is, the bytes before the token, the token's line, that line redacted)
    type Case = (&'static str, Vec<u8>, Vec<u8>, Vec<u8>);
    let cases: Vec<Case> = vec![
        (
            "UTF-16LE, a stray byte",
            [&b"\xff\xfe"[..], &le("hi\n"), b"X"].concat(),
            le(&format!("abc {live}\n")),
            le(&format!("abc {masked}\n")),
        ),
        (
            "UTF-16BE, a stray byte",
            [&b"\xfe\xff"[..], &be("hi\n"), b"X"].concat(),
            be(&format!("abc {live}\n")),
            be(&format!("abc {masked}\n")),
        ),
        (
            "an odd ASCII line between UTF-16 ones",
            [&b"\xff\xfe"[..], &le("hi\n"), b"key=1\n"].concat(),
            le(&format!("more {live}")),
            le(&format!("more {masked}")),
        ),
        // (An even number of ASCII bytes before it: after an odd number, UTF-16LE text reads as
        // UTF-16BE one byte earlier just as well, and is masked that way.)
        (
            "UTF-16 in an ASCII log",
            b"GET /ab 200\n".to_vec(),
            le(&format!("x {live}\n")),
            le(&format!("x {masked}\n")),
        ),
    ];
    for (name, before, token, wanted) in cases {
        let input = [&before[..], &token].concat();
        let out = env.run_in(&["scan", "--json", "-"], input.clone());
        assert_eq!(code(&out), 1, "{name}: {}", stderr(&out));
        assert_eq!(parse(&out.stdout)[0]["id"], id.as_str(), "{name}");
        let out = env.run_in(&["redact"], input);
        assert_eq!(code(&out), 0, "{name}: {}", stderr(&out));
        assert_eq!(out.stdout, [&before[..], &wanted].concat(), "{name}");
    }
}

/// `redact` writes each line as it comes in UTF-16 as in UTF-8, and a mark put at the start of
/// an ASCII log does not hold the lines back (README, "Streaming").
#[test]
fn redact_streams_utf16_and_a_marked_ascii_log_line_by_line() {
    use std::io::{Read, Write};
    let env = Env::new();
    let (live, _, masked) = live_token(&env);
    let be = |text: &str| utf16(text, false, false);
    let le = |text: &str| utf16(text, true, false);
    let ascii = |text: &str| text.as_bytes().to_vec();
    // (what it is, its mark, how its lines are written)
    type Encode<'a> = &'a dyn Fn(&str) -> Vec<u8>;
    let cases: Vec<(&str, &[u8], Encode)> = vec![
        ("UTF-16LE", b"\xff\xfe", &le),
        ("UTF-16BE", b"\xfe\xff", &be),
        ("a UTF-16LE mark on ASCII", b"\xff\xfe", &ascii),
    ];
    for (name, mark, encode) in cases {
        let mut child = env
            .std_cmd()
            .arg("redact")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawns");
        let mut stdin = child.stdin.take().expect("stdin");
        let mut stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let mut wanted = mark.to_vec();
        for n in 0..3 {
            let mut line = if n == 0 { mark.to_vec() } else { Vec::new() };
            line.extend(encode(&format!("line {n}: {live}\n")));
            stdin.write_all(&line).expect("writes");
            stdin.flush().expect("flushes");
            wanted.extend(encode(&format!("line {n}: {masked}\n")));
            // Read back before more is written, and before stdin is closed.
            while seen.len() < wanted.len() {
                let more = rx
                    .recv_timeout(Duration::from_secs(20))
                    .unwrap_or_else(|_| panic!("{name}: line {n} comes out while stdin is open"));
                seen.extend(more);
            }
            assert_eq!(seen, wanted, "{name}: line {n}");
        }
        drop(stdin);
        assert!(child.wait().expect("exits").success(), "{name}");
    }
}

/// A path whose type changes in the index (`T`: a link becomes a file, or a file a link) is
/// content the commit records, as an added or modified one is: the hook finds the token in it.
#[test]
fn scan_staged_reads_a_path_whose_type_changed() {
    let Some((env, live, repo)) = repo_with_live_token() else {
        return;
    };
    std::os::unix::fs::symlink("target", repo.join("was_link")).expect("symlink");
    std::fs::write(repo.join("was_file"), "clean\n").expect("write");
    assert!(git(&repo, &env, &["add", "."]).status.success());
    assert!(
        git(&repo, &env, &["commit", "-q", "-m", "x"])
            .status
            .success()
    );
    std::fs::remove_file(repo.join("was_link")).expect("rm");
    std::fs::write(repo.join("was_link"), format!("key={live}\n")).expect("write");
    std::fs::remove_file(repo.join("was_file")).expect("rm");
    std::os::unix::fs::symlink(&live, repo.join("was_file")).expect("symlink");
    assert!(git(&repo, &env, &["add", "."]).status.success());
    let status = git(&repo, &env, &["diff", "--cached", "--name-status"]);
    assert_eq!(stdout(&status), "T\twas_file\nT\twas_link\n");
    let out = run_bounded(&env, &repo, &["scan", "--staged", "--json"], None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        paths_and_lines(&out),
        [
            ("was_file".to_owned(), 1, 1, "active".to_owned()),
            ("was_link".to_owned(), 1, 5, "active".to_owned())
        ]
    );
}
