//! The PostgreSQL store's schema, `vbx_tokens`: made by the first command that adds something
//! (as a store directory is), and moved on by numbered steps, each recorded in
//! `vbx_tokens.migrations` with when and by whom. A schema at a step this build does not know
//! was made by a newer build, and is refused as a newer store directory is.
//!
//! Every step runs in one transaction under a transaction-scoped advisory lock, so two
//! binaries making or moving the schema at once both succeed: the second waits, then finds the
//! work done. (`CREATE SCHEMA IF NOT EXISTS` alone is not enough: two at once can both miss the
//! other's and one fails on the catalogue's unique index.)

use postgres::types::Type;
use postgres::{Client, Transaction};

use super::config::Target;
use super::connect::failure;
use crate::error::{Error, Result};

/// The schema every table is in.
pub const SCHEMA: &str = "vbx_tokens";

/// The advisory lock key the steps are taken under: the first 8 bytes of `SHA-256("vbx-tokens
/// schema")`, a number no other application is likely to pick.
const LOCK_KEY: i64 = 0x00c0_99c2_bdce_3e85;

/// The steps, in order: step N (from 1) is `STEPS[N - 1]`. A step is never changed once
/// released; a new one is added at the end.
const STEPS: &[&str] = &[
    // 1: tokens, the audit log, the vault, and the store's own facts.
    r"
    CREATE TABLE vbx_tokens.meta (
        key   text PRIMARY KEY,
        value bytea NOT NULL
    );
    -- One row a token. `record` is the record as the directory store keeps it (every field,
    -- those of a newer build too); the columns beside it are what a verify decides and counts
    -- on in one statement, kept in step with it by every write.
    CREATE TABLE vbx_tokens.tokens (
        id           text PRIMARY KEY,
        seq          bigint NOT NULL UNIQUE,
        sha256       bytea NOT NULL UNIQUE CHECK (length(sha256) = 32),
        name_key     text NOT NULL,
        active       boolean NOT NULL,
        disabled     boolean NOT NULL,
        expires_at   timestamptz,
        grace_until  timestamptz,
        max_uses     bigint CHECK (max_uses >= 1),
        use_count    bigint NOT NULL DEFAULT 0 CHECK (use_count >= 0),
        last_used_at timestamptz,
        last_used_ip inet,
        record       jsonb NOT NULL
    );
    -- At most one active token a name, as in the directory store.
    CREATE UNIQUE INDEX tokens_active_name ON vbx_tokens.tokens (name_key) WHERE active;
    -- The audit log: each event's bytes as the chain hashes them, in order.
    CREATE TABLE vbx_tokens.events (
        seq   bigint PRIMARY KEY CHECK (seq >= 1),
        bytes bytea NOT NULL
    );
    -- The vault: its header and each kept secret, sealed on the client.
    CREATE TABLE vbx_tokens.vault (
        key   text PRIMARY KEY,
        bytes bytea NOT NULL
    );
    ",
    // 2: what a host that only verifies may call (`grant-verify`): a token's record by its
    // SHA-256, which needs the token, and one counted use, decided and counted in one
    // statement. Owned by the schema's owner and run with its rights (SECURITY DEFINER, with a
    // fixed search_path so no one's objects stand in for ours), so such a role needs no right
    // on a table: it cannot list, read hashes in bulk, change a token or read the log.
    r"
    CREATE FUNCTION vbx_tokens.lookup(token_sha256 bytea)
    RETURNS TABLE (record jsonb, use_count bigint, last_used_at timestamptz, last_used_ip inet)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT t.record, t.use_count, t.last_used_at, t.last_used_ip
        FROM vbx_tokens.tokens t WHERE t.sha256 = token_sha256
    $$;
    -- The use is taken only if, at this moment, the token is active (or in its grace), not
    -- expired, not disabled and under its limit: a revocation, or another host's last use,
    -- committed before it is seen. The new count, or no row when nothing was taken.
    CREATE FUNCTION vbx_tokens.count_use(token_sha256 bytea, at timestamptz, ip inet)
    RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        UPDATE vbx_tokens.tokens t
        SET use_count = t.use_count + 1, last_used_at = at,
            last_used_ip = coalesce(ip, t.last_used_ip)
        WHERE t.sha256 = token_sha256
          AND (t.active OR t.grace_until > at)
          AND (t.expires_at IS NULL OR t.expires_at > at)
          AND NOT t.disabled
          AND (t.max_uses IS NULL OR t.use_count < t.max_uses)
        RETURNING t.use_count
    $$;
    -- Functions may be called by anyone unless told otherwise.
    REVOKE ALL ON FUNCTION vbx_tokens.lookup(bytea) FROM PUBLIC;
    REVOKE ALL ON FUNCTION vbx_tokens.count_use(bytea, timestamptz, inet) FROM PUBLIC;
    ",
    // 3: the order records are listed in (creation time, then creation order), as the
    // directory store lists them, and where a new record's creation order comes from.
    r"
    ALTER TABLE vbx_tokens.tokens ADD COLUMN created_at timestamptz;
    UPDATE vbx_tokens.tokens SET created_at = (record->>'created_at')::timestamptz;
    ALTER TABLE vbx_tokens.tokens ALTER COLUMN created_at SET NOT NULL;
    CREATE INDEX tokens_order ON vbx_tokens.tokens (created_at, seq);
    CREATE SEQUENCE vbx_tokens.record_seq;
    SELECT setval('vbx_tokens.record_seq', coalesce(max(seq), 0) + 1, false)
        FROM vbx_tokens.tokens;
    ",
    // 4: failed verifies, counted until a command that writes folds them into the log as
    // `verify_failed` counters (`crate::counters`): one row per hour of the clock, reason,
    // user and token (`''` for a string that is no token of this store), so no number of
    // failures grows the table beyond that. A host that only verifies counts them through
    // `count_failure`, which attributes a failure to a token by its SHA-256 alone.
    r"
    CREATE TABLE vbx_tokens.failures (
        window_no bigint NOT NULL,
        reason    smallint NOT NULL,
        actor     text NOT NULL,
        token_id  text NOT NULL,
        first_at  timestamptz NOT NULL,
        last_at   timestamptz NOT NULL,
        count     bigint NOT NULL,
        ips       inet[] NOT NULL,
        further   boolean NOT NULL,
        PRIMARY KEY (window_no, reason, actor, token_id)
    );
    CREATE FUNCTION vbx_tokens.count_failure(
        window_no bigint, reason smallint, actor text, token_sha256 bytea, at timestamptz,
        ip inet)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        INSERT INTO vbx_tokens.failures AS f
            (window_no, reason, actor, token_id, first_at, last_at, count, ips, further)
        VALUES (window_no, reason, left(actor, 256),
                coalesce((SELECT t.id FROM vbx_tokens.tokens t WHERE t.sha256 = token_sha256), ''),
                at, at, 1, CASE WHEN ip IS NULL THEN '{}'::inet[] ELSE ARRAY[ip] END, false)
        ON CONFLICT ON CONSTRAINT failures_pkey DO UPDATE SET
            first_at = least(f.first_at, EXCLUDED.first_at),
            last_at = greatest(f.last_at, EXCLUDED.last_at),
            count = least(f.count + 1, 9007199254740991),
            ips = CASE WHEN ip IS NULL OR ip = ANY (f.ips) OR cardinality(f.ips) >= 16
                       THEN f.ips ELSE f.ips || ip END,
            further = f.further OR (ip IS NOT NULL AND NOT ip = ANY (f.ips)
                                    AND cardinality(f.ips) >= 16)
    $$;
    REVOKE ALL ON FUNCTION vbx_tokens.count_failure(bigint, smallint, text, bytea, timestamptz, inet)
        FROM PUBLIC;
    ",
    // 5: records keep the creation order of the store they came from (an import or a
    // restore), which another store's may repeat: the order is (creation time, order, id).
    r"
    ALTER TABLE vbx_tokens.tokens DROP CONSTRAINT tokens_seq_key;
    DROP INDEX vbx_tokens.tokens_order;
    CREATE INDEX tokens_order ON vbx_tokens.tokens (created_at, seq, id);
    ",
    // 6: the store's id, 16 random bytes that name it (in a backup's header), as a store
    // directory has one.
    r"
    INSERT INTO vbx_tokens.meta (key, value) VALUES ('store_id', uuid_send(gen_random_uuid()))
        ON CONFLICT (key) DO NOTHING;
    ",
    // 7: a batch's worth in one call each, so `verify --batch` and a busy service pay one
    // round trip a chunk, not one a token: the records of many tokens by their SHA-256, a use
    // of each of many (distinct) tokens, as `count_use` takes one, and their failures. Plain
    // SQL, as the one-token functions are: a new connection's first call loads and compiles
    // nothing more. A role granted the one-token functions gets these too.
    r"
    CREATE FUNCTION vbx_tokens.lookup_many(token_sha256 bytea[])
    RETURNS TABLE (sha256 bytea, record jsonb, use_count bigint, last_used_at timestamptz,
                   last_used_ip inet)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT t.sha256, t.record, t.use_count, t.last_used_at, t.last_used_ip
        FROM vbx_tokens.tokens t WHERE t.sha256 = ANY (token_sha256)
    $$;
    -- One use of each token named, where `count_use` would take it; the SHA-256 and new
    -- count of each taken. A token named twice is counted once (a row is updated once a
    -- statement): the caller counts a second use in a second call.
    CREATE FUNCTION vbx_tokens.count_uses(token_sha256 bytea[], at timestamptz, ip inet)
    RETURNS TABLE (sha256 bytea, use_count bigint)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        UPDATE vbx_tokens.tokens t
        SET use_count = t.use_count + 1, last_used_at = at,
            last_used_ip = coalesce(ip, t.last_used_ip)
        WHERE t.sha256 = ANY (token_sha256)
          AND (t.active OR t.grace_until > at)
          AND (t.expires_at IS NULL OR t.expires_at > at)
          AND NOT t.disabled
          AND (t.max_uses IS NULL OR t.use_count < t.max_uses)
        RETURNING t.sha256, t.use_count
    $$;
    -- `how_many[i]` failures of `reasons[i]` for the token `token_sha256[i]` (NULL for a
    -- string that is no token's), as `count_failure` counts one; summed by reason and token
    -- first, so each row is written once.
    CREATE FUNCTION vbx_tokens.count_failures(
        window_no bigint, reasons smallint[], actor text, token_sha256 bytea[],
        how_many bigint[], at timestamptz, ip inet)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        INSERT INTO vbx_tokens.failures AS f
            (window_no, reason, actor, token_id, first_at, last_at, count, ips, further)
        SELECT window_no, u.reason, left(actor, 256), coalesce(t.id, ''), at, at,
               least(sum(greatest(u.n, 1)), 9007199254740991)::bigint,
               CASE WHEN ip IS NULL THEN '{}'::inet[] ELSE ARRAY[ip] END, false
        FROM unnest(reasons, token_sha256, how_many) AS u(reason, h, n)
        LEFT JOIN vbx_tokens.tokens t ON t.sha256 = u.h
        GROUP BY u.reason, coalesce(t.id, '')
        ON CONFLICT ON CONSTRAINT failures_pkey DO UPDATE SET
            first_at = least(f.first_at, EXCLUDED.first_at),
            last_at = greatest(f.last_at, EXCLUDED.last_at),
            count = least(f.count + EXCLUDED.count, 9007199254740991),
            ips = CASE WHEN ip IS NULL OR ip = ANY (f.ips) OR cardinality(f.ips) >= 16
                       THEN f.ips ELSE f.ips || ip END,
            further = f.further OR (ip IS NOT NULL AND NOT ip = ANY (f.ips)
                                    AND cardinality(f.ips) >= 16)
    $$;
    REVOKE ALL ON FUNCTION vbx_tokens.lookup_many(bytea[]) FROM PUBLIC;
    REVOKE ALL ON FUNCTION vbx_tokens.count_uses(bytea[], timestamptz, inet) FROM PUBLIC;
    REVOKE ALL ON FUNCTION vbx_tokens.count_failures(
        bigint, smallint[], text, bytea[], bigint[], timestamptz, inet) FROM PUBLIC;
    DO $$
    DECLARE
        verifier text;
    BEGIN
        FOR verifier IN
            SELECT DISTINCT a.grantee::regrole::text
            FROM pg_proc p, aclexplode(p.proacl) a
            WHERE p.oid = 'vbx_tokens.lookup(bytea)'::regprocedure
              AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner AND a.grantee <> 0
        LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION vbx_tokens.lookup_many(bytea[]),
                vbx_tokens.count_uses(bytea[], timestamptz, inet),
                vbx_tokens.count_failures(
                    bigint, smallint[], text, bytea[], bigint[], timestamptz, inet)
                TO %s', verifier);
        END LOOP;
    END
    $$;
    ",
    // 8: a use and a failure are timed by the server's clock, not the calling host's: a host
    // whose clock is behind cannot count a use of a token that has expired, nor any caller
    // (a verify-only role among them, through these functions) write a time of its choosing
    // that would make the store's backups unrestorable. The `at` and `window_no` arguments
    // stay, for the builds that pass them, and are not used.
    r"
    CREATE OR REPLACE FUNCTION vbx_tokens.count_use(token_sha256 bytea, at timestamptz, ip inet)
    RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        UPDATE vbx_tokens.tokens t
        SET use_count = t.use_count + 1, last_used_at = date_trunc('second', statement_timestamp()),
            last_used_ip = coalesce(ip, t.last_used_ip)
        WHERE t.sha256 = token_sha256
          AND (t.active OR t.grace_until > date_trunc('second', statement_timestamp()))
          AND (t.expires_at IS NULL OR t.expires_at > date_trunc('second', statement_timestamp()))
          AND NOT t.disabled
          AND (t.max_uses IS NULL OR t.use_count < t.max_uses)
        RETURNING t.use_count
    $$;
    CREATE OR REPLACE FUNCTION vbx_tokens.count_uses(token_sha256 bytea[], at timestamptz, ip inet)
    RETURNS TABLE (sha256 bytea, use_count bigint)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        UPDATE vbx_tokens.tokens t
        SET use_count = t.use_count + 1, last_used_at = date_trunc('second', statement_timestamp()),
            last_used_ip = coalesce(ip, t.last_used_ip)
        WHERE t.sha256 = ANY (token_sha256)
          AND (t.active OR t.grace_until > date_trunc('second', statement_timestamp()))
          AND (t.expires_at IS NULL OR t.expires_at > date_trunc('second', statement_timestamp()))
          AND NOT t.disabled
          AND (t.max_uses IS NULL OR t.use_count < t.max_uses)
        RETURNING t.sha256, t.use_count
    $$;
    CREATE OR REPLACE FUNCTION vbx_tokens.count_failure(
        window_no bigint, reason smallint, actor text, token_sha256 bytea, at timestamptz,
        ip inet)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        INSERT INTO vbx_tokens.failures AS f
            (window_no, reason, actor, token_id, first_at, last_at, count, ips, further)
        VALUES (floor(extract(epoch FROM date_trunc('second', statement_timestamp())) / 3600)::bigint, reason, left(actor, 256),
                coalesce((SELECT t.id FROM vbx_tokens.tokens t WHERE t.sha256 = token_sha256), ''),
                date_trunc('second', statement_timestamp()), date_trunc('second', statement_timestamp()), 1, CASE WHEN ip IS NULL THEN '{}'::inet[] ELSE ARRAY[ip] END, false)
        ON CONFLICT ON CONSTRAINT failures_pkey DO UPDATE SET
            first_at = least(f.first_at, EXCLUDED.first_at),
            last_at = greatest(f.last_at, EXCLUDED.last_at),
            count = least(f.count + 1, 9007199254740991),
            ips = CASE WHEN ip IS NULL OR ip = ANY (f.ips) OR cardinality(f.ips) >= 16
                       THEN f.ips ELSE f.ips || ip END,
            further = f.further OR (ip IS NOT NULL AND NOT ip = ANY (f.ips)
                                    AND cardinality(f.ips) >= 16)
    $$;
    CREATE OR REPLACE FUNCTION vbx_tokens.count_failures(
        window_no bigint, reasons smallint[], actor text, token_sha256 bytea[],
        how_many bigint[], at timestamptz, ip inet)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        INSERT INTO vbx_tokens.failures AS f
            (window_no, reason, actor, token_id, first_at, last_at, count, ips, further)
        SELECT floor(extract(epoch FROM date_trunc('second', statement_timestamp())) / 3600)::bigint, u.reason, left(actor, 256), coalesce(t.id, ''), date_trunc('second', statement_timestamp()), date_trunc('second', statement_timestamp()),
               least(sum(greatest(u.n, 1)), 9007199254740991)::bigint,
               CASE WHEN ip IS NULL THEN '{}'::inet[] ELSE ARRAY[ip] END, false
        FROM unnest(reasons, token_sha256, how_many) AS u(reason, h, n)
        LEFT JOIN vbx_tokens.tokens t ON t.sha256 = u.h
        GROUP BY u.reason, coalesce(t.id, '')
        ON CONFLICT ON CONSTRAINT failures_pkey DO UPDATE SET
            first_at = least(f.first_at, EXCLUDED.first_at),
            last_at = greatest(f.last_at, EXCLUDED.last_at),
            count = least(f.count + EXCLUDED.count, 9007199254740991),
            ips = CASE WHEN ip IS NULL OR ip = ANY (f.ips) OR cardinality(f.ips) >= 16
                       THEN f.ips ELSE f.ips || ip END,
            further = f.further OR (ip IS NOT NULL AND NOT ip = ANY (f.ips)
                                    AND cardinality(f.ips) >= 16)
    $$;
    ",
    // 9: what a verify counts moves to a narrow table beside the records, so a counted use
    // rewrites a row of a few dozen bytes and its one index entry, not a whole record and
    // the four indexes of `tokens` (an UPDATE of 100k rows took 2.1 s on `tokens` and 0.5 s on
    // such a table, measured on the bench machine). And `verify_uses`: the records of many
    // tokens and, in the same statement, one use of each whose use is certain by the server's
    // columns and the request (address, scopes), so a counted verify is one round trip. The
    // caller still judges every record itself; a use this takes is one its judgment allows,
    // and a use it leaves is taken, or refused, by `count_use` as before.
    r"
    -- Pages half empty (fillfactor 50), so a use's new row fits beside the old one and the
    -- update is HOT: no index entry is written (a counted batch of 100k: 2.5 s at 100, 1.9 s
    -- at 50, on the bench machine). The table is small: a few dozen bytes a token.
    CREATE TABLE vbx_tokens.uses (
        id           text PRIMARY KEY,
        use_count    bigint NOT NULL DEFAULT 0 CHECK (use_count >= 0),
        last_used_at timestamptz,
        last_used_ip inet
    ) WITH (fillfactor = 50);
    INSERT INTO vbx_tokens.uses (id, use_count, last_used_at, last_used_ip)
        SELECT id, use_count, last_used_at, last_used_ip FROM vbx_tokens.tokens;
    ALTER TABLE vbx_tokens.tokens
        DROP COLUMN use_count, DROP COLUMN last_used_at, DROP COLUMN last_used_ip;
    -- What a caller of the functions below may not choose, since a verify-only role calls
    -- them with values of its own: an address as verify keeps it (an IPv4 address written as
    -- IPv6 is the IPv4 address; a host, no mask), and who failed: the role for a role that
    -- does not own the store (the server knows no other user of that host, and a role
    -- choosing names could write an event a name), the user the caller names for the owner.
    -- Called only by the functions below, with the search path they pin.
    CREATE FUNCTION vbx_tokens.canonical_ip(ip inet) RETURNS inet
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT CASE
            WHEN family(ip) = 6 AND set_masklen(ip, 128) <<= '::ffff:0.0.0.0/96'::inet
                THEN '0.0.0.0'::inet + (set_masklen(ip, 128) - '::ffff:0.0.0.0'::inet)
            ELSE set_masklen(ip, CASE family(ip) WHEN 4 THEN 32 ELSE 128 END)
        END
    $$;
    CREATE FUNCTION vbx_tokens.failure_actor(actor text) RETURNS text
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE
            WHEN coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = session_user),
                          false)
              OR pg_has_role(session_user,
                             (SELECT n.nspowner FROM pg_namespace n
                              WHERE n.nspname = 'vbx_tokens'), 'MEMBER')
                THEN coalesce(nullif(left(actor, 256), ''), 'unknown')
            ELSE left(session_user, 256)
        END
    $$;
    -- A count one more, held at 2^53 - 1, the largest integer JSON carries exactly (as the
    -- directory store holds it): past it, no backup or export of the store would restore.
    CREATE FUNCTION vbx_tokens.one_more(n bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT CASE WHEN n >= 9007199254740991 THEN 9007199254740991 ELSE n + 1 END
    $$;
    -- The count of a record whose row of uses is lost (only a change by hand loses one), as
    -- every read takes it and `doctor` makes it again: spent for a token with a use limit,
    -- since a count never goes down, else what the record's JSON last held.
    CREATE FUNCTION vbx_tokens.lost_count(max_uses bigint, record jsonb) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT greatest(coalesce(max_uses, 0),
                        CASE WHEN jsonb_typeof(record->'use_count') = 'number'
                             THEN least(greatest((record->>'use_count')::numeric, 0),
                                        9007199254740991)::bigint
                             ELSE 0 END)
    $$;
    REVOKE ALL ON FUNCTION vbx_tokens.one_more(bigint) FROM PUBLIC;
    REVOKE ALL ON FUNCTION vbx_tokens.lost_count(bigint, jsonb) FROM PUBLIC;
    REVOKE ALL ON FUNCTION vbx_tokens.canonical_ip(inet) FROM PUBLIC;
    REVOKE ALL ON FUNCTION vbx_tokens.failure_actor(text) FROM PUBLIC;
    CREATE OR REPLACE FUNCTION vbx_tokens.lookup_many(token_sha256 bytea[])
    RETURNS TABLE (sha256 bytea, record jsonb, use_count bigint, last_used_at timestamptz,
                   last_used_ip inet)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT t.sha256, t.record,
               coalesce(u.use_count, vbx_tokens.lost_count(t.max_uses, t.record)),
               u.last_used_at, u.last_used_ip
        FROM vbx_tokens.tokens t LEFT JOIN vbx_tokens.uses u ON u.id = t.id
        WHERE t.sha256 = ANY (token_sha256)
    $$;
    -- A use's row is locked by the UPDATE, and a second host's use of the same token waits
    -- for the first to commit and is checked again against the new count: a limit holds.
    CREATE OR REPLACE FUNCTION vbx_tokens.count_uses(token_sha256 bytea[], at timestamptz, ip inet)
    RETURNS TABLE (sha256 bytea, use_count bigint)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        UPDATE vbx_tokens.uses u
        SET use_count = vbx_tokens.one_more(u.use_count),
            last_used_at = date_trunc('second', statement_timestamp()),
            last_used_ip = coalesce(vbx_tokens.canonical_ip(ip), u.last_used_ip)
        FROM vbx_tokens.tokens t
        WHERE t.sha256 = ANY (token_sha256) AND u.id = t.id
          AND (t.active OR t.grace_until > date_trunc('second', statement_timestamp()))
          AND (t.expires_at IS NULL OR t.expires_at > date_trunc('second', statement_timestamp()))
          AND NOT t.disabled
          AND (t.max_uses IS NULL OR u.use_count < t.max_uses)
        RETURNING t.sha256, u.use_count
    $$;
    -- One token is a batch of one, as a failure is below.
    CREATE OR REPLACE FUNCTION vbx_tokens.lookup(token_sha256 bytea)
    RETURNS TABLE (record jsonb, use_count bigint, last_used_at timestamptz, last_used_ip inet)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT l.record, l.use_count, l.last_used_at, l.last_used_ip
        FROM vbx_tokens.lookup_many(ARRAY[token_sha256]) l
    $$;
    CREATE OR REPLACE FUNCTION vbx_tokens.count_use(token_sha256 bytea, at timestamptz, ip inet)
    RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT c.use_count FROM vbx_tokens.count_uses(ARRAY[token_sha256], at, ip) c
    $$;
    -- The records of the tokens `token_sha256` (distinct) as `lookup_many` gives them, with
    -- the use count before this call, and `counted` for each whose use this call took: one
    -- where `count_uses` would take it and, besides, the request is inside the token's
    -- address ranges (`ip`, a client address as the caller reads it) and asks only for
    -- scopes it has (`scopes`, a JSON array of strings). Such a use is certain whatever else
    -- the caller judges (`crate::policy::judge`). And the server's time, as `now`, on every
    -- row, with a row of NULLs besides when not every token was counted.
    CREATE FUNCTION vbx_tokens.verify_uses(token_sha256 bytea[], ip inet, scopes jsonb)
    RETURNS TABLE (now timestamptz, sha256 bytea, record jsonb, use_count bigint,
                   last_used_at timestamptz, last_used_ip inet, counted boolean)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        WITH n AS (SELECT date_trunc('second', statement_timestamp()) AS now),
        c AS (
            UPDATE vbx_tokens.uses u
            SET use_count = vbx_tokens.one_more(u.use_count), last_used_at = n.now,
                last_used_ip = coalesce(vbx_tokens.canonical_ip(ip), u.last_used_ip)
            FROM vbx_tokens.tokens t, n
            WHERE t.sha256 = ANY (token_sha256) AND u.id = t.id
              AND (t.active OR t.grace_until > n.now)
              AND (t.expires_at IS NULL OR t.expires_at > n.now)
              AND NOT t.disabled
              AND (t.max_uses IS NULL OR u.use_count < t.max_uses)
              AND (coalesce(jsonb_array_length(t.record->'allow_ip'), 0) = 0
                   OR (ip IS NOT NULL AND EXISTS (
                       SELECT 1 FROM jsonb_array_elements_text(t.record->'allow_ip') a(range)
                       WHERE ip <<= a.range::inet)))
              AND (coalesce(jsonb_array_length(t.record->'scopes'), 0) = 0
                   OR t.record->'scopes' @> scopes)
            RETURNING u.id, t.sha256, t.record, u.use_count, u.last_used_at, u.last_used_ip
        )
        -- Those counted, then the others (and a row of NULLs, for the time, when none is
        -- left), looked up again only for the tokens not counted: a join with `c` would scan
        -- it once a row.
        SELECT n.now, c.sha256, c.record, c.use_count - 1, c.last_used_at, c.last_used_ip, true
        FROM c, n
        UNION ALL
        SELECT n.now, t.sha256, t.record, coalesce(u.use_count, vbx_tokens.lost_count(t.max_uses, t.record)),
               u.last_used_at,
               u.last_used_ip, false
        FROM n
        LEFT JOIN (vbx_tokens.tokens t LEFT JOIN vbx_tokens.uses u ON u.id = t.id)
            ON t.sha256 = ANY (ARRAY(SELECT h FROM unnest(token_sha256) h
                                     EXCEPT SELECT c.sha256 FROM c))
    $$;
    -- A failure of a reason a verify gives (`crate::verdict::Reason::code`: 1 to 8, never
    -- 0, `valid`), of a token only where the reason is of one (not 1, `unknown`, nor 3,
    -- `malformed`), from an address as verify keeps it and by the actor `failure_actor`
    -- allows: what a restore takes back, whatever a caller passes.
    -- One failure is a batch of one: `count_failures` (made by step 7, its body replaced
    -- below).
    CREATE OR REPLACE FUNCTION vbx_tokens.count_failure(
        window_no bigint, reason smallint, actor text, token_sha256 bytea, at timestamptz,
        ip inet)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT vbx_tokens.count_failures(window_no, ARRAY[reason], actor,
                                         ARRAY[token_sha256], ARRAY[1::bigint], at, ip)
    $$;
    CREATE OR REPLACE FUNCTION vbx_tokens.count_failures(
        window_no bigint, reasons smallint[], actor text, token_sha256 bytea[],
        how_many bigint[], at timestamptz, ip inet)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        INSERT INTO vbx_tokens.failures AS f
            (window_no, reason, actor, token_id, first_at, last_at, count, ips, further)
        SELECT floor(extract(epoch FROM n.now) / 3600)::bigint, u.reason,
               vbx_tokens.failure_actor(actor),
               CASE WHEN u.reason IN (1, 3) THEN '' ELSE coalesce(t.id, '') END,
               n.now, n.now,
               least(sum(greatest(u.n, 1)), 9007199254740991)::bigint,
               CASE WHEN n.ip IS NULL THEN '{}'::inet[] ELSE ARRAY[n.ip] END, false
        FROM unnest(reasons, token_sha256, how_many) AS u(reason, h, n)
        CROSS JOIN (SELECT date_trunc('second', statement_timestamp()) AS now,
                           vbx_tokens.canonical_ip(ip) AS ip) n
        LEFT JOIN vbx_tokens.tokens t ON t.sha256 = u.h
        WHERE u.reason BETWEEN 1 AND 8
        GROUP BY u.reason, CASE WHEN u.reason IN (1, 3) THEN '' ELSE coalesce(t.id, '') END,
                 n.now, n.ip
        ON CONFLICT ON CONSTRAINT failures_pkey DO UPDATE SET
            first_at = least(f.first_at, EXCLUDED.first_at),
            last_at = greatest(f.last_at, EXCLUDED.last_at),
            count = least(f.count + EXCLUDED.count, 9007199254740991),
            ips = CASE WHEN cardinality(EXCLUDED.ips) = 0 OR EXCLUDED.ips[1] = ANY (f.ips)
                         OR cardinality(f.ips) >= 16
                       THEN f.ips ELSE f.ips || EXCLUDED.ips END,
            further = f.further OR (cardinality(EXCLUDED.ips) > 0
                                    AND NOT EXCLUDED.ips[1] = ANY (f.ips)
                                    AND cardinality(f.ips) >= 16)
    $$;
    REVOKE ALL ON FUNCTION vbx_tokens.verify_uses(bytea[], inet, jsonb) FROM PUBLIC;
    -- `verify_uses` for one token, in PL/pgSQL: a connection that verifies again and again
    -- (a service's) keeps its plans, so a counted verify costs a third of what the SQL
    -- functions, planned at every call, cost (0.31 ms, where `lookup_many` and `count_uses`
    -- took 0.68, by pgbench on the bench machine). A new connection's first call compiles it,
    -- so that call is better made by the SQL functions. The row is read, then its use taken
    -- if it is certain, the count checked again by the UPDATE, which waits for another
    -- host's use of the same token.
    CREATE FUNCTION vbx_tokens.verify_use(token_sha256 bytea, ip inet, scopes jsonb)
    RETURNS TABLE (now timestamptz, sha256 bytea, record jsonb, use_count bigint,
                   last_used_at timestamptz, last_used_ip inet, counted boolean)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        r record;
        at timestamptz := date_trunc('second', statement_timestamp());
    BEGIN
        now := at;
        SELECT t.id, t.record AS json, t.active, t.grace_until, t.expires_at, t.disabled,
               t.max_uses, coalesce(u.use_count, vbx_tokens.lost_count(t.max_uses, t.record)) AS uses, u.last_used_at AS used_at,
               u.last_used_ip AS used_ip
        INTO r
        FROM vbx_tokens.tokens t LEFT JOIN vbx_tokens.uses u ON u.id = t.id
        WHERE t.sha256 = token_sha256;
        IF NOT FOUND THEN
            RETURN NEXT;
            RETURN;
        END IF;
        sha256 := token_sha256;
        record := r.json;
        counted := false;
        IF (r.active OR r.grace_until > at)
           AND (r.expires_at IS NULL OR r.expires_at > at)
           AND NOT r.disabled
           AND (coalesce(jsonb_array_length(r.json->'allow_ip'), 0) = 0
                OR (ip IS NOT NULL AND EXISTS (
                    SELECT 1 FROM jsonb_array_elements_text(r.json->'allow_ip') a(range)
                    WHERE ip <<= a.range::inet)))
           AND (coalesce(jsonb_array_length(r.json->'scopes'), 0) = 0
                OR r.json->'scopes' @> scopes)
        THEN
            UPDATE vbx_tokens.uses u
            SET use_count = vbx_tokens.one_more(u.use_count), last_used_at = at,
                last_used_ip = coalesce(vbx_tokens.canonical_ip(ip), u.last_used_ip)
            WHERE u.id = r.id AND (r.max_uses IS NULL OR u.use_count < r.max_uses)
            RETURNING u.use_count - 1, u.last_used_at, u.last_used_ip
            INTO use_count, last_used_at, last_used_ip;
            counted := FOUND;
        END IF;
        IF NOT counted THEN
            use_count := r.uses;
            last_used_at := r.used_at;
            last_used_ip := r.used_ip;
        END IF;
        RETURN NEXT;
    END
    $$;
    REVOKE ALL ON FUNCTION vbx_tokens.verify_use(bytea, inet, jsonb) FROM PUBLIC;
    DO $$
    DECLARE
        verifier text;
    BEGIN
        FOR verifier IN
            SELECT DISTINCT a.grantee::regrole::text
            FROM pg_proc p, aclexplode(p.proacl) a
            WHERE p.oid = 'vbx_tokens.lookup(bytea)'::regprocedure
              AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner AND a.grantee <> 0
        LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION vbx_tokens.verify_uses(bytea[], inet, jsonb),
                vbx_tokens.verify_use(bytea, inet, jsonb) TO %s', verifier);
        END LOOP;
    END
    $$;
    ",
];

/// The step this build brings a schema to.
pub fn current_step() -> i32 {
    STEPS.len() as i32
}

/// Whether the store's schema is there, at a step this build knows; `Ok(false)` when there is
/// none yet.
///
/// # Errors
/// [`Error::Store`] for a schema a newer build made (or moved on), or one without its record of
/// steps; the server's errors as [`failure`] tells them.
pub fn check(client: &mut Client, target: &Target) -> Result<bool> {
    let fail = |e: postgres::Error| failure(target, &e);
    let row = client
        .query_typed_one(
            "SELECT to_regclass('vbx_tokens.migrations') IS NOT NULL,
                    EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'vbx_tokens')",
            &[],
        )
        .map_err(fail)?;
    let (has_steps, has_schema): (bool, bool) = (row.get(0), row.get(1));
    if !has_schema {
        return Ok(false);
    }
    if !has_steps {
        return Err(Error::store(format!(
            "the schema {SCHEMA} at {} is not a vbx-tokens store (it has no vbx_tokens.migrations): point --store or VBX_TOKENS_STORE at another database",
            target.shown()
        )));
    }
    let step: i32 = client
        .query_typed_one(
            "SELECT coalesce(max(version), 0) FROM vbx_tokens.migrations",
            &[],
        )
        .map_err(fail)?
        .get(0);
    refuse_newer(step, target)?;
    Ok(step == current_step())
}

