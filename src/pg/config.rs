//! Where a PostgreSQL store is and how to reach it: a `postgres://` or `postgresql://` URL in
//! libpq's URI form, with the `PG*` environment variables and the password file filling in
//! what the URL leaves out, as libpq does (PostgreSQL documentation, "Connection Strings",
//! "Environment Variables" and "The Password File").
//!
//! Pure: the environment comes in as a function, so every rule is a unit test.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use postgres::config::Host;

/// The port PostgreSQL listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 5432;

/// Where a default build of PostgreSQL on Debian and Ubuntu puts its socket, then upstream's.
const SOCKET_DIRS: &[&str] = &["/var/run/postgresql", "/tmp"];

/// How much TLS a connection needs, libpq's `sslmode` values. `allow` is left out: it tries a
/// connection without TLS first, which a tool that keeps tokens has no reason to prefer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, without checking its certificate.
    Prefer,
    /// TLS, without checking the certificate (unless a root certificate is given, which then
    /// checks it as `VerifyCa` does, as libpq does).
    Require,
    /// TLS with a certificate signed by a trusted root, whatever host name it is for.
    VerifyCa,
    /// TLS with a certificate signed by a trusted root and made for the host connected to.
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Result<SslMode, String> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            "allow" => {
                return Err("sslmode `allow` is not supported: use `prefer` or stronger".into());
            }
            _ => {
                return Err(
                    "sslmode must be disable, prefer, require, verify-ca or verify-full".into(),
                );
            }
        })
    }

    /// The mode as libpq spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where the URL came from: a password is refused on the command line, where `ps` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    CommandLine,
    Environment,
}

/// A PostgreSQL store's server and how to reach it. Its `Debug` and [`Target::shown`] never
/// hold the password.
#[derive(Clone)]
pub struct Target {
    pub(super) config: postgres::Config,
    pub ssl: SslMode,
    /// The roots that sign the server's certificate (`sslrootcert`); `None` means the system's.
    pub root_cert: Option<PathBuf>,
    /// Where the password came from, for the message when the server refuses it.
    pub password_from: Option<String>,
    /// How long a statement waits for a lock another host holds (`--wait`): the server's
    /// `lock_timeout` for this connection.
    pub wait: Duration,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("shown", &self.shown())
            .field("ssl", &self.ssl)
            .field("root_cert", &self.root_cert)
            .field("password_from", &self.password_from)
            .finish()
    }
}

impl Target {
    /// `user@host:port/database` (hosts comma-separated, a socket by its directory): what
    /// messages name, never the password.
    pub fn shown(&self) -> String {
        let c = &self.config;
        let hosts: Vec<String> = c
            .get_hosts()
            .iter()
            .zip(c.get_ports().iter().chain(std::iter::repeat(&DEFAULT_PORT)))
            .map(|(host, port)| match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{}:{port}", dir.display()),
            })
            .collect();
        // The user written back as a URL holds it: a `:` in it shown bare would read as the
        // start of a password (`u%3Asecret` is the user `u:secret`).
        let user: String = c
            .get_user()
            .unwrap_or("")
            .chars()
            .map(|ch| match ch {
                ':' | '@' | '/' | '%' | '?' | '#' => format!("%{:02X}", ch as u32),
                ch => ch.to_string(),
            })
            .collect();
        format!(
            "postgresql://{}@{}/{}",
            user,
            hosts.join(","),
            c.get_dbname().unwrap_or("")
        )
    }

    /// Every host is a Unix socket (which never carries TLS).
    pub fn local_socket(&self) -> bool {
        self.config
            .get_hosts()
            .iter()
            .all(|h| matches!(h, Host::Unix(_)))
    }
}

/// The URL names a PostgreSQL store (not a directory). A URL's scheme is case-insensitive
/// (RFC 3986, 3.1): `POSTGRESQL://` is one too, and must not be taken for a directory (whose
/// name would then hold its password).
pub fn is_url(s: &str) -> bool {
    scheme(s).is_some_and(|scheme| {
        scheme.eq_ignore_ascii_case("postgres") || scheme.eq_ignore_ascii_case("postgresql")
    })
}

