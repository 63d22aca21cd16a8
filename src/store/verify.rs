//! Verifying against sled itself: the slow path, used when the verification index cannot be
//! (it is missing, damaged or foreign). `crate::verifier` is the fast path.

use sled::Transactional;

use super::tx::{append, read_record};
use super::{Store, now};
use crate::error::Result;
use crate::record::{EventKind, Status};
use crate::token::Token;
use crate::verdict::{Reason, Touch, Verdict};

impl Store {
    /// Verifies one candidate token; see [`Store::verify_many`].
    pub fn verify(&self, candidate: &str, touch: Touch) -> Result<Verdict> {
        let mut verdicts = self.verify_many(std::iter::once(candidate), touch)?;
        Ok(verdicts.pop().expect("one candidate gives one verdict"))
    }

    /// Verifies candidates in order. A valid one counts a use (unless `touch` is `No`); every
    /// failure is logged. Everything is made durable once, before returning.
    pub fn verify_many<'a>(
        &self,
        candidates: impl IntoIterator<Item = &'a str>,
        touch: Touch,
    ) -> Result<Vec<Verdict>> {
        let mut wrote = false;
        let mut out = Vec::new();
        for candidate in candidates {
            let (verdict, changed) = self.verify_one(candidate, touch)?;
            wrote |= changed;
            out.push(verdict);
        }
        if wrote {
            self.make_durable()?;
        }
        Ok(out)
    }

    fn verify_one(&self, candidate: &str, touch: Touch) -> Result<(Verdict, bool)> {
        let Some(hash) = crate::token::lookup_hash(candidate) else {
            return self.log_failure(Reason::Malformed).map(|v| (v, true));
        };
        let Some(id) = self.by_hash.get(hash.0).map_err(|e| self.sled(e))? else {
            // Not another system's token this store knows: it is not one of ours either.
            let reason = match Token::parse(candidate) {
                Ok(_) => Reason::Unknown,
                Err(_) => Reason::Malformed,
            };
            return self.log_failure(reason).map(|v| (v, true));
        };
        let id = String::from_utf8_lossy(&id).into_owned();
        let at = now();
        let result = (&self.tokens, &self.log, &self.meta).transaction(|(tokens, log, meta)| {
            let mut record = read_record(tokens, &id)?;
            let verdict = |reason| Verdict {
                reason,
                id: Some(record.id.clone()),
                name: Some(record.name.clone()),
            };
            if record.status == Status::Revoked {
                let v = verdict(Reason::Revoked);
                append(
                    log,
                    meta,
                    &self.event(
                        EventKind::VerifyFailed,
                        Some(&record),
                        Some(Reason::Revoked),
                    ),
                )?;
                return Ok((v, true));
            }
            let v = verdict(Reason::Valid);
            if touch == Touch::No {
                return Ok((v, false));
            }
            record.use_count = record.use_count.saturating_add(1);
            record.last_used_at = Some(at);
            tokens.insert(record.id.as_bytes(), record.to_bytes())?;
            Ok((v, true))
        });
        result.map_err(|e| self.tx_error(e))
    }

    /// Logs a failure for a token we could not tie to a record (malformed or unknown).
    fn log_failure(&self, reason: Reason) -> Result<Verdict> {
        self.append_event(&self.event(EventKind::VerifyFailed, None, Some(reason)))?;
        Ok(Verdict {
            reason,
            id: None,
            name: None,
        })
    }
}
