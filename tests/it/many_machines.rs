//! What a PostgreSQL store adds to the contract, through the binary: a role that may only
//! verify, and a server that never sees a secret. (The rest of the suite runs on both engines:
//! `Env::engines`.)

use crate::common::{
    Env, assert_one_line_error, code, fresh_database, postgres_client, postgres_server, stderr,
};

/// A test's own PostgreSQL store (a new database), or `None` when this run has no server.
fn pg_env() -> Option<Env> {
    let socket = postgres_server("VBX_TOKENS_TEST_POSTGRES")?;
    let mut env = Env::new();
    env.url = Some(fresh_database(&socket));
    Some(env)
}

/// A role name no other test uses.
fn new_role() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "verifier_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[test]
fn a_verify_only_role_verifies_and_counts_and_every_other_command_is_refused() {
    let Some(admin) = pg_env() else { return };
    let url = admin.url.clone().expect("a URL");
    let limited =
        String::from_utf8(admin.ok(&["create", "--name", "pos", "--max-uses", "2", "--quiet"]))
            .expect("UTF-8")
            .trim()
            .to_owned();
    let role = new_role();
    postgres_client(&url)
        .batch_execute(&format!("CREATE ROLE {role} LOGIN"))
        .expect("role");
    let granted = admin.json(&["grant-verify", &role]);
    assert_eq!(granted["role"], role.as_str());
    // Logged, as every change is.
    let log = admin.json(&["log"]);
    let last = log.as_array().and_then(|a| a.last()).expect("an event");
    assert_eq!(last["event"], "granted_verify", "{last}");
    assert_eq!(
        last["detail"],
        format!("to the role {role}").as_str(),
        "{last}"
    );
    // The socket trusts every role: the URL names the role alone.
    let mut host = Env::new();
    host.url = Some(url.replacen(
        "postgresql://postgres@",
        &format!("postgresql://{role}@"),
        1,
    ));
    let answers: Vec<(i32, String)> = (0..3)
        .map(|_| {
            let (code, v) = host.verify(&limited, &[]);
            (code, v["reason"].as_str().expect("reason").to_owned())
        })
        .collect();
    assert_eq!(
        answers,
        [
            (0, "valid".to_owned()),
            (0, "valid".to_owned()),
            (1, "usage_exceeded".to_owned())
        ]
    );
    assert_eq!(host.verify("vbx_not_a_token_of_ours", &[]).0, 1);
    for args in [
        &["list"][..],
        &["show", "pos"],
        &["log"],
        &["export"],
        &["create", "--name", "x", "--quiet"],
        &["revoke", "pos", "--yes"],
        &["disable", "pos"],
        &["rotate", "pos", "--quiet"],
        &["vault", "status"],
        &["grant-verify", &role],
    ] {
        let out = host.run(args);
        let err = assert_one_line_error(&out, 6);
        assert!(err.contains("permission denied"), "{args:?}: {err}");
        assert!(!err.contains(&limited), "{args:?}: {err}");
    }
    // The host's uses and failure reached the store, and the admin sees them.
    assert_eq!(admin.record("pos")["use_count"], 2);
    assert_eq!(admin.record("pos")["status"], "active");
    let log = admin.json(&["log"]);
    let failed: Vec<&serde_json::Value> = log
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event"] == "verify_failed")
        .collect();
    let reasons: Vec<&str> = failed
        .iter()
        .map(|e| e["reason"].as_str().expect("reason"))
        .collect();
    assert_eq!(reasons.len(), 2, "{failed:?}");
    assert!(
        reasons.contains(&"usage_exceeded") && reasons.contains(&"malformed"),
        "{reasons:?}"
    );
    assert_eq!(code(&admin.run(&["log", "--check"])), 0);
}

#[test]
fn grant_verify_is_for_postgresql_and_for_a_role_that_exists() {
    let dir = Env::new();
    dir.create("a");
    let out = dir.run(&["grant-verify", "pos"]);
    let err = assert_one_line_error(&out, 2);
    assert!(err.contains("directory"), "{err}");
    let Some(admin) = pg_env() else { return };
    admin.create("a");
    let out = admin.run(&["grant-verify", "no_such_role_here"]);
    let err = assert_one_line_error(&out, 6);
    assert!(err.contains("no_such_role_here"), "{err}");
    for bad in ["", &"r".repeat(64), "a\u{1b}[31m"] {
        assert_one_line_error(&admin.run(&["grant-verify", bad]), 2);
    }
    // Every role at once, and a role that may do everything already: neither is a host that
    // may only verify, and nothing is granted or logged.
    let events = admin.json(&["log"]).as_array().expect("events").len();
    for mighty in ["public", "PUBLIC", "postgres"] {
        let err = assert_one_line_error(&admin.run(&["grant-verify", mighty]), 2);
        assert!(err.contains("a role of their own"), "{mighty}: {err}");
    }
    assert_eq!(
        admin.json(&["log"]).as_array().expect("events").len(),
        events
    );
}

