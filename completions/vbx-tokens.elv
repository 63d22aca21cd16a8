
use builtin;
use str;

set edit:completion:arg-completer[vbx-tokens] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'vbx-tokens'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'vbx-tokens'= {
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Make a new token and show it once'
            cand list 'List tokens (all but revoked ones unless --all or --status)'
            cand show 'Show one token''s record'
            cand revoke 'Revoke a token (or every token unused for a while): invalid at once, and it cannot be undone'
            cand verify 'Check a token read from $VBX_TOKEN or stdin: exit 0 if valid, 1 if not'
            cand rotate 'Make a new token to replace one: same name, note, scopes and expiry policy'
            cand disable 'Suspend a token without revoking it: verify answers `disabled` until `enable`'
            cand enable 'Undo `disable`'
            cand extend 'Move a token''s expiry'
            cand scan 'Find tokens in files, directories (recursively, honouring .gitignore) or stdin: exit 1 if one still verifies'
            cand redact 'Copy stdin to stdout with every token masked and labelled with its id, line by line'
            cand log 'Read the audit log (oldest first), or check its hash chain'
            cand export 'Print every token record as NDJSON (one JSON object a line), never a token'
            cand import 'Add token records from NDJSON (a file, or - for stdin): all or nothing'
            cand doctor 'Check every part of the store, repair what can be derived again, report what cannot'
            cand backup 'Write the whole store to FILE (records, audit log, encrypted vault), taken under its lock'
            cand restore 'Rebuild the store from a backup (asks first; --yes outside a terminal)'
            cand vault 'Keep chosen tokens encrypted under a passphrase, to reveal them later'
            cand grant-verify 'On a PostgreSQL store: let a database role verify (and count uses), and nothing else'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'vbx-tokens;create'= {
            cand --name 'A name for the token, unique among active tokens (asked for in a terminal)'
            cand --note 'A free-text note, such as what the token is for'
            cand --expires-in 'Expire this long from now: 90d, 12h, 2w, 30m, 45s (or combined: 1d12h)'
            cand --expires-at 'Expire at this time (RFC 3339, such as 2027-01-31T00:00:00Z)'
            cand --scope 'Allow only this scope (repeatable): `word` or `word:word`, lowercase; none means full access'
            cand --max-uses 'Allow at most N valid, counted verifies; the next answers usage_exceeded'
            cand --allow-ip 'Allow use only from this address range (repeatable; CIDR, IPv4 or IPv6); verify then needs --ip inside one'
            cand --passphrase-file 'Read the vault passphrase from this file (only a trailing newline is stripped)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand -q 'Print the token alone, with no message'
            cand --quiet 'Print the token alone, with no message'
            cand --keep 'Also keep the token in the vault, encrypted, so `vault reveal` can show it again'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;list'= {
            cand --status 'Only tokens with this status (repeatable): active, revoked, expired, disabled'
            cand --unused-for 'Only tokens not used for this long: never used and made before then, or last used before then (90d, 12h, 2w, 30m, 45s)'
            cand --expiring-within 'Only tokens that expire within this long from now (not expired yet, not revoked)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --all 'Include revoked tokens'
            cand --fail-if-any 'Exit 1 if any token matches (after printing them): a whole cron alert'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;show'= {
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;revoke'= {
            cand --unused-for 'Revoke every token not used for this long, in one commit, instead of one token'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --dry-run 'With --unused-for: list what would be revoked, and revoke nothing'
            cand -y 'Don''t ask for confirmation (needed when stdin is not a terminal)'
            cand --yes 'Don''t ask for confirmation (needed when stdin is not a terminal)'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;verify'= {
            cand --scope 'Require this scope (repeatable); a token without scopes has them all'
            cand --ip 'The client''s address, checked against the token''s --allow-ip ranges and recorded as last_used_ip'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --no-touch 'Don''t count this as a use (leave last_used_at and use_count alone)'
            cand --batch 'Read one token per line from stdin and print one JSON line per token (NDJSON); exit 0 only if all are valid'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;rotate'= {
            cand --grace 'Let the old token keep verifying this long (90d, 12h, 2w, 30m, 45s); without it, it is revoked at once'
            cand --passphrase-file 'Read the vault passphrase from this file (only a trailing newline is stripped)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand -q 'Print the new token alone, with no message'
            cand --quiet 'Print the new token alone, with no message'
            cand --keep 'Also keep the new token in the vault, encrypted'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;disable'= {
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;enable'= {
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;extend'= {
            cand --expires-in 'Expire this long from now: 90d, 12h, 2w, 30m, 45s (or combined: 1d12h)'
            cand --expires-at 'Expire at this time (RFC 3339, such as 2027-01-31T00:00:00Z)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;scan'= {
            cand --max-size 'Read at most this much of each file or of stdin (K, M, G: KiB, MiB, GiB); past it the scan is incomplete (exit 2)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --hidden 'Search hidden files and directories too'
            cand --no-ignore 'Search files that .gitignore, .ignore and git''s excludes leave out'
            cand --staged 'Search what git''s index holds for the files a commit would add or change (a pre-commit hook), not the work tree'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;redact'= {
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;log'= {
            cand --limit 'Show only the last N events'
            cand --token 'Show only the events of this token (id or name)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --check 'Check the hash chain instead: exit 0 if it is whole, 6 naming the first broken event'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;export'= {
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;import'= {
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --any-format 'Accept plaintext tokens that are not in the vbx_ format (another system''s tokens)'
            cand --skip-existing 'Leave out records whose id, token or active name already exists, instead of refusing'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;doctor'= {
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;backup'= {
            cand --passphrase-file 'Read the vault passphrase from this file (only a trailing newline is stripped)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;restore'= {
            cand --passphrase-file 'Read the vault passphrase from this file (only a trailing newline is stripped)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand -y 'Don''t ask for confirmation (needed when stdin is not a terminal)'
            cand --yes 'Don''t ask for confirmation (needed when stdin is not a terminal)'
            cand --force 'Replace a store that holds tokens or events (it is kept beside it)'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;vault'= {
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create the vault and set its passphrase'
            cand reveal 'Print a kept token alone on stdout'
            cand status 'Say whether there is a vault, its KDF parameters and how many secrets it keeps'
            cand passwd 'Change the passphrase (the kept secrets are not re-encrypted)'
            cand forget 'Erase one token''s kept secret (the token stays valid)'
            cand export 'Write the encrypted vault (never plaintext) to FILE, or stdout with -'
            cand import 'Bring kept secrets in from an export, for tokens this store has'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'vbx-tokens;vault;init'= {
            cand --kdf-memory-mib 'Argon2id memory in MiB, 8 to 4096 [default: 64, or the vault''s current value]'
            cand --kdf-iterations 'Argon2id iterations, 1 to 64 [default: 3, or the vault''s current value]'
            cand --kdf-parallelism 'Argon2id lanes, 1 to 16 [default: 4, or the vault''s current value]'
            cand --passphrase-file 'Read the vault passphrase from this file (only a trailing newline is stripped)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;vault;reveal'= {
            cand --passphrase-file 'Read the vault passphrase from this file (only a trailing newline is stripped)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;vault;status'= {
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;vault;passwd'= {
            cand --new-passphrase-file 'Read the new passphrase from this file instead of asking twice'
            cand --kdf-memory-mib 'Argon2id memory in MiB, 8 to 4096 [default: 64, or the vault''s current value]'
            cand --kdf-iterations 'Argon2id iterations, 1 to 64 [default: 3, or the vault''s current value]'
            cand --kdf-parallelism 'Argon2id lanes, 1 to 16 [default: 4, or the vault''s current value]'
            cand --passphrase-file 'Read the vault passphrase from this file (only a trailing newline is stripped)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;vault;forget'= {
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;vault;export'= {
            cand --passphrase-file 'Read the vault passphrase from this file (only a trailing newline is stripped)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;vault;import'= {
            cand --from-passphrase-file 'Read the file''s passphrase from this file'
            cand --passphrase-file 'Read the vault passphrase from this file (only a trailing newline is stripped)'
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;vault;help'= {
            cand init 'Create the vault and set its passphrase'
            cand reveal 'Print a kept token alone on stdout'
            cand status 'Say whether there is a vault, its KDF parameters and how many secrets it keeps'
            cand passwd 'Change the passphrase (the kept secrets are not re-encrypted)'
            cand forget 'Erase one token''s kept secret (the token stays valid)'
            cand export 'Write the encrypted vault (never plaintext) to FILE, or stdout with -'
            cand import 'Bring kept secrets in from an export, for tokens this store has'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'vbx-tokens;vault;help;init'= {
        }
        &'vbx-tokens;vault;help;reveal'= {
        }
        &'vbx-tokens;vault;help;status'= {
        }
        &'vbx-tokens;vault;help;passwd'= {
        }
        &'vbx-tokens;vault;help;forget'= {
        }
        &'vbx-tokens;vault;help;export'= {
        }
        &'vbx-tokens;vault;help;import'= {
        }
        &'vbx-tokens;vault;help;help'= {
        }
        &'vbx-tokens;grant-verify'= {
            cand --store 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]'
            cand --wait 'How long to wait for another process to release the store, in seconds'
            cand --trust-owner 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used'
            cand --json 'Print JSON on stdout instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'vbx-tokens;help'= {
            cand create 'Make a new token and show it once'
            cand list 'List tokens (all but revoked ones unless --all or --status)'
            cand show 'Show one token''s record'
            cand revoke 'Revoke a token (or every token unused for a while): invalid at once, and it cannot be undone'
            cand verify 'Check a token read from $VBX_TOKEN or stdin: exit 0 if valid, 1 if not'
            cand rotate 'Make a new token to replace one: same name, note, scopes and expiry policy'
            cand disable 'Suspend a token without revoking it: verify answers `disabled` until `enable`'
            cand enable 'Undo `disable`'
            cand extend 'Move a token''s expiry'
            cand scan 'Find tokens in files, directories (recursively, honouring .gitignore) or stdin: exit 1 if one still verifies'
            cand redact 'Copy stdin to stdout with every token masked and labelled with its id, line by line'
            cand log 'Read the audit log (oldest first), or check its hash chain'
            cand export 'Print every token record as NDJSON (one JSON object a line), never a token'
            cand import 'Add token records from NDJSON (a file, or - for stdin): all or nothing'
            cand doctor 'Check every part of the store, repair what can be derived again, report what cannot'
            cand backup 'Write the whole store to FILE (records, audit log, encrypted vault), taken under its lock'
            cand restore 'Rebuild the store from a backup (asks first; --yes outside a terminal)'
            cand vault 'Keep chosen tokens encrypted under a passphrase, to reveal them later'
            cand grant-verify 'On a PostgreSQL store: let a database role verify (and count uses), and nothing else'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'vbx-tokens;help;create'= {
        }
        &'vbx-tokens;help;list'= {
        }
        &'vbx-tokens;help;show'= {
        }
        &'vbx-tokens;help;revoke'= {
        }
        &'vbx-tokens;help;verify'= {
        }
        &'vbx-tokens;help;rotate'= {
        }
        &'vbx-tokens;help;disable'= {
        }
        &'vbx-tokens;help;enable'= {
        }
        &'vbx-tokens;help;extend'= {
        }
        &'vbx-tokens;help;scan'= {
        }
        &'vbx-tokens;help;redact'= {
        }
        &'vbx-tokens;help;log'= {
        }
        &'vbx-tokens;help;export'= {
        }
        &'vbx-tokens;help;import'= {
        }
        &'vbx-tokens;help;doctor'= {
        }
        &'vbx-tokens;help;backup'= {
        }
        &'vbx-tokens;help;restore'= {
        }
        &'vbx-tokens;help;vault'= {
            cand init 'Create the vault and set its passphrase'
            cand reveal 'Print a kept token alone on stdout'
            cand status 'Say whether there is a vault, its KDF parameters and how many secrets it keeps'
            cand passwd 'Change the passphrase (the kept secrets are not re-encrypted)'
            cand forget 'Erase one token''s kept secret (the token stays valid)'
            cand export 'Write the encrypted vault (never plaintext) to FILE, or stdout with -'
            cand import 'Bring kept secrets in from an export, for tokens this store has'
        }
        &'vbx-tokens;help;vault;init'= {
        }
        &'vbx-tokens;help;vault;reveal'= {
        }
        &'vbx-tokens;help;vault;status'= {
        }
        &'vbx-tokens;help;vault;passwd'= {
        }
        &'vbx-tokens;help;vault;forget'= {
        }
        &'vbx-tokens;help;vault;export'= {
        }
        &'vbx-tokens;help;vault;import'= {
        }
        &'vbx-tokens;help;grant-verify'= {
        }
        &'vbx-tokens;help;help'= {
        }
    ]
    $completions[$command]
}
