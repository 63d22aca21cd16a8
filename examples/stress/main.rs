//! The stress program: the real release binary driven as child processes by four harnesses
//! (concurrency, kill -9, damage, full disk), each printing its figures as a Markdown table.
//!
//! ```sh
//! cargo run --release --example stress -- --setting short     # CI, about two minutes
//! cargo run --release --example stress -- --setting long      # people, tens of minutes
//! cargo run --release --example stress -- --only kill --bin target/release/vbx-tokens
//! ```
//!
//! Without `--bin` it builds `vbx-tokens` (release) into the target directory it runs from and
//! drives that. It exits 1 if any invariant is broken: a "must be 0" figure that is not, a hang,
//! a panic, a lost acknowledged write.

mod concurrency;
mod damage;
mod disk;
mod kill;
mod report;
mod run;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// The cheapest Argon2id `vault init` accepts: the harnesses test the store, not the KDF.
pub const CHEAP_KDF: &[&str] = &[
    "--kdf-memory-mib",
    "8",
    "--kdf-iterations",
    "1",
    "--kdf-parallelism",
    "1",
];

use rand::SeedableRng;
use rand::rngs::StdRng;

use report::Table;
use run::Bin;

/// How much of each harness to run.
#[derive(Clone, Copy)]
pub struct Setting {
    pub name: &'static str,
    /// Rounds of 32 processes × 50 operations, each round on a store that keeps growing.
    pub concurrency_rounds: usize,
    /// kill -9s that land on a running process.
    pub kills: usize,
    /// Damaged stores, one damage each.
    pub damage_cases: usize,
    /// `ulimit -f` limits tried, in 512-byte blocks.
    pub file_limits: &'static [u64],
    /// Revoked tokens whose failure counters end the log, and failed verifies then made with
    /// a fold after each (`disk`, "Failures cannot fill the disk").
    pub failure_counters: usize,
    pub failure_folds: usize,
}

const SHORT: Setting = Setting {
    name: "short",
    concurrency_rounds: 1,
    kills: 100,
    damage_cases: 500,
    file_limits: &[0, 64, 1100],
    failure_counters: 200,
    failure_folds: 300,
};

const LONG: Setting = Setting {
    name: "long",
    concurrency_rounds: 4,
    kills: 1000,
    damage_cases: 2500,
    file_limits: &[0, 1, 8, 64, 512, 1030, 1100, 1200, 2048],
    failure_counters: 1000,
    failure_folds: 3000,
};

/// What every harness needs.
pub struct Ctx {
    pub bin: Bin,
    pub setting: Setting,
    /// A private directory for stores, removed at the end unless `--keep-dir`.
    pub dir: PathBuf,
    /// Whether the binary has `doctor` (`vbx-tokens doctor --help` exits 0).
    pub doctor: bool,
    pub seed: u64,
}

impl Ctx {
    pub fn rng(&self, harness: u64) -> StdRng {
        StdRng::seed_from_u64(self.seed ^ harness.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// A fresh directory under ours.
    pub fn fresh(&self, name: &str) -> PathBuf {
        let p = self.dir.join(name);
        let _ = std::fs::remove_dir_all(&p);
        let _ = std::fs::remove_dir_all(run::state_of(&p));
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        p
    }

    /// A passphrase file (one line) under ours.
    pub fn passphrase(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(format!("{name}.pass"));
        std::fs::write(&p, format!("{text}\n")).expect("write passphrase");
        p
    }

    /// Makes a vault in `store` with the cheapest KDF `vault init` takes and the passphrase in
    /// the file `pass`.
    pub fn vault_init(&self, store: &Path, pass: &str) -> run::Run {
        let mut args = vec!["vault", "init", "--passphrase-file", pass];
        args.extend(CHEAP_KDF);
        self.must(store, &args, None)
    }

    /// Runs the binary on `store` with `args` and `stdin`, 60 s at most; the command must
    /// succeed (this is set-up, not the experiment).
    pub fn must(&self, store: &Path, args: &[&str], stdin: Option<&str>) -> run::Run {
        let mut cmd = self.bin.cmd(store, 60);
        cmd.args(args);
        let out = run::run(
            cmd,
            stdin.map(|s| s.as_bytes().to_vec()),
            Duration::from_secs(60),
        );
        assert!(
            out.code() == Some(0),
            "set-up `vbx-tokens {}` failed: {}",
            args.join(" "),
            out.describe()
        );
        out
    }

    /// Creates a token; returns (id, token).
    pub fn create(&self, store: &Path, args: &[&str]) -> (String, String) {
        let mut all = vec!["create", "--json"];
        all.extend_from_slice(args);
        let v = self.must(store, &all, None).json().expect("create --json");
        (
            v["id"].as_str().expect("id").to_owned(),
            v["token"].as_str().expect("token").to_owned(),
        )
    }

    /// Runs `doctor` on a store, if the binary has it; `Some(true)` when it then opens.
    pub fn doctor(&self, store: &Path) -> Option<bool> {
        if !self.doctor {
            return None;
        }
        let mut cmd = self.bin.cmd(store, 30);
        cmd.arg("doctor");
        let _ = run::run(cmd, None, Duration::from_secs(60));
        let mut cmd = self.bin.cmd(store, 30);
        cmd.args(["list", "--all", "--json"]);
        Some(run::run(cmd, None, Duration::from_secs(30)).code() == Some(0))
    }
}

struct Args {
    setting: Setting,
    only: Option<String>,
    bin: Option<PathBuf>,
    seed: Option<u64>,
    keep_dir: bool,
}

const USAGE: &str = "usage: stress [--setting short|long] [--only concurrency|kill|damage|disk] \
[--bin PATH] [--seed N] [--keep-dir]";

fn parse() -> Result<Args, String> {
    let mut args = Args {
        setting: SHORT,
        only: None,
        bin: None,
        seed: None,
        keep_dir: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{a} needs a value; {USAGE}"))
        };
        match a.as_str() {
            "--setting" => {
                args.setting = match value()?.as_str() {
                    "short" => SHORT,
                    "long" => LONG,
                    other => return Err(format!("no setting {other:?}; {USAGE}")),
                }
            }
            "--only" => {
                let v = value()?;
                if !["concurrency", "kill", "damage", "disk"].contains(&v.as_str()) {
                    return Err(format!("no harness {v:?}; {USAGE}"));
                }
                args.only = Some(v);
            }
            "--bin" => args.bin = Some(PathBuf::from(value()?)),
            "--seed" => args.seed = Some(value()?.parse().map_err(|e| format!("--seed: {e}"))?),
            "--keep-dir" => args.keep_dir = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}; {USAGE}")),
        }
    }
    Ok(args)
}

