//! A closed or failing stdout, judged by the kind of command: a verdict stands whatever happens
//! to stdout, a product cut short is a failure, a display ends quietly when its reader leaves.

use std::fs::File;
use std::io::Write;
use std::process::{Output, Stdio};

use vbx_tokens::token::Token;

use crate::common::*;

/// Runs with stdout set to `stdout`, feeding `stdin` from a thread.
#[track_caller]
fn spawn_with(env: &Env, args: &[&str], stdin: &[u8], stdout: Stdio, close_reader: bool) -> Output {
    let mut child = env
        .std_cmd()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if close_reader {
        // Close the reading end before the command can have written anything.
        drop(child.stdout.take());
    }
    let mut input = child.stdin.take().expect("stdin");
    let bytes = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    out
}

/// Runs with stdout a pipe whose reader has already gone (`| true`, `| head -1` done reading).
#[track_caller]
fn with_reader_gone(env: &Env, args: &[&str], stdin: &[u8]) -> Output {
    spawn_with(env, args, stdin, Stdio::piped(), true)
}

/// Runs with stdout on `/dev/full`: every write fails with ENOSPC.
#[track_caller]
fn with_full_stdout(env: &Env, args: &[&str], stdin: &[u8]) -> Output {
    let full = File::options()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    spawn_with(env, args, stdin, Stdio::from(full), false)
}

/// A store holding `n` valid tokens, made fast through `import`; returns the tokens.
fn store_with(env: &Env, n: usize) -> Vec<String> {
    let (tokens, lines) = import_lines(n, "t");
    let out = env.run_in(&["import", "-"], lines);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    tokens
}

#[test]
fn a_verdict_stands_whatever_happens_to_stdout() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let valid = env.create("valid");
        let revoked = env.create("revoked");
        env.ok(&["revoke", "revoked", "--yes"]);
        let unknown = Token::generate().expose().to_owned();
        for (token, expected) in [
            (&valid, 0),
            (&revoked, 1),
            (&unknown, 1),
            (&"junk".into(), 1),
        ] {
            for json in [false, true] {
                let mut args = vec!["verify"];
                if json {
                    args.push("--json");
                }
                let line = format!("{token}\n");
                let out = with_reader_gone(&env, &args, line.as_bytes());
                assert_eq!(code(&out), expected, "{args:?} closed: {}", stderr(&out));
                assert_eq!(stderr(&out), "");
                let out = with_full_stdout(&env, &args, line.as_bytes());
                assert_eq!(code(&out), expected, "{args:?} full: {}", stderr(&out));
                assert_eq!(stderr(&out), "");
            }
        }
        // The uses were counted: the verifies happened.
        assert_eq!(env.record("valid")["use_count"], 4);
    }
}

#[test]
fn a_batch_whose_reader_leaves_early_is_not_all_valid() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let tokens = store_with(&env, 3000);
        let input: String = tokens.iter().map(|t| format!("{t}\n")).collect();
        // All valid, every line checked: 0.
        let out = env.run_in(&["verify", "--batch", "--no-touch"], input.clone());
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(stdout(&out).lines().count(), 3000);
        // The reader left: the rest was not checked, so the batch cannot say "all valid".
        let out = with_reader_gone(&env, &["verify", "--batch", "--no-touch"], input.as_bytes());
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "vbx-tokens: the output closed after 1024 answer(s); the rest of the input was not checked\n"
        );
        // A small batch whose every line was checked keeps its verdict.
        let out = with_reader_gone(&env, &["verify", "--batch"], b"junk\n");
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        let line = format!("{}\n", tokens[0]);
        let out = with_reader_gone(&env, &["verify", "--batch"], line.as_bytes());
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
}

