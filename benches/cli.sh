#!/usr/bin/env bash
# The whole-command benchmark: vbx-tokens against the peer a user would write instead (a
# sha256sum | sqlite3 script, shared/NOTES.md), side by side in one run, at each store size.
# Prints the README's "Performance" table. Not run by CI (which only compiles the benches).
#
#   bash benches/cli.sh                 # 1k, 100k and 1M tokens (about 10 minutes)
#   SIZES="1000 100000" bash benches/cli.sh
#   VBX_TOKENS_PG_DURABLE=1 .ci/postgres bash -c 'VBX_TOKENS_BENCH_POSTGRES=$VBX_TOKENS_TEST_POSTGRES \
#     VBX_TOKENS_BENCH_POSTGRES_TLS=$VBX_TOKENS_TEST_POSTGRES_TLS SIZES=1000 bash benches/cli.sh'
#     (adds the PostgreSQL rows, at the first size; ONLY_POSTGRES=1 leaves the directory
#     store's rows out)
#
# Needs: hyperfine and sqlite3 (Debian: apt-get install hyperfine sqlite3), python3.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"1000 100000 1000000"}
RUNS=${RUNS:-200}
for tool in hyperfine sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "benches/cli.sh needs $tool (apt-get install hyperfine sqlite3)" >&2; exit 2; }
done
cargo build --release --locked -q
BIN=$PWD/target/release/vbx-tokens
WORK=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
echo "# work in $WORK; $(nproc) cores; $(uname -sr); $("$BIN" --version)" >&2

# The peer: hash the token, count a use in SQLite (WAL), say who it is.
cat > "$WORK/peer.sh" <<'PEER'
h=$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)
sqlite3 -cmd ".timeout 10000" "$2" "UPDATE tokens SET uses = uses + 1, last_used = strftime('%s','now') WHERE hash = '$h' AND status = 'active' RETURNING id, name;"
PEER

median() { # hyperfine JSON -> median seconds of command N
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"])' "$1" "$2"
}
ms() { python3 -c "print(f'{float(\"$1\")*1000:.2f}')"; }
ratio() { python3 -c "print(f'{float(\"$1\")/float(\"$2\"):.2f}')"; }
peak_rss() { # command... -> "seconds peak_MiB", the command's stdout to /dev/null
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{time.monotonic() - t:.2f} {rss:.0f}")
PY
}

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }

# Medians of 10 creates and of revoking them, in ms, on the store the environment names.
create_revoke_medians() {
  python3 - "$BIN" <<'PY'
import statistics, subprocess, sys, time
def run(args):
    t = time.monotonic(); subprocess.run([sys.argv[1], *args], capture_output=True, check=True)
    return time.monotonic() - t
c = [run(["create", "--name", f"bench-{i}", "-q", "--expires-in", "90d", "--scope", "orders"]) for i in range(10)]
r = [run(["revoke", f"bench-{i}", "--yes"]) for i in range(10)]
print(f"{statistics.median(c)*1000:.1f} {statistics.median(r)*1000:.1f}")
PY
}

for n in $SIZES; do
  dir=$WORK/$n
  mkdir -p "$dir"
  python3 benches/gen_tokens.py "$n" > "$dir/tokens.txt"
  # Policy in place: every token expires, has scopes and an address range; one in three also
  # has a use limit (too high to reach here, so its counted verifies take the counter's path).
  awk -v lim="$(( (n + 1) / 3 ))" -v mid="$(( (n + 1) / 2 ))" '{
    extra = (NR == lim || (NR % 3 == 0 && NR != mid)) ? ",\"max_uses\":1000000000" : ""
    printf "{\"name\":\"t%d\",\"token\":\"%s\",\"expires_at\":\"2099-01-01T00:00:00Z\",\"scopes\":[\"invoices:read\",\"orders\"],\"allow_ip\":[\"10.0.0.0/8\",\"2001:db8::/32\"]%s}\n", NR, $0, extra
  }' "$dir/tokens.txt" > "$dir/import.ndjson"
  export VBX_TOKENS_HOME=$dir/store
  if [ -z "${ONLY_POSTGRES:-}" ]; then
    read -r secs mib < <(peak_rss "$BIN" import "$dir/import.ndjson")
    row "import $n" "${secs} s, peak RSS ${mib} MiB" "" ""
    bytes=$(du -sb "$dir/store" | cut -f1)
    row "disk per token after the import, $n, index included" "$(python3 -c "print(f'{$bytes/$n:.0f} B')")" "" ""
  fi
  python3 - "$dir/tokens.txt" "$dir/peer.db" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE tokens (hash TEXT PRIMARY KEY, id TEXT, name TEXT, status TEXT, uses INTEGER, last_used INTEGER)")