/// The scheme of a URL (`scheme://…`, RFC 3986, 3.1: a letter, then letters, digits, `+`, `-`
/// or `.`), if `s` is one.
pub fn scheme(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once("://")?;
    let mut chars = scheme.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    well_formed.then_some(scheme)
}

/// Whether `s` is libpq's other form, `keyword=value` pairs (`host=db dbname=x`), which this
/// tool does not take: said so, rather than taken for a directory and repeated, password
/// and all, in a "no store" message.
pub fn is_keyword_form(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "passfile",
        "sslmode",
        "sslrootcert",
        "connect_timeout",
        "application_name",
        "options",
        "service",
    ];
    s.split_whitespace().any(|part| {
        part.split_once('=')
            .is_some_and(|(key, _)| KEYWORDS.contains(&key.trim()))
    })
}

/// What a connection needs besides the URL: the environment, the user and home directory,
/// and the wait to use as the connect timeout when none is given.
pub struct Surroundings<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub os_user: String,
    pub home: Option<PathBuf>,
    pub wait: Duration,
}

/// The target `url` names, with the environment filling in what it leaves out.
///
/// # Errors
/// A sentence for a URL that does not parse, a parameter this build does not take, a password
/// in a URL given on the command line, or a password file that others can read.
pub fn target(url: &str, source: Source, around: &Surroundings<'_>) -> Result<Target, String> {
    let env = around.env;
    // The parser takes the scheme in lower case only.
    let url = match url.split_once("://") {
        Some((scheme, rest)) if is_url(url) => format!("{}://{rest}", scheme.to_ascii_lowercase()),
        _ => url.to_owned(),
    };
    let (rest, ours) = take_params(&url, &["sslmode", "sslrootcert"])?;
    let mut config = postgres::Config::from_str(&rest).map_err(|e| {
        // tokio-postgres names the option at fault, never its value.
        format!("the PostgreSQL URL is not valid ({})", first_line(&e))
    })?;
    if config.get_password().is_some() && source == Source::CommandLine {
        return Err(
            "the --store URL holds a password, which `ps` would show: give it in PGPASSWORD, the password file (PGPASSFILE, default ~/.pgpass) or a URL in VBX_TOKENS_STORE"
                .into(),
        );
    }
    if config.get_hosts().is_empty() {
        match env("PGHOST").filter(|h| !h.is_empty()) {
            Some(hosts) => {
                for host in hosts.split(',') {
                    if host.starts_with('/') {
                        config.host_path(host);
                    } else {
                        config.host(host);
                    }
                }
            }
            None => {
                let dir = SOCKET_DIRS
                    .iter()
                    .find(|d| Path::new(d).is_dir())
                    .unwrap_or(&SOCKET_DIRS[0]);
                config.host_path(dir);
            }
        }
    }
    if config.get_ports().is_empty()
        && let Some(port) = env("PGPORT").filter(|p| !p.is_empty())
    {
        for p in port.split(',') {
            config.port(
                p.parse()
                    .map_err(|_| "PGPORT is not a port number".to_string())?,
            );
        }
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| around.os_user.clone());
        config.user(&user);
    }
    if config.get_dbname().is_none() {
        let db = env("PGDATABASE")
            .filter(|d| !d.is_empty())
            .or_else(|| config.get_user().map(str::to_owned))
            .unwrap_or_default();
        config.dbname(&db);
    }
    if config.get_connect_timeout().is_none() {
        match env("PGCONNECT_TIMEOUT").filter(|t| !t.is_empty()) {
            Some(t) => {
                let secs: u64 = t
                    .parse()
                    .map_err(|_| "PGCONNECT_TIMEOUT is not a whole number of seconds")?;
                config.connect_timeout(Duration::from_secs(secs.max(2)));
            }
            None => {
                config.connect_timeout(around.wait.max(Duration::from_secs(1)));
            }
        }
    }
    if config.get_application_name().is_none() {
        let name = env("PGAPPNAME")
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "vbx-tokens".into());
        config.application_name(name.as_str());
    }
    let mut password_from = config.get_password().map(|_| "the URL".to_string());
    if password_from.is_none() {
        if let Some(p) = env("PGPASSWORD").filter(|p| !p.is_empty()) {
            config.password(p);
            password_from = Some("PGPASSWORD".into());
        } else if let Some((file, p)) = from_password_file(&config, around)? {
            config.password(p);
            password_from = Some(file.display().to_string());
        }
    }
    let ssl = match ours.get("sslmode").cloned().or_else(|| env("PGSSLMODE")) {
        Some(mode) if !mode.is_empty() => SslMode::parse(&mode)?,
        _ => default_ssl(&config),
    };
    let root_cert = ours
        .get("sslrootcert")
        .cloned()
        .or_else(|| env("PGSSLROOTCERT"))
        .filter(|p| !p.is_empty() && p != "system")
        .map(PathBuf::from)
        .or_else(|| {
            // libpq's default root certificate, when there is one.
            let home = around.home.as_ref()?.join(".postgresql/root.crt");
            home.is_file().then_some(home)
        });
    Ok(Target {
        config,
        ssl,
        root_cert,
        password_from,
        wait: around.wait,
    })
}

