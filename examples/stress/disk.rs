//! A full disk: every writing command under `ulimit -f` and on a tiny tmpfs filled to the brim
//! must fail with one line and exit 6 (or succeed, when what it writes still fits), and the store
//! must still open with everything acknowledged before.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rand::Rng;
use serde_json::Value;

use crate::Ctx;
use crate::report::Table;
use crate::run::{self, Run};

const LIMIT: Duration = Duration::from_secs(30);
/// Set in the environment of a copy of this program started under `unshare -Urm`, to run the
/// tmpfs part in a private mount namespace.
const INNER: &str = "VBX_STRESS_TMPFS_INNER";

/// A store ready for every writing command: a vault and a token for each change.
struct Fixture {
    store: PathBuf,
    pass: String,
    new_pass: String,
    ids: BTreeMap<&'static str, String>,
    tokens: BTreeMap<&'static str, String>,
}

fn fixture(ctx: &Ctx, store: PathBuf, tag: &str) -> Fixture {
    let pass = ctx
        .passphrase(&format!("disk-{tag}"), "disk passphrase")
        .to_string_lossy()
        .into_owned();
    let new_pass = ctx
        .passphrase(&format!("disk-{tag}-new"), "another passphrase")
        .to_string_lossy()
        .into_owned();
    ctx.vault_init(&store, &pass);
    let mut ids = BTreeMap::new();
    let mut tokens = BTreeMap::new();
    for name in [
        "revoke-me",
        "rotate-me",
        "disable-me",
        "enable-me",
        "extend-me",
        "use-me",
        "kept",
        "limited",
    ] {
        let mut args = vec!["--name", name];
        if name == "kept" {
            args.extend(["--keep", "--passphrase-file", &pass]);
        }
        if name == "limited" {
            args.extend(["--max-uses", "100"]);
        }
        let (id, token) = ctx.create(&store, &args);
        ids.insert(name, id);
        tokens.insert(name, token);
    }
    ctx.must(&store, &["disable", &ids["enable-me"]], None);
    Fixture {
        store,
        pass,
        new_pass,
        ids,
        tokens,
    }
}

/// A writing command: (label, args, stdin, VBX_TOKEN).
type Writing = (String, Vec<String>, Option<String>, Option<String>);

/// Every writing command.
fn commands(f: &Fixture, n: usize) -> Vec<Writing> {
    let s = |v: &[&str]| v.iter().map(|a| (*a).to_owned()).collect::<Vec<String>>();
    let import = format!(
        "{{\"name\":\"imported-{n}\",\"sha256\":\"{:064x}\"}}\n",
        n + 1
    );
    vec![
        (
            "create".into(),
            s(&["create", "--name", &format!("new-{n}"), "-q"]),
            None,
            None,
        ),
        (
            "create --keep".into(),
            s(&[
                "create",
                "--name",
                &format!("kept-{n}"),
                "--keep",
                "--passphrase-file",
                &f.pass,
            ]),
            None,
            None,
        ),
        (
            "revoke".into(),
            s(&["revoke", &f.ids["revoke-me"], "--yes"]),
            None,
            None,
        ),
        (
            "rotate".into(),
            s(&["rotate", &f.ids["rotate-me"], "-q"]),
            None,
            None,
        ),
        (
            "disable".into(),
            s(&["disable", &f.ids["disable-me"]]),
            None,
            None,
        ),
        (
            "enable".into(),
            s(&["enable", &f.ids["enable-me"]]),
            None,
            None,
        ),
        (
            "extend".into(),
            s(&["extend", &f.ids["extend-me"], "--expires-in", "90d"]),
            None,
            None,
        ),
        ("import".into(), s(&["import", "-"]), Some(import), None),
        (
            "verify (counted)".into(),
            s(&["verify"]),
            None,
            Some(f.tokens["use-me"].clone()),
        ),
        (
            "verify (a failure, logged)".into(),
            s(&["verify"]),
            None,
            Some("vbx_not_a_token".into()),
        ),
        (
            "verify of a limited token".into(),
            s(&["verify"]),
            None,
            Some(f.tokens["limited"].clone()),
        ),
        (
            "verify --batch".into(),
            s(&["verify", "--batch"]),
            Some(format!("{}\n{}\n", f.tokens["use-me"], f.tokens["kept"])),
            None,
        ),
        (
            "vault reveal (logged)".into(),
            s(&["vault", "reveal", "kept", "--passphrase-file", &f.pass]),
            None,
            None,
        ),
        (
            "vault passwd".into(),
            s(&[
                "vault",
                "passwd",
                "--passphrase-file",
                &f.pass,
                "--new-passphrase-file",
                &f.new_pass,
                "--kdf-memory-mib",
                "8",
                "--kdf-iterations",
                "1",
                "--kdf-parallelism",
                "1",
            ]),
            None,
            None,
        ),
        (
            "vault forget".into(),
            s(&["vault", "forget", "kept"]),
            None,
            None,
        ),
        (
            "list (folding a pending use)".into(),
            s(&["list"]),
            None,
            None,
        ),
    ]
}

