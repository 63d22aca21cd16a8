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
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let taken = env.create("taken");
        let id = env.record("taken")["id"].as_str().expect("id").to_owned();
        let long = "x".repeat(65);
        let is_taken = format!(
            "an active token ({id}) is already named \"taken\": pick another name, or revoke that one first"
        );
        for (name, message) in [
            ("", "the name is empty: give one with --name"),
            ("   ", "the name is empty: give one with --name"),
            (
                long.as_str(),
                "the name is 65 characters long; the limit is 64",
            ),
            (
                "tab\there",
                "the name holds U+0009 (a control character) at character 4: use visible characters and plain spaces only",
            ),
            (
                "esc\u{1b}[2J",
                "the name holds U+001B (a control character) at character 4: use visible characters and plain spaces only",
            ),
            (
                "new\nline",
                "the name holds U+000A (a control character) at character 4: use visible characters and plain spaces only",
            ),
            ("taken", is_taken.as_str()),
            (
                "tok_abcd1234",
                "\"tok_abcd1234\" looks like a token id: pick a name that doesn't start with tok_",
            ),
        ] {
            let err = refused(&env, &["create", "--name", name], None, 2);
            assert_eq!(err, format!("vbx-tokens: {message}\n"), "{name:?}");
        }
        let err = refused(&env, &["create"], None, 2);
        assert_eq!(
            err,
            "vbx-tokens: a name is required: vbx-tokens create --name NAME\n"
        );
        let err = refused(
            &env,
            &["create", "--name", "ok", "--note", "bell\u{7}"],
            None,
            2,
        );
        assert_eq!(
            err,
            "vbx-tokens: the note holds U+0007 (a control character) at character 5: use visible characters and plain spaces only\n"
        );
        // 64 characters is fine.
        env.create(&"y".repeat(64));
        assert!(!taken.is_empty());
    }
}

#[test]
fn a_name_is_what_it_looks_like() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("ci");
        env.create("caf\u{e9}");
        let id = |name: &str| env.record(name)["id"].as_str().expect("id").to_owned();
        let ci = id("ci");
        // Invisible and formatting characters are refused, named, with their place.
        for (name, code, what, at) in [
            (
                "c\u{200b}i",
                "U+200B",
                "an invisible formatting character, category Cf",
                2,
            ),
            (
                "\u{200d}ci",
                "U+200D",
                "an invisible formatting character, category Cf",
                1,
            ),
            (
                "ci\u{2060}",
                "U+2060",
                "an invisible formatting character, category Cf",
                3,
            ),
            (
                "c\u{202e}i",
                "U+202E",
                "an invisible formatting character, category Cf",
                2,
            ),
            (
                "c\u{2067}i",
                "U+2067",
                "an invisible formatting character, category Cf",
                2,
            ),
            (
                "c\u{feff}i",
                "U+FEFF",
                "an invisible formatting character, category Cf",
                2,
            ),
            (
                "c\u{ad}i",
                "U+00AD",
                "an invisible formatting character, category Cf",
                2,
            ),
            ("c\u{a0}i", "U+00A0", "a space other than U+0020", 2),
            ("c\u{fe0f}i", "U+FE0F", "an invisible character", 2),
            ("c\u{3164}i", "U+3164", "an invisible character", 2),
        ] {
            let err = refused(&env, &["create", "--name", name], None, 2);
            assert_eq!(
                err,
                format!(
                    "vbx-tokens: the name holds {code} ({what}) at character {at}: use visible characters and plain spaces only\n"
                ),
                "{name:?}"
            );
        }
        // Names that render alike are one name: taken while the first is active.
        for look_alike in ["\u{441}i", "\u{ff43}\u{ff49}"] {
            let err = refused(&env, &["create", "--name", look_alike], None, 2);
            assert_eq!(
                err,
                format!(
                    "vbx-tokens: an active token ({ci}) is named \"ci\", which looks the same as {look_alike:?}: pick another name, or revoke that one first\n"
                )
            );
        }
        let err = refused(&env, &["create", "--name", " ci "], None, 2);
        assert!(
            err.contains(&format!("({ci}) is already named \"ci\"")),
            "{err}"
        );
        // The same é, typed composed or with a combining accent: one name, stored composed.
        let err = refused(&env, &["create", "--name", "cafe\u{301}"], None, 2);
        assert!(err.contains("already named"), "{err}");
        assert_eq!(env.record("cafe\u{301}")["name"], "caf\u{e9}");
        // A look-alike finds the token it looks like, and frees the name when that is revoked.
        assert_eq!(env.record("\u{441}i")["id"], ci.as_str());
        env.ok(&["revoke", "ci", "--yes"]);
        env.create("\u{441}i");
        assert_eq!(env.json(&["list"]).as_array().expect("array").len(), 2);
    }
}
#[test]
fn unknown_tokens_exit_3() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
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
}

