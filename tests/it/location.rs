//! Where the store is (README, "Where the store is"): `--store`, then `VBX_TOKENS_STORE`, then
//! `VBX_TOKENS_HOME`, then the default; a directory or a PostgreSQL URL.

use crate::common::*;

/// The names of the tokens `list` shows in the store `args` and `vars` name.
fn names(env: &Env, args: &[&str], vars: &[(&str, &std::path::Path)]) -> Vec<String> {
    let mut cmd = env.cmd();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd
        .args(args)
        .args(["list", "--json"])
        .output()
        .expect("list");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    parse(&out.stdout)
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| r["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn the_flag_wins_then_vbx_tokens_store_then_vbx_tokens_home() {
    let env = Env::new();
    let [flag, store, home] = ["flag", "store", "home"].map(|n| env.tmp.path().join(n));
    for (dir, name) in [(&flag, "in-flag"), (&store, "in-store"), (&home, "in-home")] {
        let out = env
            .cmd()
            .env("VBX_TOKENS_HOME", dir)
            .args(["create", "--name", name, "-q"])
            .output()
            .expect("create");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let flag_arg = flag.to_str().expect("utf-8");
    let both = [
        ("VBX_TOKENS_STORE", store.as_path()),
        ("VBX_TOKENS_HOME", &home),
    ];
    assert_eq!(names(&env, &["--store", flag_arg], &both), ["in-flag"]);
    assert_eq!(names(&env, &[], &both), ["in-store"]);
    assert_eq!(names(&env, &[], &[("VBX_TOKENS_HOME", &home)]), ["in-home"]);
    // Set but empty is unset.
    let empty = std::path::Path::new("");
    let unset_store = [("VBX_TOKENS_STORE", empty), ("VBX_TOKENS_HOME", &home)];
    assert_eq!(names(&env, &[], &unset_store), ["in-home"]);
}

#[test]
fn a_password_in_a_store_url_on_the_command_line_is_refused_and_never_echoed() {
    let env = Env::new();
    for url in [
        "postgresql://ann:hunter2@db.example/tokens",
        "postgres://ann:hunter2@127.0.0.1:1/tokens?sslmode=disable",
        "postgresql:///tokens?host=/tmp&password=hunter2",
    ] {
        let out = env.run(&["--store", url, "list"]);
        let err = assert_one_line_error(&out, 2);
        assert!(err.contains("password") && err.contains("ps"), "{err}");
        assert!(
            !err.contains("hunter2") && !stdout(&out).contains("hunter2"),
            "{err}"
        );
    }
}

#[test]
fn vbx_tokens_home_names_a_directory_never_a_url() {
    let env = Env::new();
    let out = env
        .cmd()
        .env("VBX_TOKENS_HOME", "postgresql://ann@db.example/tokens")
        .arg("list")
        .output()
        .expect("list");
    let err = assert_one_line_error(&out, 2);
    assert!(err.contains("VBX_TOKENS_STORE"), "{err}");
    assert!(!std::path::Path::new("postgresql:").exists());
}

#[test]
fn a_url_that_does_not_parse_is_one_line_and_exit_2() {
    let env = Env::new();
    for url in [
        "postgresql://ann@db.example/tokens?sslmode=sometimes",
        "postgresql://ann@db.example:notaport/tokens",
        "postgresql://ann@db.example/tokens?frobnicate=1",
    ] {
        let out = env.run(&["--store", url, "list"]);
        assert_one_line_error(&out, 2);
    }
}
