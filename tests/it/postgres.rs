//! The PostgreSQL engine against a real server (`.ci/postgres` starts one). Without
//! `VBX_TOKENS_TEST_POSTGRES` these tests say so and pass, on a developer's machine; `.ci/run`
//! sets `VBX_TOKENS_TEST_POSTGRES_REQUIRED`, and then a missing server fails them.

use std::time::Duration;

use vbx_tokens::pg::config::{Source, Surroundings, target};
use vbx_tokens::pg::connect::connect;

use crate::common::{fresh_database, postgres_server as server};

fn reach(url: &str, vars: &[(&str, &str)]) -> Result<postgres::Client, vbx_tokens::error::Error> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let around = Surroundings {
        env: &env,
        os_user: "nobody".into(),
        home: None,
        wait: Duration::from_secs(3),
    };
    let t = target(url, Source::Environment, &around).map_err(vbx_tokens::error::Error::usage)?;
    connect(&t)
}

fn answers(client: &mut postgres::Client) -> i32 {
    client.query_one("SELECT 1", &[]).expect("a query").get(0)
}

#[test]
fn connects_over_the_socket_and_over_tls_that_verifies() {
    let (Some(socket), Some(tls)) = (
        server("VBX_TOKENS_TEST_POSTGRES"),
        server("VBX_TOKENS_TEST_POSTGRES_TLS"),
    ) else {
        return;
    };
    assert_eq!(answers(&mut reach(&socket, &[]).expect("socket")), 1);
    let mut client = reach(&tls, &[]).expect("TLS");
    assert_eq!(answers(&mut client), 1);
    let on: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("pg_stat_ssl")
        .get(0);
    assert!(on, "the connection is encrypted");
}

/// `postgresql://user:PASSWORD@host:port/db?...` split into the URL without the password and
/// the password.
fn without_password(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (userinfo, hostpart) = rest.split_once('@').expect("a user");
    let (user, password) = userinfo.split_once(':').expect("a password");
    (format!("{scheme}://{user}@{hostpart}"), password.to_owned())
}

#[test]
fn a_refused_login_is_exit_6_with_the_servers_reason_and_no_password() {
    let Some(tls) = server("VBX_TOKENS_TEST_POSTGRES_TLS") else {
        return;
    };
    let (bare, password) = without_password(&tls);
    // From PGPASSWORD, as a host would give it.
    let mut client = reach(&bare, &[("PGPASSWORD", &password)]).expect("PGPASSWORD");
    assert_eq!(answers(&mut client), 1);
    let e = reach(&bare, &[("PGPASSWORD", "wrong-password")])
        .err()
        .expect("refused");
    let text = e.to_string();
    assert_eq!(e.exit_code(), 6, "{text}");
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(
        text.contains("PGPASSWORD") && !text.contains("wrong-password"),
        "{text}"
    );
    assert!(!text.contains(&password), "{text}");
    let e = reach(&bare, &[]).err().expect("no password");
    assert_eq!(e.exit_code(), 6, "{e}");
    assert!(e.to_string().contains("PGPASSWORD"), "{e}");
    // The server takes TCP only with TLS: without it, it says so.
    let plain = bare.replace("sslmode=verify-full", "sslmode=disable");
    let e = reach(&plain, &[("PGPASSWORD", &password)])
        .err()
        .expect("no TLS");
    assert_eq!(e.exit_code(), 6, "{e}");
    assert!(e.to_string().contains("no encryption"), "{e}");
}

#[test]
fn a_certificate_that_does_not_verify_is_exit_6_with_the_reason() {
    let Some(tls) = server("VBX_TOKENS_TEST_POSTGRES_TLS") else {
        return;
    };
    // The system's roots did not sign the run's certificate.
    let system = tls.split("&sslrootcert=").next().expect("a URL").to_owned();
    let e = reach(&system, &[]).err().expect("unknown issuer");
    let text = e.to_string();
    assert_eq!(e.exit_code(), 6, "{text}");
    assert!(
        text.contains("TLS") && text.contains("verify-full"),
        "{text}"
    );
    assert!(
        text.contains("UnknownIssuer") || text.contains("issuer"),
        "{text}"
    );
    // require encrypts without checking, as libpq's does.
    let require = system.replace("sslmode=verify-full", "sslmode=require");
    assert_eq!(answers(&mut reach(&require, &[]).expect("require")), 1);
}