/// A Unix socket or a loopback address needs no TLS (prefer it, as libpq does); any other host
/// is across a network, where only a certificate made for that host shows it is the server.
fn default_ssl(config: &postgres::Config) -> SslMode {
    let loopback = |host: &Host| match host {
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    };
    let hosts = config.get_hosts();
    if hosts.iter().all(|h| matches!(h, Host::Unix(_))) {
        SslMode::Disable
    } else if hosts.iter().all(loopback) {
        SslMode::Prefer
    } else {
        SslMode::VerifyFull
    }
}

/// The URL without the parameters in `names`, which tokio-postgres does not take, and their
/// values (percent-decoded).
fn take_params(
    url: &str,
    names: &[&str],
) -> Result<(String, std::collections::HashMap<String, String>), String> {
    let mut ours = std::collections::HashMap::new();
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), ours));
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if names.contains(&key) {
            let value = percent_decode(value)
                .ok_or_else(|| format!("the URL's `{key}` is not valid percent-encoded UTF-8"))?;
            ours.insert(key.to_owned(), value);
        } else {
            kept.push(pair);
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, ours))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn first_line(e: &dyn std::error::Error) -> String {
    let text = match e.source() {
        Some(source) => source.to_string(),
        None => e.to_string(),
    };
    text.lines().next().unwrap_or("").to_owned()
}

