//! `scan` and `redact` as a user meets them: a tree with a token of every status, look-alikes,
//! ignored and binary files; stdin; a redacted stream read back line by line.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::*;

/// The token the check value of the format gives: valid checksum, in no store.
const FOREIGN_FORMAT: &str = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";

/// Every string a token could be confused with, none of which is one: a changed checksum, a
/// Cyrillic `о`, full-width letters, a zero-width joiner inside, a token cut short, the wrong
/// case of the prefix.
fn look_alikes() -> Vec<String> {
    let good = FOREIGN_FORMAT;
    vec![
        good.replacen("17", "18", 1),
        good.replacen('o', "о", 1),
        good.replacen("vbx_", "ｖｂｘ＿", 1),
        good.replacen("Ri4", "R\u{200d}i4", 1),
        good[..38].to_owned(),
        good.replacen("vbx_", "VBX_", 1),
    ]
}

struct Tree {
    env: Env,
    root: PathBuf,
    /// name -> (token, id)
    tokens: Vec<(&'static str, String, String)>,
}

impl Tree {
    fn token(&self, name: &str) -> &str {
        &self.tokens.iter().find(|t| t.0 == name).expect("made").1
    }

    fn id(&self, name: &str) -> &str {
        &self.tokens.iter().find(|t| t.0 == name).expect("made").2
    }

    /// Runs in the directory above the tree, so paths read `tree/…`.
    #[track_caller]
    fn run(&self, args: &[&str]) -> Output {
        let out = self
            .env
            .cmd()
            .current_dir(self.root.parent().expect("a parent"))
            .args(args)
            .output()
            .expect("runs");
        self.assert_no_whole_token(&out);
        out
    }

    /// No output, on either stream, holds any part of a token past its hint.
    #[track_caller]
    fn assert_no_whole_token(&self, out: &Output) {
        let (o, e) = (stdout(out), stderr(out));
        for (name, token, _) in &self.tokens {
            for text in [&o, &e] {
                assert!(!text.contains(&token[8..]), "{name} leaked: {text}");
            }
        }
    }
}

/// A store with a token of each status, and a tree (a git work tree) that holds them.
fn tree() -> Tree {
    let env = Env::new();
    let mut tokens = Vec::new();
    for name in ["live", "revoked", "disabled"] {
        tokens.push((name, env.create(name), String::new()));
    }
    env.ok(&["revoke", "revoked", "--yes"]);
    env.ok(&["disable", "disabled"]);
    let expired = vbx_tokens::Token::generate().expose().to_owned();
    let line = format!(
        "{{\"name\":\"expired\",\"token\":\"{expired}\",\"expires_at\":\"2020-01-01T00:00:00Z\"}}\n"
    );
    let out = env.run_in(&["import", "-"], line);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    tokens.push(("expired", expired, String::new()));
    // A valid token of another store.
    let other = Env::new();
    tokens.push(("unknown", other.create("elsewhere"), String::new()));
    for t in tokens.iter_mut().filter(|t| t.0 != "unknown") {
        t.2 = env.record(t.0)["id"].as_str().expect("an id").to_owned();
    }

    let root = env.tmp.path().join("tree");
    let write = |rel: &str, bytes: &[u8]| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    };
    let t = |name: &str| tokens.iter().find(|t| t.0 == name).expect("made").1.clone();
    write(
        "src/config.py",
        format!(
            "# settings\nAPI_KEY = \"{}\"\n# {}\n",
            t("live"),
            look_alikes().join(" ")
        )
        .as_bytes(),
    );
    write(
        "src/deep/nested/notes.md",
        format!(
            "revoked: {}\nurl = https://api.test/?key={}&v=1\n{}\n",
            t("revoked"),
            t("expired"),
            t("disabled")
        )
        .as_bytes(),
    );
    write(
        "docs/elsewhere.txt",
        format!("{}\n", t("unknown")).as_bytes(),
    );
    write(
        "docs/lookalikes.txt",
        format!("{}\n", look_alikes().join("\n")).as_bytes(),
    );
    // Ignored, and binary: a live token in either is not reported.
    write(".gitignore", b"*.log\n");
    write("build/debug.log", format!("{}\n", t("live")).as_bytes());
    let mut blob = vec![0u8, 1, 2, 0];
    blob.extend_from_slice(t("live").as_bytes());
    write("assets/blob.bin", &blob);
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(&root)
        .status()
        .expect("git runs");
    assert!(git.success());
    Tree { env, root, tokens }
}

