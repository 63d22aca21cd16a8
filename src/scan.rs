//! Finding tokens in text that may be large, endless or not UTF-8: the streaming search behind
//! `scan` ([`find_tokens`]) and the bounded pieces and replacement behind `redact` ([`Pieces`],
//! [`redact`]). Works on bytes (tokens are ASCII) and never holds more than a bounded buffer, so
//! a huge file or a log with no line breaks cannot exhaust memory. Knows nothing of stores: the
//! caller looks tokens up.

use std::io::{self, BufRead, BufReader, Read};

use zeroize::Zeroizing;

use crate::token::{self, TOKEN_LEN, Token};

mod encoding;
pub use encoding::{Decoded, Encoder, Encoding, sniff};

/// A file whose first this-many bytes hold a NUL is binary and skipped, as ripgrep and git
/// decide it.
pub const BINARY_PROBE: usize = 8 * 1024;
/// How much of a stream is searched at a time.
const READ_CHUNK: usize = 64 * 1024;

/// How much of one input `scan` reads unless `--max-size` says otherwise: past it, the rest is
/// not searched and the scan is incomplete (exit 2), so no input (`/dev/zero`, a pipe whose
/// writer never stops, a sparse file of a petabyte) keeps it running without end.
pub const DEFAULT_MAX_SIZE: u64 = 64 * 1024 * 1024;

/// `reader`, ending in an error of kind [`io::ErrorKind::FileTooLarge`] when it holds more than
/// `max` bytes (the first `max` are read as they are; one byte past them is read to know).
pub struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Capped<R> {
    pub fn new(inner: R, max: u64) -> Self {
        Capped { inner, left: max }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            let mut one = [0u8; 1];
            return match self.inner.read(&mut one)? {
                0 => Ok(0),
                _ => Err(io::ErrorKind::FileTooLarge.into()),
            };
        }
        let room = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..room])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Parses a size for `--max-size`: a whole number of bytes, or of KiB, MiB or GiB with the
/// suffix `K`, `M` or `G` (any case; `KiB`, `MB` and the like too, all binary units).
///
/// # Errors
/// A line saying what is wrong, for clap to print.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("`{text}` is not a size: a number, then K, M or G")),
    };
    if number.is_empty() {
        return Err(format!(
            "`{text}` is not a size: a whole number above 0, then K, M or G"
        ));
    }
    // Past 2^53 − 1 bytes, as every integer is (a larger number is refused, not wrapped).
    let bytes = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| crate::policy::too_large("the size", format!("`{text}`")))?;
    if bytes == 0 {
        return Err(format!(
            "`{text}` is not a size: a whole number above 0, then K, M or G"
        ));
    }
    crate::policy::check_json_integer("the size in bytes", bytes)
}

/// A size as `--max-size` takes it, in the largest unit that divides it (`64 MiB`).
pub fn show_size(bytes: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

/// One whole token found in a stream.
#[derive(Debug)]
pub struct Occurrence {
    /// From 1.
    pub line: u64,
    /// From 1, in bytes from the start of the line (as ripgrep counts columns).
    pub column: u64,
    pub token: Token,
}

/// What [`find_tokens`] made of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Searched {
    Text,
    /// A NUL in the first [`BINARY_PROBE`] bytes: not searched.
    Binary,
}