/// The password the password file gives this connection: `PGPASSFILE`, else `~/.pgpass`,
/// whose lines are `host:port:database:user:password` (`*` matching anything, `\` escaping
/// `:` and `\`). A Unix socket matches `localhost` or its directory. The file must be a
/// regular file that group and others cannot read (libpq's rule, which it enforces by
/// ignoring the file; a tool that keeps tokens refuses instead, so the mistake is seen).
fn from_password_file(
    config: &postgres::Config,
    around: &Surroundings<'_>,
) -> Result<Option<(PathBuf, String)>, String> {
    let file = match (around.env)("PGPASSFILE").filter(|f| !f.is_empty()) {
        Some(f) => PathBuf::from(f),
        None => match &around.home {
            Some(home) => home.join(".pgpass"),
            None => return Ok(None),
        },
    };
    let meta = match std::fs::metadata(&file) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "cannot read the password file {}: {}",
                file.display(),
                crate::error::reason(&e)
            ));
        }
    };
    use std::os::unix::fs::PermissionsExt;
    if !meta.is_file() {
        return Err(format!(
            "the password file {} is not a regular file",
            file.display()
        ));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "the password file {} is mode {mode:04o}, so others can read it: make it 0600 (chmod 600)",
            file.display()
        ));
    }
    let text = std::fs::read_to_string(&file).map_err(|e| {
        format!(
            "cannot read the password file {}: {}",
            file.display(),
            crate::error::reason(&e)
        )
    })?;
    let (host, port) = match (config.get_hosts().first(), config.get_ports().first()) {
        (Some(Host::Tcp(name)), port) => (name.clone(), *port.unwrap_or(&DEFAULT_PORT)),
        (Some(Host::Unix(dir)), port) => {
            (dir.display().to_string(), *port.unwrap_or(&DEFAULT_PORT))
        }
        (None, port) => ("localhost".into(), *port.unwrap_or(&DEFAULT_PORT)),
    };
    let socket = matches!(config.get_hosts().first(), Some(Host::Unix(_)));
    let port = port.to_string();
    let db = config.get_dbname().unwrap_or("");
    let user = config.get_user().unwrap_or("");
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields = pgpass_fields(line);
        let [h, p, d, u, password] = fields.as_slice() else {
            continue;
        };
        let matches = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        let host_matches = matches(h, &host) || (socket && h == "localhost");
        if host_matches && matches(p, &port) && matches(d, db) && matches(u, user) {
            return Ok(Some((file, password.clone())));
        }
    }
    Ok(None)
}