#[test]
fn after_a_full_workout_pg_dump_holds_no_token_body_and_no_passphrase() {
    let (Some(env), Some(bin)) = (pg_env(), postgres_server("VBX_TOKENS_TEST_POSTGRES_BIN")) else {
        return;
    };
    let passphrase = "correct horse battery staple 51";
    let pass = env.tmp.path().join("pass");
    std::fs::write(&pass, format!("{passphrase}\n")).expect("write");
    let pass = pass.to_str().expect("UTF-8");
    env.ok(&[
        "vault",
        "init",
        "--passphrase-file",
        pass,
        "--kdf-memory-mib",
        "8",
        "--kdf-iterations",
        "1",
    ]);
    let mut bodies = Vec::new();
    for i in 0..6 {
        let name = format!("t{i}");
        let mut args = vec!["create", "--name", &name];
        if i % 2 == 0 {
            args.extend(["--keep", "--passphrase-file", pass]);
        }
        let created = env.json(&args);
        bodies.push(created["token"].as_str().expect("token").to_owned());
    }
    let rotated = env.json(&["rotate", "t0", "--keep", "--passphrase-file", pass]);
    bodies.push(rotated["token"].as_str().expect("token").to_owned());
    for token in &bodies[1..] {
        env.verify(token, &["--ip", "192.0.2.7"]);
    }
    env.ok(&["revoke", "t1", "--yes"]);
    let revealed = env.ok(&["vault", "reveal", "t2", "--passphrase-file", pass]);
    assert_eq!(String::from_utf8_lossy(&revealed).trim(), bodies[2]);
    let exported = env.ok(&["export"]);
    let again = pg_env().expect("a server");
    again
        .cmd()
        .arg("import")
        .arg("-")
        .write_stdin(exported)
        .assert()
        .success();

    let url = env.url.as_deref().expect("a URL");
    let text = crate::common::pg_dump(&bin, url);
    assert!(text.contains("vbx_tokens.vault"), "a dump of the store");
    for token in &bodies {
        // Neither the token nor its random part past the hint the store shows.
        assert!(!text.contains(token.as_str()), "a token in the dump");
        assert!(!text.contains(&token[8..]), "a token's body in the dump");
    }
    assert!(!text.contains(passphrase), "the passphrase in the dump");
}

