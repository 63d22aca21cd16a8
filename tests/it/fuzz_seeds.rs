//! The fuzz targets' inputs, replayed: every seed in `fuzz/seeds/<target>/` and every saved
//! crash in `fuzz/regressions/<target>/` goes through the same checks the fuzz targets run
//! (`fuzz/src/checks.rs`, included here as it is). CI runs no fuzzer (a clean machine has no
//! cargo-afl, and a run long enough to matter would not fit); this keeps the targets' code and
//! their inputs exercised on every run.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use vbx_tokens::vault::{Export, Vault};

#[path = "../../fuzz/src/checks.rs"]
mod checks;

/// A target's check: any bytes in, a panic for a broken promise.
type Check = fn(&[u8]);

/// Each target's name (its folder under `fuzz/seeds/` and `fuzz/regressions/`) and check.
const TARGETS: &[(&str, Check)] = &[
    ("token", checks::token),
    ("export", checks::export),
    ("import", checks::import),
    ("index", checks::index),
    ("journal", checks::journal),
    ("uses", checks::uses),
    ("chain", checks::chain),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files in `fuzz/<kind>/<target>/`, sorted; none when the folder does not exist.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = dir
        .map(|e| e.expect("a readable folder").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_seed_and_regression_passes_its_targets_checks() {
    for kind in ["seeds", "regressions"] {
        // A folder no target reads would be a seed CI never replays.
        if let Ok(dir) = std::fs::read_dir(fuzz_dir().join(kind)) {
            for entry in dir {
                let name = entry.expect("a readable folder").file_name();
                let name = name.to_string_lossy();
                assert!(
                    TARGETS.iter().any(|(t, _)| *t == name) || name.starts_with('.'),
                    "fuzz/{kind}/{name} is not a target's folder"
                );
            }
        }
    }
    for (target, check) in TARGETS {
        let seeds = inputs("seeds", target);
        assert!(!seeds.is_empty(), "fuzz/seeds/{target} has no seed");
        for path in seeds.iter().chain(&inputs("regressions", target)) {
            let bytes = std::fs::read(path).expect("a readable input");
            let outcome = std::panic::catch_unwind(|| check(&bytes));
            assert!(outcome.is_ok(), "{} fails its checks", path.display());
        }
    }
}

#[test]
fn the_seeds_are_whole_files_of_their_kind() {
    let seed = |target: &str, name: &str| {
        std::fs::read(fuzz_dir().join("seeds").join(target).join(name)).expect("the seed")
    };
    // A seed the reader refuses would leave the fuzzer to find the format by chance.
    let export = Export::parse(seed("export", "three-kept.vbxvault")).expect("parses");
    let pass = SecretString::from(checks::EXPORT_PASSPHRASE.to_owned());
    let vault = Vault::unlock(export.header(), &pass).expect("the seed's passphrase");
    assert_eq!(export.open(&vault).expect("authenticates").len(), 3);

    let index =
        vbx_tokens::index::Index::from_bytes(seed("index", "five-tokens.index")).expect("opens");
    assert_eq!(index.records().expect("reads").len(), 5);

    let journal = vbx_tokens::journal::read(&seed("journal", "five-verifies.journal"));
    assert!(journal.header.is_some());
    assert_eq!(journal.entries.len(), 5);

    for name in ["check-value", "generated"] {
        let text = String::from_utf8(seed("token", name)).expect("text");
        assert!(vbx_tokens::Token::parse(&text).is_ok(), "{name}");
    }

    let chain = seed("chain", "eleven-events.chain");
    let (head, events) = chain.split_at(vbx_tokens::chain::Head::LEN);
    let mut checker = vbx_tokens::chain::Checker::<vbx_tokens::record::Event>::new(
        vbx_tokens::chain::Head::decode(head),
    );
    for (i, event) in events.split(|&b| b == b'\n').enumerate() {
        checker.event(&(i as u64 + 1).to_be_bytes(), event);
    }
    assert_eq!(checker.finish().expect("a whole chain"), 11);
}
