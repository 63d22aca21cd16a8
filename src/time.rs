//! Times as the tool stores and prints them: whole seconds, UTC, RFC 3339 with `Z`
//! (`2026-11-28T03:30:28Z`), the form `jq`'s `fromdateiso8601` reads.
//!
//! [`Time`] is the only time type records and events hold, and it cannot carry a fraction of a
//! second or an offset: every way to make one (the clock, parsing, deserialising) drops the
//! fraction and converts to UTC, so no code path can store or print anything else.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The earliest time accepted: the Unix epoch. Nothing here happened before it.
const MIN_SECOND: i64 = 0;
/// The latest: the end of what jiff represents, late in 9999, the last year RFC 3339 can write.
const MAX_SECOND: i64 = 253_402_207_200;

/// A point in time to the whole second, UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(Timestamp);

/// Why a string is not a time this tool accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("is not an RFC 3339 time such as 2026-11-28T03:30:28Z")]
    Syntax,
    #[error("is outside 1970-01-01T00:00:00Z to 9999-12-30T22:00:00Z")]
    Range,
}

impl Time {
    /// The current time, to the second. A clock set outside 1970–9999 is taken as the nearest
    /// end of that range rather than stopping the program.
    pub fn now() -> Time {
        let second = Timestamp::now().as_second().clamp(MIN_SECOND, MAX_SECOND);
        Time::from_second(second).expect("clamped into range")
    }

    /// Seconds since the Unix epoch.
    ///
    /// # Errors
    /// [`TimeError::Range`] outside 1970–9999.
    pub fn from_second(second: i64) -> Result<Time, TimeError> {
        if !(MIN_SECOND..=MAX_SECOND).contains(&second) {
            return Err(TimeError::Range);
        }
        Timestamp::from_second(second)
            .map(Time)
            .map_err(|_| TimeError::Range)
    }

    /// Seconds since the Unix epoch.
    pub fn as_second(self) -> i64 {
        self.0.as_second()
    }

    /// This time plus `seconds` (which may be negative), if still in range.
    pub fn checked_add_seconds(self, seconds: i64) -> Option<Time> {
        Time::from_second(self.as_second().checked_add(seconds)?).ok()
    }
}

/// Parses RFC 3339 with any offset and any fraction; the fraction is dropped (rounded down, so
/// `1969-12-31T23:59:59.5Z` is still before 1970) and the offset applied, so
/// `2025-01-02T03:04:05.250+01:00` is `2025-01-02T02:04:05Z`. The ISO 8601 forms jiff reads
/// are taken too, but not an offset of a day or more (`+25:00`, which jiff reads): RFC 3339's
/// offset hours go to 23.
impl FromStr for Time {
    type Err = TimeError;

    fn from_str(s: &str) -> Result<Time, TimeError> {
        let s = s.trim();
        if !offset_within_a_day(s) {
            return Err(TimeError::Syntax);
        }
        let ts: Timestamp = match s.parse() {
            Ok(ts) => ts,
            // RFC 3339 allows any number of fraction digits; jiff reads nine. Digits past the
            // ninth cannot change a whole second, so they are dropped before trying again.
            Err(_) => match without_extra_fraction_digits(s) {
                Some(shorter) => shorter.parse().map_err(|_| syntax_or_range(s))?,
                None => return Err(syntax_or_range(s)),
            },
        };
        let second = match ts.subsec_nanosecond() {
            n if n < 0 => ts.as_second() - 1,
            _ => ts.as_second(),
        };
        Time::from_second(second)
    }
}

/// Whether the offset `s` gives (if it parses at all) is less than a day either way.
fn offset_within_a_day(s: &str) -> bool {
    let shorter = without_extra_fraction_digits(s);
    let s = shorter.as_deref().unwrap_or(s);
    jiff::fmt::temporal::Pieces::parse(s)
        .ok()
        .and_then(|p| p.offset())
        .is_none_or(|o| o.to_numeric_offset().seconds().abs() < 24 * 60 * 60)
}