fn refuse_newer(step: i32, target: &Target) -> Result<()> {
    if step > current_step() {
        return Err(Error::store(format!(
            "the store at {} was written by a newer vbx-tokens (schema step {step}, this build knows {}): upgrade vbx-tokens",
            target.shown(),
            current_step()
        )));
    }
    Ok(())
}

/// Makes the schema, or moves it on to [`current_step`], recording each step taken with the
/// time and `actor`. Does nothing to a schema already there.
///
/// # Errors
/// As for [`check`]; the server's refusal when this role may not create a schema.
pub fn ensure(client: &mut Client, target: &Target, actor: &str) -> Result<()> {
    if check(client, target)? {
        return Ok(());
    }
    let mut tx = client.transaction().map_err(|e| failure(target, &e))?;
    ensure_in(&mut tx, target, actor)?;
    tx.commit().map_err(|e| failure(target, &e))
}

/// [`ensure`] within the transaction `tx` (a restore makes its schema and fills it in one):
/// the steps wait for the advisory lock, and the transaction's commit makes them.
///
/// # Errors
/// As for [`ensure`].
pub fn ensure_in(tx: &mut Transaction<'_>, target: &Target, actor: &str) -> Result<()> {
    let fail = |e: postgres::Error| failure(target, &e);
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .map_err(fail)?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS vbx_tokens;
         CREATE TABLE IF NOT EXISTS vbx_tokens.migrations (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now(),
             applied_by text NOT NULL
         );",
    )
    .map_err(fail)?;
    let done: i32 = tx
        .query_typed_one(
            "SELECT coalesce(max(version), 0) FROM vbx_tokens.migrations",
            &[],
        )
        .map_err(fail)?
        .get(0);
    refuse_newer(done, target)?;
    for (i, step) in STEPS.iter().enumerate().skip(done as usize) {
        tx.batch_execute(step).map_err(fail)?;
        tx.execute(
            "INSERT INTO vbx_tokens.migrations (version, applied_by) VALUES ($1, $2)",
            &[&(i as i32 + 1), &actor],
        )
        .map_err(fail)?;
    }
    Ok(())
}