/// The records, less what a verify changes, by id.
fn snapshot(ctx: &Ctx, store: &Path) -> Option<BTreeMap<String, Value>> {
    let mut cmd = ctx.bin.cmd(store, 30);
    cmd.args(["list", "--all", "--json"]);
    let out = run::run(cmd, None, LIMIT);
    if out.code() != Some(0) {
        return None;
    }
    Some(
        out.json()?
            .as_array()?
            .iter()
            .map(|r| {
                let mut r = r.clone();
                for k in ["use_count", "last_used_at", "last_used_ip"] {
                    r[k] = Value::Null;
                }
                (r["id"].as_str().unwrap_or_default().to_owned(), r)
            })
            .collect(),
    )
}

#[derive(Default)]
struct Tally {
    run: usize,
    clean: usize,
    succeeded: Vec<String>,
    broken: Vec<String>,
    lost: Vec<String>,
    unopenable: Vec<String>,
    changed_by_failure: Vec<String>,
}

impl Tally {
    /// Judges one command run at the limit, then checks the store with no limit.
    fn judge(
        &mut self,
        ctx: &Ctx,
        store: &Path,
        label: &str,
        before: &BTreeMap<String, Value>,
        out: &Run,
    ) {
        self.classify(label, out);
        let failed = out.code() != Some(0);
        self.compare(ctx, store, label, before, failed);
    }

    fn classify(&mut self, label: &str, out: &Run) {
        self.run += 1;
        if out.code() == Some(6) && out.one_line_error() && out.stdout.is_empty() {
            self.clean += 1;
        } else if out.code() == Some(0) || (label.contains("a failure") && out.code() == Some(1)) {
            self.succeeded.push(label.to_owned());
        } else {
            self.broken.push(format!("{label}: {}", out.describe()));
        }
    }

    /// The store opens and still holds every record of `before`, revoked ones revoked; a
    /// failed command changed nothing.
    fn compare(
        &mut self,
        ctx: &Ctx,
        store: &Path,
        label: &str,
        before: &BTreeMap<String, Value>,
        failed: bool,
    ) {
        let Some(after) = snapshot(ctx, store) else {
            self.unopenable.push(format!("after {label}"));
            return;
        };
        for (id, r) in before {
            match after.get(id) {
                None => self.lost.push(format!("after {label}: {id} is gone")),
                Some(a) if r["status"] == "revoked" && a["status"] != "revoked" => self
                    .lost
                    .push(format!("after {label}: {id} is no longer revoked")),
                Some(a) if failed && a != r => self
                    .changed_by_failure
                    .push(format!("{label} (failed) changed {id}")),
                _ => {}
            }
        }
        if failed && after.len() != before.len() {
            self.changed_by_failure
                .push(format!("{label} (failed) added records"));
        }
    }
}

/// Runs every writing command built by `cmd` (with its limit). With `each`, the store is checked
/// (with no limit) before and after each; on a full filesystem nothing can be, not even a read.
fn every_command(
    ctx: &Ctx,
    f: &Fixture,
    tally: &mut Tally,
    n: usize,
    each: bool,
    mut cmd: impl FnMut() -> Command,
) {
    for (label, args, stdin, token) in commands(f, n) {
        if label.starts_with("list") && each {
            // Something for the fold to do.
            let mut c = ctx.bin.cmd(&f.store, 30);
            c.arg("verify").env("VBX_TOKEN", &f.tokens["use-me"]);
            let _ = run::run(c, None, LIMIT);
        }
        let before = if each {
            let Some(before) = snapshot(ctx, &f.store) else {
                tally.unopenable.push(format!("before {label}"));
                continue;
            };
            Some(before)
        } else {
            None
        };
        let mut c = cmd();
        c.args(&args);
        if let Some(t) = &token {
            c.env("VBX_TOKEN", t);
        }
        let out = run::run(c, stdin.map(String::into_bytes), LIMIT);
        match before {
            Some(before) => tally.judge(ctx, &f.store, &label, &before, &out),
            None => tally.classify(&label, &out),
        }
    }
}