fn finding(
    path: &str,
    line: u64,
    column: u64,
    id: Option<&str>,
    name: Option<&str>,
    status: &str,
    token: &str,
) -> Value {
    json!({
        "path": path, "line": line, "column": column, "id": id, "name": name,
        "status": status, "token": format!("{}…", &token[..8]),
    })
}

#[test]
fn scan_reports_each_token_with_its_status_and_exits_1_while_one_still_verifies() {
    if !have("git", "git") {
        return;
    }
    let t = tree();
    let out = t.run(&["scan", "tree", "--json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let expected = json!([
        finding(
            "tree/docs/elsewhere.txt",
            1,
            1,
            None,
            None,
            "unknown",
            t.token("unknown")
        ),
        finding(
            "tree/src/config.py",
            2,
            12,
            Some(t.id("live")),
            Some("live"),
            "active",
            t.token("live")
        ),
        finding(
            "tree/src/deep/nested/notes.md",
            1,
            10,
            Some(t.id("revoked")),
            Some("revoked"),
            "revoked",
            t.token("revoked")
        ),
        finding(
            "tree/src/deep/nested/notes.md",
            2,
            29,
            Some(t.id("expired")),
            Some("expired"),
            "expired",
            t.token("expired")
        ),
        finding(
            "tree/src/deep/nested/notes.md",
            3,
            1,
            Some(t.id("disabled")),
            Some("disabled"),
            "disabled",
            t.token("disabled")
        ),
    ]);
    assert_eq!(parse(&out.stdout), expected);
    assert_eq!(
        stderr(&out),
        "5 tokens found in 3 files, 1 still valid; 1 file skipped as binary (name a file to search it).\n",
        "the look-alikes, the ignored and the binary file are not reported"
    );

    // The table: the same findings, in the same order.
    let out = t.run(&["scan", "tree"]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["PATH", "LINE", "ID", "NAME", "STATUS", "TOKEN"]);
    let live_row = [
        "tree/src/config.py",
        "2",
        t.id("live"),
        "live",
        "active",
        &format!("{}…", &t.token("live")[..8]),
    ];
    assert_eq!(rows[2], live_row);
    assert_eq!(rows[1][2..5], ["-", "-", "unknown"]);
    assert_eq!(rows.len(), 6);

    // Ignore rules off: the ignored file counts; the binary one is still skipped.
    let out = t.run(&["scan", "tree", "--no-ignore", "--json"]);
    let found = parse(&out.stdout);
    let paths: Vec<&str> = found
        .as_array()
        .expect("an array")
        .iter()
        .map(|f| f["path"].as_str().expect("a path"))
        .collect();
    assert!(paths.contains(&"tree/build/debug.log"), "{paths:?}");
    assert!(!paths.iter().any(|p| p.ends_with("blob.bin")), "{paths:?}");

    // Revoked, the live token no longer fails the scan; the findings stay.
    t.env.ok(&["revoke", "live", "--yes"]);
    let out = t.run(&["scan", "tree", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(parse(&out.stdout)[1]["status"], "revoked");
    assert_eq!(
        stderr(&out),
        "5 tokens found in 3 files, 0 still valid; 1 file skipped as binary (name a file to search it).\n"
    );
}

#[test]
fn scan_names_files_and_reads_stdin() {
    if !have("git", "git") {
        return;
    }
    let t = tree();
    // Files named one by one, as a pre-commit hook names them.
    let out = t.run(&[
        "scan",
        "tree/src/config.py",
        "tree/docs/lookalikes.txt",
        "--json",
    ]);
    assert_eq!(code(&out), 1);
    let found = parse(&out.stdout);
    assert_eq!(found.as_array().expect("an array").len(), 1);
    assert_eq!(found[0]["id"], t.id("live"));

    // Stdin is `-`; a token inside a longer word is still one.
    let input = format!("one\nGET /v1?token={}&x=1 HTTP/1.1\n", t.token("disabled"));
    let out = t
        .env
        .cmd()
        .args(["scan", "--json"])
        .write_stdin(input)
        .output()
        .expect("runs");
    t.assert_no_whole_token(&out);
    assert_eq!(code(&out), 0, "a disabled token does not verify");
    assert_eq!(
        parse(&out.stdout),
        json!([finding(
            "-",
            2,
            15,
            Some(t.id("disabled")),
            Some("disabled"),
            "disabled",
            t.token("disabled")
        )])
    );
    assert_eq!(stderr(&out), "1 token found in 1 file, 0 still valid.\n");

    // Look-alikes and checksum failures are not tokens.
    let out = t.env.run_in(&["scan", "--json"], look_alikes().join("\n"));
    assert_eq!(code(&out), 0);
    assert_eq!(parse(&out.stdout), json!([]));
    assert_eq!(stderr(&out), "No tokens found in 1 file.\n");
}

#[test]
fn scan_without_a_store_reports_unknown_and_fails_on_any_token() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let root = env.tmp.path().join("t");
        std::fs::create_dir_all(&root).expect("mkdir");
        std::fs::write(root.join("a.txt"), format!("k={FOREIGN_FORMAT}\n")).expect("write");
        let out = env.run(&["scan", root.to_str().expect("utf-8"), "--json"]);
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        assert_eq!(parse(&out.stdout)[0]["status"], "unknown");
        assert_eq!(parse(&out.stdout)[0]["id"], Value::Null);
        let err = stderr(&out);
        assert!(err.contains("no store at"), "{err}");
        assert!(
            err.contains("1 token found in 1 file, none checked (no store)"),
            "{err}"
        );
        assert!(
            !err.contains(&FOREIGN_FORMAT[8..]) && !stdout(&out).contains(&FOREIGN_FORMAT[8..])
        );
        assert!(!env.store().exists(), "scan creates no store");

        // Nothing found: nothing to fear.
        std::fs::write(root.join("a.txt"), "clean\n").expect("write");
        let out = env.run(&["scan", root.to_str().expect("utf-8")]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
}

#[test]
fn scan_of_a_missing_path_is_a_usage_error_naming_it() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let out = env.run(&["scan", "no/such/dir"]);
        let err = assert_one_line_error(&out, 2);
        assert!(
            err.contains("no/such/dir") && err.contains("no such file"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn an_unreadable_file_is_warned_about_and_the_scan_goes_on_with_exit_2() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("x");
        let root = env.tmp.path().join("t");
        std::fs::create_dir_all(&root).expect("mkdir");
        std::fs::write(root.join("ok.txt"), "fine\n").expect("write");
        let locked = root.join("locked.txt");
        std::fs::write(&locked, "secret\n").expect("write");
        // Unreadable to anyone but root; /proc/self/mem fails to read (EIO at offset 0) even
        // for root.
        let root_reads_all = rustix::process::geteuid().is_root();
        set_mode(&locked, 0o000);
        let out = env.run(&["scan", root.to_str().expect("utf-8"), "/proc/self/mem"]);
        set_mode(&locked, 0o600);
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{err}");
        let lines: Vec<&str> = err.lines().collect();
        let unreadable = if root_reads_all { 1 } else { 2 };
        assert!(
            lines.iter().any(
                |l| l == &"vbx-tokens: cannot read /proc/self/mem: input/output error; skipped"
            ),
            "{err}"
        );
        if !root_reads_all {
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains("locked.txt") && l.contains("permission denied")),
                "{err}"
            );
        }
        let searched = if root_reads_all { 2 } else { 1 };
        // One line for the verdict after one per file: the summary is the error's line.
        assert_eq!(lines.len(), unreadable + 1, "{err}");
        assert_eq!(
            lines[unreadable],
            format!(
                "vbx-tokens: the scan is incomplete (what could not be read is named above): no tokens found in {searched} file{}; {unreadable} file{} could not be read",
                if searched == 1 { "" } else { "s" },
                if unreadable == 1 { "" } else { "s" }
            )
        );

        // A token that still verifies is the answer that matters: exit 1, unreadable files or not.
        let live = env.create("live");
        std::fs::write(root.join("ok.txt"), format!("{live}\n")).expect("write");
        let out = env.run(&["scan", root.to_str().expect("utf-8"), "/proc/self/mem"]);
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        assert!(stderr(&out).contains("1 still valid; "), "{}", stderr(&out));
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn redact_masks_tokens_with_their_id_and_passes_every_other_byte() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let live = env.create("live");
        let id = env.record("live")["id"].as_str().expect("an id").to_owned();
        let bad = FOREIGN_FORMAT.replacen("17", "18", 1);
        let mut input = Vec::new();
        input.extend_from_slice(format!("GET /?key={live}&a=1\n").as_bytes());
        input.extend_from_slice(b"raw \xff\xfe bytes\n");
        input.extend_from_slice(format!("foreign {FOREIGN_FORMAT} typo {bad}\n").as_bytes());
        input.extend_from_slice(format!("no newline {live}").as_bytes());
        let out = env.run_in(&["redact"], input);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let mut expected = Vec::new();
        expected.extend_from_slice(format!("GET /?key={}…[{id}]&a=1\n", &live[..8]).as_bytes());
        expected.extend_from_slice(b"raw \xff\xfe bytes\n");
        expected.extend_from_slice("foreign vbx_zQWB…[unknown] typo vbx_zQWB…\n".as_bytes());
        expected.extend_from_slice(format!("no newline {}…[{id}]", &live[..8]).as_bytes());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&expected)
        );
        assert_eq!(out.stdout, expected);
        assert!(out.stderr.is_empty(), "{}", stderr(&out));

        // A line of many megabytes is redacted in pieces, the token in it too.
        let long = format!(
            "{}{live}{}\n",
            "word ".repeat(400_000),
            " more".repeat(400_000)
        );
        let out = env.run_in(&["redact"], long);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let text = stdout(&out);
        assert!(!text.contains(&live[8..]));
        assert!(text.contains(&format!("word {}…[{id}] more", &live[..8])));
        assert_eq!(
            text.len(),
            2_000_000 + format!("{}…[{id}]", &live[..8]).len() + 2_000_000 + 1
        );
    }
}

