//! Token policy: what a token may do and for how long (expiry, scopes, a use limit, source
//! address ranges, suspension), and the one function that turns a token's policy and a request
//! into a verify [`Reason`]. `crate::verifier` applies it to the verification index; `list`,
//! `show` and `scan` use the same [`state`] for a token's status, so they never disagree.
//!
//! Durations (`90d`, `12h`, `2w`, `30m`, `45s`, or combined: `1d12h`) are jiff's "friendly"
//! format; days and weeks are calendar days in UTC, months and years calendar months and years.

use std::net::IpAddr;

use ipnet::IpNet;
use jiff::Span;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::time::Time;
use crate::verdict::Reason;

/// The most scopes a token may carry.
pub const MAX_SCOPES: usize = 64;
/// The longest scope, in bytes.
pub const MAX_SCOPE_LEN: usize = 64;
/// The most address ranges a token may carry.
pub const MAX_RANGES: usize = 64;

/// The largest integer the tool accepts or prints in JSON: 2^53 − 1. JSON readers that hold
/// numbers as IEEE 754 doubles (jq, JavaScript) hold integers exactly only up to here
/// (I-JSON, RFC 7493 §2.2); one above it could come back from `jq` as another number.
pub const MAX_JSON_INTEGER: u64 = (1 << 53) - 1;

/// How far past this machine's clock a time read from a file (`import`, `restore`) may be and
/// still be believed: another machine's clock may run a little ahead. Expiries and grace ends,
/// which are meant to lie ahead, are not held to it.
pub const CLOCK_SKEW_SECONDS: i64 = 5 * 60;

/// The length in seconds of a failure counter's window (`verify_failed` events count the
/// failures of one hour, from a whole hour of UTC).
pub const FAILURE_WINDOW_SECONDS: i64 = 3600;

/// The longest grace `rotate` gives the token it replaces, in seconds: 366 days. Two tokens of
/// one name for longer than that is not a rotation.
pub const MAX_GRACE_SECONDS: i64 = 366 * 86_400;

/// The failure window `at` falls in: whole windows since the Unix epoch (negative before it).
pub fn failure_window(at: Time) -> i64 {
    at.as_second().div_euclid(FAILURE_WINDOW_SECONDS)
}

/// `n` if a JSON reader can hold it exactly, else the sentence that says why not.
///
/// # Errors
/// A sentence naming `what`, the value and [`MAX_JSON_INTEGER`].
pub fn check_json_integer(what: &str, n: u64) -> std::result::Result<u64, String> {
    if n > MAX_JSON_INTEGER {
        return Err(too_large(what, n));
    }
    Ok(n)
}

/// The sentence saying that `what`, `shown` as given, is past [`MAX_JSON_INTEGER`].
pub fn too_large(what: &str, shown: impl std::fmt::Display) -> String {
    past_the_bound(&format!("{what} {shown}"))
}

/// The sentence saying that `what` (which names the value, such as "the number in `zz`") is
/// past [`MAX_JSON_INTEGER`], either way from 0: a negative one is not "larger".
pub fn past_the_bound(what: &str) -> String {
    format!(
        "{what} is out of range: JSON readers such as jq hold integers exactly only from -{MAX_JSON_INTEGER} to {MAX_JSON_INTEGER} (2^53 - 1)"
    )
}

/// What a new token may do, as `create` sets it and `rotate` carries it over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub expires_at: Option<Time>,
    /// Checked with [`check_scopes`]; none means full access.
    pub scopes: Vec<String>,
    pub max_uses: Option<u64>,
    /// Checked with [`parse_ranges`]; none means any address.
    pub allow_ip: Vec<IpNet>,
}

/// A token's status at a given time, as `list`, `show`, `scan` and `list --status` name it.
/// Revoked wins over expired, expired over disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Active,
    Revoked,
    Expired,
    Disabled,
}

impl State {
    /// The status as scripts read it.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Revoked => "revoked",
            State::Expired => "expired",
            State::Disabled => "disabled",
        }
    }
}

