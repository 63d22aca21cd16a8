
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'vbx-tokens' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'vbx-tokens'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'vbx-tokens' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Make a new token and show it once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tokens (all but revoked ones unless --all or --status)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one token''s record')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a token (or every token unused for a while): invalid at once, and it cannot be undone')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a token read from $VBX_TOKEN or stdin: exit 0 if valid, 1 if not')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Make a new token to replace one: same name, note, scopes and expiry policy')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Suspend a token without revoking it: verify answers `disabled` until `enable`')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Undo `disable`')
            [CompletionResult]::new('extend', 'extend', [CompletionResultType]::ParameterValue, 'Move a token''s expiry')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Find tokens in files, directories (recursively, honouring .gitignore) or stdin: exit 1 if one still verifies')
            [CompletionResult]::new('redact', 'redact', [CompletionResultType]::ParameterValue, 'Copy stdin to stdout with every token masked and labelled with its id, line by line')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'Read the audit log (oldest first), or check its hash chain')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print every token record as NDJSON (one JSON object a line), never a token')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Add token records from NDJSON (a file, or - for stdin): all or nothing')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check every part of the store, repair what can be derived again, report what cannot')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write the whole store to FILE (records, audit log, encrypted vault), taken under its lock')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Rebuild the store from a backup (asks first; --yes outside a terminal)')
            [CompletionResult]::new('vault', 'vault', [CompletionResultType]::ParameterValue, 'Keep chosen tokens encrypted under a passphrase, to reveal them later')
            [CompletionResult]::new('grant-verify', 'grant-verify', [CompletionResultType]::ParameterValue, 'On a PostgreSQL store: let a database role verify (and count uses), and nothing else')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vbx-tokens;create' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'A name for the token, unique among active tokens (asked for in a terminal)')
            [CompletionResult]::new('--note', '--note', [CompletionResultType]::ParameterName, 'A free-text note, such as what the token is for')
            [CompletionResult]::new('--expires-in', '--expires-in', [CompletionResultType]::ParameterName, 'Expire this long from now: 90d, 12h, 2w, 30m, 45s (or combined: 1d12h)')
            [CompletionResult]::new('--expires-at', '--expires-at', [CompletionResultType]::ParameterName, 'Expire at this time (RFC 3339, such as 2027-01-31T00:00:00Z)')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Allow only this scope (repeatable): `word` or `word:word`, lowercase; none means full access')
            [CompletionResult]::new('--max-uses', '--max-uses', [CompletionResultType]::ParameterName, 'Allow at most N valid, counted verifies; the next answers usage_exceeded')
            [CompletionResult]::new('--allow-ip', '--allow-ip', [CompletionResultType]::ParameterName, 'Allow use only from this address range (repeatable; CIDR, IPv4 or IPv6); verify then needs --ip inside one')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the vault passphrase from this file (only a trailing newline is stripped)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print the token alone, with no message')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print the token alone, with no message')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Also keep the token in the vault, encrypted, so `vault reveal` can show it again')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;list' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only tokens with this status (repeatable): active, revoked, expired, disabled')
            [CompletionResult]::new('--unused-for', '--unused-for', [CompletionResultType]::ParameterName, 'Only tokens not used for this long: never used and made before then, or last used before then (90d, 12h, 2w, 30m, 45s)')
            [CompletionResult]::new('--expiring-within', '--expiring-within', [CompletionResultType]::ParameterName, 'Only tokens that expire within this long from now (not expired yet, not revoked)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Include revoked tokens')
            [CompletionResult]::new('--fail-if-any', '--fail-if-any', [CompletionResultType]::ParameterName, 'Exit 1 if any token matches (after printing them): a whole cron alert')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;show' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;revoke' {
            [CompletionResult]::new('--unused-for', '--unused-for', [CompletionResultType]::ParameterName, 'Revoke every token not used for this long, in one commit, instead of one token')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'With --unused-for: list what would be revoked, and revoke nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Don''t ask for confirmation (needed when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Don''t ask for confirmation (needed when stdin is not a terminal)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;verify' {
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Require this scope (repeatable); a token without scopes has them all')
            [CompletionResult]::new('--ip', '--ip', [CompletionResultType]::ParameterName, 'The client''s address, checked against the token''s --allow-ip ranges and recorded as last_used_ip')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--no-touch', '--no-touch', [CompletionResultType]::ParameterName, 'Don''t count this as a use (leave last_used_at and use_count alone)')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'Read one token per line from stdin and print one JSON line per token (NDJSON); exit 0 only if all are valid')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;rotate' {
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'Let the old token keep verifying this long (90d, 12h, 2w, 30m, 45s); without it, it is revoked at once')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the vault passphrase from this file (only a trailing newline is stripped)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print the new token alone, with no message')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print the new token alone, with no message')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Also keep the new token in the vault, encrypted')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;disable' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;enable' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;extend' {
            [CompletionResult]::new('--expires-in', '--expires-in', [CompletionResultType]::ParameterName, 'Expire this long from now: 90d, 12h, 2w, 30m, 45s (or combined: 1d12h)')
            [CompletionResult]::new('--expires-at', '--expires-at', [CompletionResultType]::ParameterName, 'Expire at this time (RFC 3339, such as 2027-01-31T00:00:00Z)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;scan' {
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Read at most this much of each file or of stdin (K, M, G: KiB, MiB, GiB); past it the scan is incomplete (exit 2)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--hidden', '--hidden', [CompletionResultType]::ParameterName, 'Search hidden files and directories too')
            [CompletionResult]::new('--no-ignore', '--no-ignore', [CompletionResultType]::ParameterName, 'Search files that .gitignore, .ignore and git''s excludes leave out')
            [CompletionResult]::new('--staged', '--staged', [CompletionResultType]::ParameterName, 'Search what git''s index holds for the files a commit would add or change (a pre-commit hook), not the work tree')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;redact' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;log' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Show only the last N events')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Show only the events of this token (id or name)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Check the hash chain instead: exit 0 if it is whole, 6 naming the first broken event')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;export' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;import' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--any-format', '--any-format', [CompletionResultType]::ParameterName, 'Accept plaintext tokens that are not in the vbx_ format (another system''s tokens)')
            [CompletionResult]::new('--skip-existing', '--skip-existing', [CompletionResultType]::ParameterName, 'Leave out records whose id, token or active name already exists, instead of refusing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;doctor' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;backup' {
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the vault passphrase from this file (only a trailing newline is stripped)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;restore' {
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the vault passphrase from this file (only a trailing newline is stripped)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Don''t ask for confirmation (needed when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Don''t ask for confirmation (needed when stdin is not a terminal)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace a store that holds tokens or events (it is kept beside it)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;vault' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the vault and set its passphrase')
            [CompletionResult]::new('reveal', 'reveal', [CompletionResultType]::ParameterValue, 'Print a kept token alone on stdout')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether there is a vault, its KDF parameters and how many secrets it keeps')
            [CompletionResult]::new('passwd', 'passwd', [CompletionResultType]::ParameterValue, 'Change the passphrase (the kept secrets are not re-encrypted)')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Erase one token''s kept secret (the token stays valid)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the encrypted vault (never plaintext) to FILE, or stdout with -')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Bring kept secrets in from an export, for tokens this store has')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vbx-tokens;vault;init' {
            [CompletionResult]::new('--kdf-memory-mib', '--kdf-memory-mib', [CompletionResultType]::ParameterName, 'Argon2id memory in MiB, 8 to 4096 [default: 64, or the vault''s current value]')
            [CompletionResult]::new('--kdf-iterations', '--kdf-iterations', [CompletionResultType]::ParameterName, 'Argon2id iterations, 1 to 64 [default: 3, or the vault''s current value]')
            [CompletionResult]::new('--kdf-parallelism', '--kdf-parallelism', [CompletionResultType]::ParameterName, 'Argon2id lanes, 1 to 16 [default: 4, or the vault''s current value]')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the vault passphrase from this file (only a trailing newline is stripped)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;vault;reveal' {
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the vault passphrase from this file (only a trailing newline is stripped)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;vault;status' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;vault;passwd' {
            [CompletionResult]::new('--new-passphrase-file', '--new-passphrase-file', [CompletionResultType]::ParameterName, 'Read the new passphrase from this file instead of asking twice')
            [CompletionResult]::new('--kdf-memory-mib', '--kdf-memory-mib', [CompletionResultType]::ParameterName, 'Argon2id memory in MiB, 8 to 4096 [default: 64, or the vault''s current value]')
            [CompletionResult]::new('--kdf-iterations', '--kdf-iterations', [CompletionResultType]::ParameterName, 'Argon2id iterations, 1 to 64 [default: 3, or the vault''s current value]')
            [CompletionResult]::new('--kdf-parallelism', '--kdf-parallelism', [CompletionResultType]::ParameterName, 'Argon2id lanes, 1 to 16 [default: 4, or the vault''s current value]')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the vault passphrase from this file (only a trailing newline is stripped)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;vault;forget' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;vault;export' {
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the vault passphrase from this file (only a trailing newline is stripped)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;vault;import' {
            [CompletionResult]::new('--from-passphrase-file', '--from-passphrase-file', [CompletionResultType]::ParameterName, 'Read the file''s passphrase from this file')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the vault passphrase from this file (only a trailing newline is stripped)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;vault;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the vault and set its passphrase')
            [CompletionResult]::new('reveal', 'reveal', [CompletionResultType]::ParameterValue, 'Print a kept token alone on stdout')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether there is a vault, its KDF parameters and how many secrets it keeps')
            [CompletionResult]::new('passwd', 'passwd', [CompletionResultType]::ParameterValue, 'Change the passphrase (the kept secrets are not re-encrypted)')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Erase one token''s kept secret (the token stays valid)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the encrypted vault (never plaintext) to FILE, or stdout with -')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Bring kept secrets in from an export, for tokens this store has')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vbx-tokens;vault;help;init' {
            break
        }
        'vbx-tokens;vault;help;reveal' {
            break
        }
        'vbx-tokens;vault;help;status' {
            break
        }
        'vbx-tokens;vault;help;passwd' {
            break
        }
        'vbx-tokens;vault;help;forget' {
            break
        }
        'vbx-tokens;vault;help;export' {
            break
        }
        'vbx-tokens;vault;help;import' {
            break
        }
        'vbx-tokens;vault;help;help' {
            break
        }
        'vbx-tokens;grant-verify' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE) [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for another process to release the store, in seconds')
            [CompletionResult]::new('--trust-owner', '--trust-owner', [CompletionResultType]::ParameterName, 'Also trust a store (its directory, the directories above it and its files) owned by this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER (read only when the flag is not given). By default only stores owned by you or root are used')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON on stdout instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'vbx-tokens;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Make a new token and show it once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tokens (all but revoked ones unless --all or --status)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one token''s record')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a token (or every token unused for a while): invalid at once, and it cannot be undone')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a token read from $VBX_TOKEN or stdin: exit 0 if valid, 1 if not')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Make a new token to replace one: same name, note, scopes and expiry policy')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Suspend a token without revoking it: verify answers `disabled` until `enable`')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Undo `disable`')
            [CompletionResult]::new('extend', 'extend', [CompletionResultType]::ParameterValue, 'Move a token''s expiry')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Find tokens in files, directories (recursively, honouring .gitignore) or stdin: exit 1 if one still verifies')
            [CompletionResult]::new('redact', 'redact', [CompletionResultType]::ParameterValue, 'Copy stdin to stdout with every token masked and labelled with its id, line by line')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'Read the audit log (oldest first), or check its hash chain')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print every token record as NDJSON (one JSON object a line), never a token')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Add token records from NDJSON (a file, or - for stdin): all or nothing')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check every part of the store, repair what can be derived again, report what cannot')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write the whole store to FILE (records, audit log, encrypted vault), taken under its lock')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Rebuild the store from a backup (asks first; --yes outside a terminal)')
            [CompletionResult]::new('vault', 'vault', [CompletionResultType]::ParameterValue, 'Keep chosen tokens encrypted under a passphrase, to reveal them later')
            [CompletionResult]::new('grant-verify', 'grant-verify', [CompletionResultType]::ParameterValue, 'On a PostgreSQL store: let a database role verify (and count uses), and nothing else')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'vbx-tokens;help;create' {
            break
        }
        'vbx-tokens;help;list' {
            break
        }
        'vbx-tokens;help;show' {
            break
        }
        'vbx-tokens;help;revoke' {
            break
        }
        'vbx-tokens;help;verify' {
            break
        }
        'vbx-tokens;help;rotate' {
            break
        }
        'vbx-tokens;help;disable' {
            break
        }
        'vbx-tokens;help;enable' {
            break
        }
        'vbx-tokens;help;extend' {
            break
        }
        'vbx-tokens;help;scan' {
            break
        }
        'vbx-tokens;help;redact' {
            break
        }
        'vbx-tokens;help;log' {
            break
        }
        'vbx-tokens;help;export' {
            break
        }
        'vbx-tokens;help;import' {
            break
        }
        'vbx-tokens;help;doctor' {
            break
        }
        'vbx-tokens;help;backup' {
            break
        }
        'vbx-tokens;help;restore' {
            break
        }
        'vbx-tokens;help;vault' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the vault and set its passphrase')
            [CompletionResult]::new('reveal', 'reveal', [CompletionResultType]::ParameterValue, 'Print a kept token alone on stdout')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether there is a vault, its KDF parameters and how many secrets it keeps')
            [CompletionResult]::new('passwd', 'passwd', [CompletionResultType]::ParameterValue, 'Change the passphrase (the kept secrets are not re-encrypted)')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Erase one token''s kept secret (the token stays valid)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the encrypted vault (never plaintext) to FILE, or stdout with -')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Bring kept secrets in from an export, for tokens this store has')
            break
        }
        'vbx-tokens;help;vault;init' {
            break
        }
        'vbx-tokens;help;vault;reveal' {
            break
        }
        'vbx-tokens;help;vault;status' {
            break
        }
        'vbx-tokens;help;vault;passwd' {
            break
        }
        'vbx-tokens;help;vault;forget' {
            break
        }
        'vbx-tokens;help;vault;export' {
            break
        }
        'vbx-tokens;help;vault;import' {
            break
        }
        'vbx-tokens;help;grant-verify' {
            break
        }
        'vbx-tokens;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
