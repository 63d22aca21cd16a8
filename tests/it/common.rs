//! The one place tests build commands: a private store per test, a clean environment, and no
//! terminal on stdin so nothing ever prompts.

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_vbx-tokens");

/// Variables that would change the binary's behaviour if the developer's shell had them set.
const OURS: &[&str] = &[
    "VBX_TOKENS_HOME",
    "VBX_TOKENS_STORE",
    "PGPASSWORD",
    "PGPASSFILE",
    "VBX_TOKENS_WAIT",
    "VBX_TOKENS_TRUST_OWNER",
    "VBX_TOKEN",
    "VBX_TOKENS_PASSPHRASE",
    "VBX_TOKENS_PASSPHRASE_FILE",
    "NO_COLOR",
    "RUST_BACKTRACE",
];

pub struct Env {
    pub tmp: TempDir,
    /// A PostgreSQL store's URL (`VBX_TOKENS_STORE`), else the store is the directory
    /// [`Env::store`].
    pub url: Option<String>,
}

impl Env {
    /// A test's own store: a directory that does not exist yet.
    pub fn new() -> Env {
        Env {
            tmp: tempfile::tempdir().expect("temp dir"),
            url: None,
        }
    }

    /// A test's own store on each engine: a directory, and a new database on the test's
    /// PostgreSQL server (`postgres_server`; a run under `.ci/run` has one, and fails without
    /// it). One suite, run on both.
    pub fn engines() -> Vec<Env> {
        let mut all = vec![Env::new()];
        if let Some(socket) = postgres_server("VBX_TOKENS_TEST_POSTGRES") {
            all.push(Env {
                tmp: tempfile::tempdir().expect("temp dir"),
                url: Some(fresh_database(&socket)),
            });
        }
        all
    }

    /// Which engine, for messages: `directory` or `postgres`.
    pub fn engine(&self) -> &'static str {
        match self.url {
            Some(_) => "postgres",
            None => "directory",
        }
    }

    /// The store directory; it does not exist until a command creates it.
    pub fn store(&self) -> PathBuf {
        self.tmp.path().join("store")
    }

    /// The variables that name this test's store, for a command built by hand (a shell
    /// script): `VBX_TOKENS_HOME`, and `VBX_TOKENS_STORE` on PostgreSQL.
    pub fn store_env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        let mut vars = vec![("VBX_TOKENS_HOME", self.store().into_os_string())];
        if let Some(url) = &self.url {
            vars.push(("VBX_TOKENS_STORE", url.into()));
        }
        vars
    }

    /// The binary with this test's store and nothing on stdin.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// The same as a std `Command`, for spawning and killing.
    pub fn std_cmd(&self) -> StdCommand {
        let mut c = StdCommand::new(BIN);
        for var in OURS {
            c.env_remove(var);
        }
        c.env("VBX_TOKENS_HOME", self.store())
            .env("XDG_STATE_HOME", self.tmp.path().join("state"))
            .stdin(Stdio::null());
        if let Some(url) = &self.url {
            c.env("VBX_TOKENS_STORE", url);
        }
        c
    }

    /// Runs with these arguments and returns the output, whatever the exit code.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("runs")
    }

    /// Runs with these arguments and this stdin, whatever the exit code.
    #[track_caller]
    pub fn run_in(&self, args: &[&str], stdin: impl Into<Vec<u8>>) -> Output {
        self.cmd()
            .args(args)
            .write_stdin(stdin.into())
            .output()
            .expect("runs")
    }

    /// Runs with these arguments, expects exit 0, and returns stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> Vec<u8> {
        let out = self.run(args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        out.stdout
    }

    /// Creates a token and returns it.
    #[track_caller]
    pub fn create(&self, name: &str) -> String {
        let out = self.ok(&["create", "--name", name, "-q"]);
        let token = String::from_utf8(out).expect("utf-8");
        token.trim().to_owned()
    }

    /// Runs with `--json` appended, expects exit 0, returns the parsed document.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().args(args).arg("--json").assert().success();
        parse(&out.get_output().stdout)
    }

    /// Verifies a token given on stdin; returns the exit code and the JSON verdict.
    #[track_caller]
    pub fn verify(&self, token: &str, extra: &[&str]) -> (i32, Value) {
        let out = self
            .cmd()
            .args(["verify", "--json"])
            .args(extra)
            .write_stdin(format!("{token}\n"))
            .output()
            .expect("runs");
        (code(&out), parse(&out.stdout))
    }

    /// Makes a vault with the cheapest parameters `vault init` accepts, and a token `name` kept
    /// in it; returns the passphrase file's path and the token.
    #[track_caller]
    pub fn vault_with(&self, name: &str) -> (String, String) {
        let pass = self.tmp.path().join("vault.pass");
        std::fs::write(&pass, "correct horse\n").expect("write");
        let pass = pass.to_string_lossy().into_owned();
        let cheap = ["--kdf-memory-mib", "8", "--kdf-iterations", "1"];
        self.ok(&[&["vault", "init", "--passphrase-file", &pass][..], &cheap].concat());
        let token = self.ok(&[
            "create",
            "--name",
            name,
            "--keep",
            "-q",
            "--passphrase-file",
            &pass,
        ]);
        let token = String::from_utf8(token).expect("utf-8").trim().to_owned();
        (pass, token)
    }

    /// Everything a user could see of the store: every record and every event.
    #[track_caller]
    pub fn snapshot(&self) -> (Value, Value) {
        (self.json(&["list", "--all"]), self.json(&["log"]))
    }

    #[track_caller]
    pub fn record(&self, id_or_name: &str) -> Value {
        self.json(&["show", id_or_name])
    }
}

