//! In-process costs (criterion): one `Verifier` look-up in a 100k-token index, read from memory
//! and from the file; and building and writing a whole index, the share of a create or a revoke
//! that grows with the store. `benches/cli.sh` measures the whole commands.

use std::hint::black_box;
use std::path::Path;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use vbx_tokens::index::{self, IndexRecord, IndexStatus};
use vbx_tokens::verifier::Reading;
use vbx_tokens::{Token, TokenHash, Touch, Verifier};

const STORE_ID: [u8; 16] = [7; 16];

/// `n` tokens and the encoded index records for them, sorted by hash.
fn tokens(n: usize) -> (Vec<String>, Vec<(TokenHash, Vec<u8>)>) {
    let tokens: Vec<String> = (0..n)
        .map(|_| Token::generate().expose().to_owned())
        .collect();
    let mut records: Vec<(TokenHash, Vec<u8>)> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let hash = TokenHash::of(t);
            let r = IndexRecord::plain(
                hash,
                &format!("tok_{i:08}"),
                &format!("token {i}"),
                IndexStatus::Active,
            );
            (hash, r.encode())
        })
        .collect();
    records.sort_by_key(|(h, _)| h.0);
    (tokens, records)
}

/// A directory a `Verifier` can open: the marker that names the store, and its index.
fn store_dir(dir: &Path, records: &[(TokenHash, Vec<u8>)]) {
    let bytes =
        index::build(STORE_ID, 1, records.iter().map(|(h, r)| (*h, r.as_slice()))).expect("sorted");
    index::write(dir, &bytes).expect("index");
    let marker = format!(
        "vbx-tokens store\nformat 3\nid {}\n",
        STORE_ID
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    std::fs::write(dir.join(vbx_tokens::store::MARKER_FILE), marker).expect("marker");
}

fn verify(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("dir");
    let (tokens, records) = tokens(100_000);
    store_dir(dir.path(), &records);
    let mut group = c.benchmark_group("verify 100k");
    for (label, reading) in [("memory", Reading::Memory), ("file", Reading::File)] {
        let mut verifier =
            Verifier::with(dir.path(), reading, std::time::Duration::from_secs(1)).expect("opens");
        let mut i = 0usize;
        group.bench_function(label, |b| {
            b.iter(|| {
                i = (i + 7919) % tokens.len();
                let v = verifier
                    .verify(black_box(&tokens[i]), Touch::No)
                    .expect("verifies");
                assert!(v.is_valid());
            })
        });
    }
    group.finish();
}

fn rewrite(c: &mut Criterion) {
    let mut group = c.benchmark_group("index rewrite");
    group.sample_size(10);
    for n in [100_000usize, 1_000_000] {
        let (_, records) = tokens(n);
        let dir = tempfile::tempdir().expect("dir");
        group.bench_function(format!("{n}"), |b| {
            b.iter_batched(
                || (),
                |()| {
                    let bytes =
                        index::build(STORE_ID, 2, records.iter().map(|(h, r)| (*h, r.as_slice())))
                            .expect("sorted");
                    index::write(dir.path(), &bytes).expect("writes");
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, verify, rewrite);
criterion_main!(benches);