/// Readies the schema for a command: brings one already there to [`current_step`], and with
/// `create` makes one where there is none. `Ok(false)` when there is none and `create` is
/// false (the command needs a store that is not there).
///
/// # Errors
/// As for [`ensure`].
pub fn open(client: &mut Client, target: &Target, actor: &str, create: bool) -> Result<Opened> {
    if check(client, target)? {
        return Ok(Opened::There);
    }
    let there: bool = client
        .query_typed_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'vbx_tokens')",
            &[],
        )
        .map_err(|e| failure(target, &e))?
        .get(0);
    if !there && !create {
        return Ok(Opened::Missing);
    }
    ensure(client, target, actor)?;
    Ok(if there { Opened::There } else { Opened::Made })
}

/// What [`open`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// No schema, and none was to be made.
    Missing,
    /// The schema was there (moved on to this build's step if it was behind).
    There,
    /// This call made the schema.
    Made,
}

/// Drops the schema a command made ([`Opened::Made`]) and then failed in, so a failed
/// command leaves no store behind, as a directory store's does: only while it holds no
/// token, event or vault row (another host may have begun to use it since).
///
/// # Errors
/// The server's errors.
pub fn drop_if_empty(client: &mut Client, target: &Target) -> Result<()> {
    let fail = |e: postgres::Error| failure(target, &e);
    let mut tx = client.transaction().map_err(fail)?;
    tx.query_typed(
        "SELECT pg_advisory_xact_lock($1)",
        &[(&LOCK_KEY, Type::INT8)],
    )
    .map_err(fail)?;
    let empty: bool = tx
        .query_typed_one(
            "SELECT NOT EXISTS (SELECT 1 FROM vbx_tokens.tokens)
                AND NOT EXISTS (SELECT 1 FROM vbx_tokens.events)
                AND NOT EXISTS (SELECT 1 FROM vbx_tokens.vault)",
            &[],
        )
        .map_err(fail)?
        .get(0);
    if empty {
        tx.batch_execute("DROP SCHEMA vbx_tokens CASCADE")
            .map_err(fail)?;
    }
    tx.commit().map_err(fail)
}