/// The facts about one token that decide its status and its verify answers, wherever they are
/// read from (a record in sled, or the verification index).
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub revoked: bool,
    /// A token replaced by `rotate --grace` is stored revoked and keeps verifying until then.
    pub grace_until: Option<Time>,
    pub disabled: bool,
    pub expires_at: Option<Time>,
    pub max_uses: Option<u64>,
    pub scopes: &'a [String],
    pub allow_ip: &'a [IpNet],
}

/// What a verification asks for besides the token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Every one of these must be granted (a token without scopes has full access).
    pub scopes: Vec<String>,
    /// The client's address; a token restricted to address ranges needs one inside them.
    pub ip: Option<IpAddr>,
}

/// The token's status at `now`.
pub fn state(f: &Facts<'_>, now: Time) -> State {
    if f.revoked && f.grace_until.is_none_or(|end| end <= now) {
        State::Revoked
    } else if f.expires_at.is_some_and(|end| end <= now) {
        State::Expired
    } else if f.disabled {
        State::Disabled
    } else {
        State::Active
    }
}

/// The verify answer for a known token at `now`, having been used `uses` times. The checks go
/// in this order, and the first that fails is the answer: revoked, expired, disabled,
/// usage_exceeded, forbidden (address), insufficient_scope. So an answer never tells a caller
/// from the wrong address which scopes the token has.
pub fn judge(f: &Facts<'_>, now: Time, uses: u64, req: &Request) -> Reason {
    match state(f, now) {
        State::Revoked => return Reason::Revoked,
        State::Expired => return Reason::Expired,
        State::Disabled => return Reason::Disabled,
        State::Active => {}
    }
    if f.max_uses.is_some_and(|max| uses >= max) {
        return Reason::UsageExceeded;
    }
    if !f.allow_ip.is_empty() {
        match req.ip {
            Some(ip) if f.allow_ip.iter().any(|net| net.contains(&canonical(ip))) => {}
            _ => return Reason::Forbidden,
        }
    }
    if !f.scopes.is_empty() && !req.scopes.iter().all(|s| f.scopes.contains(s)) {
        return Reason::InsufficientScope;
    }
    Reason::Valid
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// Checks a scope as typed: `word` or `word:word`, each word lowercase ASCII letters, digits,
/// `_` or `-`, starting with a letter (`invoices`, `invoices:read`, `pos-sync:write`).
///
/// # Errors
/// [`Error::Usage`] naming what is wrong.
pub fn check_scope(raw: &str) -> Result<String> {
    let word_ok = |w: &str| {
        w.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    let mut words = raw.split(':');
    let ok = raw.len() <= MAX_SCOPE_LEN
        && words.next().is_some_and(word_ok)
        && words.next().is_none_or(word_ok)
        && words.next().is_none();
    if !ok {
        return Err(Error::usage(format!(
            "scope {}{} is not `word` or `word:word` in lowercase ASCII letters, digits, _ and - (at most {MAX_SCOPE_LEN} bytes), such as invoices:read",
            shown(raw),
            first_odd(raw, |c| c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || "_-:".contains(c))
        )));
    }
    Ok(raw.to_owned())
}

/// Checks a list of scopes: each as [`check_scope`], at most [`MAX_SCOPES`], duplicates
/// dropped, sorted.
///
/// # Errors
/// [`Error::Usage`].
pub fn check_scopes(raw: &[String]) -> Result<Vec<String>> {
    let mut scopes = raw
        .iter()
        .map(|s| check_scope(s))
        .collect::<Result<Vec<_>>>()?;
    scopes.sort();
    scopes.dedup();
    if scopes.len() > MAX_SCOPES {
        return Err(Error::usage(format!("at most {MAX_SCOPES} scopes a token")));
    }
    Ok(scopes)
}

/// Parses an address range in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or one address
/// (`192.0.2.7`, a `/32`; `2001:db8::1`, a `/128`). A range with bits set past its prefix
/// (`10.0.0.1/8`) is refused, naming the range meant, since a typo there widens or narrows who
/// may use the token.
///
/// # Errors
/// [`Error::Usage`].
pub fn parse_range(raw: &str) -> Result<IpNet> {
    let s = raw.trim();
    let net = match s.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => match s.parse::<IpAddr>() {
            Ok(ip) => IpNet::from(canonical(ip)),
            Err(_) => {
                return Err(Error::usage(format!(
                    "{}{} is not an address range such as 203.0.113.0/24 or 2001:db8::/32",
                    shown(raw),
                    first_odd(s, |c| c.is_ascii_hexdigit() || ".:/".contains(c))
                )));
            }
        },
    };
    if net.trunc() != net {
        return Err(Error::usage(format!(
            "{s} has bits set past its /{} prefix: did you mean {}?",
            net.prefix_len(),
            net.trunc()
        )));
    }
    // An IPv4 range written as IPv6 (`::ffff:10.0.0.0/104`) is the IPv4 range: clients' mapped
    // addresses are read as IPv4, so it would otherwise never match.
    let net = match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => {
                IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).expect("a prefix up to 32")
            }
            None => net,
        },
        _ => net,
    };
    Ok(net)
}