fn report(table: &mut Table, what: &str, t: &Tally, must_fail: bool) {
    table.info(format!("{what}: writing commands run"), t.run);
    table.info(format!("{what}: failed with one line and exit 6"), t.clean);
    if must_fail {
        table.zero(
            format!("{what}: succeeded (nothing can be written)"),
            t.succeeded.len(),
        );
    } else {
        table.info(
            format!("{what}: succeeded (what they wrote fitted)"),
            t.succeeded.len(),
        );
    }
    table.zero(
        format!("{what}: failed otherwise (not one line, not exit 6, a panic)"),
        t.broken.len(),
    );
    table.zero(format!("{what}: acknowledged writes lost"), t.lost.len());
    table.zero(
        format!("{what}: store fails to open afterwards"),
        t.unopenable.len(),
    );
    table.info(
        format!("{what}: failed commands that changed a record"),
        t.changed_by_failure.len(),
    );
    for line in t
        .broken
        .iter()
        .chain(&t.lost)
        .chain(&t.unopenable)
        .chain(&t.changed_by_failure)
        .take(10)
    {
        table.note(format!("{what}: {line}"));
    }
}

fn tmpfs(ctx: &Ctx, table: &mut Table) {
    let mnt = ctx.fresh("disk/tmpfs");
    std::fs::create_dir_all(&mnt).expect("mkdir");
    let mount = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs"])
        .arg(&mnt)
        .output();
    match mount {
        Ok(o) if o.status.success() => {}
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                Err(e) => e.to_string(),
            };
            if std::env::var_os(INNER).is_some() {
                table.note(format!(
                    "tiny filesystem: not run: mount refused even under unshare ({why})"
                ));
                return;
            }
            // A private mount namespace, as an unprivileged user may get one.
            let exe = std::env::current_exe().expect("exe");
            let out = Command::new("unshare")
                .arg("-Urm")
                .arg(exe)
                .args(["--only", "disk", "--bin"])
                .arg(&ctx.bin.path)
                .env(INNER, "1")
                .output();
            match out {
                Ok(o) if o.status.code().is_some() => {
                    let text = String::from_utf8_lossy(&o.stdout);
                    let ok = o.status.success();
                    // Its figures, as if run here.
                    for line in text.lines().filter(|l| l.starts_with("| tiny")) {
                        let cells: Vec<&str> =
                            line.trim_matches('|').split(" | ").map(str::trim).collect();
                        if let [name, value, required] = cells[..] {
                            let name = format!("{name} (under `unshare -Urm`)");
                            if required.is_empty() {
                                table.info(name, value);
                            } else {
                                table.holds(name, value, !required.contains("BROKEN"));
                            }
                        }
                    }
                    table.holds(
                        "tiny filesystem under `unshare -Urm`: every invariant held",
                        ok,
                        ok,
                    );
                }
                _ => table.note(format!(
                    "tiny filesystem: not run: mount refused ({why}) and `unshare -Urm` failed"
                )),
            }
            return;
        }
    }
    let store = mnt.join("store");
    let f = fixture(ctx, store, "tmpfs");
    // A use pending in the journal, for a fold on the full filesystem.
    let mut c = ctx.bin.cmd(&f.store, 30);
    c.arg("verify").env("VBX_TOKEN", &f.tokens["use-me"]);
    let _ = run::run(c, None, LIMIT);
    let before = snapshot(ctx, &f.store).expect("the fixture opens");
    // Fill it to the brim: big writes, then smaller ones, until nothing fits.
    let filler = mnt.join("filler");
    let mut file = std::fs::File::create(&filler).expect("filler");
    for size in [1 << 20, 64 << 10, 4096, 512, 64, 1] {
        let chunk = vec![0xA5u8; size];
        while file.write_all(&chunk).is_ok() && file.sync_all().is_ok() {}
    }
    drop(file);
    let mut tally = Tally::default();
    every_command(ctx, &f, &mut tally, 0, false, || ctx.bin.cmd(&f.store, 10));
    // Reading needs space too: sled writes when it opens. Verify reads the index alone.
    let mut c = ctx.bin.cmd(&f.store, 10);
    c.args(["list", "--all"]);
    let list = run::run(c, None, LIMIT);
    let mut c = ctx.bin.cmd(&f.store, 10);
    c.args(["verify", "--no-touch"])
        .env("VBX_TOKEN", &f.tokens["use-me"]);
    let verify = run::run(c, None, LIMIT);
    table.info(
        "tiny filesystem, full: `list --all` / `verify --no-touch` of a valid token",
        format!(
            "{} / {}",
            list.describe()
                .replace(&f.store.display().to_string(), "STORE")
                .trim_end_matches(": "),
            verify.describe().trim_end_matches(": ")
        ),
    );
    // A new store on the full filesystem.
    let mut c = ctx.bin.cmd(&mnt.join("new-store"), 10);
    c.args(["vault", "init", "--passphrase-file", &f.pass]);
    let out = run::run(c, None, LIMIT);
    tally.run += 1;
    if out.code() == Some(6) && out.one_line_error() {
        tally.clean += 1;
    } else {
        tally
            .broken
            .push(format!("vault init of a new store: {}", out.describe()));
    }
    let _ = std::fs::remove_file(&filler);
    // With the filler gone, everything from before is there; nothing failed changed a record.
    let none_succeeded = tally.succeeded.is_empty();
    tally.compare(ctx, &f.store, "the filler removed", &before, none_succeeded);
    report(table, "tiny filesystem (4 MiB tmpfs, full)", &tally, false);
    let _ = Command::new("umount").arg(&mnt).status();
}