#[test]
fn redact_stops_at_a_line_it_cannot_cut_rather_than_copy_it() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let input = format!("first\n{}\n", "a".repeat(3 * 1024 * 1024));
        let out = env.run_in(&["redact"], input);
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{err}");
        assert!(
            err.lines()
                .last()
                .is_some_and(|l| l.starts_with("vbx-tokens: line 2: more than")),
            "{err}"
        );
        assert_eq!(stdout(&out), "first\n");
    }
}

#[test]
fn redact_without_a_store_labels_every_token_unknown() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let out = env.run_in(&["redact"], format!("{FOREIGN_FORMAT}\n"));
        assert_eq!(code(&out), 0);
        assert_eq!(stdout(&out), "vbx_zQWB…[unknown]\n");
        assert!(stderr(&out).contains("no store at"));
        assert!(!env.store().exists());
    }
}

#[test]
fn redact_writes_each_line_as_it_is_read() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let live = env.create("live");
        let mut child = env
            .std_cmd()
            .arg("redact")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        let mut stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.expect("reads")).is_err() {
                    break;
                }
            }
        });
        for n in 0..3 {
            writeln!(stdin, "line {n}: {live}").expect("writes");
            stdin.flush().expect("flushes");
            // Read back before more is written, and before stdin is closed.
            let line = rx
                .recv_timeout(Duration::from_secs(20))
                .expect("the line comes out while stdin is still open");
            assert!(
                line.starts_with(&format!("line {n}: {}…[tok_", &live[..8])),
                "{line}"
            );
        }
        drop(stdin);
        let status = child.wait().expect("exits");
        assert!(status.success());
    }
}

