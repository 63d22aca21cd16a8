//! Secrets stay secret: no plaintext token on disk, private file modes whatever the umask.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::common::*;

#[test]
fn the_plaintext_token_never_appears_under_the_store() {
    let env = Env::new();
    let tokens: Vec<String> = (0..5).map(|i| env.create(&format!("t{i}"))).collect();
    for t in &tokens {
        env.verify(t, &[]);
    }
    env.ok(&["revoke", "t0", "--yes"]);
    env.verify(&tokens[0], &[]);
    let files = files_under(&env.store());
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        let bytes = fs::read(&f).expect("read");
        for t in &tokens {
            // The random part alone would be enough to rebuild the token.
            let needle = &t.as_bytes()[4..34];
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds a plaintext token",
                f.display()
            );
        }
    }
}

#[test]
fn store_is_private_whatever_the_umask() {
    let env = Env::new();
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            r#"umask 000 && "$BIN" create --name a -q >"$OUT" && "$BIN" list >/dev/null"#,
        ])
        .env("BIN", BIN)
        .env("VBX_TOKENS_HOME", env.store())
        .env("OUT", env.tmp.path().join("token"))
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &std::path::Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&env.store()), 0o700);
    let mut stack = vec![env.store()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                assert_eq!(mode(&path), 0o700, "{}", path.display());
                stack.push(path);
            } else {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
            }
        }
    }
}

/// The refusal every token-shaped argument gets, whatever the command.
const REFUSED: &str = "vbx-tokens: an argument looks like a token (vbx_…): never put a token on the command line, where `ps` and shell history keep it; pass it on stdin or in VBX_TOKEN\n";

#[test]
fn a_token_shaped_argument_is_refused_and_never_echoed() {
    let env = Env::new();
    let t = env.create("ci");
    let cut = &t[..30];
    let wrong_sum = format!("{}{}", &t[..34], "zzzzzz");
    let upper = t.replacen("vbx_", "VBX_", 1);
    for token in [t.as_str(), cut, &wrong_sum, &upper] {
        let with_eq = format!("--name={token}");
        let in_note = format!("note {token} here");
        let store = format!("/tmp/{token}");
        for args in [
            &["verify", token][..],
            &["verify", "--token", token],
            &["verify", "--batch", token],
            &["show", token],
            &["revoke", token, "--yes"],
            &["create", "--name", token],
            &["create", &with_eq],
            &["create", "--name", "x", "--note", &in_note],
            &["--store", &store, "list"],
            &["log", "--token", token],
            &["vault", "reveal", token],
            &["import", token],
            &["nonsense", token],
            &[token],
        ] {
            let out = env.run(args);
            assert_eq!(stderr(&out), REFUSED, "{args:?}");
            assert_eq!(code(&out), 2, "{args:?}");
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }
    // The token was never checked, so never logged as a failure either.
    assert_eq!(env.json(&["log"]).as_array().expect("array").len(), 1);
}

#[test]
fn a_token_that_an_error_must_mention_is_masked() {
    let env = Env::new();
    let t = env.create("ci");
    let masked = format!("{}…", &t[..8]);
    // A store path (from the environment, which is not refused) that holds a token.
    let store = env.tmp.path().join(&t);
    let out = env
        .cmd()
        .env("VBX_TOKENS_HOME", &store)
        .arg("list")
        .output()
        .expect("runs");
    let err = assert_one_line_error(&out, 6);
    assert!(!err.contains(&t[8..]) && err.contains(&masked), "{err}");
    // Clap's own errors are cut to one line and masked too.
    let out = env
        .cmd()
        .args(["verify", "--frobnicate"])
        .output()
        .expect("runs");
    assert_eq!(
        assert_one_line_error(&out, 2),
        "vbx-tokens: unexpected argument '--frobnicate' found (see --help)\n"
    );
    // An import line may hold a token only in `token`, and the error never repeats it.
    let line = format!(
        r#"{{"name":"x","sha256":"{}","status":"{t}"}}"#,
        "a".repeat(64)
    );
    let out = env.run_in(&["import", "-"], line);
    let err = assert_one_line_error(&out, 2);
    assert!(!err.contains(&t[8..]), "{err}");
    assert!(
        err.contains("`status` holds something shaped like a token"),
        "{err}"
    );
}

#[test]
fn no_output_of_any_command_holds_a_token() {
    let env = Env::new();
    let t = env.create("ci");
    env.verify(&t, &[]);
    env.verify("junk", &[]);
    let mut seen = String::new();
    for args in [
        &["list", "--all"][..],
        &["list", "--all", "--json"],
        &["show", "ci"],
        &["show", "ci", "--json"],
        &["log"],
        &["log", "--json"],
        &["export"],
    ] {
        let out = env.run(args);
        seen.push_str(&stdout(&out));
        seen.push_str(&stderr(&out));
    }
    assert!(!seen.contains(&t[4..34]), "{seen}");
    assert!(seen.contains(&t[..8]), "the hint is shown: {seen}");
}