/// Parses address ranges as [`parse_range`], at most [`MAX_RANGES`], duplicates dropped.
///
/// # Errors
/// [`Error::Usage`].
pub fn parse_ranges(raw: &[String]) -> Result<Vec<IpNet>> {
    let mut nets = raw
        .iter()
        .map(|s| parse_range(s))
        .collect::<Result<Vec<_>>>()?;
    nets.sort();
    nets.dedup();
    if nets.len() > MAX_RANGES {
        return Err(Error::usage(format!(
            "at most {MAX_RANGES} address ranges a token"
        )));
    }
    Ok(nets)
}

/// Parses a client address for `verify --ip` (`203.0.113.9`, `2001:db8::5`).
///
/// # Errors
/// [`Error::Usage`] for anything that is not one address (a range, a zone id, a host name).
pub fn parse_ip(raw: &str) -> Result<IpAddr> {
    raw.trim().parse::<IpAddr>().map(canonical).map_err(|_| {
        Error::usage(format!(
            "{}{} is not an IP address such as 203.0.113.9 or 2001:db8::5",
            shown(raw),
            first_odd(raw.trim(), |c| c.is_ascii_hexdigit() || ".:".contains(c))
        ))
    })
}

/// Parses a positive duration: `90d`, `12h`, `2w`, `30m`, `45s`, combinations such as `1d12h`,
/// or ISO 8601 (`P90D`).
///
/// # Errors
/// A message for clap (so the flag is named) when it does not parse or is not positive.
pub fn parse_duration(raw: &str) -> std::result::Result<Span, String> {
    // Every integer a flag takes has one bound, whatever its unit (`9007199254740992ns` too).
    let mut digits = raw
        .split(|c: char| !c.is_ascii_digit())
        .filter(|d| !d.is_empty());
    if digits.any(|d| {
        d.trim_start_matches('0').len() > 16 || d.parse::<u64>().is_ok_and(|n| n > MAX_JSON_INTEGER)
    }) {
        return Err(past_the_bound(&format!("a number in {}", shown(raw))));
    }
    let span: Span = raw.trim().parse().map_err(|_| {
        format!(
            "{}{} is not a duration such as 90d, 12h, 2w, 30m or 45s (or it is too long)",
            shown(raw),
            first_odd(raw, |c| c.is_ascii_alphanumeric() || " +:.,".contains(c))
        )
    })?;
    if !span.is_positive() {
        return Err(format!("{} is not a duration longer than zero", shown(raw)));
    }
    Ok(span)
}

/// The most characters of a value an error line quotes ([`shown`]).
pub const SHOWN_CHARS: usize = 64;