#[test]
fn a_token_in_a_file_name_is_masked_too() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let root = env.tmp.path().join("t");
        std::fs::create_dir_all(&root).expect("mkdir");
        std::fs::write(root.join(format!("{FOREIGN_FORMAT}.env")), FOREIGN_FORMAT).expect("write");
        for json in [false, true] {
            let mut args = vec!["scan", root.to_str().expect("utf-8")];
            if json {
                args.push("--json");
            }
            let out = env.run(&args);
            assert_eq!(code(&out), 1);
            let (o, e) = (stdout(&out), stderr(&out));
            assert!(o.contains("vbx_zQWB….env"), "{o}");
            assert!(!o.contains(&FOREIGN_FORMAT[8..]) && !e.contains(&FOREIGN_FORMAT[8..]));
        }
    }
}

#[test]
fn a_binary_file_named_or_piped_in_is_searched() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let live = env.create("live");
        let blob = env.tmp.path().join("named.bin");
        std::fs::write(&blob, format!("PK\x03\x04\x00\x00 {live}\n")).unwrap();
        let out = env.run(&["scan", blob.to_str().unwrap(), "--json"]);
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        assert_eq!(parse(&out.stdout).as_array().unwrap().len(), 1);
        let out = env.run_in(&["scan", "--json"], format!("{live}\n\x00\n"));
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        assert_eq!(parse(&out.stdout)[0]["status"], "active");
        assert!(!stdout(&out).contains(&live) && !stderr(&out).contains(&live));
    }
}

