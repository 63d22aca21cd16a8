//! `verify`: is this token valid? Read from `$VBX_TOKEN` or stdin, never from an argument.

use std::io::{self, BufRead, Read, Write};

use zeroize::Zeroizing;

use super::{Context, Outcome};
use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::output::{self, VerdictView};
use crate::prompt;
use crate::store::{OpenMode, Touch, Verdict};

/// The environment variable a token may come from.
pub const TOKEN_VAR: &str = "VBX_TOKEN";
/// More than any token; a line longer than this is not one, and we don't buffer the rest.
const MAX_LINE: u64 = 4096;
/// Batches are made durable and printed in chunks of this many, so a long stream shows progress
/// without an fsync per token.
const BATCH_CHUNK: usize = 1024;

pub fn run(ctx: &Context, args: VerifyArgs, out: &mut impl Write) -> Result<Outcome> {
    let touch = if args.no_touch { Touch::No } else { Touch::Yes };
    if args.batch {
        return batch(ctx, touch, out);
    }
    let candidate = read_one()?;
    let verdict = ctx.open(OpenMode::Existing)?.verify(&candidate, touch)?;
    if ctx.json {
        output::json(out, &VerdictView::from(&verdict))?;
    } else {
        output::verdict_line(out, &verdict)?;
    }
    Ok(outcome(std::slice::from_ref(&verdict)))
}

fn outcome(verdicts: &[Verdict]) -> Outcome {
    if verdicts.iter().all(Verdict::is_valid) {
        Outcome::Success
    } else {
        Outcome::Invalid
    }
}

/// The one token to check: `$VBX_TOKEN` when set, else a hidden prompt in a terminal, else the
/// first line of stdin.
fn read_one() -> Result<Zeroizing<String>> {
    let raw = if let Some(value) = std::env::var_os(TOKEN_VAR) {
        let value = value
            .into_string()
            .map_err(|_| Error::Usage(format!("{TOKEN_VAR} is not valid UTF-8")))?;
        Zeroizing::new(value)
    } else if prompt::interactive() {
        prompt::secret("Token")?
    } else {
        let mut line = Vec::new();
        io::stdin()
            .lock()
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::Usage(format!("cannot read the token from stdin: {e}")))?;
        let line = Zeroizing::new(line);
        Zeroizing::new(
            String::from_utf8(line.to_vec())
                .map_err(|_| Error::Usage("the token on stdin is not valid UTF-8".into()))?,
        )
    };
    let token = raw.trim();
    if token.is_empty() {
        return Err(Error::Usage(format!(
            "no token given: pipe one on stdin or set {TOKEN_VAR}"
        )));
    }
    Ok(Zeroizing::new(token.to_owned()))
}

/// `--batch`: one token per line of stdin, one JSON line out per token, in order. Lines that
/// are blank or not UTF-8 count as malformed tokens, so output line N always answers input
/// line N.
fn batch(ctx: &Context, touch: Touch, out: &mut impl Write) -> Result<Outcome> {
    let store = ctx.open(OpenMode::Existing)?;
    let mut input = io::stdin().lock();
    let mut all_valid = true;
    let mut seen = 0usize;
    loop {
        let chunk = read_chunk(&mut input)?;
        if chunk.is_empty() {
            break;
        }
        seen += chunk.len();
        let verdicts = store.verify_many(chunk.iter().map(|t| t.trim()), touch)?;
        // `verify_many` made the chunk durable; now it may be reported.
        for v in &verdicts {
            output::json_line(out, &VerdictView::from(v))?;
        }
        out.flush()?;
        all_valid &= outcome(&verdicts) == Outcome::Success;
    }
    if seen == 0 {
        return Err(Error::Usage(
            "no tokens on stdin: --batch reads one per line".into(),
        ));
    }
    Ok(if all_valid {
        Outcome::Success
    } else {
        Outcome::Invalid
    })
}

fn read_chunk(input: &mut impl BufRead) -> Result<Vec<Zeroizing<String>>> {
    let mut chunk = Vec::new();
    while chunk.len() < BATCH_CHUNK {
        let mut line = Zeroizing::new(Vec::new());
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::Usage(format!("cannot read tokens from stdin: {e}")))?;
        if n == 0 {
            break;
        }
        // Not UTF-8 cannot be a token; an empty string verifies as malformed.
        chunk.push(Zeroizing::new(
            String::from_utf8(line.to_vec()).unwrap_or_default(),
        ));
    }
    Ok(chunk)
}
