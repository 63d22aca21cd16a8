//! Where the store is: a directory (the embedded engine) or a PostgreSQL URL, from `--store`,
//! `VBX_TOKENS_STORE`, `VBX_TOKENS_HOME` or the default, in that order.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::pg::config::{self, Source, Surroundings, Target};
use crate::store::OpenMode;

/// The variable that names the store, a directory or a URL, when `--store` does not.
pub const STORE_VAR: &str = "VBX_TOKENS_STORE";

/// The variable that names the store's directory (never a URL) when neither `--store` nor
/// [`STORE_VAR`] does.
pub const HOME_VAR: &str = "VBX_TOKENS_HOME";

/// A store's location.
#[derive(Debug, Clone)]
pub enum Location {
    /// The embedded store: a directory on this machine.
    Dir(PathBuf),
    /// A PostgreSQL database many hosts share.
    Postgres(Box<Target>),
}

impl Location {
    /// The location the first of these gives (a variable set but empty counts as unset):
    /// `flag` (`--store`, a directory or a URL; a URL there may not hold a password, since
    /// `ps` shows it), `VBX_TOKENS_STORE` (a directory or a URL), `VBX_TOKENS_HOME` (a
    /// directory), else the default directory. `env` reads a variable; `wait` is the connect
    /// timeout a URL without `connect_timeout` gets.
    ///
    /// # Errors
    /// [`Error::Usage`] for a URL that does not parse or holds a password on the command line,
    /// a URL in `VBX_TOKENS_HOME`, a password file others can read, or no home directory for
    /// the default.
    pub fn resolve(
        flag: Option<&OsStr>,
        env: &dyn Fn(&str) -> Option<OsString>,
        wait: Duration,
    ) -> Result<Location> {
        let set = |var: &str| env(var).filter(|v| !v.is_empty());
        let (value, source) = match flag.filter(|v| !v.is_empty()) {
            Some(v) => (v.to_owned(), Source::CommandLine),
            None => match set(STORE_VAR) {
                Some(v) => (v, Source::Environment),
                None => match set(HOME_VAR) {
                    Some(v) if v.to_str().is_some_and(looks_like_url) => {
                        return Err(Error::usage(format!(
                            "{HOME_VAR} names a directory, not a URL: give a PostgreSQL store in {STORE_VAR} or --store"
                        )));
                    }
                    Some(v) => return Ok(Location::Dir(PathBuf::from(v))),
                    None => return Ok(Location::Dir(crate::paths::default_store_dir()?)),
                },
            },
        };
        if value.to_str().is_some_and(config::is_keyword_form) {
            // Not repeated: it may hold a password.
            return Err(Error::usage(
                "a store is a directory or a postgresql:// URL, not libpq's keyword=value form (host=… dbname=…): write it as a URL, the password in PGPASSWORD or the password file",
            ));
        }
        if let Some(text) = value.to_str()
            && !config::is_url(text)
            && looks_like_url(text)
        {
            // Not repeated, nor taken for a directory: it may hold a password.
            return Err(Error::usage(
                "the store looks like a URL but is not a postgresql:// one (nor a directory's name): a store is a directory or a postgresql:// URL, written as is",
            ));
        }
        match value.to_str().filter(|v| config::is_url(v)) {
            Some(url) => {
                let text = |var: &str| set(var).and_then(|v| v.into_string().ok());
                let around = Surroundings {
                    env: &text,
                    os_user: crate::store::current_user(),
                    home: crate::paths::home_dir(),
                    wait,
                };
                let target = config::target(url, source, &around).map_err(Error::usage)?;
                Ok(Location::Postgres(Box::new(target)))
            }
            None => Ok(Location::Dir(PathBuf::from(value))),
        }
    }

    /// The store here, opened by its engine: the directory store, waiting up to `wait` for
    /// its lock, or a connection to PostgreSQL (whose `--wait` is in the target).
    ///
    /// # Errors
    /// As for [`crate::store::Store::open`] and [`crate::pg::store::Store::open`].
    pub fn open(&self, mode: OpenMode, wait: Duration) -> Result<Box<dyn Engine>> {
        Ok(match self {
            Location::Dir(dir) => Box::new(crate::store::Store::open(dir, mode, wait)?),
            Location::Postgres(target) => Box::new(crate::pg::store::Store::open(target, mode)?),
        })
    }

    /// What messages call it: the directory, or the URL without its password.
    pub fn shown(&self) -> String {
        match self {
            Location::Dir(dir) => dir.display().to_string(),
            Location::Postgres(target) => target.shown(),
        }
    }
}

