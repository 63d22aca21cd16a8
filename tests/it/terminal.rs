//! The terminal: colour only for a person, never in a pipe, under NO_COLOR or in JSON; the
//! generated completions and man pages match the binary and load.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::*;

const ESC: u8 = 0x1b;

fn has_escape(bytes: &[u8]) -> bool {
    bytes.contains(&ESC)
}

/// Runs a shell line under a pseudo-terminal (`script`), so stdout is a terminal.
fn in_a_terminal(env: &Env, line: &str, no_color: bool) -> Vec<u8> {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", line, "/dev/null"])
        .env("VBX_TOKENS_HOME", env.store())
        .env("BIN", BIN)
        .env("COLUMNS", "200")
        .env_remove("NO_COLOR");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.output().expect("script from util-linux");
    assert!(out.status.success(), "{}", stderr(&out));
    out.stdout
}

#[test]
fn piped_and_json_output_is_never_coloured() {
    let env = Env::new();
    env.create("a");
    env.create("b");
    env.ok(&["revoke", "b", "--yes"]);
    env.verify("junk", &[]);
    for args in [
        &["list", "--all"][..],
        &["show", "a"],
        &["log"],
        &["list", "--json"],
        &["log", "--json"],
        &["export"],
        &["vault", "status"],
    ] {
        let out = env.run(args);
        assert_eq!(code(&out), 0);
        assert!(
            !has_escape(&out.stdout),
            "{args:?} printed an escape into a pipe"
        );
        assert!(
            !has_escape(&out.stderr),
            "{args:?} printed an escape on stderr"
        );
    }
}