/// Calls `found` for every whole token (format and checksum, see [`token::tokens_in`]) in
/// `reader`, in order of each search below, reading it in chunks: memory stays bounded whatever
/// the length of the stream or of its lines. UTF-16 and UTF-32 text is searched as UTF-8
/// ([`Decoded`]): lines count the same, and columns count bytes of the UTF-8 form, as
/// ripgrep's do. Its raw bytes are searched too, so text in another encoding after the mark
/// (ASCII lines appended to a PowerShell file, two bytes put at the start of a log) hides no
/// token: a whole token there is ASCII, and UTF-16 or UTF-32 text never holds one by chance.
/// A stream that looks binary (a NUL byte in the first 8 KiB of its text) is not searched when
/// `skip_binary`; it is when the user named it, or piped it in.
///
/// # Errors
/// A read error, as it is; what was found before it has been reported.
pub fn find_tokens(
    reader: impl Read,
    skip_binary: bool,
    mut found: impl FnMut(Occurrence),
) -> io::Result<Searched> {
    let mut reader = Decoded::new(Copied::new(reader), BINARY_PROBE)?;
    let decoded = reader.encoding() != Encoding::Bytes;
    // Tokens in UTF-16 or UTF-32 are searched for in the raw bytes at every offset, but for
    // those the decoded text gives.
    let wide = WideSearch {
        decoded: reader
            .encoding()
            .wide()
            .map(|w| (w, reader.bom_len() as u64)),
    };
    let mut text = Search::new(decoded, 0, (!decoded).then_some(wide));
    // The raw bytes, searched as bytes, from the first (the mark's bytes are no column).
    let mut raw = decoded.then(|| Search::new(false, reader.bom_len() as u64, Some(wide)));
    if !decoded {
        reader.inner_mut().stop();
    }
    let mut chunk = Zeroizing::new(vec![0u8; READ_CHUNK]);
    // The text's first bytes, held until the binary probe is decided.
    let mut probe = Some(Zeroizing::new(Vec::new()));
    loop {
        let n = match reader.read(&mut chunk[..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(raw) = raw.as_mut() {
            raw.feed(&reader.inner_mut().take(), &mut found);
        }
        match probe.as_mut() {
            Some(first) => {
                first.extend_from_slice(&chunk[..n]);
                if n > 0 && first.len() < BINARY_PROBE {
                    continue;
                }
                if skip_binary && first[..first.len().min(BINARY_PROBE)].contains(&0) {
                    return Ok(Searched::Binary);
                }
                // A UTF-8 byte order mark is no column either, as a UTF-16 one is not.
                if !decoded && first.starts_with(b"\xef\xbb\xbf") {
                    text.place.line_start = 3;
                }
                text.feed(first, &mut found);
                probe = None;
            }
            None => text.feed(&chunk[..n], &mut found),
        }
        if n == 0 {
            text.finish(&mut found);
            if let Some(raw) = raw.as_mut() {
                raw.finish(&mut found);
            }
            return Ok(Searched::Text);
        }
    }
}

/// A reader that keeps a copy of what it reads until told to [`Copied::stop`], so the raw bytes
/// under [`Decoded`] text can be searched too. The copy is wiped when dropped.
struct Copied<R> {
    inner: R,
    copy: Option<Zeroizing<Vec<u8>>>,
}

impl<R> Copied<R> {
    fn new(inner: R) -> Self {
        Copied {
            inner,
            copy: Some(Zeroizing::new(Vec::new())),
        }
    }

    /// What was read since the last call.
    fn take(&mut self) -> Zeroizing<Vec<u8>> {
        self.copy
            .as_mut()
            .map(|c| Zeroizing::new(std::mem::take(&mut **c)))
            .unwrap_or_default()
    }

    /// Keeps no more copies (and drops the one held).
    fn stop(&mut self) {
        self.copy = None;
    }
}

impl<R: Read> Read for Copied<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(copy) = self.copy.as_mut() {
            copy.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

/// One stream of bytes searched for whole tokens as it is fed, for [`find_tokens`]: a chunk at
/// a time, the end of each kept for a token that runs into the next.
struct Search {
    /// A chunk, and the end of the one before it that might start a token.
    buf: Zeroizing<Vec<u8>>,
    held: usize,
    /// The stream offset of `buf[0]`.
    base: u64,
    place: Place,
    /// Whether tokens written in UTF-16 or UTF-32 are searched for too, at any offset.
    wide: Option<WideSearch>,
}

/// What the search for tokens in UTF-16 and UTF-32 leaves to another: those a [`Decoded`]
/// stream's text gives (its encoding, at the offsets its units start at).
#[derive(Debug, Clone, Copy)]
struct WideSearch {
    decoded: Option<(token::Wide, u64)>,
}

impl WideSearch {
    /// Whether the token at stream offset `at`, written `wide`, is one the decoded text gives:
    /// its `v` stands where a unit of the decoded encoding has its character, whichever way
    /// the bytes were read here (a UTF-32LE token reads as UTF-32BE three bytes earlier).
    fn decoded_gives(self, at: u64, wide: token::Wide) -> bool {
        let v = at + wide.low() as u64;
        self.decoded.is_some_and(|(w, first)| {
            w.width == wide.width
                && v >= first + w.low() as u64
                && (v - first - w.low() as u64).is_multiple_of(w.width as u64)
        })
    }
}

/// The most bytes a token takes: 40 characters of UTF-32.
const WIDEST_TOKEN: usize = TOKEN_LEN * 4;

impl Search {
    /// `escapes`: whether the bytes are [`Decoded`] text that may hold escapes; `start`: the
    /// offset where the first line's columns start.
    fn new(escapes: bool, start: u64, wide: Option<WideSearch>) -> Search {
        let mut place = Place::new(escapes);
        place.line_start = start;
        Search {
            buf: Zeroizing::new(vec![0u8; READ_CHUNK + WIDEST_TOKEN]),
            held: 0,
            base: 0,
            place,
            wide,
        }
    }

    /// Searches `data`, what follows the bytes fed before.
    fn feed(&mut self, mut data: &[u8], found: &mut impl FnMut(Occurrence)) {
        while !data.is_empty() {
            let n = (self.buf.len() - self.held).min(data.len());
            self.buf[self.held..self.held + n].copy_from_slice(&data[..n]);
            self.held += n;
            data = &data[n..];
            if self.held == self.buf.len() {
                self.search(false, found);
            }
        }
    }

    /// Searches what is held to its end: the stream ended.
    fn finish(&mut self, found: &mut impl FnMut(Occurrence)) {
        self.search(true, found);
    }

    fn search(&mut self, eof: bool, found: &mut impl FnMut(Occurrence)) {
        let held = self.held;
        // A token starting before `limit` lies wholly in what is held; one starting later may
        // run into the next chunk, so those bytes are kept for it.
        let longest = if self.wide.is_some() {
            WIDEST_TOKEN
        } else {
            TOKEN_LEN
        };
        let limit = if eof {
            held
        } else {
            held.saturating_sub(longest - 1)
        };
        let mut counted = 0;
        let mut hits: Vec<(usize, Token)> = token::tokens_in(&self.buf[..held])
            .take_while(|(at, _)| *at < limit)
            .collect();
        if let Some(wide) = self.wide {
            let prefer = wide.decoded.map(|(w, _)| w);
            hits.extend(
                token::wide_tokens_in(&self.buf[..held], prefer)
                    .into_iter()
                    .filter(|(r, _, w)| {
                        r.start < limit && !wide.decoded_gives(self.base + r.start as u64, *w)
                    })
                    .map(|(r, t, _)| (r.start, t)),
            );
            hits.sort_by_key(|(at, _)| *at);
        }
        for (at, token) in hits {
            self.place
                .count(&self.buf[counted..at], self.base + counted as u64);
            counted = at;
            found(Occurrence {
                line: self.place.line,
                column: self.place.column(self.base + at as u64),
                token,
            });
        }
        self.place
            .count(&self.buf[counted..limit], self.base + counted as u64);
        self.buf.copy_within(limit..held, 0);
        self.held -= limit;
        self.base += limit as u64;
    }
}

/// Where [`find_tokens`] has counted to: the line, where it starts, and how to count columns
/// as bytes of the text's UTF-8 form.
struct Place {
    /// The line, from 1.
    line: u64,
    /// The stream offset of the line's first byte.
    line_start: u64,
    /// Whether the text may hold escapes (UTF-16 and UTF-32 text, see [`Decoded`]).
    escapes: bool,
    widths: encoding::EscapeWidths,
    /// How many more bytes than U+FFFD's three the escapes on the line so far took.
    surplus: u64,
}

impl Place {
    fn new(escapes: bool) -> Place {
        Place {
            line: 1,
            line_start: 0,
            escapes,
            widths: encoding::EscapeWidths::default(),
            surplus: 0,
        }
    }

    /// Counts `bytes`, the stream's from offset `at`.
    fn count(&mut self, bytes: &[u8], at: u64) {
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                self.line += 1;
                self.line_start = at + i as u64 + 1;
                self.surplus = 0;
            } else if self.escapes {
                self.surplus += self.widths.surplus(b);
            }
        }
    }

    /// The column, from 1, of stream offset `at` on the current line (counted up to it).
    fn column(&self, at: u64) -> u64 {
        at - self.line_start + 1 - self.surplus
    }
}

/// Why a stream could not be cut into pieces.
#[derive(Debug)]
pub enum PieceError {
    Read(io::Error),
    /// Line `line` ran longer than the bound without one place a token shape could not span.
    Uncuttable {
        line: u64,
    },
}

/// A stream cut into pieces that can be redacted one at a time: each line (with its `\n`), or,
/// for a line longer than the bound, the longest part of it that ends where no token shape
/// can be split ([`token::can_cut_after`]). Pieces are wiped when dropped: they may hold tokens.
pub struct Pieces<R> {
    reader: BufReader<R>,
    max: usize,
    pending: Zeroizing<Vec<u8>>,
    /// The line the next piece starts on, from 1.
    line: u64,
}

impl<R: Read> Pieces<R> {
    /// Pieces of at most about `max` bytes (a piece may pass it by one read's worth).
    pub fn new(reader: R, max: usize) -> Self {
        Pieces {
            reader: BufReader::with_capacity(READ_CHUNK, reader),
            max,
            pending: Zeroizing::new(Vec::new()),
            line: 1,
        }
    }

    /// Whether input is already read and waiting: when it is not, the next piece may take a
    /// while (a log being tailed), so whatever was written should be flushed first.
    pub fn has_buffered(&self) -> bool {
        !self.reader.buffer().is_empty()
    }

    /// The next piece, or `None` at the end of the stream.
    ///
    /// # Errors
    /// [`PieceError::Read`] for a read error; [`PieceError::Uncuttable`] for a line longer than
    /// the bound that has no safe place to cut (such as `max` bytes of letters and digits).
    pub fn next_piece(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>, PieceError> {
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(PieceError::Read(e)),
            };
            if buf.is_empty() {
                if self.pending.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(std::mem::take(&mut self.pending)));
            }
            if let Some(at) = buf.iter().position(|&b| b == b'\n') {
                self.pending.extend_from_slice(&buf[..=at]);
                self.reader.consume(at + 1);
                self.line += 1;
                return Ok(Some(std::mem::take(&mut self.pending)));
            }
            let n = buf.len();
            self.pending.extend_from_slice(buf);
            self.reader.consume(n);
            if self.pending.len() >= self.max {
                let cut = (0..self.pending.len())
                    .rev()
                    .find(|&at| token::can_cut_after(&self.pending, at))
                    .ok_or(PieceError::Uncuttable { line: self.line })?;
                let rest = Zeroizing::new(self.pending[cut + 1..].to_vec());
                self.pending.truncate(cut + 1);
                return Ok(Some(std::mem::replace(&mut self.pending, rest)));
            }
        }
    }
}

