//! Bad input: one line on stderr, the documented exit code, nothing changed, never a panic.

use std::fs::{self, File};
use std::time::{Duration, Instant};

use crate::common::*;

/// Runs a command that must fail with `expected` and leave the store exactly as it was.
fn refused(env: &Env, args: &[&str], stdin: Option<&[u8]>, expected: i32) -> String {
    let before = env.snapshot();
    let mut cmd = env.cmd();
    cmd.args(args);
    if let Some(input) = stdin {
        cmd.write_stdin(input.to_vec());
    }
    let out = cmd.output().expect("runs");
    let err = assert_one_line_error(&out, expected);
    assert!(out.stdout.is_empty(), "{args:?} printed data on failure");
    assert_eq!(env.snapshot(), before, "{args:?} changed the store");
    err
}

#[test]
fn bad_names_are_usage_errors() {
    let env = Env::new();
    env.create("taken");
    let long = "x".repeat(65);
    for name in [
        "",
        "   ",
        long.as_str(),
        "tab\there",
        "esc\u{1b}[2J",
        "new\nline",
        "taken",
        "tok_abcd1234",
    ] {
        let err = refused(&env, &["create", "--name", name], None, 2);
        assert!(!err.is_empty());
    }
    let err = refused(&env, &["create", "--name", "taken"], None, 2);
    assert!(err.contains("already named"), "{err}");
    let err = refused(&env, &["create"], None, 2);
    assert!(err.contains("--name"), "{err}");
    refused(
        &env,
        &["create", "--name", "ok", "--note", "bell\u{7}"],
        None,
        2,
    );
    // 64 characters is fine.
    env.create(&"y".repeat(64));
}

#[test]
fn unknown_tokens_exit_3() {
    let env = Env::new();
    env.create("real");
    for args in [
        &["show", "nope"][..],
        &["revoke", "nope", "--yes"],
        &["revoke", "tok_00000000", "--yes"],
        &["log", "--token", "nope"],
    ] {
        let err = refused(&env, args, None, 3);
        assert!(err.contains("no token"), "{err}");
    }
}

#[test]
fn revoke_without_a_terminal_needs_yes() {
    let env = Env::new();
    env.create("keep");
    let err = refused(&env, &["revoke", "keep"], None, 2);
    assert!(err.contains("--yes"), "{err}");
}