/// Runs `args` (with `stdin`) on `env`'s store while another connection holds the audit log's
/// head, so the command stops inside its transaction, its rows written and its events not;
/// kills its connection there (`pg_terminate_backend`), and returns its output.
fn killed_mid_transaction(
    env: &Env,
    args: &[&str],
    stdin: &[u8],
    name: &str,
) -> std::process::Output {
    use std::io::Write;
    let url = env.url.as_deref().expect("a URL");
    let mut holder = postgres_client(url);
    let mut tx = holder.transaction().expect("begin");
    tx.query_one(
        "SELECT value FROM vbx_tokens.meta WHERE key = 'log_head' FOR UPDATE",
        &[],
    )
    .expect("the head");
    let mut cmd = env.std_cmd();
    cmd.env("VBX_TOKENS_STORE", format!("{url}&application_name={name}"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write");
    let mut watcher = postgres_client(url);
    let started = std::time::Instant::now();
    loop {
        let waiting = watcher
            .query(
                "SELECT pid FROM pg_stat_activity
                 WHERE application_name = $1 AND wait_event_type = 'Lock'",
                &[&name],
            )
            .expect("pg_stat_activity");
        if let Some(row) = waiting.first() {
            let pid: i32 = row.get(0);
            watcher
                .execute("SELECT pg_terminate_backend($1)", &[&pid])
                .expect("terminate");
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{args:?} never waited for the head"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("waits");
    tx.rollback().expect("rollback");
    out
}

#[test]
fn a_connection_killed_mid_command_leaves_nothing_half_done() {
    let Some(env) = pg_env() else { return };
    env.create("pos");
    let (_, lines) = crate::common::import_lines(3000, "bulk");
    let (_, more) = crate::common::import_lines(2000, "old");
    env.cmd()
        .args(["import", "-"])
        .write_stdin(more)
        .assert()
        .success();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    for (n, (args, stdin)) in [
        (&["import", "-"][..], lines.as_bytes()),
        (&["revoke", "--unused-for", "1s", "--yes"], b""),
        (&["rotate", "pos", "--quiet"], b""),
    ]
    .into_iter()
    .enumerate()
    {
        let before = env.snapshot();
        let out = killed_mid_transaction(&env, args, stdin, &format!("victim{n}"));
        let err = assert_one_line_error(&out, 5);
        assert!(err.contains("postgresql://"), "{args:?}: {err}");
        assert_eq!(env.snapshot(), before, "{args:?} left something half done");
        assert_eq!(code(&env.run(&["log", "--check"])), 0);
    }
    // And each of them, left alone, does all of it.
    assert_eq!(code(&env.run(&["rotate", "pos", "--quiet"])), 0);
    assert_eq!(env.json(&["list"]).as_array().expect("records").len(), 2001);
}

#[test]
fn a_store_with_a_vault_moves_to_postgresql_and_back_whole() {
    let Some(pg) = pg_env() else { return };
    let dir = Env::new();
    let pass = dir.tmp.path().join("pass");
    std::fs::write(&pass, "a passphrase to move with\n").expect("write");
    let pass = pass.to_str().expect("UTF-8");
    let kdf = ["--kdf-memory-mib", "8", "--kdf-iterations", "1"];
    dir.ok(&[&["vault", "init", "--passphrase-file", pass][..], &kdf].concat());
    let mut tokens = Vec::new();
    for (name, keep) in [("kept", true), ("plain", false), ("limited", false)] {
        let mut args = vec!["create", "--name", name];
        if keep {
            args.extend(["--keep", "--passphrase-file", pass]);
        }
        if name == "limited" {
            args.extend(["--max-uses", "5"]);
        }
        tokens.push(dir.json(&args)["token"].as_str().expect("token").to_owned());
    }
    dir.verify(&tokens[2], &[]);
    let there = |env: &Env| {
        for token in &tokens {
            assert_eq!(
                env.verify(token, &[]).0,
                0,
                "{} on {}",
                &token[..8],
                env.engine()
            );
        }
        let revealed = env.ok(&["vault", "reveal", "kept", "--passphrase-file", pass]);
        assert_eq!(String::from_utf8_lossy(&revealed).trim(), tokens[0]);
        assert_eq!(code(&env.run(&["log", "--check"])), 0, "{}", env.engine());
        assert_eq!(code(&env.run(&["doctor"])), 0, "{}", env.engine());
    };
    let first = dir.tmp.path().join("first.vbxbackup");
    dir.ok(&["backup", first.to_str().expect("UTF-8")]);
    pg.ok(&["restore", first.to_str().expect("UTF-8"), "--yes"]);
    there(&pg);
    let second = dir.tmp.path().join("second.vbxbackup");
    pg.ok(&["backup", second.to_str().expect("UTF-8")]);
    let back = Env::new();
    back.ok(&["restore", second.to_str().expect("UTF-8"), "--yes"]);
    there(&back);
    // Every verify counted on the way: 1 before the move, then 1 on each engine.
    assert_eq!(back.record("limited")["use_count"], 3);
    // Export and import move the records (without the vault) both ways too.
    let records = back.ok(&["export"]);
    let again = pg_env().expect("a server");
    again
        .cmd()
        .args(["import", "-"])
        .write_stdin(records)
        .assert()
        .success();
    assert_eq!(again.verify(&tokens[1], &[]).0, 0);
    let home = Env::new();
    home.cmd()
        .args(["import", "-"])
        .write_stdin(again.ok(&["export"]))
        .assert()
        .success();
    assert_eq!(home.verify(&tokens[1], &[]).0, 0);
}

#[test]
fn doctor_on_postgresql_says_what_is_whole_and_names_a_broken_chain() {
    let Some(env) = pg_env() else { return };
    env.create("a");
    env.create("b");
    let report = env.json(&["doctor"]);
    assert_eq!(code(&env.run(&["doctor"])), 0, "{report}");
    postgres_client(env.url.as_deref().expect("a URL"))
        .batch_execute(
            "UPDATE vbx_tokens.events SET bytes = convert_to(
                 replace(convert_from(bytes, 'UTF8'), '\"b\"', '\"c\"'), 'UTF8') WHERE seq = 2",
        )
        .expect("tamper");
    let out = env.run(&["doctor"]);
    let err = assert_one_line_error(&out, 6);
    assert!(err.contains("audit log"), "{err}");
}

#[test]
fn a_writer_waits_for_another_hosts_writer_up_to_wait_then_exit_5() {
    let Some(env) = pg_env() else { return };
    env.create("a");
    let token = env.create("b");
    let mut other = postgres_client(env.url.as_deref().expect("a URL"));
    other
        .execute(
            "SELECT pg_advisory_lock($1)",
            &[&vbx_tokens::pg::store::WRITER_KEY],
        )
        .expect("another host's writer");
    let started = std::time::Instant::now();
    let out = env.run(&["--wait", "1", "revoke", "a", "--yes"]);
    let waited = started.elapsed();
    let err = assert_one_line_error(&out, 5);
    assert!(err.contains("postgresql://"), "{err}");
    assert!(waited < std::time::Duration::from_secs(10), "{waited:?}");
    // Verifies never wait for it.
    assert_eq!(env.verify(&token, &[]).0, 0);
    drop(other);
    assert_eq!(env.record("a")["status"], "active");
    env.ok(&["revoke", "a", "--yes"]);
}

/// The reasons `verify --batch` gives for `lines`, run by `env`.
fn batch_reasons(env: &Env, lines: &[&str]) -> Vec<String> {
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let out = env.run_in(&["verify", "--batch"], input);
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
            v["reason"].as_str().expect("reason").to_owned()
        })
        .collect()
}

#[test]
fn a_store_an_older_build_made_verifies_one_at_a_time_until_it_is_brought_up() {
    let Some(admin) = pg_env() else { return };
    let url = admin.url.clone().expect("a URL");
    let limited =
        String::from_utf8(admin.ok(&["create", "--name", "limited", "--max-uses", "3", "--quiet"]))
            .expect("UTF-8")
            .trim()
            .to_owned();
    let open = admin.create("open");
    let role = new_role();
    let mut sql = postgres_client(&url);
    sql.batch_execute(&format!("CREATE ROLE {role} LOGIN"))
        .expect("role");
    admin.ok(&["grant-verify", &role]);
    let mut host = Env::new();
    host.url = Some(url.replacen(
        "postgresql://postgres@",
        &format!("postgresql://{role}@"),
        1,
    ));
    // As a store stands that a build before the narrow table of uses (schema step 9) made:
    // the counts back in the records' rows, the functions as that build left them. The role
    // verifies a chunk in three statements.
    sql.batch_execute(
        "ALTER TABLE vbx_tokens.tokens
             ADD COLUMN use_count bigint NOT NULL DEFAULT 0 CHECK (use_count >= 0),
             ADD COLUMN last_used_at timestamptz, ADD COLUMN last_used_ip inet;
         UPDATE vbx_tokens.tokens t SET use_count = u.use_count,
             last_used_at = u.last_used_at, last_used_ip = u.last_used_ip
             FROM vbx_tokens.uses u WHERE u.id = t.id;
         DROP TABLE vbx_tokens.uses;
         DROP FUNCTION vbx_tokens.verify_uses(bytea[], inet, jsonb);
         DROP FUNCTION vbx_tokens.verify_use(bytea, inet, jsonb);
         CREATE OR REPLACE FUNCTION vbx_tokens.lookup(token_sha256 bytea)
         RETURNS TABLE (record jsonb, use_count bigint, last_used_at timestamptz,
                        last_used_ip inet)
         LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
         AS $$
             SELECT t.record, t.use_count, t.last_used_at, t.last_used_ip
             FROM vbx_tokens.tokens t WHERE t.sha256 = token_sha256
         $$;
         CREATE OR REPLACE FUNCTION vbx_tokens.lookup_many(token_sha256 bytea[])
         RETURNS TABLE (sha256 bytea, record jsonb, use_count bigint,
                        last_used_at timestamptz, last_used_ip inet)
         LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
         AS $$
             SELECT t.sha256, t.record, t.use_count, t.last_used_at, t.last_used_ip
             FROM vbx_tokens.tokens t WHERE t.sha256 = ANY (token_sha256)
         $$;
         CREATE OR REPLACE FUNCTION vbx_tokens.count_use(
             token_sha256 bytea, at timestamptz, ip inet)
         RETURNS bigint
         LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
         AS $$
             UPDATE vbx_tokens.tokens t
             SET use_count = t.use_count + 1, last_used_at = statement_timestamp(),
                 last_used_ip = coalesce(ip, t.last_used_ip)
             WHERE t.sha256 = token_sha256 AND (t.active OR t.grace_until > now())
               AND (t.expires_at IS NULL OR t.expires_at > now()) AND NOT t.disabled
               AND (t.max_uses IS NULL OR t.use_count < t.max_uses)
             RETURNING t.use_count
         $$;
         CREATE OR REPLACE FUNCTION vbx_tokens.count_uses(
             token_sha256 bytea[], at timestamptz, ip inet)
         RETURNS TABLE (sha256 bytea, use_count bigint)
         LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
         AS $$
             UPDATE vbx_tokens.tokens t
             SET use_count = t.use_count + 1, last_used_at = statement_timestamp(),
                 last_used_ip = coalesce(ip, t.last_used_ip)
             WHERE t.sha256 = ANY (token_sha256) AND (t.active OR t.grace_until > now())
               AND (t.expires_at IS NULL OR t.expires_at > now()) AND NOT t.disabled
               AND (t.max_uses IS NULL OR t.use_count < t.max_uses)
             RETURNING t.sha256, t.use_count
         $$;
         CREATE OR REPLACE FUNCTION vbx_tokens.count_failure(
             window_no bigint, reason smallint, actor text, token_sha256 bytea,
             at timestamptz, ip inet)
         RETURNS void
         LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
         AS $$
             INSERT INTO vbx_tokens.failures AS f
                 (window_no, reason, actor, token_id, first_at, last_at, count, ips, further)
             VALUES (floor(extract(epoch FROM now()) / 3600)::bigint, reason, left(actor, 256),
                     coalesce((SELECT t.id FROM vbx_tokens.tokens t
                               WHERE t.sha256 = token_sha256), ''),
                     date_trunc('second', now()), date_trunc('second', now()), 1,
                     CASE WHEN ip IS NULL THEN '{}'::inet[] ELSE ARRAY[ip] END, false)
             ON CONFLICT ON CONSTRAINT failures_pkey DO UPDATE SET
                 last_at = greatest(f.last_at, EXCLUDED.last_at), count = f.count + 1
         $$;
         CREATE OR REPLACE FUNCTION vbx_tokens.count_failures(
             window_no bigint, reasons smallint[], actor text, token_sha256 bytea[],
             how_many bigint[], at timestamptz, ip inet)
         RETURNS void
         LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
         AS $$
             INSERT INTO vbx_tokens.failures AS f
                 (window_no, reason, actor, token_id, first_at, last_at, count, ips, further)
             SELECT floor(extract(epoch FROM now()) / 3600)::bigint, u.reason,
                    left(actor, 256), coalesce(t.id, ''), date_trunc('second', now()),
                    date_trunc('second', now()), sum(greatest(u.n, 1))::bigint,
                    CASE WHEN ip IS NULL THEN '{}'::inet[] ELSE ARRAY[ip] END, false
             FROM unnest(reasons, token_sha256, how_many) AS u(reason, h, n)
             LEFT JOIN vbx_tokens.tokens t ON t.sha256 = u.h
             GROUP BY u.reason, coalesce(t.id, '')
             ON CONFLICT ON CONSTRAINT failures_pkey DO UPDATE SET
                 last_at = greatest(f.last_at, EXCLUDED.last_at),
                 count = f.count + EXCLUDED.count
         $$;
         DROP FUNCTION vbx_tokens.canonical_ip(inet);
         DROP FUNCTION vbx_tokens.failure_actor(text);
         DROP FUNCTION vbx_tokens.one_more(bigint);
         DROP FUNCTION vbx_tokens.lost_count(bigint, jsonb);
         DELETE FROM vbx_tokens.migrations WHERE version >= 9;",
    )
    .expect("step 9 undone");
    assert_eq!(
        batch_reasons(&host, &[&limited, &open, "nope"]),
        ["valid", "valid", "malformed"]
    );
    // And before the batch functions (schema step 7), with this role granted what that build
    // granted: one token at a time. (The later steps' bodies of the functions it had are what
    // such a store gets once brought up, and work alone.)
    sql.batch_execute(
        "DROP FUNCTION vbx_tokens.lookup_many(bytea[]);
         DROP FUNCTION vbx_tokens.count_uses(bytea[], timestamptz, inet);
         DROP FUNCTION vbx_tokens.count_failures(
             bigint, smallint[], text, bytea[], bigint[], timestamptz, inet);
         DELETE FROM vbx_tokens.migrations WHERE version >= 7;",
    )
    .expect("step 7 undone");
    assert_eq!(
        batch_reasons(&host, &[&limited, &limited, &open, &limited, "nope"]),
        ["valid", "valid", "valid", "usage_exceeded", "malformed"]
    );
    // The next admin command brings the schema up, and the role may call the batch forms.
    admin.ok(&["list"]);
    let may: bool = sql
        .query_one(
            "SELECT has_function_privilege($1, 'vbx_tokens.count_uses(bytea[], timestamptz, inet)', 'EXECUTE')
                AND has_function_privilege($1, 'vbx_tokens.lookup_many(bytea[])', 'EXECUTE')
                AND has_function_privilege($1, 'vbx_tokens.count_failures(bigint, smallint[], text, bytea[], bigint[], timestamptz, inet)', 'EXECUTE')
                AND has_function_privilege($1, 'vbx_tokens.verify_uses(bytea[], inet, jsonb)', 'EXECUTE')
                AND has_function_privilege($1, 'vbx_tokens.verify_use(bytea, inet, jsonb)', 'EXECUTE')",
            &[&role],
        )
        .expect("privileges")
        .get(0);
    assert!(may, "the verify role was granted the batch functions");
    assert_eq!(
        batch_reasons(&host, &[&open, &limited, "nope", &open]),
        ["valid", "usage_exceeded", "malformed", "valid"]
    );
    assert_eq!(admin.record("open")["use_count"], 4);
    assert_eq!(admin.record("limited")["use_count"], 3);
    admin.create("after");
    let events = crate::common::failure_events(&admin);
    assert_eq!(
        crate::common::failures_of(&events, "usage_exceeded"),
        2,
        "{events:?}"
    );
    assert_eq!(
        crate::common::failures_of(&events, "malformed"),
        3,
        "{events:?}"
    );
    admin.ok(&["log", "--check"]);
}

#[test]
fn a_failed_command_leaves_no_store_in_an_empty_database() {
    let Some(socket) = postgres_server("VBX_TOKENS_TEST_POSTGRES") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("dir");
    let late = tmp.path().join("late.ndjson");
    // A bad line after a batch's worth of good ones: some were written before it was read.
    let mut lines: String = (0..10_050)
        .map(|i| format!("{{\"name\":\"n{i}\",\"sha256\":\"{:064x}\"}}\n", i + 1))
        .collect();
    lines.push_str("{\"name\":\"bad\",\"sha256\":\"nope\"}\n");
    std::fs::write(&late, lines).expect("write");
    let late = late.to_string_lossy().into_owned();
    for (args, stdin, expected) in [
        (
            &["import", "-"][..],
            "{\"name\":\"x\",\"token\":\"nope\"}\n",
            2,
        ),
        (&["import", "-"], "garbage\n", 2),
        (&["import", &late], "", 2),
        (&["create", "--name", "x", "--keep"], "", 4),
        (&["vault", "init"], "", 4),
    ] {
        let mut env = Env::new();
        env.url = Some(fresh_database(&socket));
        let out = env.run_in(args, stdin);
        assert_eq!(code(&out), expected, "{args:?}: {}", stderr(&out));
        let list = env.run(&["list"]);
        assert_eq!(code(&list), 6, "{args:?} left a store: {}", stderr(&list));
        assert!(stderr(&list).contains("no store at"), "{}", stderr(&list));
        let schemas: i64 = postgres_client(env.url.as_deref().expect("a URL"))
            .query_one(
                "SELECT count(*) FROM pg_namespace WHERE nspname = 'vbx_tokens'",
                &[],
            )
            .expect("count")
            .get(0);
        assert_eq!(schemas, 0, "{args:?} left the schema");
    }
}

#[test]
fn a_server_that_accepts_and_never_answers_is_given_up_on_after_wait() {
    use std::os::unix::net::UnixListener;
    let dir = tempfile::tempdir().expect("dir");
    // A socket where a server's would be, that takes connections and says nothing (as a
    // stopped or swamped server does), and a TCP port that does the same.
    let unix = UnixListener::bind(dir.path().join(".s.PGSQL.5432")).expect("socket");
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = tcp.local_addr().expect("address").port();
    let _held = (unix, tcp);
    let socket = format!(
        "postgresql://postgres@/x?host={}&port=5432",
        dir.path().display()
    );
    let over_tcp = format!("postgresql://postgres@127.0.0.1:{port}/x?sslmode=require");
    let with_timeout = format!("{over_tcp}&connect_timeout=2");
    for (url, wait) in [(&socket, "2"), (&over_tcp, "2"), (&with_timeout, "30")] {
        for args in [&["verify"][..], &["list"]] {
            let mut env = Env::new();
            env.url = Some(url.clone());
            let started = std::time::Instant::now();
            let out = env
                .cmd()
                .args(["--wait", wait])
                .args(args)
                .env("VBX_TOKEN", "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17")
                .timeout(std::time::Duration::from_secs(20))
                .output()
                .expect("runs");
            let err = assert_one_line_error(&out, 5);
            assert!(
                err.contains("did not answer within 2 s"),
                "{url} {args:?}: {err}"
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "{url} {args:?}: {:?}",
                started.elapsed()
            );
        }
    }
}

#[test]
fn a_use_is_timed_by_the_servers_clock_whatever_time_the_caller_gives() {
    use sha2::{Digest, Sha256};
    let Some(admin) = pg_env() else { return };
    let url = admin.url.clone().expect("a URL");
    let live = admin.create("live");
    let short =
        String::from_utf8(admin.ok(&["create", "--name", "short", "--expires-in", "1s", "-q"]))
            .expect("UTF-8")
            .trim()
            .to_owned();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let mut sql = postgres_client(&url);
    let count = |sql: &mut postgres::Client, token: &str| -> Option<i64> {
        let hash = Sha256::digest(token.as_bytes()).to_vec();
        sql.query_one(
            "SELECT vbx_tokens.count_use($1, '1971-01-01T00:00:00Z', NULL)",
            &[&hash],
        )
        .expect("count_use")
        .get(0)
    };
    // A caller claiming 1971 neither revives the expired token nor writes 1971.
    assert_eq!(
        count(&mut sql, &short),
        None,
        "an expired token takes no use"
    );
    assert_eq!(count(&mut sql, &live), Some(1));
    let last = admin.record("live")["last_used_at"]
        .as_str()
        .expect("a last use")
        .to_owned();
    assert!(last.starts_with("20"), "{last}");
    assert_eq!(admin.verify(&short, &[]).1["reason"], "expired");
    // And a backup of it restores.
    let file = admin.tmp.path().join("b.bak");
    admin.ok(&["backup", file.to_str().expect("UTF-8")]);
    let other = Env::new();
    other.ok(&["restore", file.to_str().expect("UTF-8"), "--yes"]);
    assert_eq!(other.verify(&live, &["--no-touch"]).0, 0);
}

/// A verify-only role calls the failure functions with values of its own: whatever it passes,
/// what is counted is what a verify would count (a failure's reason, a token only where the
/// reason is of one, an address as verify keeps it, and the role as who failed), so a backup
/// of the store still restores and the role cannot name failures after anyone.
#[test]
fn what_a_verify_only_role_passes_the_failure_functions_cannot_break_a_backup() {
    use sha2::{Digest, Sha256};
    let Some(admin) = pg_env() else { return };
    let url = admin.url.clone().expect("a URL");
    let token = admin.create("real");
    let role = new_role();
    let mut sql = postgres_client(&url);
    sql.batch_execute(&format!("CREATE ROLE {role} LOGIN"))
        .expect("role");
    admin.ok(&["grant-verify", &role]);
    let as_role = url.replacen(
        "postgresql://postgres@",
        &format!("postgresql://{role}@"),
        1,
    );
    let mut forger = postgres_client(&as_role);
    let hash = Sha256::digest(token.as_bytes()).to_vec();
    let mapped: std::net::IpAddr = "::ffff:1.2.3.4".parse().expect("an address");
    for (reason, actor, ip) in [
        (0i16, "root", None),
        (99, "root", None),
        (1, "root", None),
        (3, "", Some(mapped)),
        (2, "someone else", Some(mapped)),
    ] {
        forger
            .execute(
                "SELECT vbx_tokens.count_failure(0, $1, $2, $3, now(), $4)",
                &[&reason, &actor, &hash, &ip],
            )
            .expect("count_failure");
    }
    forger
        .execute(
            "SELECT vbx_tokens.count_failures(0, ARRAY[0, 1, 6, 42]::smallint[], 'root',
                 ARRAY[$1, $1, $1, $1]::bytea[], ARRAY[5, 5, 5, 5]::bigint[], now(),
                 '::ffff:10.1.2.3')",
            &[&hash],
        )
        .expect("count_failures");
    admin.ok(&["log"]);
    let events = crate::common::failure_events(&admin);
    assert!(!events.is_empty());
    for e in &events {
        assert_eq!(e["actor"], role.as_str(), "{e}");
        assert_ne!(e["reason"], "valid", "{e}");
        for ip in e["ips"].as_array().into_iter().flatten() {
            assert!(!ip.as_str().expect("an address").contains(':'), "{e}");
        }
        if e["reason"] == "unknown" {
            assert!(
                e.get("tokens")
                    .is_none_or(|t| t.as_object().is_none_or(|t| t.is_empty())),
                "{e}"
            );
        }
    }
    let file = admin.tmp.path().join("b.bak");
    admin.ok(&["backup", file.to_str().expect("UTF-8")]);
    let other = Env::new();
    other.ok(&["restore", file.to_str().expect("UTF-8"), "--yes"]);
    other.ok(&["log", "--check"]);
}