/// `piece` with every token shape masked: a whole token as `vbx_AbCd…[LABEL]`, `label` saying
/// what it is (its id, or `unknown`); a shape that is no token (its checksum fails, it is cut
/// short) as `vbx_AbCd…`, since it may be a token mistyped or damaged in the log. Every other
/// byte is copied as it is, valid UTF-8 or not. Run on a whole piece (see [`Pieces`]).
///
/// # Errors
/// What `label` returns.
pub fn redact<E>(
    piece: &[u8],
    label: impl FnMut(&Token) -> Result<String, E>,
) -> Result<Vec<u8>, E> {
    // Tokens in disguise first: a plain run inside one would otherwise be masked alone and
    // leave the rest of the token showing.
    let unmasked = mask_disguised(piece);
    mask_plain(&unmasked, label)
}

/// `piece` with every plain token and token shape masked, as [`redact`] says; nothing else.
fn mask_plain<E>(
    piece: &[u8],
    mut label: impl FnMut(&Token) -> Result<String, E>,
) -> Result<Vec<u8>, E> {
    let mut out = Vec::with_capacity(piece.len());
    let mut last = 0;
    for (range, whole) in token::masked_parts(piece) {
        out.extend_from_slice(&piece[last..range.start]);
        match whole {
            Some(t) => {
                out.extend_from_slice(token::mask(t.expose()).as_bytes());
                out.push(b'[');
                out.extend_from_slice(label(&t)?.as_bytes());
                out.push(b']');
            }
            None => out.extend_from_slice(
                token::mask(&String::from_utf8_lossy(&piece[range.clone()])).as_bytes(),
            ),
        }
        last = range.end;
    }
    out.extend_from_slice(&piece[last..]);
    Ok(out)
}