/// A password file line's five fields, `\:` and `\\` unescaped.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("one field").push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn around<'a>(
        env: &'a dyn Fn(&str) -> Option<String>,
        home: Option<PathBuf>,
    ) -> Surroundings<'a> {
        Surroundings {
            env,
            os_user: "alice".into(),
            home,
            wait: Duration::from_secs(10),
        }
    }

    fn with(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn parse(url: &str, vars: &[(&str, &str)]) -> Result<Target, String> {
        let env = with(vars);
        target(url, Source::Environment, &around(&env, None))
    }

    #[test]
    fn a_url_gives_user_host_port_database_and_parameters() {
        let t = parse(
            "postgresql://vbx@db.example.com:6543/tokens?sslmode=verify-ca&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3&application_name=pos",
            &[],
        )
        .unwrap();
        assert_eq!(t.shown(), "postgresql://vbx@db.example.com:6543/tokens");
        assert_eq!(t.ssl, SslMode::VerifyCa);
        assert_eq!(t.root_cert.as_deref(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(
            t.config.get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
        assert_eq!(t.config.get_application_name(), Some("pos"));
    }

    #[test]
    fn a_user_holding_a_colon_is_shown_escaped_never_as_user_and_password() {
        let t = parse("postgresql://postgres%3aSeCrEt1@localhost:5/a1", &[]).unwrap();
        assert_eq!(t.shown(), "postgresql://postgres%3ASeCrEt1@localhost:5/a1");
        assert!(!t.shown().contains(":SeCrEt1"));
    }

    #[test]
    fn the_environment_fills_in_what_the_url_leaves_out() {
        let vars = [
            ("PGHOST", "/run/pg"),
            ("PGPORT", "5433"),
            ("PGUSER", "bob"),
            ("PGDATABASE", "vbx"),
            ("PGSSLMODE", "require"),
            ("PGPASSWORD", "s3cret"),
        ];
        let t = parse("postgresql://", &vars).unwrap();
        assert_eq!(t.shown(), "postgresql://bob@/run/pg:5433/vbx");
        assert_eq!(t.ssl, SslMode::Require);
        assert_eq!(t.config.get_password(), Some(&b"s3cret"[..]));
        assert_eq!(t.password_from.as_deref(), Some("PGPASSWORD"));
        // What the URL gives wins.
        let t = parse("postgresql://carol@h:1/d?sslmode=disable", &vars).unwrap();
        assert_eq!(t.shown(), "postgresql://carol@h:1/d");
        assert_eq!(t.ssl, SslMode::Disable);
        // Without either: the OS user, a database of that name, the default socket.
        let t = parse("postgres://", &[]).unwrap();
        assert!(
            t.shown().starts_with("postgresql://alice@/"),
            "{}",
            t.shown()
        );
        assert!(t.shown().ends_with("/alice"));
        assert!(t.local_socket());
    }

    #[test]
    fn tls_defaults_to_verify_full_across_a_network_and_to_none_on_this_machine() {
        for (url, mode) in [
            ("postgresql://u@db.example.com/d", SslMode::VerifyFull),
            ("postgresql://u@10.0.0.5/d", SslMode::VerifyFull),
            ("postgresql://u@localhost/d", SslMode::Prefer),
            ("postgresql://u@127.0.0.1/d", SslMode::Prefer),
            ("postgresql://u@[::1]/d", SslMode::Prefer),
            (
                "postgresql://u@localhost,db.example.com/d",
                SslMode::VerifyFull,
            ),
            ("postgresql://u@%2Frun%2Fpg/d", SslMode::Disable),
        ] {
            assert_eq!(parse(url, &[]).unwrap().ssl, mode, "{url}");
        }
    }

    #[test]
    fn a_password_on_the_command_line_is_refused_without_echoing_it() {
        let env = with(&[]);
        for url in [
            "postgresql://u:hunter2@h/d",
            "postgresql://u@h/d?password=hunter2",
        ] {
            let err = target(url, Source::CommandLine, &around(&env, None)).unwrap_err();
            assert!(err.contains("password"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        // From VBX_TOKENS_STORE it is taken.
        let t = target(
            "postgresql://u:hunter2@h/d",
            Source::Environment,
            &around(&env, None),
        )
        .unwrap();
        assert_eq!(t.password_from.as_deref(), Some("the URL"));
        assert!(!format!("{t:?}").contains("hunter2"));
        assert!(!t.shown().contains("hunter2"));
    }

    #[test]
    fn bad_urls_and_parameters_are_refused_by_name() {
        for (url, says) in [
            ("postgresql://h/d?sslmode=allow", "allow"),
            ("postgresql://h/d?sslmode=bogus", "sslmode"),
            ("postgresql://h/d?sslcompression=1", "sslcompression"),
            ("postgresql://h/d?sslrootcert=%ZZ", "sslrootcert"),
            ("postgresql://h:notaport/d", "not valid"),
        ] {
            let err = parse(url, &[]).unwrap_err();
            assert!(err.contains(says), "{url}: {err}");
        }
    }

    #[test]
    fn the_password_file_is_matched_as_libpq_matches_it_and_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:*:*:*:no\ndb.example.com:5432:tokens:vbx:pa\\:ss\nlocalhost:*:*:*:local\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let path = file.to_str().unwrap();
        let t = parse(
            "postgresql://vbx@db.example.com/tokens",
            &[("PGPASSFILE", path)],
        )
        .unwrap();
        assert_eq!(t.config.get_password(), Some(&b"pa:ss"[..]));
        let t = parse("postgresql://vbx@%2Frun%2Fpg/x", &[("PGPASSFILE", path)]).unwrap();
        assert_eq!(
            t.config.get_password(),
            Some(&b"local"[..]),
            "a socket is localhost"
        );
        let t = parse("postgresql://vbx@elsewhere/x", &[("PGPASSFILE", path)]).unwrap();
        assert_eq!(t.config.get_password(), None);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = parse(
            "postgresql://vbx@db.example.com/tokens",
            &[("PGPASSFILE", path)],
        )
        .unwrap_err();
        assert!(err.contains("0644") && err.contains("chmod 600"), "{err}");
        // PGPASSWORD comes before the file, and a missing file is no error.
        let t = parse(
            "postgresql://vbx@db.example.com/tokens",
            &[("PGPASSFILE", "/nonexistent"), ("PGPASSWORD", "env")],
        )
        .unwrap();
        assert_eq!(t.config.get_password(), Some(&b"env"[..]));
    }
}