/// A use count lost by hand (its row of `vbx_tokens.uses` deleted) is a failure `doctor`
/// names, and a token with a use limit is spent after it: a count never goes down.
#[test]
fn doctor_on_postgresql_never_gives_back_uses_that_were_lost() {
    let Some(env) = pg_env() else { return };
    let limited =
        String::from_utf8(env.ok(&["create", "--name", "lim", "--max-uses", "3", "--quiet"]))
            .expect("UTF-8")
            .trim()
            .to_owned();
    let open = env.create("open");
    assert_eq!(env.verify(&limited, &[]).0, 0);
    assert_eq!(env.verify(&limited, &[]).0, 0);
    assert_eq!(env.verify(&open, &[]).0, 0);
    let mut sql = postgres_client(env.url.as_deref().expect("a URL"));
    sql.execute("DELETE FROM vbx_tokens.uses", &[])
        .expect("tamper");
    sql.execute(
        "INSERT INTO vbx_tokens.uses (id, use_count) VALUES ('tok_orphan1', 7)",
        &[],
    )
    .expect("an orphan");
    // Before doctor, every read takes the lost count as doctor will make it: spent.
    assert_eq!(env.record("lim")["use_count"], 3, "spent before doctor too");
    let out = env.run(&["doctor"]);
    let err = assert_one_line_error(&out, 6);
    assert!(err.contains("uses"), "{err}");
    assert_eq!(env.record("lim")["use_count"], 3, "spent");
    assert_eq!(env.verify(&limited, &[]).1["reason"], "usage_exceeded");
    assert_eq!(env.verify(&open, &[]).0, 0);
    let left: i64 = sql
        .query_one(
            "SELECT count(*) FROM vbx_tokens.uses WHERE id = 'tok_orphan1'",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(left, 0, "the orphan is dropped");
    // Made good: the next doctor finds it whole.
    assert_eq!(code(&env.run(&["doctor"])), 0);
}

/// A use count is held at 2^53 - 1 on PostgreSQL as in a directory store, so a backup of a
/// store whose count reached it still restores.
#[test]
fn a_use_count_at_the_json_bound_stays_there_and_its_backup_restores() {
    let Some(env) = pg_env() else { return };
    let token = vbx_tokens::token::Token::generate();
    let file = env.tmp.path().join("big.ndjson");
    std::fs::write(
        &file,
        format!(
            "{{\"name\":\"big\",\"token\":\"{}\",\"use_count\":9007199254740991}}\n",
            token.expose()
        ),
    )
    .expect("write");
    env.ok(&["import", file.to_str().expect("UTF-8")]);
    assert_eq!(env.verify(token.expose(), &[]).0, 0);
    assert_eq!(env.verify(token.expose(), &[]).0, 0);
    assert_eq!(env.record("big")["use_count"], 9_007_199_254_740_991_u64);
    let backup = env.tmp.path().join("b.bak");
    env.ok(&["backup", backup.to_str().expect("UTF-8")]);
    let other = Env::new();
    other.ok(&["restore", backup.to_str().expect("UTF-8"), "--yes"]);
    assert_eq!(other.record("big")["use_count"], 9_007_199_254_740_991_u64);
}
