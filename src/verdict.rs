//! What a verification answers: the reason, and the token's id and name when it is known.
//! Shared by the fast path (`crate::verifier`, from the index) and the store's own path.

/// How a verification came out. The strings are a contract (`verify --json`'s `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Valid,
    Unknown,
    Revoked,
    Malformed,
    /// Past its expiry.
    Expired,
    /// Suspended by `disable`.
    Disabled,
    /// Its `--max-uses` valid uses are spent.
    UsageExceeded,
    /// It lacks a scope the verification asked for.
    InsufficientScope,
    /// It is restricted to address ranges and the client's address (or none) is outside them.
    Forbidden,
}

/// Every reason, in code order.
pub const ALL_REASONS: [Reason; 9] = [
    Reason::Valid,
    Reason::Unknown,
    Reason::Revoked,
    Reason::Malformed,
    Reason::Expired,
    Reason::Disabled,
    Reason::UsageExceeded,
    Reason::InsufficientScope,
    Reason::Forbidden,
];

impl Reason {
    /// The reason as `verify --json` and the audit log write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Valid => "valid",
            Reason::Unknown => "unknown",
            Reason::Revoked => "revoked",
            Reason::Malformed => "malformed",
            Reason::Expired => "expired",
            Reason::Disabled => "disabled",
            Reason::UsageExceeded => "usage_exceeded",
            Reason::InsufficientScope => "insufficient_scope",
            Reason::Forbidden => "forbidden",
        }
    }

    /// The reason's one-byte code in the journal.
    pub fn code(self) -> u8 {
        match self {
            Reason::Valid => 0,
            Reason::Unknown => 1,
            Reason::Revoked => 2,
            Reason::Malformed => 3,
            Reason::Expired => 4,
            Reason::Disabled => 5,
            Reason::UsageExceeded => 6,
            Reason::InsufficientScope => 7,
            Reason::Forbidden => 8,
        }
    }

    /// The reason with this journal code, if any.
    pub fn from_code(code: u8) -> Option<Reason> {
        ALL_REASONS.into_iter().find(|r| r.code() == code)
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
        for r in ALL_REASONS {
            assert_eq!(Reason::from_code(r.code()), Some(r));
        }
        assert_eq!(Reason::from_code(200), None);
    }
}