/// `name` as an SQL identifier: in double quotes, a double quote inside doubled (the
/// PostgreSQL documentation, "Identifiers and Key Words").
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Lets the database role `role` verify and count, and nothing else: it may use the schema
/// and call `vbx_tokens.lookup`, `vbx_tokens.count_use` and `vbx_tokens.count_failure`,
/// their batch forms (`lookup_many`, `count_uses`, `count_failures`), `verify_uses` and
/// `verify_use`, which
/// run with the schema owner's rights, and has no right on any table, so it cannot list
/// tokens, read hashes in bulk, create, revoke or read the log.
///
/// # Errors
/// The server's refusal (a role that does not exist, or a caller who may not grant).
pub fn grant_verify(
    client: &mut impl postgres::GenericClient,
    target: &Target,
    role: &str,
) -> Result<()> {
    let role = quoted(role);
    client
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA vbx_tokens TO {role};
             GRANT EXECUTE ON FUNCTION vbx_tokens.lookup(bytea) TO {role};
             GRANT EXECUTE ON FUNCTION vbx_tokens.count_use(bytea, timestamptz, inet) TO {role};
             GRANT EXECUTE ON FUNCTION
                 vbx_tokens.count_failure(bigint, smallint, text, bytea, timestamptz, inet)
                 TO {role};
             GRANT EXECUTE ON FUNCTION vbx_tokens.lookup_many(bytea[]),
                 vbx_tokens.count_uses(bytea[], timestamptz, inet),
                 vbx_tokens.count_failures(
                     bigint, smallint[], text, bytea[], bigint[], timestamptz, inet),
                 vbx_tokens.verify_uses(bytea[], inet, jsonb),
                 vbx_tokens.verify_use(bytea, inet, jsonb)
                 TO {role};"
        ))
        .map_err(|e| failure(target, &e))
}

#[cfg(test)]
mod tests {
    use crate::verdict::{ALL_REASONS, Reason};

    /// Step 9's failure functions count the reasons 1 to 8 and attribute a token to all but 1
    /// and 3: the codes they name must be the ones a verify gives.
    #[test]
    fn the_failure_functions_name_the_codes_of_the_failures() {
        let mut failures: Vec<u8> = ALL_REASONS
            .into_iter()
            .filter(|r| *r != Reason::Valid)
            .map(Reason::code)
            .collect();
        failures.sort_unstable();
        assert_eq!(failures, (1..=8).collect::<Vec<u8>>());
        assert_eq!((Reason::Unknown.code(), Reason::Malformed.code()), (1, 3));
    }
}