#[test]
fn a_product_cut_short_is_a_failure() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        store_with(&env, 3000);
        // More than a pipe holds, so the writer meets the closed pipe whatever the timing.
        let out = with_reader_gone(&env, &["export"], b"");
        assert_one_line_error(&out, 6);
        assert_eq!(
            stderr(&out),
            "vbx-tokens: cannot write output: broken pipe; the export is incomplete\n"
        );
        let out = with_full_stdout(&env, &["export"], b"");
        assert_eq!(
            stderr(&out),
            "vbx-tokens: cannot write output: no space left on device; the export is incomplete\n"
        );
        assert_eq!(code(&out), 6);

        // The token create shows once: not shown is a failure that says what to do.
        let out = with_reader_gone(&env, &["create", "--name", "lost", "-q"], b"");
        let err = assert_one_line_error(&out, 6);
        let id = env.record("lost")["id"].as_str().expect("id").to_owned();
        assert_eq!(
            err,
            format!(
                "vbx-tokens: cannot write output: broken pipe; token \"lost\" ({id}) was created but not shown: revoke it and create another\n"
            )
        );
        let out = with_full_stdout(&env, &["create", "--name", "lost2", "--json"], b"");
        assert_one_line_error(&out, 6);
    }
}

#[test]
fn the_vault_export_and_reveal_cut_short_fail() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let (pass, _) = env.vault_with("pos");
        let out = with_reader_gone(
            &env,
            &["vault", "export", "-", "--passphrase-file", &pass],
            b"",
        );
        assert_eq!(
            assert_one_line_error(&out, 6),
            "vbx-tokens: cannot write output: broken pipe; the vault export is incomplete\n"
        );
        let out = with_reader_gone(
            &env,
            &["vault", "reveal", "pos", "--passphrase-file", &pass],
            b"",
        );
        assert_eq!(
            assert_one_line_error(&out, 6),
            "vbx-tokens: cannot write output: broken pipe; the token was not shown\n"
        );
    }
}

#[test]
fn a_display_ends_quietly_when_its_reader_leaves_and_fails_on_a_full_disk() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        store_with(&env, 3000);
        for args in [
            &["list"][..],
            &["list", "--all", "--json"],
            &["log"],
            &["log", "--json"],
            &["show", "t1"],
            &["vault", "status"],
        ] {
            let out = with_reader_gone(&env, args, b"");
            assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
            assert_eq!(stderr(&out), "", "{args:?}");
            let out = with_full_stdout(&env, args, b"");
            assert_eq!(
                assert_one_line_error(&out, 6),
                "vbx-tokens: cannot write output: no space left on device\n",
                "{args:?}"
            );
        }
    }
}

/// A file name that is not UTF-8 is shown with U+FFFD in `--json`, in a whole document: never
/// half of one with exit 0.
#[test]
fn json_naming_a_file_that_is_not_utf8_is_whole() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    let (pass, _) = env.vault_with("billing");
    let name = |n: &[u8]| env.tmp.path().join(std::ffi::OsStr::from_bytes(n));
    let backup = name(b"b\xff.json");
    let export = name(b"v\xfe.vbxvault");
    for (args, file) in [
        (
            vec![std::ffi::OsStr::new("backup"), backup.as_os_str()],
            &backup,
        ),
        (
            vec![
                "vault".as_ref(),
                "export".as_ref(),
                export.as_os_str(),
                "--passphrase-file".as_ref(),
                pass.as_ref(),
            ],
            &export,
        ),
    ] {
        let out = env
            .std_cmd()
            .args(args)
            .arg("--json")
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let v = parse(&out.stdout);
        let shown = v["file"].as_str().expect("a file name");
        assert_eq!(shown, file.to_string_lossy(), "{v}");
        assert!(file.is_file());
    }
    // What the store notes of the backup keeps every byte, so the file can be named again:
    // the log's detail and doctor's last-backup line write `\xFF`, not U+FFFD.
    let kept = backup.to_string_lossy().replace('\u{fffd}', "\\xFF");
    let log = env.json(&["log"]);
    let backed_up = log
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["event"] == "backed_up")
        .expect("a backed_up event");
    assert_eq!(backed_up["detail"], kept.as_str(), "{log}");
    let doctor = stdout(&env.run(&["doctor"]));
    assert!(doctor.contains(&kept), "{doctor}");
}