/// `s` with its fraction cut to nine digits, if it had more.
fn without_extra_fraction_digits(s: &str) -> Option<String> {
    let dot = s.find('.')?;
    let digits = s[dot + 1..].bytes().take_while(u8::is_ascii_digit).count();
    (digits > 9).then(|| format!("{}{}", &s[..dot + 10], &s[dot + 1 + digits..]))
}

/// A string jiff would not read: out of its range if it has the shape of a time in year 9999
/// (jiff stops late on 9999-12-30), else not a time.
fn syntax_or_range(s: &str) -> TimeError {
    let b = s.as_bytes();
    let shaped = b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ');
    if shaped && &s[..4] == "9999" {
        TimeError::Range
    } else {
        TimeError::Syntax
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A whole-second jiff Timestamp displays as `YYYY-MM-DDTHH:MM:SSZ`.
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Time({self})")
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e| serde::de::Error::custom(format!("{s:?} {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_and_offsets_become_whole_seconds_in_utc() {
        for (given, stored) in [
            ("2025-01-02T03:04:05Z", "2025-01-02T03:04:05Z"),
            ("2025-01-02T03:04:05.250Z", "2025-01-02T03:04:05Z"),
            ("2025-01-02T03:04:05.999999999Z", "2025-01-02T03:04:05Z"),
            ("2025-01-02T03:04:05.5+01:00", "2025-01-02T02:04:05Z"),
            ("2025-01-02T03:04:05-00:30", "2025-01-02T03:34:05Z"),
            ("2025-01-02 03:04:05Z", "2025-01-02T03:04:05Z"),
            ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
            ("2025-01-02T03:04:05.1234567890123Z", "2025-01-02T03:04:05Z"),
            (
                "2025-01-02T03:04:05.9999999999+00:00",
                "2025-01-02T03:04:05Z",
            ),
            ("9999-12-30T22:00:00Z", "9999-12-30T22:00:00Z"),
        ] {
            let t: Time = given.parse().expect(given);
            assert_eq!(t.to_string(), stored, "{given}");
            let json = serde_json::to_string(&t).expect("json");
            assert_eq!(json, format!("\"{stored}\""));
            let back: Time = serde_json::from_str(&format!("\"{given}\"")).expect("de");
            assert_eq!(back, t);
        }
    }

    #[test]
    fn nonsense_and_out_of_range_are_refused() {
        for bad in [
            "",
            "yesterday",
            "2025-01-02",
            "2025-13-01T00:00:00Z",
            "1",
            "2027-01-01T00:00:00+25:00",
            "2027-01-01T00:00:00-24:00",
            "2027-01-01T00:00:00.5+2400",
        ] {
            assert_eq!(bad.parse::<Time>(), Err(TimeError::Syntax), "{bad}");
        }
        assert_eq!(
            "2027-01-01T00:00:00+23:59"
                .parse::<Time>()
                .map(|t| t.to_string()),
            Ok("2026-12-31T00:01:00Z".to_owned())
        );
        assert_eq!(
            "1969-12-31T23:59:59Z".parse::<Time>(),
            Err(TimeError::Range)
        );
        assert_eq!(
            "-000001-01-01T00:00:00Z".parse::<Time>(),
            Err(TimeError::Range)
        );
        assert!(Time::from_second(-1).is_err());
        assert!(Time::from_second(MAX_SECOND + 1).is_err());
        assert_eq!(
            "9999-12-31T23:59:59Z".parse::<Time>(),
            Err(TimeError::Range)
        );
        // Rounded down, so a fraction cannot lift a time into range.
        assert_eq!(
            "1969-12-31T23:59:59.5Z".parse::<Time>(),
            Err(TimeError::Range)
        );
    }

    #[test]
    fn the_upper_bound_is_jiffs() {
        assert_eq!(MAX_SECOND, Timestamp::MAX.as_second());
    }

    #[test]
    fn now_is_whole_seconds() {
        let s = Time::now().to_string();
        assert!(s.ends_with('Z') && !s.contains('.'), "{s}");
    }
}
