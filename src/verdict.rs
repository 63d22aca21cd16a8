//! What a verification answers: the reason, and the token's id and name when it is known.
//! Shared by the fast path (`crate::verifier`, from the index) and the store's own path.

/// How a verification came out. The strings are a contract (`verify --json`'s `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Valid,
    Unknown,
    Revoked,
    Malformed,
}

impl Reason {
    /// The reason as `verify --json` and the audit log write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Valid => "valid",
            Reason::Unknown => "unknown",
            Reason::Revoked => "revoked",
            Reason::Malformed => "malformed",
        }
    }

    /// The reason's one-byte code in the journal.
    pub fn code(self) -> u8 {
        match self {
            Reason::Valid => 0,
            Reason::Unknown => 1,
            Reason::Revoked => 2,
            Reason::Malformed => 3,
        }
    }

    /// The reason with this journal code, if any.
    pub fn from_code(code: u8) -> Option<Reason> {
        [
            Reason::Valid,
            Reason::Unknown,
            Reason::Revoked,
            Reason::Malformed,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

/// The answer to "is this token valid?", with the token's id and name when it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub reason: Reason,
    pub id: Option<String>,
    pub name: Option<String>,
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        self.reason == Reason::Valid
    }

    /// A verdict about a string that is no known token (`id` and `name` are unknown).
    pub fn anonymous(reason: Reason) -> Verdict {
        Verdict {
            reason,
            id: None,
            name: None,
        }
    }
}

/// Whether a valid verification counts as a use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    Yes,
    No,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in [
            Reason::Valid,
            Reason::Unknown,
            Reason::Revoked,
            Reason::Malformed,
        ] {
            assert_eq!(Reason::from_code(r.code()), Some(r));
        }
        assert_eq!(Reason::from_code(200), None);
    }
}