/// The second pass of `redact`, over the bytes it writes: the raw bytes masked as bytes
/// (`mask_plain`) and every token written in UTF-16 or UTF-32 at any offset masked in its own
/// encoding ([`token::wide_tokens_in`]). So text in another encoding than the stream was taken
/// to be (ASCII lines appended to a PowerShell file, two bytes put at the start of a log, a
/// stray byte that put the decoder one byte out of step) shows no token. What the first pass
/// masked holds no token or shape left. Fed the written bytes in order; holds back what follows
/// the last place no token can span, at most `max` bytes. Wiped when dropped.
pub struct RawPass {
    pending: Zeroizing<Vec<u8>>,
    max: usize,
    /// The stream's encoding, when UTF-16 or UTF-32: how a token read both ways is masked.
    prefer: Option<token::Wide>,
    /// Whether plain tokens are still to be masked: not when the first pass read the stream's
    /// bytes as they are, since it masked every one of them already.
    plain: bool,
}

impl RawPass {
    pub fn new(max: usize, encoding: Encoding) -> RawPass {
        RawPass {
            pending: Zeroizing::new(Vec::new()),
            max,
            prefer: encoding.wide(),
            plain: encoding != Encoding::Bytes,
        }
    }

    /// `bytes` appended to what is held: what can be written now, masked.
    ///
    /// # Errors
    /// What `label` returns; `too_long()` when more than `max` bytes are held with no place
    /// to cut them (nothing is then written unmasked).
    pub fn push<E>(
        &mut self,
        bytes: &[u8],
        label: impl FnMut(&Token) -> Result<String, E>,
        too_long: impl FnOnce() -> E,
    ) -> Result<Vec<u8>, E> {
        self.pending.extend_from_slice(bytes);
        let Some(cut) = (0..self.pending.len())
            .rev()
            .find(|&at| raw_cut_after(&self.pending, at))
        else {
            if self.pending.len() > self.max {
                return Err(too_long());
            }
            return Ok(Vec::new());
        };
        let rest = Zeroizing::new(self.pending[cut + 1..].to_vec());
        if rest.len() > self.max {
            return Err(too_long());
        }
        let ready = std::mem::replace(&mut self.pending, rest);
        mask_raw(&ready[..=cut], self.prefer, self.plain, label)
    }