pub fn run(ctx: &Ctx) -> Table {
    let mut table = Table::new("Full disk: `ulimit -f` and a tiny filesystem");
    if std::env::var_os(INNER).is_none() {
        for (k, &blocks) in ctx.setting.file_limits.iter().enumerate() {
            for ignore in [true, false] {
                if !ignore && blocks != 0 {
                    continue;
                }
                let store = ctx.fresh(&format!("disk/ulimit-{blocks}-{ignore}"));
                let f = fixture(ctx, store, &format!("u{k}{ignore}"));
                let mut tally = Tally::default();
                every_command(ctx, &f, &mut tally, k, true, || {
                    ctx.bin.limited(&f.store, blocks, ignore)
                });
                let what = if ignore {
                    format!("`ulimit -f {blocks}` (SIGXFSZ ignored)")
                } else {
                    format!("`ulimit -f {blocks}` (SIGXFSZ not ignored)")
                };
                // Handled or not, SIGXFSZ must not cost the one line and exit 6: the binary
                // handles it itself.
                report(&mut table, &what, &tally, blocks == 0);
            }
        }
    }
    tmpfs(ctx, &mut table);
    if std::env::var_os(INNER).is_none() {
        failures(ctx, &mut table);
    }
    table
}

/// Every file's length under `dir`, in bytes (what `du -sb` says).
fn bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Failed verifies where counting them is hardest: a log that ends in the counters of this hour
/// of hundreds of revoked tokens still in use (64 a counter) and of seventeen addresses, and a
/// command after every failure: `list` (the README's bound: it leaves failures in the
/// journal), then `log` (which folds, so each fold adds to counters already in the log). Every
/// failure must be counted once, no token (nor a reason without tokens) in two counters of one
/// reason, user and hour, the chain whole; what a fold costs is reported beside what a counted
/// use costs.
fn failures(ctx: &Ctx, table: &mut Table) {
    let store = ctx.fresh("disk/failures");
    let mut rng = ctx.rng(0xFA11);
    let (k, folds) = (ctx.setting.failure_counters, ctx.setting.failure_folds);
    ctx.create(&store, &["--name", "kept"]);
    let mut revoked = Vec::with_capacity(k);
    for i in 0..k {
        let name = format!("gone-{i}");
        revoked.push(ctx.create(&store, &["--name", &name]).1);
        ctx.must(&store, &["revoke", &name, "--yes"], None);
    }
    let verify = |token: &str, ip: Option<String>| {
        let mut c = ctx.bin.cmd(&store, 30);
        c.arg("verify").env("VBX_TOKEN", token);
        if let Some(ip) = ip {
            c.args(["--ip", &ip]);
        }
        run::run(c, None, LIMIT).code() == Some(1)
    };
    let mut batch = revoked.join("\n");
    batch.push('\n');
    let mut c = ctx.bin.cmd(&store, 30);
    c.args(["verify", "--batch"]);
    let _ = run::run(c, Some(batch.into_bytes()), LIMIT);
    let mut failed = k as u64;
    for n in 1..=17 {
        failed += u64::from(verify("junk", Some(format!("10.0.0.{n}"))));
    }
    // `log` folds them (`list` would leave them in the journal).
    ctx.must(&store, &["log", "--limit", "1"], None);
    let unknown = run::token::random(&mut rng);
    // Three counters in turn, each at the end once the first pass has moved it there; then
    // the worst order, a different revoked token each time, whose counter may be anywhere.
    // What the store grows by with `then` run after each step: (steps that failed, bytes).
    let measure = |steps: usize, then: &[&str], step: &mut dyn FnMut(usize) -> bool| {
        let before = bytes(&store);
        let mut counted = 0u64;
        for i in 0..steps {
            counted += u64::from(step(i));
            ctx.must(&store, then, None);
        }
        (counted, bytes(&store).saturating_sub(before))
    };
    let each = |grown: u64, n: u64| format!("{} ({grown} bytes for {n})", grown / n.max(1));
    let log = ["log", "--limit", "1"];
    let mut in_turn = |i: usize| match i % 3 {
        0 => verify("junk", Some("10.0.0.1".to_owned())),
        1 => verify(&unknown, Some("10.0.0.1".to_owned())),
        _ => verify(&revoked[0], None),
    };
    let (counted, grown) = measure(folds, &["list"], &mut in_turn);
    failed += counted;
    table.holds(
        "failed verifies, three counters in turn, `list` after each (which leaves failures in the journal): store bytes a failure (≤ 64)",
        each(grown, counted),
        grown <= 64 * counted,
    );
    let (counted, grown) = measure(folds, &log, &mut in_turn);
    failed += counted;
    table.info(
        format!(
            "failed verifies, three counters in turn, `log` after each (a fold each), the log ending in the counters of {k} revoked tokens: store bytes a failure"
        ),
        each(grown, counted),
    );
    let (counted, grown) = measure((folds / 5).max(1), &log, &mut |_| {
        verify(&revoked[rng.random_range(0..k)], None)
    });
    failed += counted;
    table.info(
        "failed verifies, a different revoked token each time, `log` after each: store bytes a failure",
        each(grown, counted),
    );
    // For comparison: what a fold costs sled whatever it writes.
    let kept = ctx.create(&store, &["--name", "used"]).1;
    let uses = (folds / 5).max(1);
    let (_, grown) = measure(uses, &["list"], &mut |_| {
        let mut c = ctx.bin.cmd(&store, 30);
        c.arg("verify").env("VBX_TOKEN", &kept);
        run::run(c, None, LIMIT);
        false
    });
    table.info(
        "counted uses, `list` after each (a fold each: what any write costs sled): store bytes a use",
        each(grown, uses as u64),
    );
    let mut c = ctx.bin.cmd(&store, 30);
    c.args(["log", "--json"]);
    let events = run::run(c, None, LIMIT).json().unwrap_or_default();
    let counters: Vec<&Value> = events
        .as_array()
        .map(|a| a.iter().filter(|e| e["event"] == "verify_failed").collect())
        .unwrap_or_default();
    let total: u64 = counters.iter().filter_map(|e| e["count"].as_u64()).sum();
    table.zero(
        "failed verifies the counters do not count (or count twice)",
        total.abs_diff(failed) as usize,
    );
    let hour = |e: &Value| {
        e["at"]
            .as_str()
            .unwrap_or_default()
            .get(..13)
            .map(str::to_owned)
    };
    // Each token's failures of one reason, user and hour are in one counter; so are those of
    // a reason that names no token.
    let mut places = std::collections::BTreeMap::<String, usize>::new();
    for e in &counters {
        let group = format!("{}|{}|{:?}", e["reason"], e["actor"], hour(e));
        match e["tokens"].as_object() {
            Some(tokens) => {
                for id in tokens.keys() {
                    *places.entry(format!("{group}|{id}")).or_default() += 1;
                }
            }
            None => *places.entry(group).or_default() += 1,
        }
    }
    table.zero(
        "tokens (or reasons without tokens) counted in two counters of one hour",
        places.values().filter(|&&n| n > 1).count(),
    );
    let mut c = ctx.bin.cmd(&store, 30);
    c.args(["log", "--check"]);
    let check = run::run(c, None, LIMIT);
    table.zero(
        "`log --check` after the folds: not exit 0",
        usize::from(check.code() != Some(0)),
    );
}