#[track_caller]
/// The test PostgreSQL server's URL in `var`, or `None` (with a note) when there is none to
/// test with. Under `VBX_TOKENS_TEST_POSTGRES_REQUIRED` (as `.ci/run` sets it) a missing
/// server fails the test instead: CI never skips the PostgreSQL half.
pub fn postgres_server(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("VBX_TOKENS_TEST_POSTGRES_REQUIRED").is_none(),
                "{var} is not set, and this run requires the PostgreSQL tests (run them under .ci/postgres)"
            );
            eprintln!("note: {var} is not set: skipping PostgreSQL (run under .ci/postgres)");
            None
        }
    }
}

/// A connection to the test server at `url`, through the library's own connect.
pub fn postgres_client(url: &str) -> postgres::Client {
    let env = |_: &str| None;
    let around = vbx_tokens::pg::config::Surroundings {
        env: &env,
        os_user: "nobody".into(),
        home: None,
        wait: std::time::Duration::from_secs(3),
    };
    let t =
        vbx_tokens::pg::config::target(url, vbx_tokens::pg::config::Source::Environment, &around)
            .expect("a URL");
    vbx_tokens::pg::connect::connect(&t).expect("connect")
}

/// A new, empty database on the test server, as a socket URL.
pub fn fresh_database(socket: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "vbx_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos()
    );
    postgres_client(socket)
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    socket.replacen("/postgres?", &format!("/{name}?"), 1)
}

/// `pg_dump` (of the server's programs in `bin`) of the database the socket URL `url` names,
/// as text.
pub fn pg_dump(bin: &str, url: &str) -> String {
    let query = url.split_once('?').expect("a query").1;
    let param = |key: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{key}=")))
            .expect("in the URL")
            .to_owned()
    };
    let db = url.split_once("@/").expect("a database").1;
    let db = db.split_once('?').expect("a query").0;
    let dump = std::process::Command::new(format!("{bin}/pg_dump"))
        .args([
            "-h",
            &param("host"),
            "-p",
            &param("port"),
            "-U",
            "postgres",
            db,
        ])
        .output()
        .expect("pg_dump runs");
    assert!(dump.status.success(), "{}", stderr(&dump));
    String::from_utf8_lossy(&dump.stdout).into_owned()
}

pub fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

#[track_caller]
pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the command failed the way a user should see it: the expected code and exactly one
/// line on stderr, with no panic or backtrace, and no library's debug text (sled's
/// `Some(Inline(648)) backtrace ()`).
#[track_caller]
pub fn assert_one_line_error(out: &Output, expected_code: i32) -> String {
    let err = stderr(out);
    assert_eq!(code(out), expected_code, "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line on stderr, got: {err}");
    assert!(err.starts_with("vbx-tokens: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    assert!(
        !err.contains("backtrace") && !err.contains("Some(") && !err.contains("Inline("),
        "debug text: {err}"
    );
    err
}

/// Whether `tool` is installed. .ci/run installs `package` (Debian's name), so in CI a missing
/// tool fails the test; elsewhere the test is skipped with the same advice.
#[track_caller]
pub fn have(tool: &str, package: &str) -> bool {
    let found = StdCommand::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is missing in CI: .ci/run should install the Debian package {package}"
        );
        eprintln!("skipping: {tool} is not installed (apt-get install {package})");
    }
    found
}

/// `n` new tokens, and `import` lines for them named `{prefix}0`, `{prefix}1`…
pub fn import_lines(n: usize, prefix: &str) -> (Vec<String>, String) {
    let tokens: Vec<String> = (0..n)
        .map(|_| vbx_tokens::Token::generate().expose().to_owned())
        .collect();
    let lines = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{{\"name\":\"{prefix}{i}\",\"token\":\"{t}\"}}\n"))
        .collect();
    (tokens, lines)
}

/// Sorted keys of a JSON object.
#[track_caller]
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
    k.sort();
    k
}