#[test]
fn a_terminal_gets_colour_unless_no_color() {
    if !have("script", "bsdutils") {
        return;
    }
    let env = Env::new();
    env.create("a");
    let coloured = in_a_terminal(&env, r#""$BIN" list"#, false);
    assert!(
        has_escape(&coloured),
        "{}",
        String::from_utf8_lossy(&coloured)
    );
    assert!(!has_escape(&in_a_terminal(&env, r#""$BIN" list"#, true)));
    assert!(!has_escape(&in_a_terminal(
        &env,
        r#""$BIN" list --json"#,
        false
    )));
}

#[test]
fn generated_files_match_the_binary() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = Command::new(BIN)
        .args(["generate", "--out-dir"])
        .arg(tmp.path())
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for dir in ["completions", "man"] {
        let fresh: Vec<_> = files_under(&tmp.path().join(dir));
        let committed: Vec<_> = files_under(&root.join(dir));
        for f in &fresh {
            let rel = f.strip_prefix(tmp.path()).expect("under tmp");
            if fs::read(root.join(rel)).ok().as_deref() != Some(&fs::read(f).expect("read")[..]) {
                stale.push(rel.display().to_string());
            }
        }
        for f in &committed {
            let rel = f.strip_prefix(root).expect("under root");
            if !tmp.path().join(rel).exists() {
                stale.push(format!("{} (no longer generated)", rel.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "completions/man are out of date: {stale:?}; run `cargo run -- generate --out-dir .` and commit"
    );
}

#[test]
fn completions_load_in_their_shells() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for file in files_under(&dir) {
        let text = fs::read_to_string(&file).expect("read");
        assert!(
            text.contains("vault") && text.contains("passphrase-file"),
            "{}",
            file.display()
        );
        assert!(
            !text.contains("debug-panic"),
            "{} offers a hidden command",
            file.display()
        );
    }
    let bash = Command::new("bash")
        .args(["-c", "source \"$1\" && complete -p vbx-tokens", "-"])
        .arg(dir.join("vbx-tokens.bash"))
        .output()
        .expect("bash");
    assert!(bash.status.success(), "{}", stderr(&bash));
    for (shell, file) in [("zsh", "_vbx-tokens"), ("fish", "vbx-tokens.fish")] {
        if have(shell, shell) {
            let out = Command::new(shell)
                .arg("-n")
                .arg(dir.join(file))
                .output()
                .expect(shell);
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{shell}: {}",
                stderr(&out)
            );
        }
    }
}

#[test]
fn man_pages_render_without_warnings_and_have_every_section() {
    if !have("man", "man-db") {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let pages = files_under(&dir);
    assert!(pages.len() >= 10, "{pages:?}");
    for page in pages {
        let text = fs::read_to_string(&page).expect("read");
        for section in ["EXAMPLES", "EXIT STATUS", "ENVIRONMENT", "FILES"] {
            assert!(
                text.contains(&format!(".SH \"{section}\""))
                    || text.contains(&format!(".SH {section}")),
                "{} lacks {section}",
                page.display()
            );
        }
        let out = Command::new("man")
            .args(["--warnings", "-E", "UTF-8", "-l"])
            .arg(&page)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .output()
            .expect("man");
        assert!(out.status.success(), "{}", page.display());
        assert!(
            out.stderr.is_empty(),
            "{}: {}",
            page.display(),
            stderr(&out)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("EXIT STATUS"));
    }
    let root = fs::read_to_string(dir.join("vbx-tokens.1")).expect("root page");
    for var in [
        "VBX_TOKENS_HOME",
        "VBX_TOKENS_WAIT",
        "VBX_TOKEN",
        "VBX_TOKENS_PASSPHRASE_FILE",
        "VBX_TOKENS_PASSPHRASE",
    ] {
        assert!(root.contains(var), "{var} is not in ENVIRONMENT");
    }
}

/// An empty answer at the hidden passphrase prompt is blamed on the prompt, not on a variable
/// that is not set.
#[test]
fn an_empty_passphrase_typed_at_the_prompt_is_named_as_typed_there() {
    let env = Env::new();
    env.vault_with("kept");
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        // Enter, typed again and again until the prompt is up to read it (however slow the
        // machine): the first read ends the command, the rest go nowhere. `script` runs its
        // command with `$SHELL -c`, and dash (the shell when SHELL is unset, as in CI) forks
        // rather than execs it: a shell left in between dies of a `Ctrl-\` typed for us and
        // closes the terminal, which sends us SIGHUP too. `exec` leaves only us on it.
        r#"(for i in $(seq 100); do sleep 0.2; printf '\r'; done) | script -qec "exec $BIN vault reveal kept" /dev/null"#,
    ])
    .env("VBX_TOKENS_HOME", env.store())
    .env("BIN", BIN)
    .env_remove("VBX_TOKENS_PASSPHRASE")
    .env_remove("VBX_TOKENS_PASSPHRASE_FILE");
    let out = cmd.output().expect("script from util-linux");
    assert_eq!(code(&out), 4, "{}", stdout(&out));
    let shown = stdout(&out);
    assert!(
        shown.contains("vbx-tokens: the passphrase from the prompt is empty"),
        "{shown}"
    );
    assert!(!shown.contains("VBX_TOKENS_PASSPHRASE"), "{shown}");
}

/// At a yes/no prompt, Ctrl-D (no answer) is no, as Enter is: nothing is revoked, exit 2; `y`
/// is yes.
#[test]
fn ctrl_d_at_a_yes_no_prompt_is_no() {
    let env = Env::new();
    env.create("x");
    let ask = |key: &str| {
        Command::new("sh")
            .args([
                "-c",
                &format!(
                    r#"(for i in $(seq 100); do sleep 0.2; printf '{key}'; done) | script -qec "exec $BIN revoke x" /dev/null"#
                ),
            ])
            .env("VBX_TOKENS_HOME", env.store())
            .env("BIN", BIN)
            .output()
            .expect("script from util-linux")
    };
    let out = ask("\\004");
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("not revoked: you said no"),
        "{}",
        stdout(&out)
    );
    assert_eq!(env.record("x")["status"], "active");
    let out = ask("y");
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(env.record("x")["status"], "revoked");
}

/// The name prompt reads a line as the terminal is set to: a name typed is the name, Ctrl-D
/// on an empty line is no answer (exit 2, nothing made), Ctrl-C and `Ctrl-\\` end it as their
/// signals do.
#[test]
fn the_name_prompt_takes_a_line_and_its_keys_mean_what_they_mean_in_a_terminal() {
    let env = Env::new();
    env.create("first");
    let before = env.snapshot();
    let typed = |keys: &str| {
        Command::new("sh")
            .args([
                "-c",
                &format!(
                    r#"(for i in $(seq 100); do sleep 0.2; printf '{keys}'; done) | script -qec "exec $BIN create" /dev/null"#
                ),
            ])
            .env("VBX_TOKENS_HOME", env.store())
            .env("BIN", BIN)
            .output()
            .expect("script from util-linux")
    };
    for (keys, want, line) in [
        (
            "\\004",
            2,
            "vbx-tokens: no name typed at the prompt (end of input): give one with --name NAME",
        ),
        ("\\003", 130, "vbx-tokens: stopped by SIGINT"),
        ("\\034", 131, "vbx-tokens: stopped by SIGQUIT"),
    ] {
        let out = typed(keys);
        assert_eq!(code(&out), want, "{keys}: {}", stdout(&out));
        let shown = stdout(&out);
        let lines: Vec<&str> = shown
            .lines()
            .filter(|l| l.contains("vbx-tokens:"))
            .collect();
        assert_eq!(lines.len(), 1, "{keys}: {shown:?}");
        assert!(lines[0].starts_with(line), "{keys}: {shown:?}");
        assert_eq!(env.snapshot(), before, "{keys} changed the store");
    }
    let out = typed("crm\\r");
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(env.record("crm")["status"], "active");
}

/// `import -` and `scan` with a terminal for stdin say at once that nothing would end its input
/// (exit 2), as `import /dev/tty` does, rather than wait in silence for an end of input.
#[test]
fn reading_stdin_from_a_terminal_is_refused_at_once() {
    let env = Env::new();
    env.create("a");
    for (args, said) in [
        ("import -", "nothing to import: stdin is a terminal"),
        ("scan", "nothing to scan"),
    ] {
        let mut cmd = Command::new("timeout");
        cmd.args([
            "20",
            "sh",
            "-c",
            // Keys keep coming (and go nowhere once the command has ended), so a command that
            // read the terminal would see no end of input until the timeout.
            &format!(
                r#"(for i in $(seq 50); do sleep 0.2; printf 'x'; done) | script -qec "$BIN {args}; echo exit=\$?" /dev/null"#
            ),
        ])
        .env("VBX_TOKENS_HOME", env.store())
        .env("BIN", BIN);
        let out = cmd.output().expect("script from util-linux");
        let shown = stdout(&out);
        assert!(shown.contains("exit=2"), "{args}: {shown}");
        assert!(shown.contains(said), "{args}: {shown}");
    }
    let out = env.json(&["list"]);
    assert_eq!(
        out.as_array().map(Vec::len),
        Some(1),
        "nothing was imported"
    );
}

/// A terminal that says it has no columns (`stty cols 0`) gets each row on one line, not a
/// column a character wide.
#[test]
fn a_terminal_of_no_columns_gets_rows_on_one_line() {
    let env = Env::new();
    env.create("alpha");
    let shown = in_a_terminal(&env, "stty cols 0; $BIN list; $BIN log", true);
    let text = String::from_utf8_lossy(&shown);
    assert!(
        text.lines()
            .any(|l| l.contains("ID") && l.contains("NAME") && l.contains("STATUS")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("alpha") && l.contains("active")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("WHEN") && l.contains("DETAIL")),
        "{text}"
    );
}