#[test]
fn a_server_that_is_not_there_is_exit_5_naming_the_host() {
    // A port nothing listens on (this test's own, closed at once), on this machine.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("its address")
        .port();
    let url = format!("postgresql://vbx@127.0.0.1:{port}/vbx?sslmode=disable");
    let e = reach(&url, &[("PGPASSWORD", "pw")])
        .err()
        .expect("nothing there");
    let text = e.to_string();
    assert_eq!(e.exit_code(), 5, "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("pw"), "{text}");
}

/// A new database on the test server with the store's schema in it: its URL, target and a
/// connection to it.
fn fresh_store(socket: &str) -> (String, vbx_tokens::pg::config::Target, postgres::Client) {
    let url = fresh_database(socket);
    let t = target_of(&url);
    let mut client = connect(&t).expect("connect");
    vbx_tokens::pg::schema::ensure(&mut client, &t, "tester").expect("schema");
    (url, t, client)
}

fn target_of(url: &str) -> vbx_tokens::pg::config::Target {
    let env = |_: &str| None;
    let around = Surroundings {
        env: &env,
        os_user: "nobody".into(),
        home: None,
        wait: Duration::from_secs(3),
    };
    target(url, Source::Environment, &around).expect("a URL")
}

#[test]
fn the_schema_is_made_once_with_its_steps_recorded_and_a_newer_one_is_refused() {
    use vbx_tokens::pg::schema;
    let Some(socket) = server("VBX_TOKENS_TEST_POSTGRES") else {
        return;
    };
    let url = fresh_database(&socket);
    let t = target_of(&url);
    let mut client = connect(&t).expect("connect");
    assert!(!schema::check(&mut client, &t).expect("check"), "none yet");
    schema::ensure(&mut client, &t, "alice").expect("made");
    assert!(schema::check(&mut client, &t).expect("check"));
    schema::ensure(&mut client, &t, "bob").expect("again: nothing to do");
    let steps: Vec<(i32, String)> = client
        .query(
            "SELECT version, applied_by FROM vbx_tokens.migrations ORDER BY version",
            &[],
        )
        .expect("steps")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expected: Vec<(i32, String)> = (1..=schema::current_step())
        .map(|v| (v, "alice".to_string()))
        .collect();
    assert_eq!(steps, expected);
    // A step this build does not know: a newer build's store.
    client
        .execute(
            "INSERT INTO vbx_tokens.migrations (version, applied_by) VALUES (999, 'future')",
            &[],
        )
        .expect("insert");
    for e in [
        schema::check(&mut client, &t).expect_err("newer"),
        schema::ensure(&mut client, &t, "alice").expect_err("newer"),
    ] {
        assert_eq!(e.exit_code(), 6, "{e}");
        assert!(e.to_string().contains("newer vbx-tokens"), "{e}");
    }
    // A schema of that name that is not ours.
    let url = fresh_database(&socket);
    let t = target_of(&url);
    let mut client = connect(&t).expect("connect");
    client
        .batch_execute("CREATE SCHEMA vbx_tokens")
        .expect("schema");
    let e = schema::check(&mut client, &t).expect_err("not ours");
    assert!(e.to_string().contains("not a vbx-tokens store"), "{e}");
}

#[test]
fn binaries_making_the_schema_at_once_all_succeed() {
    use vbx_tokens::pg::schema;
    let Some(socket) = server("VBX_TOKENS_TEST_POSTGRES") else {
        return;
    };
    let url = fresh_database(&socket);
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let t = target_of(&url);
                let mut client = connect(&t).expect("connect");
                schema::ensure(&mut client, &t, &format!("host{i}")).map_err(|e| e.to_string())
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread").expect("made or found made");
    }
    let t = target_of(&url);
    let mut client = connect(&t).expect("connect");
    let n: i64 = client
        .query_one("SELECT count(*) FROM vbx_tokens.migrations", &[])
        .expect("count")
        .get(0);
    assert_eq!(n, i64::from(schema::current_step()), "each step once");
}