pub fn sorted(keys: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// The fields `list`, `show` and `revoke` print for a record.
pub const RECORD_KEYS: &[&str] = &[
    "id",
    "name",
    "note",
    "hint",
    "status",
    "created_at",
    "created_by",
    "revoked_at",
    "last_used_at",
    "last_used_ip",
    "use_count",
    "expires_at",
    "scopes",
    "max_uses",
    "allow_ip",
    "disabled_at",
    "grace_until",
    "replaces",
    "replaced_by",
    "kept",
];

/// `show` adds the rotation chain.
pub const SHOW_KEYS: &[&str] = &["predecessors", "successors"];

/// The log's `verify_failed` events: counters of failures (README, "Failures cannot fill the
/// disk").
pub fn failure_events(env: &Env) -> Vec<Value> {
    env.json(&["log"])
        .as_array()
        .expect("array")
        .iter()
        .filter(|e| e["event"] == "verify_failed")
        .cloned()
        .collect()
}

/// How many failures `events` count.
pub fn failures_counted(events: &[Value]) -> u64 {
    events
        .iter()
        .map(|e| e["count"].as_u64().expect("count"))
        .sum()
}

/// How many failures of `reason` `events` count.
pub fn failures_of(events: &[Value], reason: &str) -> u64 {
    events
        .iter()
        .filter(|e| e["reason"] == reason)
        .map(|e| e["count"].as_u64().expect("count"))
        .sum()
}

/// Rewrites the backup `file` as a forger would: its lines without the trailer go to `edit`,
/// then the trailer is made again over what `edit` left (README, "The backup format").
pub fn reforge_backup(file: &Path, edit: impl FnOnce(&mut Vec<String>)) {
    use sha2::{Digest, Sha256};
    let text = std::fs::read_to_string(file).expect("read the backup");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.pop();
    edit(&mut lines);
    let mut body = lines.join("\n");
    body.push('\n');
    let sha = hex::encode(Sha256::digest(body.as_bytes()));
    body.push_str(&format!(
        "{{\"end\":{{\"lines\":{},\"sha256\":\"{sha}\"}}}}\n",
        lines.len()
    ));
    std::fs::write(file, body).expect("write the backup");
}

/// Makes a FIFO at `path` (no writer: opening it to read would wait for one).
pub fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(ok.success());
}

/// The two records `rotate --grace` leaves (the predecessor in its grace and its successor),
/// broken in each way that would leave the grace standing after the successor is revoked:
/// each set of records must be refused whole, naming the field given with it.
pub fn broken_graces(records: &[Value]) -> Vec<(&'static str, Vec<Value>)> {
    let old = records
        .iter()
        .find(|r| r["status"] == "revoked")
        .expect("the predecessor");
    let new = records
        .iter()
        .find(|r| r["status"] == "active")
        .expect("the successor");
    let edited = |edit: &dyn Fn(&mut Value, &mut Value)| {
        let (mut old, mut new) = (old.clone(), new.clone());
        edit(&mut old, &mut new);
        vec![old, new]
    };
    let mut second = old.clone();
    second["id"] = Value::String("tok_ffffffff".into());
    second["sha256"] = Value::String("f".repeat(64));
    vec![
        // Revoked already, without revoking what it replaced.
        (
            "grace_until",
            edited(&|_, new| {
                new["status"] = "revoked".into();
                new["revoked_at"] = new["created_at"].clone();
            }),
        ),
        (
            "replaced_by",
            edited(&|_, new| {
                new.as_object_mut().expect("object").remove("replaces");
            }),
        ),
        (
            "replaced_by",
            edited(&|_, new| new["replaces"] = "tok_eeeeeeee".into()),
        ),
        // Two predecessors for one successor: only one is the one it replaced.
        ("replaced_by", vec![old.clone(), second, new.clone()]),
        // Its successor in neither the file nor the store.
        ("replaced_by", vec![old.clone()]),
        (
            "replaced_by",
            edited(&|old, _| old["replaced_by"] = "tok_dddddddd".into()),
        ),
        ("name", edited(&|_, new| new["name"] = "another".into())),
        (
            "created_at",
            edited(&|_, new| new["created_at"] = "2020-01-01T00:00:00Z".into()),
        ),
    ]
}

/// A process holding `path`'s `flock`, as one stopped mid-write would, until dropped (then
/// killed, with its group).
pub struct LockHolder(std::process::Child);

impl LockHolder {
    pub fn new(path: &Path) -> LockHolder {
        use std::os::unix::process::CommandExt;
        let child = StdCommand::new("flock")
            .arg(path)
            .args(["sleep", "60"])
            .process_group(0)
            .spawn()
            .expect("flock(1)");
        // flock(1) takes the lock before it runs sleep.
        std::thread::sleep(std::time::Duration::from_millis(300));
        LockHolder(child)
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        let _ = rustix::process::kill_process_group(
            rustix::process::Pid::from_raw(self.0.id() as i32).expect("pid"),
            rustix::process::Signal::KILL,
        );
        let _ = self.0.wait();
    }
}
