//! Tokens in disguise (README, "No message ever contains a token"): a live token written with
//! look-alike letters of other scripts, combining marks, zero-width characters or full-width
//! forms is refused wherever free text enters, like a plain one, and no message echoes it.

use crate::common::*;

/// Every way of writing `token` that a reader would copy back as the token.
pub fn disguises(token: &str) -> Vec<(&'static str, String)> {
    let cyrillic = |c: char| match c {
        'a' => 'а',
        'e' => 'е',
        'o' => 'о',
        'c' => 'с',
        'p' => 'р',
        'x' => 'х',
        'y' => 'у',
        'A' => 'А',
        'B' => 'В',
        'E' => 'Е',
        'K' => 'К',
        'M' => 'М',
        'H' => 'Н',
        'O' => 'О',
        'P' => 'Р',
        'C' => 'С',
        'T' => 'Т',
        'X' => 'Х',
        other => other,
    };
    let greek = |c: char| match c {
        'o' => 'ο',
        'v' => 'ν',
        'A' => 'Α',
        'B' => 'Β',
        'E' => 'Ε',
        'Z' => 'Ζ',
        'H' => 'Η',
        'I' => 'Ι',
        'K' => 'Κ',
        'M' => 'Μ',
        'N' => 'Ν',
        'O' => 'Ο',
        'P' => 'Ρ',
        'T' => 'Τ',
        'X' => 'Χ',
        'Y' => 'Υ',
        other => other,
    };
    let full_width = |c: char| match c {
        '!'..='~' => char::from_u32(u32::from(c) - 0x21 + 0xFF01).expect("in range"),
        other => other,
    };
    let between = |mark: char| -> String {
        token
            .chars()
            .enumerate()
            .flat_map(|(i, c)| if i % 3 == 1 { vec![c, mark] } else { vec![c] })
            .collect()
    };
    vec![
        ("cyrillic", token.chars().map(cyrillic).collect()),
        ("greek", token.chars().map(greek).collect()),
        ("full width", token.chars().map(full_width).collect()),
        ("combining marks", between('\u{0301}')),
        ("zero-width spaces", between('\u{200B}')),
        ("zero-width joiners", between('\u{200D}')),
        // Shown forwards by a right-to-left override or isolate; a token again, reversed.
        ("backwards", token.chars().rev().collect()),
        (
            "backwards in a right-to-left override",
            format!(
                "\u{202E}{}\u{202C}",
                token.chars().rev().collect::<String>()
            ),
        ),
        (
            "split by a right-to-left override",
            format!("\u{202E}_xbv\u{202C}{}", &token[4..]),
        ),
        (
            "backwards, joined by a hyphen",
            format!("vbx-{}", &token[4..]).chars().rev().collect(),
        ),
        (
            "backwards in a right-to-left isolate",
            format!(
                "\u{2067}{}\u{2069}",
                token.chars().rev().collect::<String>()
            ),
        ),
    ]
}

#[track_caller]
fn refused_without_echo(out: &std::process::Output, token: &str, disguised: &str, what: &str) {
    let err = assert_one_line_error(out, 2);
    let all = format!("{}{}", stdout(out), err);
    assert!(!all.contains(token), "{what}: the token echoed: {err}");
    assert!(
        !all.contains(disguised),
        "{what}: the disguise echoed: {err}"
    );
    // Not even its random part, written any way.
    assert!(!all.contains(&token[12..]), "{what}: {err}");
}

#[test]
fn create_refuses_a_disguised_token_in_the_name_and_the_note() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let token = env.create("live");
        let before = env.snapshot();
        for (how, d) in disguises(&token) {
            let out = env.run(&["create", "--name", &format!("x {d}")]);
            refused_without_echo(&out, &token, &d, &format!("name, {how}"));
            let out = env.run(&["create", "--name", "n", "--note", &format!("see {d} here")]);
            refused_without_echo(&out, &token, &d, &format!("note, {how}"));
        }
        assert_eq!(env.snapshot(), before, "nothing was made");
    }
}

#[test]
fn import_refuses_a_disguised_token_in_any_field_at_any_depth() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let token = env.create("live");
        let before = env.snapshot();
        let sha = "ab".repeat(32);
        for (how, d) in disguises(&token) {
            let j = serde_json::to_string(&d).expect("json");
            for line in [
                format!(r#"{{"name":{j},"sha256":"{sha}"}}"#),
                format!(r#"{{"name":"n","sha256":"{sha}","note":{j}}}"#),
                format!(r#"{{"name":"n","sha256":"{sha}","created_by":{j}}}"#),
                format!(r#"{{"name":"n","sha256":"{sha}","crm":{j}}}"#),
                format!(r#"{{"name":"n","sha256":"{sha}","crm":{{"deep":[1,{j}]}}}}"#),
                format!(r#"{{"name":"n","sha256":"{sha}",{j}:1}}"#),
            ] {
                let out = env.run_in(&["import", "-"], format!("{line}\n"));
                refused_without_echo(&out, &token, &d, &format!("import, {how}: {line}"));
            }
        }
        assert_eq!(env.snapshot(), before, "nothing was imported");
    }
}

#[test]
fn a_disguised_token_as_an_argument_is_refused_before_anything_reads_it() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let token = env.create("live");
        for (how, d) in disguises(&token) {
            let out = env.run(&["show", &d]);
            refused_without_echo(&out, &token, &d, &format!("argument, {how}"));
        }
    }
}

/// A forged backup, its hash recomputed, that carries a disguised token (any disguise) in a
/// note, in a field this build does not know of a record or of an event, or in its header:
/// refused whole, naming the line, and echoing nothing of it.
#[test]
fn restore_refuses_a_backup_that_carries_a_disguised_token() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let token = env.create("live");
        let file = env.tmp.path().join("b.backup");
        env.ok(&["backup", file.to_str().expect("utf-8")]);
        for (how, d) in disguises(&token) {
            for (kind, field) in [
                ("record", "note"),
                ("record", "yy"),
                ("event", "zz"),
                ("format", "xx"),
            ] {
                let forged = env.tmp.path().join("forged.backup");
                std::fs::copy(&file, &forged).expect("copy");
                let mut at = 0;
                reforge_backup(&forged, |lines| {
                    at = lines
                        .iter()
                        .position(|l| l.starts_with(&format!(r#"{{"{kind}""#)))
                        .expect("a line of that kind");
                    let mut v: serde_json::Value = serde_json::from_str(&lines[at]).expect("json");
                    let text = serde_json::Value::String(format!("copy: {d}"));
                    match kind {
                        "format" => v[field] = text,
                        _ => v[kind][field] = text,
                    }
                    lines[at] = v.to_string();
                });
                let fresh = Env::new();
                let out = fresh.run(&["restore", forged.to_str().expect("utf-8"), "--yes"]);
                let what = format!("restore, {kind}.{field}, {how}");
                refused_without_echo(&out, &token, &d, &what);
                assert!(
                    stderr(&out).contains(&format!("line {}", at + 1)),
                    "{what}: {}",
                    stderr(&out)
                );
                assert!(!fresh.store().join("db").exists(), "nothing was restored");
            }
        }
    }
}
