# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_vbx_tokens_global_optspecs
    string join \n store= wait= trust-owner= json h/help V/version
end

function __fish_vbx_tokens_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_vbx_tokens_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_vbx_tokens_using_subcommand
    set -l cmd (__fish_vbx_tokens_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "create" -d 'Make a new token and show it once'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "list" -d 'List tokens (all but revoked ones unless --all or --status)'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "show" -d 'Show one token\'s record'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "revoke" -d 'Revoke a token (or every token unused for a while): invalid at once, and it cannot be undone'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "verify" -d 'Check a token read from $VBX_TOKEN or stdin: exit 0 if valid, 1 if not'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "rotate" -d 'Make a new token to replace one: same name, note, scopes and expiry policy'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "disable" -d 'Suspend a token without revoking it: verify answers `disabled` until `enable`'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "enable" -d 'Undo `disable`'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "extend" -d 'Move a token\'s expiry'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "scan" -d 'Find tokens in files, directories (recursively, honouring .gitignore) or stdin: exit 1 if one still verifies'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "redact" -d 'Copy stdin to stdout with every token masked and labelled with its id, line by line'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "log" -d 'Read the audit log (oldest first), or check its hash chain'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "export" -d 'Print every token record as NDJSON (one JSON object a line), never a token'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "import" -d 'Add token records from NDJSON (a file, or - for stdin): all or nothing'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "doctor" -d 'Check every part of the store, repair what can be derived again, report what cannot'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "backup" -d 'Write the whole store to FILE (records, audit log, encrypted vault), taken under its lock'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "restore" -d 'Rebuild the store from a backup (asks first; --yes outside a terminal)'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "vault" -d 'Keep chosen tokens encrypted under a passphrase, to reveal them later'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "grant-verify" -d 'On a PostgreSQL store: let a database role verify (and count uses), and nothing else'
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l name -d 'A name for the token, unique among active tokens (asked for in a terminal)' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l note -d 'A free-text note, such as what the token is for' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l expires-in -d 'Expire this long from now: 90d, 12h, 2w, 30m, 45s (or combined: 1d12h)' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l expires-at -d 'Expire at this time (RFC 3339, such as 2027-01-31T00:00:00Z)' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l scope -d 'Allow only this scope (repeatable): `word` or `word:word`, lowercase; none means full access' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l max-uses -d 'Allow at most N valid, counted verifies; the next answers usage_exceeded' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l allow-ip -d 'Allow use only from this address range (repeatable; CIDR, IPv4 or IPv6); verify then needs --ip inside one' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l passphrase-file -d 'Read the vault passphrase from this file (only a trailing newline is stripped)' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -s q -l quiet -d 'Print the token alone, with no message'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l keep -d 'Also keep the token in the vault, encrypted, so `vault reveal` can show it again'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand list" -l status -d 'Only tokens with this status (repeatable): active, revoked, expired, disabled' -r -f -a "active\t''
revoked\t''
expired\t''
disabled\t''"
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand list" -l unused-for -d 'Only tokens not used for this long: never used and made before then, or last used before then (90d, 12h, 2w, 30m, 45s)' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand list" -l expiring-within -d 'Only tokens that expire within this long from now (not expired yet, not revoked)' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand list" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand list" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand list" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand list" -l all -d 'Include revoked tokens'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand list" -l fail-if-any -d 'Exit 1 if any token matches (after printing them): a whole cron alert'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand list" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand list" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand list" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand show" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand show" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand show" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand show" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand show" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand show" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand revoke" -l unused-for -d 'Revoke every token not used for this long, in one commit, instead of one token' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand revoke" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand revoke" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand revoke" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand revoke" -l dry-run -d 'With --unused-for: list what would be revoked, and revoke nothing'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand revoke" -s y -l yes -d 'Don\'t ask for confirmation (needed when stdin is not a terminal)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand revoke" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand revoke" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand revoke" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand verify" -l scope -d 'Require this scope (repeatable); a token without scopes has them all' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand verify" -l ip -d 'The client\'s address, checked against the token\'s --allow-ip ranges and recorded as last_used_ip' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand verify" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand verify" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand verify" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand verify" -l no-touch -d 'Don\'t count this as a use (leave last_used_at and use_count alone)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand verify" -l batch -d 'Read one token per line from stdin and print one JSON line per token (NDJSON); exit 0 only if all are valid'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand verify" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand verify" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand verify" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand rotate" -l grace -d 'Let the old token keep verifying this long (90d, 12h, 2w, 30m, 45s); without it, it is revoked at once' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand rotate" -l passphrase-file -d 'Read the vault passphrase from this file (only a trailing newline is stripped)' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand rotate" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand rotate" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand rotate" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand rotate" -s q -l quiet -d 'Print the new token alone, with no message'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand rotate" -l keep -d 'Also keep the new token in the vault, encrypted'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand rotate" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand rotate" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand rotate" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand disable" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand disable" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand disable" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand disable" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand disable" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand disable" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand enable" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand enable" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand enable" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand enable" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand enable" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand enable" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand extend" -l expires-in -d 'Expire this long from now: 90d, 12h, 2w, 30m, 45s (or combined: 1d12h)' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand extend" -l expires-at -d 'Expire at this time (RFC 3339, such as 2027-01-31T00:00:00Z)' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand extend" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand extend" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand extend" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand extend" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand extend" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand extend" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand scan" -l max-size -d 'Read at most this much of each file or of stdin (K, M, G: KiB, MiB, GiB); past it the scan is incomplete (exit 2)' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand scan" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand scan" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand scan" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand scan" -l hidden -d 'Search hidden files and directories too'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand scan" -l no-ignore -d 'Search files that .gitignore, .ignore and git\'s excludes leave out'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand scan" -l staged -d 'Search what git\'s index holds for the files a commit would add or change (a pre-commit hook), not the work tree'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand scan" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand scan" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand scan" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand redact" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand redact" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand redact" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand redact" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand redact" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand redact" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand log" -l limit -d 'Show only the last N events' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand log" -l token -d 'Show only the events of this token (id or name)' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand log" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand log" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand log" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand log" -l check -d 'Check the hash chain instead: exit 0 if it is whole, 6 naming the first broken event'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand log" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand log" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand log" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand export" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand export" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand export" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand export" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand export" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand export" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand import" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand import" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand import" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand import" -l any-format -d 'Accept plaintext tokens that are not in the vbx_ format (another system\'s tokens)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand import" -l skip-existing -d 'Leave out records whose id, token or active name already exists, instead of refusing'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand import" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand import" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand import" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand doctor" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand doctor" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand doctor" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand doctor" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand backup" -l passphrase-file -d 'Read the vault passphrase from this file (only a trailing newline is stripped)' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand backup" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand backup" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand backup" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand backup" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand backup" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand backup" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand restore" -l passphrase-file -d 'Read the vault passphrase from this file (only a trailing newline is stripped)' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand restore" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand restore" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand restore" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand restore" -s y -l yes -d 'Don\'t ask for confirmation (needed when stdin is not a terminal)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand restore" -l force -d 'Replace a store that holds tokens or events (it is kept beside it)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand restore" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand restore" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand restore" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -f -a "init" -d 'Create the vault and set its passphrase'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -f -a "reveal" -d 'Print a kept token alone on stdout'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -f -a "status" -d 'Say whether there is a vault, its KDF parameters and how many secrets it keeps'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -f -a "passwd" -d 'Change the passphrase (the kept secrets are not re-encrypted)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -f -a "forget" -d 'Erase one token\'s kept secret (the token stays valid)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -f -a "export" -d 'Write the encrypted vault (never plaintext) to FILE, or stdout with -'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -f -a "import" -d 'Bring kept secrets in from an export, for tokens this store has'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from init" -l kdf-memory-mib -d 'Argon2id memory in MiB, 8 to 4096 [default: 64, or the vault\'s current value]' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from init" -l kdf-iterations -d 'Argon2id iterations, 1 to 64 [default: 3, or the vault\'s current value]' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from init" -l kdf-parallelism -d 'Argon2id lanes, 1 to 16 [default: 4, or the vault\'s current value]' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from init" -l passphrase-file -d 'Read the vault passphrase from this file (only a trailing newline is stripped)' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from init" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from init" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from init" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from init" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from reveal" -l passphrase-file -d 'Read the vault passphrase from this file (only a trailing newline is stripped)' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from reveal" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from reveal" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from reveal" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from reveal" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from reveal" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from reveal" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from status" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from status" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from status" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from status" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from passwd" -l new-passphrase-file -d 'Read the new passphrase from this file instead of asking twice' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from passwd" -l kdf-memory-mib -d 'Argon2id memory in MiB, 8 to 4096 [default: 64, or the vault\'s current value]' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from passwd" -l kdf-iterations -d 'Argon2id iterations, 1 to 64 [default: 3, or the vault\'s current value]' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from passwd" -l kdf-parallelism -d 'Argon2id lanes, 1 to 16 [default: 4, or the vault\'s current value]' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from passwd" -l passphrase-file -d 'Read the vault passphrase from this file (only a trailing newline is stripped)' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from passwd" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from passwd" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from passwd" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from passwd" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from passwd" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from passwd" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from forget" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from forget" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from forget" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from forget" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from forget" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from forget" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from export" -l passphrase-file -d 'Read the vault passphrase from this file (only a trailing newline is stripped)' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from export" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from export" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from export" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from export" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from import" -l from-passphrase-file -d 'Read the file\'s passphrase from this file' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from import" -l passphrase-file -d 'Read the vault passphrase from this file (only a trailing newline is stripped)' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from import" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from import" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from import" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from import" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "init" -d 'Create the vault and set its passphrase'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "reveal" -d 'Print a kept token alone on stdout'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "status" -d 'Say whether there is a vault, its KDF parameters and how many secrets it keeps'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "passwd" -d 'Change the passphrase (the kept secrets are not re-encrypted)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "forget" -d 'Erase one token\'s kept secret (the token stays valid)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write the encrypted vault (never plaintext) to FILE, or stdout with -'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "import" -d 'Bring kept secrets in from an export, for tokens this store has'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand grant-verify" -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand grant-verify" -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand grant-verify" -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand grant-verify" -l json -d 'Print JSON on stdout instead of text'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand grant-verify" -s h -l help -d 'Print help'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand grant-verify" -s V -l version -d 'Print version'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "create" -d 'Make a new token and show it once'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "list" -d 'List tokens (all but revoked ones unless --all or --status)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "show" -d 'Show one token\'s record'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "revoke" -d 'Revoke a token (or every token unused for a while): invalid at once, and it cannot be undone'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "verify" -d 'Check a token read from $VBX_TOKEN or stdin: exit 0 if valid, 1 if not'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "rotate" -d 'Make a new token to replace one: same name, note, scopes and expiry policy'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "disable" -d 'Suspend a token without revoking it: verify answers `disabled` until `enable`'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "enable" -d 'Undo `disable`'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "extend" -d 'Move a token\'s expiry'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "scan" -d 'Find tokens in files, directories (recursively, honouring .gitignore) or stdin: exit 1 if one still verifies'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "redact" -d 'Copy stdin to stdout with every token masked and labelled with its id, line by line'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "log" -d 'Read the audit log (oldest first), or check its hash chain'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "export" -d 'Print every token record as NDJSON (one JSON object a line), never a token'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "import" -d 'Add token records from NDJSON (a file, or - for stdin): all or nothing'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "doctor" -d 'Check every part of the store, repair what can be derived again, report what cannot'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "backup" -d 'Write the whole store to FILE (records, audit log, encrypted vault), taken under its lock'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "restore" -d 'Rebuild the store from a backup (asks first; --yes outside a terminal)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "vault" -d 'Keep chosen tokens encrypted under a passphrase, to reveal them later'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "grant-verify" -d 'On a PostgreSQL store: let a database role verify (and count uses), and nothing else'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and not __fish_seen_subcommand_from create list show revoke verify rotate disable enable extend scan redact log export import doctor backup restore vault grant-verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "init" -d 'Create the vault and set its passphrase'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "reveal" -d 'Print a kept token alone on stdout'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "status" -d 'Say whether there is a vault, its KDF parameters and how many secrets it keeps'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "passwd" -d 'Change the passphrase (the kept secrets are not re-encrypted)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "forget" -d 'Erase one token\'s kept secret (the token stays valid)'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "export" -d 'Write the encrypted vault (never plaintext) to FILE, or stdout with -'
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "import" -d 'Bring kept secrets in from an export, for tokens this store has'
# Added by vbx-tokens (src/generate.rs): no file names for arguments that are not paths, and
# global flags' values completed before the subcommand too.
complete -c vbx-tokens -n "__fish_vbx_tokens_needs_command" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand create" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand disable" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand doctor" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand enable" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand export" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand extend" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand grant-verify" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand list" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand log" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand redact" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand revoke" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand rotate" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand show" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from forget" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from init" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from passwd" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from reveal" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and __fish_seen_subcommand_from status" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand vault; and not __fish_seen_subcommand_from init reveal status passwd forget export import help" -f
complete -c vbx-tokens -n "__fish_vbx_tokens_using_subcommand verify" -f
complete -c vbx-tokens -l store -d 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]' -r -F
complete -c vbx-tokens -l wait -d 'How long to wait for another process to release the store, in seconds' -r -f
complete -c vbx-tokens -l trust-owner -d 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used' -r -f