#[test]
fn bad_verify_input_is_a_usage_error() {
    let env = Env::new();
    env.create("x");
    refused(&env, &["verify"], Some(b""), 2);
    refused(&env, &["verify"], Some(b"\n"), 2);
    refused(&env, &["verify"], Some(b"   \r\n"), 2);
    refused(&env, &["verify"], Some(b"vbx_\xff\xfe\n"), 2);
    refused(&env, &["verify", "--batch"], Some(b""), 2);

    let before = env.snapshot();
    let out = env
        .cmd()
        .arg("verify")
        .env("VBX_TOKEN", "")
        .output()
        .expect("runs");
    assert_one_line_error(&out, 2);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn usage_errors_from_the_parser_exit_2() {
    let env = Env::new();
    for args in [
        &["frobnicate"][..],
        &["create", "--name", "a", "--quiet", "--json"],
        &["list", "--limit", "3"],
        &["log", "--limit", "many"],
        &["--wait", "soon", "list"],
        &["verify", "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17"],
    ] {
        let out = env.run(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
    }
    assert!(!env.store().exists(), "a usage error created nothing");
}

#[test]
fn reading_a_missing_store_says_how_to_make_one() {
    let env = Env::new();
    for args in [
        &["list"][..],
        &["show", "x"],
        &["log"],
        &["revoke", "x", "--yes"],
    ] {
        let out = env.run(args);
        let err = assert_one_line_error(&out, 6);
        assert!(
            err.contains("no store at") && err.contains("vbx-tokens create"),
            "{err}"
        );
    }
    let out = env
        .cmd()
        .arg("verify")
        .write_stdin("vbx_x\n")
        .output()
        .expect("runs");
    assert_one_line_error(&out, 6);
    assert!(!env.store().exists(), "reading created nothing");
}

#[test]
fn a_store_path_that_is_a_file_or_under_a_file_exits_6() {
    let env = Env::new();
    let file = env.tmp.path().join("file");
    fs::write(&file, "not a store").expect("write");
    for store in [file.clone(), file.join("sub")] {
        let out = env
            .cmd()
            .args(["create", "--name", "x", "--store"])
            .arg(&store)
            .output()
            .expect("runs");
        let err = assert_one_line_error(&out, 6);
        assert!(err.contains(&*file.to_string_lossy()), "{err}");
    }
    assert_eq!(fs::read_to_string(&file).expect("read"), "not a store");
}

#[test]
fn a_directory_of_other_files_is_not_taken_over() {
    let env = Env::new();
    fs::create_dir(env.store()).expect("mkdir");
    fs::write(env.store().join("notes.txt"), "mine").expect("write");
    let out = env.run(&["create", "--name", "x"]);
    let err = assert_one_line_error(&out, 6);
    assert!(err.contains("not a vbx-tokens store"), "{err}");
    assert_eq!(fs::read_dir(env.store()).expect("read").count(), 1);
}

#[test]
fn a_damaged_store_exits_6_without_a_panic() {
    let env = Env::new();
    env.create("a");
    let db = env.store().join("db");
    let len = fs::metadata(&db).expect("db").len() as usize;
    fs::write(&db, vec![0xA5; len]).expect("damage it");
    for f in files_under(&env.store()) {
        if f.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("snap."))
        {
            fs::write(&f, b"garbage").expect("damage the snapshot");
        }
    }
    for args in [&["list"][..], &["create", "--name", "b"]] {
        let out = env.run(args);
        let err = assert_one_line_error(&out, 6);
        assert!(err.contains("damaged or unreadable"), "{err}");
    }
}

#[test]
fn a_held_lock_makes_us_wait_then_exit_5_naming_the_path() {
    let env = Env::new();
    env.create("a");
    let lock = File::options()
        .read(true)
        .write(true)
        .open(env.store().join("lock"))
        .expect("lock file");
    lock.lock().expect("take the store's lock");

    let started = Instant::now();
    let out = env.run(&["--wait", "0.5", "list"]);
    let waited = started.elapsed();
    let err = assert_one_line_error(&out, 5);
    assert!(err.contains(&*env.store().to_string_lossy()), "{err}");
    assert!(
        waited >= Duration::from_millis(500),
        "gave up after {waited:?}"
    );

    let out = env
        .cmd()
        .arg("list")
        .env("VBX_TOKENS_WAIT", "0")
        .output()
        .expect("runs");
    assert_one_line_error(&out, 5);

    // A waiter gets in as soon as the lock is released.
    let mut waiter = env.std_cmd();
    let waiter = waiter
        .args(["--wait", "30", "list", "--json"])
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(300));
    lock.unlock().expect("unlock");
    let status = waiter.wait_with_output().expect("waits");
    assert!(status.status.success());
}

#[test]
fn a_bug_is_one_line_and_exit_7() {
    let env = Env::new();
    let out = env
        .cmd()
        .arg("debug-panic")
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("runs");
    let err = assert_one_line_error(&out, 7);
    assert!(err.contains("internal error"), "{err}");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let env = Env::new();
    env.create("a");
    // Enough output to fill the pipe: 5,000 verdicts (and 5,000 log events).
    let input = "garbage\n".repeat(5000);
    let batch_file = env.tmp.path().join("in.txt");
    fs::write(&batch_file, input).expect("write");
    let script = r#""$BIN" verify --batch < "$IN" >/dev/null; "$BIN" log | head -1 >/dev/null; echo "log=${PIPESTATUS[0]}"; "$BIN" list --all | head -1 >/dev/null; echo "list=${PIPESTATUS[0]}""#;
    let out = std::process::Command::new("bash")
        .args(["-c", script])
        .env("BIN", BIN)
        .env("IN", &batch_file)
        .env("VBX_TOKENS_HOME", env.store())
        .output()
        .expect("bash");
    // A command that only displays ends quietly with 0 when its reader leaves.
    assert_eq!(String::from_utf8_lossy(&out.stdout), "log=0\nlist=0\n");
    assert_eq!(stderr(&out), "");
}