#[test]
fn revoke_without_a_terminal_needs_yes() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("keep");
        let err = refused(&env, &["revoke", "keep"], None, 2);
        assert!(err.contains("--yes"), "{err}");
    }
}

#[test]
fn bad_verify_input_is_a_usage_error() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
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
}

#[test]
fn usage_errors_from_the_parser_exit_2() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
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
}

#[test]
fn reading_a_missing_store_says_how_to_make_one() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
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
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let out = env
            .cmd()
            .arg("debug-panic")
            .env("RUST_BACKTRACE", "1")
            .output()
            .expect("runs");
        let err = assert_one_line_error(&out, 7);
        assert!(err.contains("internal error"), "{err}");
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
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
            .envs(env.store_env())
            .output()
            .expect("bash");
        // A command that only displays ends quietly with 0 when its reader leaves.
        assert_eq!(String::from_utf8_lossy(&out.stdout), "log=0\nlist=0\n");
        assert_eq!(stderr(&out), "");
    }
}

#[test]
fn a_failed_command_never_creates_a_store() {
    let env = Env::new();
    let typo = env.tmp.path().join("typo");
    let typo_s = typo.to_string_lossy().into_owned();
    let two_lines = env.tmp.path().join("two-lines");
    fs::write(&two_lines, "one\ntwo\n").expect("write");
    let two_lines = two_lines.to_string_lossy().into_owned();
    let bad = env.tmp.path().join("bad.ndjson");
    fs::write(&bad, "{\"name\":\"x\"}\n").expect("write");
    let bad = bad.to_string_lossy().into_owned();
    let no_store =
        format!("vbx-tokens: no store at {typo_s}: run `vbx-tokens create` to make one\n");
    for (args, stdin, expected) in [
        (&["vault", "init"][..], "", 4),
        (&["vault", "init", "--kdf-memory-mib", "4097"], "", 2),
        (&["vault", "init", "--passphrase-file", &two_lines], "", 4),
        (&["create"], "", 2),
        (&["create", "--name", ""], "", 2),
        (&["create", "--name", "x", "--keep"], "", 4),
        (&["import", &bad], "", 2),
        (&["import", "-"], "garbage\n", 2),
        (&["import", "/nonexistent"], "", 2),
        (&["list"], "", 6),
        (&["show", "x"], "", 6),
        (&["revoke", "x", "--yes"], "", 6),
        (&["verify"], "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17\n", 6),
        (&["verify", "--batch"], "x\n", 6),
        (&["log"], "", 6),
        (&["export"], "", 6),
        (&["vault", "reveal", "x"], "", 6),
        (&["vault", "forget", "x"], "", 6),
        (&["vault", "passwd"], "", 6),
        (&["vault", "export", "out.vbxvault"], "", 6),
        (&["vault", "status"], "", 6),
        (&["vault", "import", &bad], "", 2),
    ] {
        let out = env
            .cmd()
            .arg("--store")
            .arg(&typo)
            .args(args)
            .write_stdin(stdin)
            .output()
            .expect("runs");
        let err = assert_one_line_error(&out, expected);
        if expected == 6 {
            assert_eq!(err, no_store, "{args:?}");
        }
        assert!(!typo.exists(), "{args:?} left a store behind");
    }
    // A mistyped store is named as missing, never taken for an empty one.
}

/// An error quotes at most 64 characters of a value it refuses, masked before it is cut (a
/// token the cut would halve is masked whole): a 60,000-character value gives a short line.
#[test]
fn a_long_refused_value_is_cut_in_the_error_and_a_token_in_it_masked() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let live = env.create("live");
        let long = "9".repeat(60_000);
        // A token straddling the 64th character.
        let straddling = format!("{}{live}{}", "x".repeat(44), "y".repeat(100));
        let sha = "a".repeat(64);
        for value in [long.as_str(), straddling.as_str()] {
            let mut lines = Vec::new();
            for field in ["status", "id", "last_used_ip", "created_at", "replaces"] {
                lines.push(format!(
                    r#"{{"name":"n","sha256":"{sha}","{field}":{}}}"#,
                    serde_json::to_string(value).expect("json")
                ));
            }
            for line in lines {
                let out = env.run_in(&["import", "-"], format!("{line}\n"));
                let err = assert_one_line_error(&out, 2);
                assert!(err.len() < 1_000, "{} bytes: {err:.200}", err.len());
                assert!(!err.contains(&live[4..]), "{err}");
            }
            let out = env.run(&["create", "--name", "x", "--expires-in", value]);
            let err = assert_one_line_error(&out, 2);
            assert!(err.len() < 1_000, "{} bytes: {err:.200}", err.len());
            assert!(!err.contains(&live[4..]), "{err}");
        }
        let out = env.run(&["show", &long]);
        let err = assert_one_line_error(&out, 3);
        assert!(err.len() < 1_000, "{} bytes: {err:.200}", err.len());
    }
}