    /// What is held, masked: the stream ended.
    ///
    /// # Errors
    /// What `label` returns.
    pub fn finish<E>(
        &mut self,
        label: impl FnMut(&Token) -> Result<String, E>,
    ) -> Result<Vec<u8>, E> {
        let ready = std::mem::take(&mut self.pending);
        mask_raw(&ready, self.prefer, self.plain, label)
    }
}

/// Whether raw bytes may be cut after `at` with no token split, plain or wide: as
/// [`token::can_cut_after`] says, and never after a zero byte or `_` (a wide token is letters,
/// digits, `_` and zeros) but for the zeros of a line break's unit (`\n\0`, `\n\0\0\0`), so a
/// UTF-16 line goes out whole.
fn raw_cut_after(bytes: &[u8], at: usize) -> bool {
    match bytes[at] {
        0 => {
            let before = &bytes[at.saturating_sub(3)..at];
            before
                .iter()
                .rev()
                .find(|b| **b != 0)
                .is_some_and(u8::is_ascii_whitespace)
        }
        b'_' => false,
        _ => token::can_cut_after(bytes, at),
    }
}

/// `piece` with wide tokens masked in their encoding (`vbx_AbCd…[LABEL]` written in it) and,
/// when `plain`, plain tokens and shapes masked too ([`mask_plain`]).
fn mask_raw<E>(
    piece: &[u8],
    prefer: Option<token::Wide>,
    plain: bool,
    mut label: impl FnMut(&Token) -> Result<String, E>,
) -> Result<Vec<u8>, E> {
    let wide = token::wide_tokens_in(piece, prefer);
    let mut out = Vec::with_capacity(piece.len());
    let between =
        |out: &mut Vec<u8>, bytes: &[u8], label: &mut dyn FnMut(&Token) -> Result<String, E>| {
            match plain {
                true => out.extend(mask_plain(bytes, label)?),
                false => out.extend_from_slice(bytes),
            }
            Ok(())
        };
    let mut last = 0;
    for (range, t, w) in wide {
        between(&mut out, &piece[last..range.start], &mut label)?;
        let shown = format!("{}[{}]", token::mask(t.expose()), label(&t)?);
        out.extend(w.encode(&shown));
        last = range.end;
    }
    between(&mut out, &piece[last..], &mut label)?;
    Ok(out)
}