#[test]
fn redact_masks_tokens_in_disguise() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = env.create("live");
        let full_width: String = t
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xfee0).unwrap())
            .collect();
        let lines = [
            format!("a {}\u{200b}{} b", &t[..20], &t[20..]),
            format!("a {}\u{200d}{} b", &t[..8], &t[8..]),
            format!("a {}\u{ad}{} b", &t[..30], &t[30..]),
            format!("a {}\u{feff}{} b", &t[..16], &t[16..]),
            format!("a {} b", full_width),
            format!("a {}\u{430}{} b", &t[..10], &t[11..]),
            format!("a {}\u{3f2}{} b", &t[..9], &t[10..]),
            format!("a {}\u{43a}{} b", &t[..25], &t[26..]),
            format!("a {}\u{301}{} b", &t[..12], &t[12..]),
        ];
        let out = env.run_in(&["redact"], lines.join("\n") + "\n");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(text.lines().count(), lines.len());
        for line in text.lines() {
            assert!(
                line.starts_with("a vbx_") && line.ends_with("… b"),
                "{line:?}"
            );
            // Nothing of the token past its hint shows, in any form.
            let visible = vbx_tokens::name::visible_form(line);
            assert!(!visible.contains(&t[12..30]), "{line:?}");
        }
        // A byte that is not UTF-8 inside a token hides nothing either.
        let mut raw = b"x ".to_vec();
        raw.extend_from_slice(&t.as_bytes()[..12]);
        raw.push(0x80);
        raw.extend_from_slice(&t.as_bytes()[12..]);
        raw.extend_from_slice(b" y\n");
        let out = env.run_in(&["redact"], raw);
        assert_eq!(code(&out), 0);
        assert_eq!(stdout(&out), format!("x {}… y\n", &t[..8]));
    }
}
