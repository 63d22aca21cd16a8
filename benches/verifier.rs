//! In-process costs (criterion): one `Verifier` look-up in a 100k-token index, read from memory
//! and from the file; building and writing a whole index, the share of a create or a revoke
//! that grows with the store; and, when `VBX_TOKENS_BENCH_POSTGRES` names a server (the
//! socket URL `.ci/postgres` gives), a counted verify on one kept connection and eight clients
//! verifying at once, each on its own. `benches/cli.sh` measures the whole commands.
//!
//!   VBX_TOKENS_PG_DURABLE=1 .ci/postgres bash -c \
//!     'VBX_TOKENS_BENCH_POSTGRES=$VBX_TOKENS_TEST_POSTGRES cargo bench --bench verifier -- postgres'

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use vbx_tokens::index::{self, IndexRecord, IndexStatus};
use vbx_tokens::verifier::Reading;
use vbx_tokens::{Location, OpenMode, Token, TokenHash, Tokens, Touch, Verifier};

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

/// How many tokens the PostgreSQL store holds, and how many clients verify at once.
const PG_TOKENS: usize = 1000;
const PG_CLIENTS: usize = 8;

/// A new database on the server `url` names (a URL of its `postgres` database), holding a store
/// of [`PG_TOKENS`] tokens; its location and the tokens.
fn postgres_store(url: &str) -> (Location, Vec<Token>) {
    let name = format!("vbx_bench_verifier_{}", std::process::id());
    let mut admin = postgres::Client::connect(url, postgres::NoTls).expect("the bench server");
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin.batch_execute(&sql).expect("a database");
    }
    let url = url.replacen("/postgres?", &format!("/{name}?"), 1);
    let wait = Duration::from_secs(10);
    let location = Location::resolve(Some(url.as_ref()), &|_| None, wait).expect("a URL");
    let store = location.open(OpenMode::Create, wait).expect("the store");
    let tokens: Vec<Token> = (0..PG_TOKENS)
        .map(|i| {
            let token = Token::generate();
            store
                .create(&token, &format!("t{i}"), None, &Default::default(), None)
                .expect("create");
            token
        })
        .collect();
    (location, tokens)
}

fn postgres(c: &mut Criterion) {
    let Ok(url) = std::env::var("VBX_TOKENS_BENCH_POSTGRES") else {
        eprintln!("postgres: skipped (VBX_TOKENS_BENCH_POSTGRES names no server)");
        return;
    };
    let (location, tokens) = postgres_store(&url);
    let wait = Duration::from_secs(10);
    let mut group = c.benchmark_group("postgres");
    group.throughput(Throughput::Elements(1));
    let mut verifier = Verifier::at(&location, Reading::File, wait).expect("connects");
    let mut i = 0usize;
    group.bench_function("counted verify, one kept connection", |b| {
        b.iter(|| {
            i = (i + 7) % tokens.len();
            let v = verifier
                .verify(black_box(tokens[i].expose()), Touch::Yes)
                .expect("verifies");
            assert!(v.is_valid());
        })
    });
    // Each client its own connection, as separate hosts would be: the time of `iters`
    // verifies shared among them is their wall time, so the rate is all clients' together.
    let mut clients: Vec<Verifier> = (0..PG_CLIENTS)
        .map(|_| Verifier::at(&location, Reading::File, wait).expect("connects"))
        .collect();
    group.bench_function(
        format!("counted verifies, {PG_CLIENTS} clients at once"),
        |b| {
            b.iter_custom(|iters| {
                let each = iters.div_ceil(PG_CLIENTS as u64);
                let start = Instant::now();
                std::thread::scope(|s| {
                    for (n, client) in clients.iter_mut().enumerate() {
                        let tokens = &tokens;
                        s.spawn(move || {
                            for k in 0..each {
                                let t = &tokens[(n * 131 + k as usize * 7) % tokens.len()];
                                let v = client.verify(t.expose(), Touch::Yes).expect("verifies");
                                assert!(v.is_valid());
                            }
                        });
                    }
                });
                start.elapsed()
            })
        },
    );
    group.finish();
}

criterion_group!(benches, verify, rewrite, postgres);
criterion_main!(benches);