/// The binary to drive: `--bin`, else `vbx-tokens` built (release) into the target directory
/// this example runs from (`target/release/examples/stress` → `target/release/vbx-tokens`).
fn binary(given: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = given {
        return std::fs::canonicalize(&p).map_err(|e| format!("--bin {}: {e}", p.display()));
    }
    let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot place the target directory; pass --bin")?;
    let target = profile_dir
        .parent()
        .ok_or("cannot place the target directory; pass --bin")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!(
        "stress: building vbx-tokens (release) into {}",
        target.display()
    );
    let status = Command::new(cargo)
        .args(["build", "--release", "--locked", "--bin", "vbx-tokens"])
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target)
        .status()
        .map_err(|e| format!("cargo: {e}; pass --bin"))?;
    if !status.success() {
        return Err("building vbx-tokens failed".to_owned());
    }
    Ok(profile_dir.join("vbx-tokens"))
}

fn sh(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("stress: {e}");
            return ExitCode::from(2);
        }
    };
    run::token::self_check();
    let bin = match binary(args.bin) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("stress: {e}");
            return ExitCode::from(2);
        }
    };
    let dir = tempfile::Builder::new()
        .prefix("vbx-stress-")
        .tempdir()
        .expect("a temp dir");
    let seed = args.seed.unwrap_or_else(rand::random);
    let bin = Bin { path: bin };
    let doctor = {
        let mut c = bin.cmd(dir.path(), 1);
        c.args(["doctor", "--help"]);
        run::run(c, None, Duration::from_secs(10)).code() == Some(0)
    };
    let ctx = Ctx {
        bin,
        setting: args.setting,
        dir: dir.path().to_owned(),
        doctor,
        seed,
    };

    println!(
        "## vbx-tokens stress, setting `{}`\n\n{} ({} cores, {}), {}, seed {}, binary {}{}\n",
        ctx.setting.name,
        sh("uname -sr"),
        sh("nproc"),
        sh("free -g | awk '/Mem:/ {print $2 \" GiB\"}'"),
        sh("date -u +%Y-%m-%dT%H:%M:%SZ"),
        seed,
        ctx.bin.path.display(),
        if ctx.doctor {
            ", with `doctor`"
        } else {
            ", without `doctor`"
        }
    );

    type Harness = fn(&Ctx) -> Table;
    let harnesses: [(&str, Harness); 4] = [
        ("concurrency", concurrency::run),
        ("kill", kill::run),
        ("damage", damage::run),
        ("disk", disk::run),
    ];
    let mut ok = true;
    for (name, harness) in harnesses {
        if args.only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let started = Instant::now();
        eprintln!("stress: {name}…");
        let mut table = harness(&ctx);
        table.info(
            "time taken",
            format!("{:.1} s", started.elapsed().as_secs_f64()),
        );
        println!("{}", table.markdown());
        ok &= table.ok();
    }
    if args.keep_dir {
        let kept = dir.keep();
        eprintln!("stress: stores kept in {}", kept.display());
    }
    if ok {
        println!("Every invariant held.");
        ExitCode::SUCCESS
    } else {
        println!("**Some invariant is broken** (see BROKEN above).");
        ExitCode::FAILURE
    }
}