with open(sys.argv[1]) as f:
    db.executemany("INSERT INTO tokens VALUES (?, ?, ?, 'active', 0, NULL)",
                   ((hashlib.sha256(t.strip().encode()).hexdigest(), f"tok_{i:08}", f"t{i}") for i, t in enumerate(f)))
db.commit()
PY
  # The middle token (no use limit) and the one at a third (with one): both fully checked.
  T=$(sed -n "$(( (n + 1) / 2 ))p" "$dir/tokens.txt")
  L=$(sed -n "$(( (n + 1) / 3 ))p" "$dir/tokens.txt")
  export VBX_TOKEN=$T
  POLICY="--scope invoices:read --ip 10.1.2.3"

  if [ -z "${ONLY_POSTGRES:-}" ]; then
  # One counted verify against the peer; --no-touch against the floor, `--version`; a counted
  # verify of a token with a use limit (its counter is written and synced too).
  hyperfine -N -w 20 -r "$RUNS" --export-json "$dir/one.json" \
    "$BIN verify $POLICY" "sh $WORK/peer.sh $T $dir/peer.db" "$BIN verify --no-touch $POLICY" "$BIN --version" \
    "env VBX_TOKEN=$L $BIN verify $POLICY" >/dev/null
  ours=$(median "$dir/one.json" 0); peer=$(median "$dir/one.json" 1)
  row "verify, counted, $n" "$(ms "$ours") ms" "$(ms "$peer") ms" "$(ratio "$ours" "$peer")"
  limited=$(median "$dir/one.json" 4)
  row "verify, counted, of a token with --max-uses, $n" "$(ms "$limited") ms" "$(ms "$peer") ms" "$(ratio "$limited" "$peer")"
  nt=$(median "$dir/one.json" 2); floor=$(median "$dir/one.json" 3)
  row "verify --no-touch, $n, above \`--version\` ($(ms "$floor") ms)" "+$(ms "$(python3 -c "print($nt-$floor)")") ms" "" ""

  if [ "$n" -ge 100000 ]; then
    # 32 counted verifies at once.
    hyperfine -w 3 -r 20 --export-json "$dir/32.json" \
      "for i in \$(seq 32); do $BIN verify $POLICY >/dev/null & done; wait" \
      "for i in \$(seq 32); do sh $WORK/peer.sh $T $dir/peer.db >/dev/null & done; wait" >/dev/null
    ours=$(median "$dir/32.json" 0); peer=$(median "$dir/32.json" 1)
    row "32 verifies at once, $n" "$(ms "$ours") ms" "$(ms "$peer") ms" "$(ratio "$ours" "$peer")"

    # Batches of every token, untouched and counted.
    for mode in --no-touch ""; do
      read -r secs mib < <(peak_rss sh -c "$BIN verify --batch $mode $POLICY < $dir/tokens.txt")
      rate=$(python3 -c "print(f'{$n/$secs/1000:.0f}k/s')")
      row "verify --batch ${mode:-counted} of $n" "$rate, peak RSS $mib MiB" "" ""
    done

    # The next command folds the counted batch's uses into the records.
    read -r secs mib < <(peak_rss "$BIN" show t1)
    row "fold $n counted uses (the next command after the batch)" "$secs s, peak RSS $mib MiB" "" ""
    read -r secs mib < <(peak_rss "$BIN" list --json)
    row "list --json of $n" "$secs s, peak RSS $mib MiB" "" ""
    bytes=$(du -sb "$dir/store" | cut -f1)
    row "disk per token after $n counted uses folded in" "$(python3 -c "print(f'{$bytes/$n:.0f} B')")" "" ""

    # One verify at a time while an import writes 100k more tokens.
    python3 benches/gen_tokens.py 100000 | awk '{printf "{\"name\":\"more%d\",\"token\":\"%s\"}\n", NR, $0}' > "$dir/more.ndjson"
    worst=$(python3 - "$BIN" "$dir/more.ndjson" <<'PY'
import subprocess, sys, time
importer = subprocess.Popen([sys.argv[1], "import", sys.argv[2]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
worst, n = 0.0, 0
while importer.poll() is None:
    t = time.monotonic()
    subprocess.run([sys.argv[1], "verify", "--no-touch", "--scope", "invoices:read", "--ip", "10.1.2.3"], stdout=subprocess.DEVNULL, check=True)
    worst, n = max(worst, time.monotonic() - t), n + 1
print(f"{worst*1000:.1f} ms over {n} verifies")
PY
)
    row "one verify at a time while an import of 100k writes, $n" "worst ${worst}" "" ""

    # Create and revoke: medians of 10 each.
    read -r c r < <(create_revoke_medians)
    idx=$(( $(stat -c %s "$dir/store/index") / 1024 / 1024 ))
    row "create / revoke, $((n + 100000)) tokens" "$c ms / $r ms (an index of ${idx} MiB rewritten each)" "" ""
  fi


  if [ "$n" -eq 100000 ]; then
    # Growth per failed verify: 1M garbage lines through --batch.
    before=$(du -sb "$dir/store" | cut -f1)
    python3 -c "import sys; sys.stdout.write('garbage\n' * 1000000)" | "$BIN" verify --batch >/dev/null || true
    after=$(du -sb "$dir/store" | cut -f1)
    row "disk per failed verify (1M through --batch)" "$(python3 -c "print(f'{($after-$before)/1e6:.1f} B')")" "" ""
  fi
  fi
  if [ -n "${VBX_TOKENS_BENCH_POSTGRES:-}" ] && [ "$n" = "${SIZES%% *}" ]; then
    # The same tokens in PostgreSQL (`.ci/postgres` starts a throwaway cluster: see the
    # README, "Development"), in a new database of their own, side by side with the peer.
    db="vbx_bench_$$_$n"
    psql -q "$VBX_TOKENS_BENCH_POSTGRES" -c "CREATE DATABASE $db"
    PGURL=${VBX_TOKENS_BENCH_POSTGRES/\/postgres\?/\/$db?}
    read -r secs mib < <(peak_rss env VBX_TOKENS_STORE="$PGURL" "$BIN" import "$dir/import.ndjson")
    row "PostgreSQL: import $n" "${secs} s, peak RSS ${mib} MiB" "" ""
    cmds=("env VBX_TOKENS_STORE=$PGURL $BIN verify $POLICY" "sh $WORK/peer.sh $T $dir/peer.db"
          "env VBX_TOKENS_STORE=$PGURL $BIN verify --no-touch $POLICY")
    if [ -n "${VBX_TOKENS_BENCH_POSTGRES_TLS:-}" ]; then
      TLSURL=${VBX_TOKENS_BENCH_POSTGRES_TLS/\/postgres\?/\/$db?}
      cmds+=("env VBX_TOKENS_STORE=$TLSURL $BIN verify $POLICY" "env VBX_TOKENS_STORE=$TLSURL $BIN verify --no-touch $POLICY")
    fi
    hyperfine -N -w 20 -r "$RUNS" --export-json "$dir/pg.json" "${cmds[@]}" >/dev/null
    ours=$(median "$dir/pg.json" 0); peer=$(median "$dir/pg.json" 1); nt=$(median "$dir/pg.json" 2)
    row "PostgreSQL over the Unix socket: verify, counted, $n" "$(ms "$ours") ms" "$(ms "$peer") ms" "$(ratio "$ours" "$peer")"
    row "PostgreSQL over the Unix socket: verify --no-touch, $n" "$(ms "$nt") ms" "$(ms "$peer") ms" "$(ratio "$nt" "$peer")"
    if [ -n "${TLSURL:-}" ]; then
      tls=$(median "$dir/pg.json" 3); tlsnt=$(median "$dir/pg.json" 4)
      row "PostgreSQL over TCP, SCRAM and TLS: verify, counted, $n" "$(ms "$tls") ms" "$(ms "$peer") ms" "$(ratio "$tls" "$peer")"
      row "PostgreSQL over TCP, SCRAM and TLS: the connection (TLS verify --no-touch minus the socket's)" "$(ms "$(python3 -c "print($tlsnt-$nt)")") ms" "" ""
    fi
    read -r secs mib < <(peak_rss sh -c "env VBX_TOKENS_STORE='$PGURL' $BIN verify --batch $POLICY < $dir/tokens.txt")
    row "PostgreSQL: verify --batch counted of $n" "$(python3 -c "print(f'{$n/$secs/1000:.1f}k/s')"), peak RSS $mib MiB" "" ""
    read -r c r < <(VBX_TOKENS_STORE=$PGURL create_revoke_medians)
    row "PostgreSQL: create / revoke, $n tokens" "$c ms / $r ms" "" ""
  fi
  unset VBX_TOKEN
done

echo "| what | vbx-tokens | sqlite3 peer | ratio |"
echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