/// A record of a new token, as `import` would take it, and the token.
fn new_record(name: &str, max_uses: Option<u64>) -> (vbx_tokens::record::Record, String) {
    let token = vbx_tokens::token::Token::generate();
    let mut line = serde_json::json!({"name": name, "token": token.expose()});
    if let Some(max) = max_uses {
        line["max_uses"] = max.into();
    }
    let mut incoming = vbx_tokens::transfer::parse_line(
        1,
        &line.to_string(),
        vbx_tokens::transfer::ImportRules::default(),
        vbx_tokens::time::Time::now(),
        "tester",
    )
    .expect("a line import takes");
    incoming.record.id = format!("tok_{:08}", rand_id());
    incoming.record.seq = rand_id();
    (incoming.record, token.expose().to_owned())
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn verify_once(url: &str, token: &str) -> vbx_tokens::verdict::Reason {
    let t = target_of(url);
    let mut client = connect(&t).expect("connect");
    vbx_tokens::pg::tokens::verify(
        &mut client,
        &t,
        token,
        &vbx_tokens::policy::Request::default(),
        vbx_tokens::verdict::Touch::Yes,
    )
    .expect("a verdict")
    .reason
}

#[test]
fn thirty_two_hosts_verifying_a_limited_token_at_once_get_exactly_its_limit() {
    use vbx_tokens::pg::tokens;
    use vbx_tokens::verdict::Reason;
    let Some(socket) = server("VBX_TOKENS_TEST_POSTGRES") else {
        return;
    };
    let (url, t, mut client, record, token) = store_with_limited(&socket, 10);
    // Each on its own connection, as separate hosts would be.
    let threads: Vec<_> = (0..32)
        .map(|_| {
            let (url, token) = (url.clone(), token.clone());
            std::thread::spawn(move || verify_once(&url, &token))
        })
        .collect();
    let answers: Vec<Reason> = threads
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    assert_exactly(&mut client, &answers, &record.id, 10);
    // A token revoked on one host is refused by the next verify on another.
    let (record, token) = new_record("revoked", None);
    tokens::put(&mut client, &t, &record, false).expect("insert");
    assert_eq!(verify_once(&url, &token), Reason::Valid);
    client
        .execute(
            "UPDATE vbx_tokens.tokens SET active = false,
                 record = record || '{\"status\": \"revoked\", \"revoked_at\": \"2026-01-01T00:00:00Z\"}'
             WHERE id = $1",
            &[&record.id],
        )
        .expect("revoke");
    assert_eq!(verify_once(&url, &token), Reason::Revoked);
    assert_eq!(verify_once(&url, "vbx_not-a-token"), Reason::Malformed);
    let (_, stranger) = new_record("not stored", None);
    assert_eq!(verify_once(&url, &stranger), Reason::Unknown);
}

#[test]
fn a_verify_only_role_verifies_and_counts_and_may_do_nothing_else() {
    use vbx_tokens::pg::{schema, tokens};
    use vbx_tokens::verdict::Reason;
    let Some(socket) = server("VBX_TOKENS_TEST_POSTGRES") else {
        return;
    };
    let (url, t, mut admin) = fresh_store(&socket);
    let (record, token) = new_record("pos", Some(2));
    tokens::put(&mut admin, &t, &record, false).expect("insert");
    let role = format!(
        "verifier_{}",
        rand_id() + u64::from(std::process::id()) * 1000
    );
    admin
        .batch_execute(&format!("CREATE ROLE {role} LOGIN"))
        .expect("role");
    schema::grant_verify(&mut admin, &t, &role).expect("grant");
    let as_role = url.replacen(
        "postgresql://postgres@",
        &format!("postgresql://{role}@"),
        1,
    );
    assert_eq!(verify_once(&as_role, &token), Reason::Valid);
    assert_eq!(verify_once(&as_role, &token), Reason::Valid);
    assert_eq!(verify_once(&as_role, &token), Reason::UsageExceeded);
    // And through a kept connection, every way it verifies: a first call, later calls of one
    // token (`verify_use`) and of a chunk (`verify_uses`).
    let (record, token) = new_record("kept", Some(3));
    tokens::put(&mut admin, &t, &record, false).expect("insert");
    let mut kept = vbx_tokens::pg::verifier::Verifier::open(&target_of(&as_role)).expect("open");
    let reasons = |kept: &mut vbx_tokens::pg::verifier::Verifier, tokens: &[&str]| {
        kept.check_many(
            tokens,
            vbx_tokens::verdict::Touch::Yes,
            &vbx_tokens::policy::Request::default(),
        )
        .expect("verdicts")
        .into_iter()
        .map(|v| v.reason)
        .collect::<Vec<_>>()
    };
    assert_eq!(reasons(&mut kept, &[&token]), [Reason::Valid]);
    assert_eq!(reasons(&mut kept, &[&token]), [Reason::Valid]);
    assert_eq!(
        reasons(&mut kept, &[&token, &token, "vbx_nope"]),
        [Reason::Valid, Reason::UsageExceeded, Reason::Malformed]
    );
    let rt = target_of(&as_role);
    let mut client = connect(&rt).expect("connect");
    for sql in [
        "SELECT id FROM vbx_tokens.tokens",
        "SELECT sha256 FROM vbx_tokens.tokens",
        "SELECT use_count FROM vbx_tokens.uses",
        "UPDATE vbx_tokens.uses SET use_count = 0",
        "SELECT bytes FROM vbx_tokens.events",
        "SELECT bytes FROM vbx_tokens.vault",
        "UPDATE vbx_tokens.tokens SET active = false",
        "DELETE FROM vbx_tokens.tokens",
        "INSERT INTO vbx_tokens.events VALUES (1, '')",
    ] {
        let e = client.batch_execute(sql).expect_err(sql);
        let e = vbx_tokens::pg::connect::failure(&rt, &e);
        assert_eq!(e.exit_code(), 6, "{sql}: {e}");
        assert!(e.to_string().contains("permission denied"), "{sql}: {e}");
    }
    let e = tokens::put(&mut client, &rt, &new_record("x", None).0, false).expect_err("insert");
    assert_eq!(e.exit_code(), 6, "{e}");
}

#[test]
fn the_chain_stays_whole_with_eight_hosts_writing_at_once() {
    use vbx_tokens::pg::{log, tokens};
    use vbx_tokens::record::{Event, EventKind};
    let Some(socket) = server("VBX_TOKENS_TEST_POSTGRES") else {
        return;
    };
    let (url, t, mut client) = fresh_store(&socket);
    let threads: Vec<_> = (0..8)
        .map(|host| {
            let url = url.clone();
            std::thread::spawn(move || {
                let t = target_of(&url);
                let mut client = connect(&t).expect("connect");
                for i in 0..5 {
                    let (record, _) = new_record(&format!("h{host}-{i}"), None);
                    let event = Event::new(
                        EventKind::Created,
                        Some(&record),
                        &format!("host{host}"),
                        vbx_tokens::time::Time::now(),
                    );
                    tokens::create_all(&mut client, &t, &[record], &[event]).expect("create");
                }
            })
        })
        .collect();
    for h in threads {
        h.join().expect("thread");
    }
    assert_eq!(log::check(&mut client, &t).expect("whole"), 40);
    // A changed event is found.
    client
        .execute(
            "UPDATE vbx_tokens.events SET bytes = convert_to(replace(convert_from(bytes, 'UTF8'), 'host3', 'host9'), 'UTF8') WHERE seq = (SELECT min(seq) FROM vbx_tokens.events WHERE convert_from(bytes, 'UTF8') LIKE '%host3%')",
            &[],
        )
        .expect("tamper");
    let e = log::check(&mut client, &t).expect_err("broken");
    assert_eq!(e.exit_code(), 6, "{e}");
    assert!(e.to_string().contains("audit log is broken"), "{e}");
    // A transaction that fails appends nothing: a token that is there already.
    let (record, _) = new_record("dup", None);
    let event = Event::new(
        EventKind::Created,
        Some(&record),
        "x",
        vbx_tokens::time::Time::now(),
    );
    tokens::create_all(
        &mut client,
        &t,
        std::slice::from_ref(&record),
        std::slice::from_ref(&event),
    )
    .expect("first");
    let before: i64 = client
        .query_one("SELECT count(*) FROM vbx_tokens.events", &[])
        .expect("count")
        .get(0);
    assert!(tokens::create_all(&mut client, &t, &[record], &[event]).is_err());
    let after: i64 = client
        .query_one("SELECT count(*) FROM vbx_tokens.events", &[])
        .expect("count")
        .get(0);
    assert_eq!(before, after);
}

#[test]
fn rows_clash_as_in_the_directory_store_and_are_found_by_id_and_name() {
    use vbx_tokens::pg::tokens;
    let Some(socket) = server("VBX_TOKENS_TEST_POSTGRES") else {
        return;
    };
    let (_, t, mut client) = fresh_store(&socket);
    let (first, _) = new_record("billing", None);
    tokens::put(&mut client, &t, &first, false).expect("first");
    // An active name taken, plainly or by a look-alike (Cyrillic і), and a token taken.
    for name in ["billing", "bіlling"] {
        let (twin, _) = new_record(name, None);
        let e = tokens::put(&mut client, &t, &twin, false).expect_err("name taken");
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(e.to_string().contains(&first.id), "{e}");
    }
    let (mut same, _) = new_record("other", None);
    same.sha256 = first.sha256.clone();
    let e = tokens::put(&mut client, &t, &same, false).expect_err("token taken");
    assert!(e.to_string().contains("already in the store"), "{e}");
    // Found by id and by name; written over by id.
    let (second, _) = new_record("crm", None);
    tokens::put(&mut client, &t, &second, false).expect("second");
    assert_eq!(
        tokens::find(&mut client, &t, &first.id).expect("find"),
        Some(first.clone())
    );
    assert_eq!(
        tokens::find(&mut client, &t, "crm").expect("find"),
        Some(second.clone())
    );
    assert_eq!(tokens::find(&mut client, &t, "nope").expect("find"), None);
    let mut renamed = second.clone();
    renamed.note = Some("for the CRM".into());
    tokens::put(&mut client, &t, &renamed, true).expect("replace");
    let mut all = Vec::new();
    tokens::each_record(&mut client, &t, &mut |r| {
        all.push(r);
        Ok(true)
    })
    .expect("records");
    assert_eq!(all, vec![first, renamed]);
}

#[test]
fn the_server_never_holds_a_token_body() {
    use vbx_tokens::pg::tokens;
    let (Some(socket), Some(bin)) = (
        server("VBX_TOKENS_TEST_POSTGRES"),
        server("VBX_TOKENS_TEST_POSTGRES_BIN"),
    ) else {
        return;
    };
    let (url, t, mut client) = fresh_store(&socket);
    let mut bodies = Vec::new();
    for i in 0..20 {
        let (record, token) = new_record(&format!("t{i}"), Some(5));
        tokens::put(&mut client, &t, &record, false).expect("put");
        assert_eq!(
            verify_once(&url, &token),
            vbx_tokens::verdict::Reason::Valid
        );
        bodies.push(token);
    }
    let text = crate::common::pg_dump(&bin, &url);
    assert!(text.contains("vbx_tokens.tokens"), "a dump of the store");
    for token in &bodies {
        // Neither the token nor its random part past the shown hint.
        assert!(!text.contains(token.as_str()), "a token in the dump");
        assert!(!text.contains(&token[8..]), "a token's body in the dump");
    }
}

#[test]
fn a_connection_killed_mid_write_leaves_all_of_it_or_none() {
    use vbx_tokens::pg::tokens;
    use vbx_tokens::record::{Event, EventKind};
    let Some(socket) = server("VBX_TOKENS_TEST_POSTGRES") else {
        return;
    };
    let (url, _, mut client) = fresh_store(&socket);
    let victim = format!("{url}&application_name=victim");
    let records: Vec<_> = (0..3000)
        .map(|i| new_record(&format!("bulk{i}"), None).0)
        .collect();
    let events: Vec<_> = records
        .iter()
        .map(|r| {
            Event::new(
                EventKind::Created,
                Some(r),
                "bulk",
                vbx_tokens::time::Time::now(),
            )
        })
        .collect();
    let writer = std::thread::spawn(move || {
        let t = target_of(&victim);
        let mut c = connect(&t).expect("connect");
        tokens::create_all(&mut c, &t, &records, &events)
            .map_err(|e| (e.exit_code(), e.to_string()))
    });
    // Killed once it has written some of it, as an operator's pg_terminate_backend would.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut killed = false;
    while !writer.is_finished() && std::time::Instant::now() < deadline {
        let n: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim' AND xact_start IS NOT NULL",
                &[],
            )
            .expect("activity")
            .get(0);
        if n > 0 {
            std::thread::sleep(Duration::from_millis(30));
            client
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim'",
                    &[],
                )
                .expect("terminate");
            killed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let result = writer.join().expect("thread");
    let rows: i64 = client
        .query_one("SELECT count(*) FROM vbx_tokens.tokens", &[])
        .expect("count")
        .get(0);
    let logged: i64 = client
        .query_one("SELECT count(*) FROM vbx_tokens.events", &[])
        .expect("count")
        .get(0);
    match result {
        Ok(()) => {
            eprintln!("note: the write finished before the kill");
            assert_eq!((rows, logged), (3000, 3000), "finished before the kill");
        }
        Err((code, text)) => {
            assert!(killed);
            eprintln!("killed mid-write: {text}");
            assert_eq!((rows, logged), (0, 0), "nothing half done: {text}");
            assert_eq!(code, 5, "{text}");
            assert!(text.contains("connection"), "{text}");
        }
    }
}

#[test]
fn a_lock_held_past_the_wait_is_exit_5_and_changes_nothing() {
    use vbx_tokens::pg::tokens;
    use vbx_tokens::record::{Event, EventKind};
    let Some(socket) = server("VBX_TOKENS_TEST_POSTGRES") else {
        return;
    };
    let (_, t, mut holder) = fresh_store(&socket);
    let (first, _) = new_record("first", None);
    let event = Event::new(
        EventKind::Created,
        Some(&first),
        "a",
        vbx_tokens::time::Time::now(),
    );
    tokens::create_all(&mut holder, &t, &[first], &[event]).expect("first");
    // Another host is in the middle of a write: it holds the log head.
    let mut tx = holder.transaction().expect("begin");
    tx.query_one(
        "SELECT value FROM vbx_tokens.meta WHERE key = 'log_head' FOR UPDATE",
        &[],
    )
    .expect("lock");
    let started = std::time::Instant::now();
    let mut client = connect(&t).expect("connect"); // wait: 3 s (target_of)
    let (second, _) = new_record("second", None);
    let event = Event::new(
        EventKind::Created,
        Some(&second),
        "b",
        vbx_tokens::time::Time::now(),
    );
    let e = tokens::create_all(&mut client, &t, &[second], &[event]).expect_err("timed out");
    let waited = started.elapsed();
    assert_eq!(e.exit_code(), 5, "{e}");
    assert!(e.to_string().contains("lock timeout"), "{e}");
    assert!(
        // The server's clock and ours may differ by a little: a wait of about 3 s.
        waited >= Duration::from_millis(2900) && waited < Duration::from_secs(20),
        "{waited:?}"
    );
    tx.rollback().expect("rollback");
    let rows: i64 = client
        .query_one("SELECT count(*) FROM vbx_tokens.tokens", &[])
        .expect("count")
        .get(0);
    assert_eq!(rows, 1, "the second create left nothing");
}

/// The uses `verify_uses` and `verify_use` take with the records are exactly those
/// `policy::judge` allows: never one it refuses (a use counted for a refused verify), and
/// every one it allows (else a verify pays a second round trip), for every kind of address
/// range and scope a token and a request may have.
#[test]
fn a_use_taken_with_the_records_is_exactly_one_the_policy_allows() {
    use vbx_tokens::pg::tokens;
    use vbx_tokens::policy::{self, Request};
    use vbx_tokens::verdict::Reason;
    let Some(socket) = server("VBX_TOKENS_TEST_POSTGRES") else {
        return;
    };
    let (_url, t, mut client) = fresh_store(&socket);
    let ranges: [&[&str]; 4] = [
        &[],
        &["10.0.0.0/8"],
        &["2001:db8::/32"],
        &["192.0.2.7/32", "10.0.0.0/8"],
    ];
    let scopes: [&[&str]; 3] = [&[], &["invoices:read"], &["invoices:read", "orders"]];
    let ips: [Option<&str>; 5] = [
        None,
        Some("10.1.2.3"),
        Some("::ffff:10.1.2.3"),
        Some("2001:db8::5"),
        Some("203.0.113.9"),
    ];
    let asked: [&[&str]; 4] = [
        &[],
        &["invoices:read"],
        &["orders", "invoices:read"],
        &["invoices:write"],
    ];
    let mut tokens_made = Vec::new();
    for (i, r) in ranges.iter().enumerate() {
        for (j, s) in scopes.iter().enumerate() {
            let (mut record, token) = new_record(&format!("policy-{i}-{j}"), None);
            record.allow_ip = r
                .iter()
                .map(|r| policy::parse_range(r).expect("range"))
                .collect();
            record.scopes = s.iter().map(|s| (*s).to_owned()).collect();
            tokens::put(&mut client, &t, &record, false).expect("insert");
            tokens_made.push((record, token));
        }
    }
    // Also states the server decides alone: a limit reached, disabled, expired.
    let (mut spent, token) = new_record("spent", Some(1));
    spent.use_count = 1;
    tokens::put(&mut client, &t, &spent, false).expect("insert");
    tokens_made.push((spent, token));
    let (mut off, token) = new_record("off", None);
    off.disabled = true;
    tokens::put(&mut client, &t, &off, false).expect("insert");
    tokens_made.push((off, token));
    let (mut old, token) = new_record("old", None);
    old.expires_at = Some(vbx_tokens::time::Time::from_second(1_000_000_000).expect("a time"));
    tokens::put(&mut client, &t, &old, false).expect("insert");
    tokens_made.push((old, token));
    let hashes: Vec<[u8; 32]> = tokens_made
        .iter()
        .map(|(_, token)| vbx_tokens::token::lookup_hash(token).expect("a hash").0)
        .collect();
    let mut checked = 0;
    for ip in ips {
        for scopes in asked {
            let request = Request {
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                ip: ip.map(|ip| ip.parse().expect("an address")),
            };
            // Each token alone, then all of them in one call.
            let mut seen = Vec::new();
            for hash in &hashes {
                let (found, now) =
                    tokens::verify_use(&mut client, &t, hash, &request).expect("verify_use");
                seen.push((found, now, "verify_use"));
            }
            let all: Vec<&[u8]> = hashes.iter().map(|h| &h[..]).collect();
            let (found, now) =
                tokens::verify_uses(&mut client, &t, &all, &request).expect("verify_uses");
            seen.push((found, now, "verify_uses"));
            for (found, now, how) in seen {
                for (hash, (record, counted)) in &found {
                    let judged = policy::judge(&record.facts(), now, record.use_count, &request);
                    assert_eq!(
                        *counted,
                        judged == Reason::Valid,
                        "{how}: {} ({:?}, {:?}) for {request:?}: judged {judged:?}",
                        record.name,
                        record.allow_ip,
                        record.scopes
                    );
                    assert!(hashes.contains(hash));
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 5 * 4 * 2 * hashes.len());
    // A token not in the store: no record, nothing counted.
    let (_, stranger) = new_record("stranger", None);
    let hash = vbx_tokens::token::lookup_hash(&stranger).expect("a hash");
    let (found, _) =
        tokens::verify_use(&mut client, &t, &hash.0, &Request::default()).expect("verify_use");
    assert!(found.is_empty());
}

/// A limit holds when kept connections verify through `verify_use` and `verify_uses` at once,
/// as services on several hosts would.
#[test]
fn kept_connections_verifying_a_limited_token_at_once_get_exactly_its_limit() {
    use vbx_tokens::verdict::Reason;
    let Some(socket) = server("VBX_TOKENS_TEST_POSTGRES") else {
        return;
    };
    let (url, _, mut client, record, token) = store_with_limited(&socket, 20);
    let threads: Vec<_> = (0..8)
        .map(|n| {
            let (url, token) = (url.clone(), token.clone());
            std::thread::spawn(move || {
                let mut kept =
                    vbx_tokens::pg::verifier::Verifier::open(&target_of(&url)).expect("open");
                let mut reasons = Vec::new();
                for _ in 0..6 {
                    // Odd threads send chunks of two (the token twice), even ones one token.
                    let chunk: Vec<&str> = if n % 2 == 1 {
                        vec![&token, &token]
                    } else {
                        vec![&token]
                    };
                    let verdicts = kept
                        .check_many(
                            &chunk,
                            vbx_tokens::verdict::Touch::Yes,
                            &vbx_tokens::policy::Request::default(),
                        )
                        .expect("verdicts");
                    reasons.extend(verdicts.into_iter().map(|v| v.reason));
                }
                reasons
            })
        })
        .collect();
    let answers: Vec<Reason> = threads
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect();
    assert_exactly(&mut client, &answers, &record.id, 20);
}

/// A new store holding one token limited to `max` uses: the store's URL, target and a client,
/// the record and the token.
fn store_with_limited(
    socket: &str,
    max: u64,
) -> (
    String,
    vbx_tokens::pg::config::Target,
    postgres::Client,
    vbx_tokens::record::Record,
    String,
) {
    let (url, t, mut client) = fresh_store(socket);
    let (record, token) = new_record(&format!("limited to {max}"), Some(max));
    vbx_tokens::pg::tokens::put(&mut client, &t, &record, false).expect("insert");
    (url, t, client, record, token)
}

/// `answers` hold exactly `max` valid ones and otherwise only `usage_exceeded`, and the store
/// counted exactly `max` uses of the token `id`.
fn assert_exactly(
    client: &mut postgres::Client,
    answers: &[vbx_tokens::verdict::Reason],
    id: &str,
    max: i64,
) {
    use vbx_tokens::verdict::Reason;
    let valid = answers.iter().filter(|r| **r == Reason::Valid).count();
    assert_eq!(i64::try_from(valid).expect("a count"), max, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|r| matches!(r, Reason::Valid | Reason::UsageExceeded)),
        "{answers:?}"
    );
    let count: i64 = client
        .query_one(
            "SELECT use_count FROM vbx_tokens.uses WHERE id = $1",
            &[&id],
        )
        .expect("count")
        .get(0);
    assert_eq!(count, max);
}