/// Whether a store value reads as a URL (`word:` or `word//` and a user's `@`, or
/// `word://`, spaces around allowed): one this tool does not take must not become a directory
/// named after it, password and all (`postgresql:/u:pw@host`, ` postgresql://…`).
fn looks_like_url(value: &str) -> bool {
    let t = value.trim_start();
    let word = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
        .unwrap_or(t.len());
    if word == 0 || !t.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return false;
    }
    let rest = t[word..].trim_start();
    rest.starts_with("://")
        || ((rest.starts_with(':') || rest.starts_with("//")) && rest.contains('@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(flag: Option<&str>, vars: &[(&str, &str)]) -> Result<Location> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |var: &str| {
            vars.iter()
                .find(|(k, _)| k == var)
                .map(|(_, v)| OsString::from(v))
        };
        Location::resolve(flag.map(OsStr::new), &env, Duration::from_secs(3))
    }

    fn dir(l: Result<Location>) -> String {
        match l.unwrap() {
            Location::Dir(d) => d.display().to_string(),
            other => panic!("{other:?}"),
        }
    }

    fn url(l: Result<Location>) -> String {
        match l.unwrap() {
            Location::Postgres(t) => t.shown(),
            other => panic!("{other:?}"),
        }
    }

    const URL: &str = "postgresql://ann@db.example/tokens";

    #[test]
    fn the_flag_wins_then_the_store_variable_then_home() {
        let all = [(STORE_VAR, "/from/store"), (HOME_VAR, "/from/home")];
        assert_eq!(dir(resolve(Some("/flag"), &all)), "/flag");
        assert_eq!(dir(resolve(None, &all)), "/from/store");
        assert_eq!(
            dir(resolve(None, &[(HOME_VAR, "/from/home")])),
            "/from/home"
        );
        assert_eq!(
            dir(resolve(Some(""), &[(STORE_VAR, ""), (HOME_VAR, "/h")])),
            "/h"
        );
        assert_eq!(
            url(resolve(None, &[(STORE_VAR, URL), (HOME_VAR, "/h")])),
            "postgresql://ann@db.example:5432/tokens"
        );
        assert_eq!(
            url(resolve(Some(URL), &[(STORE_VAR, "/s")])),
            "postgresql://ann@db.example:5432/tokens"
        );
        assert_eq!(dir(resolve(Some("/flag"), &[(STORE_VAR, URL)])), "/flag");
    }

    #[test]
    fn a_password_on_the_command_line_or_a_url_in_home_is_refused() {
        let secret = "postgresql://ann:hunter2@db.example/tokens";
        let e = resolve(Some(secret), &[]).unwrap_err().to_string();
        assert!(e.contains("password") && !e.contains("hunter2"), "{e}");
        assert!(matches!(
            resolve(None, &[(STORE_VAR, secret)]).unwrap(),
            Location::Postgres(_)
        ));
        let e = resolve(None, &[(HOME_VAR, URL)]).unwrap_err().to_string();
        assert!(e.contains(STORE_VAR), "{e}");
    }

    #[test]
    fn libpqs_keyword_form_is_refused_without_repeating_it() {
        for given in [
            "host=localhost password=hunter2 dbname=x1",
            "dbname=x1 user=ann",
            "  password=hunter2",
        ] {
            for e in [
                resolve(Some(given), &[]).unwrap_err(),
                resolve(None, &[(STORE_VAR, given)]).unwrap_err(),
            ] {
                let e = e.to_string();
                assert!(e.contains("keyword=value") && !e.contains("hunter2"), "{e}");
            }
        }
        // A directory whose name merely holds `=` is a directory.
        assert_eq!(dir(resolve(Some("/srv/a=b"), &[])), "/srv/a=b");
    }

    #[test]
    fn a_url_scheme_in_any_case_is_a_url_and_another_scheme_is_refused() {
        for secret in [
            "POSTGRESQL://ann:hunter2@db.example/tokens",
            "PostgreS://ann:hunter2@db.example/tokens",
        ] {
            let e = resolve(Some(secret), &[]).unwrap_err().to_string();
            assert!(e.contains("password") && !e.contains("hunter2"), "{e}");
            assert_eq!(
                url(resolve(None, &[(STORE_VAR, secret)])),
                "postgresql://ann@db.example:5432/tokens"
            );
            let e = resolve(None, &[(HOME_VAR, secret)])
                .unwrap_err()
                .to_string();
            assert!(e.contains(STORE_VAR) && !e.contains("hunter2"), "{e}");
        }
        for other in ["http://ann:hunter2@db.example/x", "mysql://ann:hunter2@h/d"] {
            for e in [
                resolve(Some(other), &[]).unwrap_err(),
                resolve(None, &[(STORE_VAR, other)]).unwrap_err(),
            ] {
                let e = e.to_string();
                assert!(
                    e.contains("postgresql:// URL") && !e.contains("hunter2"),
                    "{e}"
                );
                assert_eq!(e.matches("://").count(), 2, "{e}");
            }
        }
        // A directory whose name merely holds `://` after a slash is a directory.
        assert_eq!(dir(resolve(Some("/srv/a://b"), &[])), "/srv/a://b");
    }

    #[test]
    fn a_value_that_reads_as_a_url_never_becomes_a_directory() {
        for given in [
            "postgresql:/u:SeCrEt1@host/a1",
            "postgresql:u:SeCrEt1@host/a1",
            " postgresql://u:SeCrEt1@host/a1",
            "postgresql ://u:SeCrEt1@host/a1",
            "postgresql//u:SeCrEt1@host/a1",
            "postgresql:\\u:SeCrEt1@host/a1",
            "http://u:SeCrEt1@h/db",
        ] {
            for e in [
                resolve(Some(given), &[]).unwrap_err(),
                resolve(None, &[(STORE_VAR, given)]).unwrap_err(),
                resolve(None, &[(HOME_VAR, given)]).unwrap_err(),
            ] {
                let e = e.to_string();
                assert!(!e.contains("SeCrEt1"), "{given}: {e}");
            }
        }
        // Directories, however odd.
        for dir_name in [
            "/srv/tokens",
            "./a:b",
            "/srv/u@host",
            "relative/a:b@c",
            "C",
            "a b",
        ] {
            assert_eq!(dir(resolve(Some(dir_name), &[])), dir_name);
        }
    }
}