/// A value the user typed, for an error line: anything token-shaped masked, quoted with its
/// invisible characters escaped, and cut short past [`SHOWN_CHARS`] characters (the whole of it
/// is theirs already).
pub fn shown(raw: &str) -> String {
    // Masked before it is cut: a token the cut would halve is no longer whole enough to be
    // masked after it.
    let masked = crate::error::Masked::new(raw);
    let raw = masked.as_str();
    let mut cut: String = raw.chars().take(SHOWN_CHARS).collect();
    if cut.len() < raw.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// Where `raw` first holds a character `ok` refuses, for an error line (`, which holds U+FF49
/// at character 1,`); empty when there is none.
fn first_odd(raw: &str, ok: impl Fn(char) -> bool) -> String {
    match raw.chars().enumerate().find(|(_, c)| !ok(*c)) {
        Some((i, c)) => format!(" (it holds U+{:04X} at character {})", c as u32, i + 1),
        None => String::new(),
    }
}

/// `from` moved by `span` (forward) or back by it, in UTC's calendar.
///
/// # Errors
/// [`Error::Usage`] when the result falls outside what a [`Time`] holds.
pub fn shift(from: Time, span: Span, forward: bool) -> Result<Time> {
    let span = if forward { span } else { span.negate() };
    let at = jiff::Timestamp::from_second(from.as_second())
        .ok()
        .map(|ts| ts.to_zoned(TimeZone::UTC))
        .and_then(|z| z.checked_add(span).ok())
        .and_then(|z| Time::from_second(z.timestamp().as_second()).ok());
    at.ok_or_else(|| Error::usage(format!("{span:#} from {from} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Time {
        s.parse().expect("a time")
    }

    fn facts<'a>(scopes: &'a [String], nets: &'a [IpNet]) -> Facts<'a> {
        Facts {
            revoked: false,
            grace_until: None,
            disabled: false,
            expires_at: None,
            max_uses: None,
            scopes,
            allow_ip: nets,
        }
    }

    #[test]
    fn status_precedence_and_grace() {
        let now = t("2026-06-01T00:00:00Z");
        let mut f = facts(&[], &[]);
        assert_eq!(state(&f, now), State::Active);
        f.disabled = true;
        assert_eq!(state(&f, now), State::Disabled);
        f.expires_at = Some(now);
        assert_eq!(state(&f, now), State::Expired, "an expiry at now is past");
        f.revoked = true;
        assert_eq!(state(&f, now), State::Revoked);
        f.grace_until = Some(t("2026-06-01T00:00:01Z"));
        f.expires_at = None;
        f.disabled = false;
        assert_eq!(state(&f, now), State::Active, "in grace");
        f.grace_until = Some(now);
        assert_eq!(state(&f, now), State::Revoked, "grace over");
    }

    #[test]
    fn judge_order_and_each_reason() {
        let now = t("2026-06-01T00:00:00Z");
        let scopes = vec!["invoices:read".to_owned()];
        let nets = vec![parse_range("10.0.0.0/8").unwrap()];
        let mut f = facts(&scopes, &nets);
        f.max_uses = Some(2);
        let ok = Request {
            scopes: vec!["invoices:read".into()],
            ip: Some("10.1.2.3".parse().unwrap()),
        };
        assert_eq!(judge(&f, now, 1, &ok), Reason::Valid);
        assert_eq!(judge(&f, now, 2, &ok), Reason::UsageExceeded);
        let far = Request {
            ip: Some("192.0.2.1".parse().unwrap()),
            ..ok.clone()
        };
        assert_eq!(judge(&f, now, 0, &far), Reason::Forbidden);
        let none = Request {
            ip: None,
            ..ok.clone()
        };
        assert_eq!(judge(&f, now, 0, &none), Reason::Forbidden);
        let mapped = Request {
            ip: Some("::ffff:10.9.9.9".parse().unwrap()),
            ..ok.clone()
        };
        assert_eq!(judge(&f, now, 0, &mapped), Reason::Valid);
        let more = Request {
            scopes: vec!["invoices:read".into(), "invoices:write".into()],
            ..ok.clone()
        };
        assert_eq!(judge(&f, now, 0, &more), Reason::InsufficientScope);
        // Forbidden is decided before scopes, so a caller from outside learns nothing of them.
        let both = Request {
            ip: None,
            ..more.clone()
        };
        assert_eq!(judge(&f, now, 0, &both), Reason::Forbidden);
        f.disabled = true;
        assert_eq!(judge(&f, now, 5, &both), Reason::Disabled);
        // No scopes means full access.
        let g = facts(&[], &[]);
        assert_eq!(judge(&g, now, 0, &more), Reason::Valid);
    }

    #[test]
    fn scopes_are_words_in_lowercase() {
        for ok in ["invoices", "invoices:read", "pos-sync:write_2", "a"] {
            assert_eq!(check_scope(ok).unwrap(), ok);
        }
        for bad in [
            "",
            "Invoices",
            "invoices:",
            ":read",
            "a:b:c",
            "1abc",
            "in voices",
            "inv\u{430}ices",
            "a:B",
            "ünï",
        ] {
            assert!(check_scope(bad).is_err(), "{bad:?}");
        }
        assert!(check_scope(&"a".repeat(65)).is_err());
        let s = check_scopes(&["b".into(), "a".into(), "b".into()]).unwrap();
        assert_eq!(s, ["a", "b"]);
    }

    #[test]
    fn ranges_are_strict_cidr() {
        assert_eq!(parse_range("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(
            parse_range("192.0.2.7").unwrap().to_string(),
            "192.0.2.7/32"
        );
        assert_eq!(
            parse_range("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(parse_range("::1").unwrap().to_string(), "::1/128");
        let e = parse_range("10.0.0.1/8").unwrap_err().to_string();
        assert!(e.contains("10.0.0.0/8"), "{e}");
        for bad in [
            "10.0.0.0/33",
            "300.1.1.1",
            "example.com",
            "",
            "fe80::1%eth0",
            "10/8",
        ] {
            assert!(parse_range(bad).is_err(), "{bad:?}");
        }
        assert!(parse_ip("10.0.0.0/8").is_err());
        assert_eq!(parse_ip("::ffff:1.2.3.4").unwrap().to_string(), "1.2.3.4");
        // IPv4 ranges written as IPv6 are IPv4 ranges.
        assert_eq!(
            parse_range("::ffff:10.0.0.0/104").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_range("::ffff:10.0.0.1/128").unwrap().to_string(),
            "10.0.0.1/32"
        );
        assert_eq!(
            parse_range("::ffff:0.0.0.0/96").unwrap().to_string(),
            "0.0.0.0/0"
        );
        // A typed value is shown with what is odd in it.
        let e = check_scope("inv\u{200b}oices").unwrap_err().to_string();
        assert!(e.contains("U+200B at character 4"), "{e}");
        let e = parse_duration("1\u{ff44}").unwrap_err();
        assert!(e.contains("U+FF44"), "{e}");
        assert!(
            check_scope(&"a".repeat(100_000))
                .unwrap_err()
                .to_string()
                .len()
                < 300
        );
    }

    #[test]
    fn durations() {
        let now = t("2026-01-31T00:00:00Z");
        let at = |s: &str| shift(now, parse_duration(s).unwrap(), true).unwrap();
        assert_eq!(at("90d"), t("2026-05-01T00:00:00Z"));
        assert_eq!(at("12h"), t("2026-01-31T12:00:00Z"));
        assert_eq!(at("2w"), t("2026-02-14T00:00:00Z"));
        assert_eq!(at("30m"), t("2026-01-31T00:30:00Z"));
        assert_eq!(at("45s"), t("2026-01-31T00:00:45Z"));
        assert_eq!(at("1d12h"), t("2026-02-01T12:00:00Z"));
        assert_eq!(
            shift(now, parse_duration("1d").unwrap(), false).unwrap(),
            t("2026-01-30T00:00:00Z")
        );
        for bad in ["", "0d", "-1d", "soon", "90", "d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(shift(now, parse_duration("9000y").unwrap(), true).is_err());
    }
}
