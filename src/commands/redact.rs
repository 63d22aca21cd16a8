//! `redact`: stdin to stdout with every token masked and labelled, for logs. Streams: each line
//! is written as soon as it is read (a log being tailed shows at once), and memory stays bounded
//! however long a line is. UTF-16 and UTF-32 input is redacted as text and written back in
//! its own encoding.

use std::io::{self, BufRead};

use super::Context;
use crate::error::{Error, Result, reason};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::scan::{Decoded, Encoder, Encoding, PieceError, Pieces, RawPass, redact, sniff};
use crate::token::Token;
use crate::verifier::{Reading, Verifier};

/// A line longer than this is redacted in pieces, cut where no token can be split; a line this
/// long with no such place (a megabyte of letters and digits) ends the run with an error rather
/// than be copied unredacted.
pub const MAX_PIECE: usize = 1024 * 1024;

/// The label of a token this store does not know (or of every token, with no store).
const UNKNOWN: &str = "unknown";

/// Copies stdin to stdout, redacted ([`crate::scan::redact`]). Stops early, quietly, when the
/// reader of stdout leaves.
///
/// # Errors
/// [`Error::Usage`] when stdin cannot be read or holds a line that cannot be cut (see
/// [`MAX_PIECE`]); the store's errors (a damaged or busy store), but not its absence.
pub fn run(ctx: &Context, p: &mut Printer) -> Result<Outcome> {
    let mut verifier = match Verifier::at(&ctx.location, Reading::Memory, ctx.wait) {
        Ok(v) => Some(v),
        Err(Error::NoStore(at)) => {
            p.no_store(&at, "every token is labelled [unknown]");
            None
        }
        Err(e) => return Err(e),
    };
    let mut label = |t: &Token| -> Result<String> {
        let known = match verifier.as_mut() {
            Some(v) => v.inspect(t.expose())?,
            None => None,
        };
        Ok(known.map_or_else(|| UNKNOWN.to_owned(), |k| k.id))
    };
    let mut stdin = io::stdin().lock();
    // Told from what the first read gives, so a log being tailed is not waited on.
    let (first, encoding) = match stdin.fill_buf() {
        Ok(first) => (first.len(), sniff(first).0),
        Err(e) => return Err(Error::usage(format!("cannot read stdin: {}", reason(&e)))),
    };
    if encoding == Encoding::Bytes {
        return copy_redacted(
            Pieces::new(stdin, MAX_PIECE),
            Encoder::new(Encoding::Bytes),
            Written {
                raw: RawPass::new(MAX_PIECE, Encoding::Bytes),
            },
            &mut label,
            p,
        );
    }
    let text = Decoded::new(stdin, first)
        .map_err(|e| Error::usage(format!("cannot read stdin: {}", reason(&e))))?;
    let mut encoder = Encoder::new(encoding);
    let mut out = Written {
        raw: RawPass::new(MAX_PIECE, encoding),
    };
    if text.had_bom() {
        out.write(&encoder.encode("\u{feff}".as_bytes()), &mut label, p)?;
    }
    copy_redacted(Pieces::new(text, MAX_PIECE), encoder, out, &mut label, p)
}

/// Where redacted bytes go: to stdout, through the [`RawPass`].
struct Written {
    raw: RawPass,
}

impl Written {
    fn write(
        &mut self,
        bytes: &[u8],
        label: &mut impl FnMut(&Token) -> Result<String>,
        p: &mut Printer,
    ) -> Result<()> {
        let too_long = || {
            Error::usage(format!(
                "more than {MAX_PIECE} bytes with no place to cut them that cannot be inside a token; stopped there rather than copy them unredacted"
            ))
        };
        p.redacted(&self.raw.push(bytes, &mut *label, too_long)?);
        Ok(())
    }

    fn finish(
        &mut self,
        label: &mut impl FnMut(&Token) -> Result<String>,
        p: &mut Printer,
    ) -> Result<()> {
        p.redacted(&self.raw.finish(&mut *label)?);
        Ok(())
    }
}

/// Writes each piece redacted, written back by `encoder`.
fn copy_redacted(
    mut pieces: Pieces<impl io::Read>,
    mut encoder: Encoder,
    mut written: Written,
    label: &mut impl FnMut(&Token) -> Result<String>,
    p: &mut Printer,
) -> Result<Outcome> {
    loop {
        let piece = match pieces.next_piece() {
            Ok(Some(piece)) => piece,
            Ok(None) => break,
            Err(PieceError::Read(e)) => {
                return Err(Error::usage(format!("cannot read stdin: {}", reason(&e))));
            }
            Err(PieceError::Uncuttable { line }) => {
                return Err(Error::usage(format!(
                    "line {line}: more than {MAX_PIECE} bytes with no place to cut it that cannot be inside a token (no space, no punctuation); stopped there rather than copy it unredacted"
                )));
            }
        };
        let out = redact(&piece, &mut *label)?;
        written.write(&encoder.encode(&out), label, p)?;
        // Flushed whenever the input has nothing more waiting: a tailed log sees each line at
        // once, while a file piped in is written in big blocks.
        if !pieces.has_buffered() {
            p.flush();
        }
        if p.output_failed() {
            return Ok(Outcome::Success);
        }
    }
    written.write(&encoder.finish(), label, p)?;
    written.finish(label, p)?;
    Ok(Outcome::Success)
}