/// `bytes` with every token in disguise (an invisible character inside, full width, a letter
/// from another script, a byte that is not UTF-8: `crate::disguise::disguised_tokens`) masked as
/// `vbx_AbCd…`; other bytes pass as they are.
fn mask_disguised(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let found = crate::disguise::disguised_tokens(bytes);
    if found.is_empty() {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut last = 0;
    for (range, looks) in found {
        out.extend_from_slice(&bytes[last..range.start]);
        out.extend_from_slice(token::mask(&looks).as_bytes());
        last = range.end;
    }
    out.extend_from_slice(&bytes[last..]);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";

    fn found(input: &[u8]) -> (Searched, Vec<(u64, u64)>) {
        let mut at = Vec::new();
        let searched = find_tokens(input, true, |o| at.push((o.line, o.column))).expect("reads");
        (searched, at)
    }

    #[test]
    fn tokens_are_found_with_their_line_and_column() {
        let text = format!("a\n  {GOOD}\nx=\"{GOOD}\" {GOOD}\n{}", &GOOD[..39]);
        assert_eq!(
            found(text.as_bytes()),
            (Searched::Text, vec![(2, 3), (3, 4), (3, 46)])
        );
        assert_eq!(found(b""), (Searched::Text, vec![]));
    }

    #[test]
    fn a_token_across_chunks_is_found_once_with_the_right_place() {
        for pad in [
            READ_CHUNK - 45,
            READ_CHUNK - 39,
            READ_CHUNK - 20,
            READ_CHUNK,
        ] {
            let text = format!("{}\n{}{GOOD}\n{GOOD}", "x".repeat(pad), "y".repeat(pad));
            assert_eq!(
                found(text.as_bytes()).1,
                vec![(2, pad as u64 + 1), (3, 1)],
                "{pad}"
            );
        }
    }

    #[test]
    fn binary_streams_are_skipped() {
        let mut bytes = format!("{GOOD}\n").into_bytes();
        bytes.push(0);
        assert_eq!(found(&bytes), (Searched::Binary, vec![]));
        // A NUL past the probe does not make it binary.
        let mut bytes = vec![b'a'; BINARY_PROBE];
        bytes.extend_from_slice(format!("\0{GOOD}").as_bytes());
        assert_eq!(
            found(&bytes),
            (Searched::Text, vec![(1, BINARY_PROBE as u64 + 2)])
        );
    }

    #[test]
    fn tokens_in_utf16_and_utf32_are_found_on_their_line() {
        let text = format!("zeile 1\r\nschlüssel = {GOOD}\n\n  {GOOD}");
        let le16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be16: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let le32: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let be32: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        for bytes in [le16, be16, le32, be32] {
            // Columns count bytes of the UTF-8 form: `ü` is two.
            assert_eq!(found(&bytes), (Searched::Text, vec![(2, 14), (4, 3)]));
        }
        // Text that holds a NUL once decoded is binary, as it would be in UTF-8.
        let nul: Vec<u8> = format!("\u{feff}{GOOD}\0")
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(found(&nul), (Searched::Binary, vec![]));
    }

    #[test]
    fn a_unit_that_does_not_decode_counts_as_the_three_bytes_of_u_fffd() {
        // `a`, an unpaired surrogate, `b`, a space, then the token: column 1 + 1 + 3 + 1 + 1.
        let mut units: Vec<u16> = vec![0xfeff, u16::from(b'a'), 0xd800, u16::from(b'b'), 32];
        units.extend(GOOD.encode_utf16());
        units.extend([10, 0xdc00, 0xdc00, 32]);
        units.extend(GOOD.encode_utf16());
        let le16: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(found(&le16), (Searched::Text, vec![(1, 7), (2, 8)]));
        // A UTF-32 unit past U+10FFFF is one too, and so is each of many on a long line, one
        // read chunk and the next alike.
        let mut units: Vec<u32> = vec![0xfeff, 0x0011_0000];
        units.extend(std::iter::repeat_n(0x0011_0000, 100_000));
        units.push(32);
        units.extend(GOOD.chars().map(u32::from));
        let le32: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(found(&le32), (Searched::Text, vec![(1, 3 * 100_001 + 2)]));
    }

    #[test]
    fn capped_reads_stop_past_the_cap() {
        let mut out = Vec::new();
        let err = Capped::new(&b"abcdef"[..], 4)
            .read_to_end(&mut out)
            .expect_err("too long");
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(out, b"abcd");
        let mut out = Vec::new();
        Capped::new(&b"abcd"[..], 4)
            .read_to_end(&mut out)
            .expect("fits");
        assert_eq!(out, b"abcd");
    }

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("2gib"), Ok(2 << 30));
        assert_eq!(parse_size("10k"), Ok(10 << 10));
        assert_eq!(parse_size("4096"), Ok(4096));
        for bad in ["", "0", "M", "1T", "-1", "1.5G", "99999999999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        // At most 2^53 − 1 bytes, whatever the unit: a JSON reader holds every integer exactly.
        assert_eq!(parse_size("9007199254740991"), Ok((1 << 53) - 1));
        assert_eq!(parse_size("8388607G"), Ok(8_388_607 << 30));
        for past in ["9007199254740992", "8388608G", "99999999999999999999"] {
            let err = parse_size(past).expect_err(past);
            assert!(err.contains("9007199254740991"), "{err}");
        }
        assert_eq!(show_size(DEFAULT_MAX_SIZE), "64 MiB");
        assert_eq!(show_size(1536), "1536 bytes");
        assert_eq!(show_size(3 << 30), "3 GiB");
    }

    fn redacted(piece: &[u8]) -> Vec<u8> {
        redact(piece, |t| Ok::<_, ()>(format!("id:{}", &t.expose()[4..6]))).expect("labels")
    }

    #[test]
    fn redact_masks_tokens_with_a_label_and_shapes_without_one() {
        let bad = GOOD.replacen("17", "18", 1);
        let mut line = format!("a {GOOD} b {bad} c ?k={GOOD}&").into_bytes();
        line.extend_from_slice(b" \xff\xfe\n");
        assert_eq!(
            redacted(&line),
            b"a vbx_zQWB\xe2\x80\xa6[id:zQ] b vbx_zQWB\xe2\x80\xa6 c ?k=vbx_zQWB\xe2\x80\xa6[id:zQ]& \xff\xfe\n"
        );
        assert_eq!(redacted(b"plain \xc3\x28 text"), b"plain \xc3\x28 text");
        // A token glued to a letter, ASCII or not, keeps its label and the letter.
        for after in ["é y", "ñandú", "abc", "_b"] {
            assert_eq!(
                redacted(format!("x {GOOD}{after}").as_bytes()),
                format!("x vbx_zQWB…[id:zQ]{after}").into_bytes(),
                "{after}"
            );
        }
    }

    fn pieces(input: &[u8], max: usize) -> Result<Vec<Vec<u8>>, PieceError> {
        let mut p = Pieces::new(input, max);
        let mut out = Vec::new();
        while let Some(piece) = p.next_piece()? {
            out.push(piece.to_vec());
        }
        Ok(out)
    }

    #[test]
    fn long_lines_are_cut_only_where_no_shape_can_be_split() {
        assert_eq!(
            pieces(b"ab\ncd", 100).expect("cuts"),
            vec![b"ab\n".to_vec(), b"cd".to_vec()]
        );
        let long = format!("{} {GOOD}{}", "w ".repeat(20), " z".repeat(40_000));
        let got = pieces(long.as_bytes(), 30).expect("cuts");
        assert!(got.len() > 1);
        assert_eq!(got.concat(), long.as_bytes());
        assert!(
            got.iter()
                .any(|p| p.windows(GOOD.len()).any(|w| w == GOOD.as_bytes()))
        );
        let endless = "a".repeat(READ_CHUNK * 2);
        assert!(matches!(
            pieces(endless.as_bytes(), 1000),
            Err(PieceError::Uncuttable { line: 1 })
        ));
    }
}
