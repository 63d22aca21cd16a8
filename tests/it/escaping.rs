//! One escape for text output (README, "Exit codes"): file names and everything printed from
//! the store are shown escaped in text, so no line can drive the terminal; JSON keeps the exact
//! string.

use crate::common::*;

/// A file name that sets the terminal's title, and others that break or reverse a line.
const ODD: &[&str] = &[
    "\u{1b}]0;pwned\u{7}",
    "a\nb",
    "evil\u{202E}txt",
    "x\u{1b}[2Jy",
];

#[track_caller]
fn clean(out: &std::process::Output, what: &str) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202E}'),
            "{what}: raw in {stream}: {text:?}"
        );
    }
}

#[test]
fn every_message_that_names_a_file_shows_it_escaped() {
    for odd in ODD {
        let env = Env::new();
        env.create("a");
        let (pass, _) = env.vault_with("kept");
        let dir = env.tmp.path();
        let backup = dir.join(format!("b{odd}"));
        let out = env.run(&[
            "backup",
            backup.to_str().expect("utf-8"),
            "--passphrase-file",
            &pass,
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        clean(&out, "backup");
        assert_eq!(
            stderr(&out).lines().count(),
            1,
            "one line: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("\\u{") || stderr(&out).contains("\\n"),
            "{}",
            stderr(&out)
        );

        let out = env.run(&["log"]);
        clean(&out, "log");
        let json = env.json(&["log"]);
        let details: Vec<&str> = json
            .as_array()
            .expect("an array")
            .iter()
            .filter_map(|e| e["detail"].as_str())
            .collect();
        assert!(details.iter().all(|d| !d.contains('\u{1b}')), "{details:?}");

        let out = env.run(&["doctor"]);
        clean(&out, "doctor");
        assert!(stdout(&out).contains("last backup"), "{}", stdout(&out));

        let exported = dir.join(format!("e{odd}"));
        std::fs::write(&exported, env.ok(&["export"])).expect("write");
        let other = Env::new();
        let out = other.run(&["import", exported.to_str().expect("utf-8")]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        clean(&out, "import");

        let vault_file = dir.join(format!("v{odd}"));
        let out = env.run(&[
            "vault",
            "export",
            vault_file.to_str().expect("utf-8"),
            "--passphrase-file",
            &pass,
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        clean(&out, "vault export");

        let out = Env::new().run(&[
            "restore",
            backup.to_str().expect("utf-8"),
            "--yes",
            "--passphrase-file",
            &pass,
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        clean(&out, "restore");

        // And an error naming one.
        let out = env.run(&[
            "import",
            dir.join(format!("missing{odd}")).to_str().expect("utf-8"),
        ]);
        clean(&out, "an error");
        assert_one_line_error(&out, 2);
    }
}

/// What an old store (or a future bug) holds raw reaches no terminal raw: the record is
/// changed behind the tool's back, in sled itself.
#[test]
fn store_text_is_escaped_in_every_table_and_exact_in_json() {
    let env = Env::new();
    let token = env.create("plain");
    let id = env.record("plain")["id"].as_str().expect("id").to_owned();
    let evil = "\u{1b}[31mred\u{1b}]0;t\u{7}\u{202E}";
    {
        let db = sled::open(env.store()).expect("sled opens");
        let tokens = db.open_tree("tokens").expect("tree");
        let mut v: serde_json::Value =
            serde_json::from_slice(&tokens.get(&id).expect("get").expect("there")).expect("json");
        v["name"] = evil.into();
        v["note"] = evil.into();
        v["created_by"] = evil.into();
        tokens
            .insert(id.as_bytes(), serde_json::to_vec(&v).expect("json"))
            .expect("insert");
        db.flush().expect("flush");
    }
    for args in [&["list"][..], &["list", "--all"], &["show", &id], &["log"]] {
        let out = env.run(args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        clean(&out, &format!("{args:?}"));
    }
    let out = env.run_in(&["verify"], format!("{token}\n"));
    clean(&out, "verify");
    let v = env.json(&["show", &id]);
    assert_eq!(
        v["name"].as_str(),
        Some(evil),
        "JSON keeps the exact string"
    );
}

/// A backup's file name is kept in the log, escaped: a long one (each byte that is not UTF-8
/// escaped takes four characters, and a path relative to a deep directory can pass PATH_MAX)
/// is cut to fit, so every backup taken afterwards still restores.
#[test]
fn a_backup_to_a_long_path_leaves_every_later_backup_restorable() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    env.create("a");
    let part = std::ffi::OsStr::from_bytes(&[0xff; 250]);
    let mut deep = env.tmp.path().join("deep");
    for _ in 0..5 {
        deep.push(part);
    }
    std::fs::create_dir_all(&deep).expect("dirs");
    let out = env
        .cmd()
        .arg("backup")
        .arg(deep.join("b1"))
        .output()
        .expect("runs");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let later = env.tmp.path().join("b2");
    env.ok(&["backup", later.to_str().expect("utf-8")]);
    let log = env.json(&["log"]);
    let detail = log.as_array().expect("events")[1]["detail"]
        .as_str()
        .expect("a detail")
        .to_owned();
    assert_eq!(detail.chars().count(), 4096, "{detail}");
    assert!(
        detail.ends_with('…') && detail.contains("\\xFF"),
        "{detail}"
    );
    let other = env.tmp.path().join("restored");
    let out = env
        .cmd()
        .env("VBX_TOKENS_HOME", &other)
        .args(["restore", later.to_str().expect("utf-8"), "--yes"])
        .output()
        .expect("runs");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// A path may hold a token (a directory named after one, worked in with relative names: an
/// argument that holds one is refused): no message, JSON document, log event, store file or
/// backup holds it whole, and every backup taken there still restores.
#[test]
fn a_token_in_a_path_is_masked_wherever_the_path_is_shown_or_kept() {
    let env = Env::new();
    let token = env.create("live");
    let dir = env.tmp.path().join(&token);
    std::fs::create_dir(&dir).expect("dir");
    let run = |args: &[&str]| {
        env.cmd()
            .current_dir(&dir)
            .args(args)
            .output()
            .expect("runs")
    };
    let out = run(&["backup", "first.backup"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains(&token), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&token[..8]),
        "the hint shows: {}",
        stderr(&out)
    );
    let out = run(&["--json", "backup", "second.backup"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stdout(&out).contains(&token), "{}", stdout(&out));
    for args in [
        &["log"][..],
        &["log", "--json"],
        &["doctor"],
        &["doctor", "--json"],
    ] {
        let out = env.run(args);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!all.contains(&token), "{args:?}: {all}");
    }
    let second = dir.join("second.backup");
    for file in files_under(&env.store())
        .into_iter()
        .chain([second.clone()])
    {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&token),
            "{} holds the token",
            file.display()
        );
    }
    // Restored into a store whose path holds the token too, over one already there.
    let other = dir.join("store");
    for force in [&[][..], &["--force"], &["--force", "--json"]] {
        let out = env
            .cmd()
            .current_dir(&dir)
            .env("VBX_TOKENS_HOME", &other)
            .args(["restore", "second.backup", "--yes"])
            .args(force)
            .output()
            .expect("runs");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!all.contains(&token), "{all}");
    }
}

/// `doctor --json` names the last backup by its exact path, as `backup --json` did; the table
/// shows it escaped.
#[test]
fn doctor_json_names_the_last_backup_exactly() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("a");
        let odd = env.tmp.path().join("j\u{1b}[1m\u{202e}\\x.backup");
        let out = env.run(&["--json", "backup", odd.to_str().expect("utf-8")]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(parse(&out.stdout)["file"], odd.to_str().expect("utf-8"));
        let out = env.run(&["doctor", "--json"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(
            parse(&out.stdout)["last_backup"]["file"],
            odd.to_str().expect("utf-8")
        );
        let text = stdout(&env.run(&["doctor"]));
        assert!(
            !text.contains('\u{1b}') && text.contains("j\\x1B[1m"),
            "{text}"
        );
    }
}
