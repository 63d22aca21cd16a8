//! Which encoding a stream's text is in, told from its first bytes, and a reader that gives
//! UTF-16 and UTF-32 text as UTF-8, so the byte search of [`super::find_tokens`] sees tokens in
//! Windows exports and PowerShell output as in any other file; and the [`Encoder`] that writes
//! such text back (for `redact`) exactly as it came, tokens aside.
//!
//! What does not decode (an unpaired surrogate, a unit past U+10FFFF, a unit cut short at the
//! end) is carried through as an *escape*: `0xFF`, then `0x80 | n`, then each of its `n` raw
//! bytes as two bytes `0x80 | high nibble`, `0x80 | low nibble`. None of those bytes is a
//! letter, digit or line break, and none is valid UTF-8 on its own, so an escape breaks a token
//! as any other character would, keeps lines where they were, and cannot be taken for text;
//! the [`Encoder`] turns it back into the raw bytes.

use std::io::{self, Read};

use zeroize::Zeroizing;

/// How a stream's bytes are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Searched as they are: UTF-8, ASCII, Latin-1, binary.
    Bytes,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

impl Encoding {
    /// How a token is written in this encoding, when it is UTF-16 or UTF-32.
    pub fn wide(self) -> Option<crate::token::Wide> {
        use crate::token::Wide;
        match self {
            Encoding::Bytes => None,
            Encoding::Utf16Le => Some(Wide {
                width: 2,
                little_endian: true,
            }),
            Encoding::Utf16Be => Some(Wide {
                width: 2,
                little_endian: false,
            }),
            Encoding::Utf32Le => Some(Wide {
                width: 4,
                little_endian: true,
            }),
            Encoding::Utf32Be => Some(Wide {
                width: 4,
                little_endian: false,
            }),
        }
    }

    /// Its usual name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Bytes => "UTF-8",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Utf32Le => "UTF-32LE",
            Encoding::Utf32Be => "UTF-32BE",
        }
    }
}

/// The encoding of a stream that starts with `probe`, and the length of its byte order mark
/// (to be skipped; 0 without one). A BOM decides (UTF-32's first, since its little-endian one
/// starts with UTF-16LE's), unless what follows it holds a line break and no NUL; without one, a probe holding NUL bytes is UTF-32 when every 4-byte
/// unit but one in sixteen is a character of text, else UTF-16 when NULs stand in the high
/// bytes of at least one unit in eight and in few low ones (the other way round for
/// big-endian) and every unit but one in sixteen decodes to a character of text (so a stray
/// unpaired surrogate or NUL does not hide the text, and the tokens in it, from the search). Anything else, binary included, is [`Encoding::Bytes`]: a
/// stray NUL in ASCII text, or a binary whose NULs happen to fall at odd places, does not pass.
pub fn sniff(probe: &[u8]) -> (Encoding, usize) {
    let marked = match probe {
        [0xff, 0xfe, 0, 0, ..] => Some((Encoding::Utf32Le, 4)),
        [0, 0, 0xfe, 0xff, ..] => Some((Encoding::Utf32Be, 4)),
        [0xff, 0xfe, ..] => Some((Encoding::Utf16Le, 2)),
        [0xfe, 0xff, ..] => Some((Encoding::Utf16Be, 2)),
        _ => None,
    };
    if let Some((encoding, bom)) = marked {
        // A mark followed by a line break and no NUL is no UTF-16 or UTF-32 (whose line break
        // is `0A 00`, or `00 0A`, and the rest): a mark put at the start of an ASCII log, read as
        // it is, so it goes on streaming line by line. (Tokens in text either way are found
        // all the same: the raw bytes are searched for them at every offset.)
        let rest = &probe[bom..];
        if rest.contains(&b'\n') && !rest.contains(&0) {
            return (Encoding::Bytes, 0);
        }
        return (encoding, bom);
    }
    // Text without a NUL is read as it is: the common case, decided at once.
    if !probe.contains(&0) {
        return (Encoding::Bytes, 0);
    }
    for enc in [Encoding::Utf32Le, Encoding::Utf32Be] {
        if looks_utf32(probe, enc == Encoding::Utf32Le) {
            return (enc, 0);
        }
    }
    for enc in [Encoding::Utf16Le, Encoding::Utf16Be] {
        if looks_utf16(probe, enc == Encoding::Utf16Le) {
            return (enc, 0);
        }
    }
    // Text mostly beyond ASCII (Chinese, Japanese) has no NUL in its high bytes, and a few in
    // its low ones (一 is U+4E00): UTF-16 when, read one way, nearly every unit is a character
    // text holds, and fewer than read the other way. Random bytes fail that: about one unit in
    // five of theirs is unassigned, private-use or an unpaired surrogate.
    // ASCII with a stray NUL read two bytes at a time is CJK too (`vb` is U+6276): text
    // beyond ASCII has bytes beyond it, in its high bytes or its low ones.
    let plain = probe
        .iter()
        .filter(|&&b| matches!(b, b'\t'..=b'\r' | b' '..=b'~'))
        .count();
    let others = probe.iter().filter(|&&b| b != 0).count();
    if plain * 20 >= others * 19 {
        return (Encoding::Bytes, 0);
    }
    let le = strict_bad_utf16(probe, true);
    let be = strict_bad_utf16(probe, false);
    match (le, be) {
        (Some(l), Some(b)) if l <= b => (Encoding::Utf16Le, 0),
        (Some(_), Some(_)) | (None, Some(_)) => (Encoding::Utf16Be, 0),
        (Some(_), None) => (Encoding::Utf16Le, 0),
        (None, None) => (Encoding::Bytes, 0),
    }
}

/// The fewest UTF-16 units text beyond ASCII is told by (without NULs standing in its high
/// bytes): 64 bytes.
const STRICT_MIN_UNITS: usize = 32;

/// How many of `probe`'s UTF-16 units are no character text holds ([`crate::disguise::is_text_char`],
/// NUL included), if that is few enough (one in sixteen) for it to be UTF-16 text.
fn strict_bad_utf16(probe: &[u8], le: bool) -> Option<usize> {
    let units: Vec<u16> = probe
        .chunks_exact(2)
        .map(|u| {
            if le {
                u16::from_le_bytes([u[0], u[1]])
            } else {
                u16::from_be_bytes([u[0], u[1]])
            }
        })
        .collect();
    let whole = match units.last() {
        Some(u) if (0xd800..0xdc00).contains(u) => &units[..units.len() - 1],
        _ => &units[..],
    };
    // A few bytes of anything read as UTF-16 may all be characters (an ELF header's first
    // eight, read big-endian, are): too few to tell by.
    if whole.len() < STRICT_MIN_UNITS {
        return None;
    }
    let bad = char::decode_utf16(whole.iter().copied())
        .filter(|c| {
            !c.as_ref()
                .is_ok_and(|&c| c != '\0' && crate::disguise::is_text_char(c))
        })
        .count();
    few_bad(bad, whole.len()).then_some(bad)
}

/// Whether `c` can stand in text: no NUL, no control character but the spaces and line breaks
/// (and ESC, which coloured terminal output holds).
fn is_text(c: char) -> bool {
    !c.is_control() || matches!(c, '\t' | '\n' | '\x0b' | '\x0c' | '\r' | '\x1b')
}

fn unit32(bytes: &[u8], le: bool) -> u32 {
    let b = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if le {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    }
}

/// Whether `bad` of `all` units is few enough for the rest to be text: one in sixteen.
fn few_bad(bad: usize, all: usize) -> bool {
    all > 0 && bad * 16 <= all
}

fn looks_utf32(probe: &[u8], le: bool) -> bool {
    let units = probe.len() / 4;
    let in_ascii = probe
        .chunks_exact(4)
        .filter(|u| (1..0x80).contains(&unit32(u, le)))
        .count();
    let ascii = units >= STRICT_MIN_UNITS && in_ascii * 16 >= units * 15;
    let bad = probe
        .chunks_exact(4)
        .filter(|u| {
            !char::from_u32(unit32(u, le))
                .is_some_and(|c| (is_text(c) || (ascii && c.is_control())) && assigned_plane(c))
        })
        .count();
    few_bad(bad, units)
}

/// Whether `c` is in a plane that holds characters text uses: 0 to 3, or 14's tags and
/// variation selectors. Planes 4 to 13 have none assigned, and two UTF-16 units of ASCII read as
/// one UTF-32 unit land there (`\t` `\t` in UTF-16LE is U+90009), so a UTF-16 file of tabs or
/// short lines is not taken for UTF-32.
fn assigned_plane(c: char) -> bool {
    let c = u32::from(c);
    c < 0x4_0000 || (0xe_0000..0xe_1000).contains(&c)
}

fn looks_utf16(probe: &[u8], le: bool) -> bool {
    let (mut high_nul, mut low_nul) = (0usize, 0usize);
    let units: Vec<u16> = probe
        .chunks_exact(2)
        .map(|u| {
            let (low, high) = if le { (u[0], u[1]) } else { (u[1], u[0]) };
            high_nul += usize::from(high == 0);
            low_nul += usize::from(low == 0);
            u16::from(high) << 8 | u16::from(low)
        })
        .collect();
    if high_nul == 0 || high_nul * 8 < units.len() || low_nul * 4 > high_nul {
        return false;
    }
    // Nearly every high byte NUL and no low one, over enough units to tell: ASCII-range text
    // two bytes a character, whatever control characters it holds (a form feed, a bell on
    // every line), which a binary does not look like. (UTF-32 likewise, above.)
    let ascii =
        units.len() >= STRICT_MIN_UNITS && high_nul * 16 >= units.len() * 15 && low_nul == 0;
    // The probe may end inside a surrogate pair.
    let whole = match units.last() {
        Some(u) if (0xd800..0xdc00).contains(u) => &units[..units.len() - 1],
        _ => &units[..],
    };
    let bad = char::decode_utf16(whole.iter().copied())
        .filter(|c| {
            !c.as_ref()
                .is_ok_and(|&c| is_text(c) || (ascii && c.is_control()))
        })
        .count();
    few_bad(bad, whole.len())
}

/// The first byte of an escape (see the module docs): never a byte of UTF-8.
const ESCAPE: u8 = 0xff;

/// Appends the escape of `raw` (1 to 4 bytes that did not decode) to `out`.
fn escape(out: &mut Vec<u8>, raw: &[u8]) {
    debug_assert!((1..=4).contains(&raw.len()));
    out.push(ESCAPE);
    out.push(0x80 | raw.len() as u8);
    for b in raw {
        out.push(0x80 | b >> 4);
        out.push(0x80 | b & 0x0f);
    }
}

/// Counts columns in [`Decoded`] text as in its UTF-8 form, an escape counting as the three
/// bytes of U+FFFD (what a lossy decoder shows in its place): fed every byte in order, it says
/// how many more bytes than that an escape took.
#[derive(Debug, Default)]
pub struct EscapeWidths {
    /// Where the last byte fed left off: 0 outside an escape; 1 after its first byte; else
    /// 1 + how many of its nibble bytes are still to come.
    state: usize,
}

impl EscapeWidths {
    /// The bytes `b` adds to its line's length beyond its UTF-8 form: `2n - 1` for the length
    /// byte of an escape of `n` raw bytes (2 + 2n bytes standing for 3), else 0.
    pub fn surplus(&mut self, b: u8) -> u64 {
        match self.state {
            0 => {
                self.state = usize::from(b == ESCAPE);
                0
            }
            1 => {
                let n = usize::from(b ^ 0x80);
                self.state = 1 + 2 * n;
                (2 * n as u64).saturating_sub(1)
            }
            _ => {
                self.state -= 1;
                if self.state == 1 {
                    self.state = 0;
                }
                0
            }
        }
    }
}

/// The raw bytes of the escape at the start of `bytes`, and its length; `Ok(None)` when
/// `bytes` ends inside it; `Err(())` when it is no escape.
fn unescape(bytes: &[u8]) -> Result<Option<(Vec<u8>, usize)>, ()> {
    let Some(&len) = bytes.get(1) else {
        return Ok(None);
    };
    let n = usize::from(len ^ 0x80);
    if len & 0xf0 != 0x80 || !(1..=4).contains(&n) {
        return Err(());
    }
    let Some(nibbles) = bytes.get(2..2 + 2 * n) else {
        return Ok(None);
    };
    if nibbles.iter().any(|b| b & 0xf0 != 0x80) {
        return Err(());
    }
    let raw = nibbles
        .chunks_exact(2)
        .map(|p| (p[0] & 0x0f) << 4 | (p[1] & 0x0f))
        .collect();
    Ok(Some((raw, 2 + 2 * n)))
}

/// Writes text as [`Decoded`] gives it (UTF-8 with escapes, masked by `redact`) back in the
/// stream's encoding, piece by piece: what was undecodable goes back byte for byte, and a
/// character or escape cut between two pieces waits for the next one. UTF-8 that is not
/// (which [`Decoded`] never gives) becomes U+FFFD.
#[derive(Debug)]
pub struct Encoder {
    encoding: Encoding,
    /// The start of a character or escape the last piece ended inside.
    carry: Zeroizing<Vec<u8>>,
}

impl Encoder {
    /// An encoder to `encoding` ([`Encoding::Bytes`] passes bytes through).
    pub fn new(encoding: Encoding) -> Encoder {
        Encoder {
            encoding,
            carry: Zeroizing::new(Vec::new()),
        }
    }

    /// `piece` written back in the encoding.
    pub fn encode(&mut self, piece: &[u8]) -> Vec<u8> {
        if self.encoding == Encoding::Bytes {
            return piece.to_vec();
        }
        let mut bytes = Zeroizing::new(std::mem::take(&mut *self.carry));
        bytes.extend_from_slice(piece);
        let mut out = Vec::with_capacity(bytes.len() * 2);
        let mut at = 0;
        while at < bytes.len() {
            if bytes[at] == ESCAPE {
                match unescape(&bytes[at..]) {
                    Ok(Some((raw, len))) => {
                        out.extend_from_slice(&raw);
                        at += len;
                    }
                    Ok(None) => {
                        self.carry.extend_from_slice(&bytes[at..]);
                        break;
                    }
                    Err(()) => {
                        self.char(&mut out, char::REPLACEMENT_CHARACTER);
                        at += 1;
                    }
                }
                continue;
            }
            let end = bytes[at..]
                .iter()
                .position(|&b| b == ESCAPE)
                .map_or(bytes.len(), |n| at + n);
            match std::str::from_utf8(&bytes[at..end]) {
                Ok(text) => {
                    text.chars().for_each(|c| self.char(&mut out, c));
                    at = end;
                }
                Err(e) => {
                    let valid = at + e.valid_up_to();
                    let text = std::str::from_utf8(&bytes[at..valid]).unwrap_or_default();
                    text.chars().for_each(|c| self.char(&mut out, c));
                    match e.error_len() {
                        Some(n) => at = valid + n,
                        // A character cut at the end of the piece: the next one ends it.
                        None if end == bytes.len() => {
                            self.carry.extend_from_slice(&bytes[valid..]);
                            break;
                        }
                        None => at = end,
                    }
                    self.char(&mut out, char::REPLACEMENT_CHARACTER);
                }
            }
        }
        out
    }

    /// What the last piece left unfinished, written as U+FFFD (nothing when it left nothing).
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.carry.is_empty() {
            self.carry.clear();
            self.char(&mut out, char::REPLACEMENT_CHARACTER);
        }
        out
    }

    fn char(&self, out: &mut Vec<u8>, c: char) {
        let mut units = [0u16; 2];
        match self.encoding {
            Encoding::Bytes => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            Encoding::Utf16Le => c
                .encode_utf16(&mut units)
                .iter()
                .for_each(|u| out.extend_from_slice(&u.to_le_bytes())),
            Encoding::Utf16Be => c
                .encode_utf16(&mut units)
                .iter()
                .for_each(|u| out.extend_from_slice(&u.to_be_bytes())),
            Encoding::Utf32Le => out.extend_from_slice(&u32::from(c).to_le_bytes()),
            Encoding::Utf32Be => out.extend_from_slice(&u32::from(c).to_be_bytes()),
        }
    }
}

/// Bytes read from the stream at a time.
const CHUNK: usize = 64 * 1024;

/// `inner` as UTF-8: the bytes as they are for [`Encoding::Bytes`], else decoded (a byte order
/// mark left out; what does not decode, such as an unpaired surrogate or an odd byte at the
/// end, becomes an escape, which breaks a token as any other character would and which the
/// [`Encoder`] writes back as it was). Line breaks stay where they were, so lines count the
/// same. Buffers are wiped when dropped: they may hold tokens.
pub struct Decoded<R> {
    inner: R,
    encoding: Encoding,
    /// Raw bytes read and not yet decoded: the probe at first, then a UTF-32 unit cut short.
    raw: Zeroizing<Vec<u8>>,
    /// Decoded bytes not yet handed out, from `at`.
    out: Zeroizing<Vec<u8>>,
    at: usize,
    eof: bool,
    bom: bool,
    /// Whether `raw` holds bytes read and not yet decoded.
    fresh: bool,
}

impl<R: Read> Decoded<R> {
    /// Reads up to `probe` bytes of `inner` (fewer only at its end) to tell its encoding.
    ///
    /// # Errors
    /// A read error, as it is.
    pub fn new(mut inner: R, probe: usize) -> io::Result<Self> {
        let mut raw = Zeroizing::new(vec![0u8; probe]);
        let mut held = 0;
        let mut eof = false;
        while held < probe {
            match inner.read(&mut raw[held..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => held += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        raw.truncate(held);
        let (encoding, bom) = sniff(&raw);
        raw.drain(..bom);
        let fresh = !raw.is_empty();
        Ok(Decoded {
            inner,
            encoding,
            raw,
            out: Zeroizing::new(Vec::new()),
            at: 0,
            fresh,
            eof,
            bom: bom > 0,
        })
    }

    /// What the stream was taken to be.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Whether the stream began with a byte order mark (left out of what is read).
    pub fn had_bom(&self) -> bool {
        self.bom
    }

    /// How many bytes the byte order mark took (0 without one).
    pub fn bom_len(&self) -> usize {
        match (self.bom, self.encoding) {
            (false, _) | (_, Encoding::Bytes) => 0,
            (true, Encoding::Utf16Le | Encoding::Utf16Be) => 2,
            (true, Encoding::Utf32Le | Encoding::Utf32Be) => 4,
        }
    }

    /// The stream it decodes.
    pub fn inner_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Decodes what `raw` holds into `out` (all of it when `last`; else a unit or surrogate
    /// pair cut short waits in `raw` for the rest).
    fn decode(&mut self, last: bool) {
        self.out.clear();
        self.at = 0;
        let le = matches!(self.encoding, Encoding::Utf16Le | Encoding::Utf32Le);
        let raw = &self.raw[..];
        let out = &mut *self.out;
        let mut done = 0;
        if matches!(self.encoding, Encoding::Utf32Le | Encoding::Utf32Be) {
            for unit in raw.chunks_exact(4) {
                match char::from_u32(unit32(unit, le)) {
                    Some(c) => push_char(out, c),
                    None => escape(out, unit),
                }
                done += 4;
            }
        } else {
            let unit = |at: usize| {
                let b = [raw[at], raw[at + 1]];
                if le {
                    u16::from_le_bytes(b)
                } else {
                    u16::from_be_bytes(b)
                }
            };
            while done + 2 <= raw.len() {
                let u = unit(done);
                if !(0xd800..0xe000).contains(&u) {
                    push_char(out, char::from_u32(u32::from(u)).unwrap_or_default());
                    done += 2;
                    continue;
                }
                if u >= 0xdc00 {
                    // A low surrogate with no high one before it.
                    escape(out, &raw[done..done + 2]);
                    done += 2;
                    continue;
                }
                if done + 4 > raw.len() {
                    if !last {
                        // The pair's second half is in the next read.
                        break;
                    }
                    escape(out, &raw[done..done + 2]);
                    done += 2;
                    continue;
                }
                let low = unit(done + 2);
                match char::decode_utf16([u, low]).next() {
                    Some(Ok(c)) => {
                        push_char(out, c);
                        done += 4;
                    }
                    _ => {
                        escape(out, &raw[done..done + 2]);
                        done += 2;
                    }
                }
            }
        }
        if last && done < raw.len() {
            // A unit cut short by the end of the stream.
            escape(out, &raw[done..]);
            done = raw.len();
        }
        self.raw.drain(..done);
    }
}

/// Appends `c` to `out` as UTF-8.
fn push_char(out: &mut Vec<u8>, c: char) {
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.at < self.out.len() {
                let n = buf.len().min(self.out.len() - self.at);
                buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            if self.encoding == Encoding::Bytes {
                // The probe first, then straight from the stream.
                if !self.raw.is_empty() {
                    let n = buf.len().min(self.raw.len());
                    buf[..n].copy_from_slice(&self.raw[..n]);
                    self.raw.drain(..n);
                    return Ok(n);
                }
                if self.eof {
                    return Ok(0);
                }
                return self.inner.read(buf);
            }
            if self.eof && self.raw.is_empty() {
                return Ok(0);
            }
            // What is held (the probe, at first) is decoded before the stream is read again:
            // a read may wait (a log being tailed), and what came already must not wait with it.
            if self.fresh {
                self.fresh = false;
                self.decode(self.eof);
                continue;
            }
            if !self.eof {
                let held = self.raw.len();
                self.raw.resize(held + CHUNK, 0);
                let n = loop {
                    match self.inner.read(&mut self.raw[held..]) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        other => break other,
                    }
                };
                let n = match n {
                    Ok(n) => n,
                    Err(e) => {
                        self.raw.truncate(held);
                        return Err(e);
                    }
                };
                self.raw.truncate(held + n);
                self.eof = n == 0;
            }
            let last = self.eof;
            self.decode(last);
            self.fresh = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, le: bool) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
            .collect()
    }

    fn utf32(text: &str, le: bool) -> Vec<u8> {
        text.chars()
            .flat_map(|c| {
                let u = c as u32;
                if le { u.to_le_bytes() } else { u.to_be_bytes() }
            })
            .collect()
    }

    fn decoded(bytes: &[u8], probe: usize) -> (Encoding, Vec<u8>) {
        // One byte at a time underneath, so units and pairs are cut everywhere.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut d = Decoded::new(Trickle(bytes), probe).expect("reads");
        let mut out = Vec::new();
        d.read_to_end(&mut out).expect("reads");
        (d.encoding(), out)
    }

    const TEXT: &str = "first line\r\nзначение = \"vbx_x\" 😀\n";

    #[test]
    fn a_mark_on_ascii_lines_is_read_as_bytes() {
        for mark in [
            &b"\xff\xfe"[..],
            b"\xfe\xff",
            b"\xff\xfe\0\0",
            b"\0\0\xfe\xff",
        ] {
            let mut probe = mark.to_vec();
            probe.extend_from_slice(b"GET /a 200\n");
            assert_eq!(sniff(&probe), (Encoding::Bytes, 0), "{mark:?}");
            // No line break yet, or a NUL: the mark decides.
            assert_ne!(
                sniff(&probe[..mark.len() + 3]).0,
                Encoding::Bytes,
                "{mark:?}"
            );
        }
        assert_eq!(sniff(b"\xff\xfeh\0\n\0"), (Encoding::Utf16Le, 2));
    }

    #[test]
    fn utf16_of_tabs_or_control_characters_is_told_from_utf32_and_binary() {
        for text in ["\t\t\t\t\t\t\t\tx\n", "\x0c\x0b\x07page\n", "\t\t\n"] {
            let text = text.repeat(200);
            for le in [true, false] {
                let want = if le {
                    Encoding::Utf16Le
                } else {
                    Encoding::Utf16Be
                };
                assert_eq!(sniff(&utf16(&text, le)), (want, 0), "{text:?} {le}");
            }
            let want = (Encoding::Utf32Le, 0);
            assert_eq!(sniff(&utf32(&text, true)), want, "{text:?}");
        }
    }

    #[test]
    fn utf16_and_utf32_are_told_with_or_without_a_bom_and_decoded() {
        for (enc, bytes) in [
            (Encoding::Utf16Le, utf16(TEXT, true)),
            (Encoding::Utf16Be, utf16(TEXT, false)),
            (Encoding::Utf32Le, utf32(TEXT, true)),
            (Encoding::Utf32Be, utf32(TEXT, false)),
        ] {
            let mut with_bom = utf16("\u{feff}", enc == Encoding::Utf16Le);
            if matches!(enc, Encoding::Utf32Le | Encoding::Utf32Be) {
                with_bom = utf32("\u{feff}", enc == Encoding::Utf32Le);
            }
            with_bom.extend_from_slice(&bytes);
            for input in [&bytes, &with_bom] {
                for probe in [5, 8192] {
                    assert_eq!(
                        decoded(input, probe),
                        (enc, TEXT.as_bytes().to_vec()),
                        "{enc:?} {probe}"
                    );
                }
            }
            // Told from a probe that ends inside a unit or a pair.
            assert_eq!(sniff(&bytes[..bytes.len() - 3]).0, enc, "{enc:?}");
        }
    }

    #[test]
    fn other_streams_are_read_as_they_are() {
        for bytes in [
            &b""[..],
            b"plain ascii\n",
            "utf-8 \u{feff} text".as_bytes(),
            b"\xef\xbb\xbfa BOM stays\n",
            // A stray NUL in ASCII text.
            b"vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17\n\x00\n",
            // Binary: an archive header, an ELF one, NULs everywhere.
            b"PK\x03\x04\x00\x00 a b c",
            b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x3e\x00",
            &[0u8; 64],
        ] {
            assert_eq!(sniff(bytes).0, Encoding::Bytes, "{bytes:?}");
            assert_eq!(decoded(bytes, 8).1, bytes);
        }
        // UTF-16 with a control character in it is no text.
        assert_eq!(sniff(&utf16("a\u{1}bcdefgh", true)).0, Encoding::Bytes);
    }

    #[test]
    fn utf16_mostly_beyond_ascii_is_told_and_random_bytes_are_not() {
        // Chinese with 一 (U+4E00: a NUL low byte) and no NUL high byte at all.
        let text = "这是一个测试环境的说明，一二三。\n".repeat(8);
        assert_eq!(sniff(&utf16(&text, true)).0, Encoding::Utf16Le);
        assert_eq!(sniff(&utf16(&text, false)).0, Encoding::Utf16Be);
        // Random bytes with NULs among them, and ASCII with a stray NUL, of the same length.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..64 {
            let random: Vec<u8> = (0..8192)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect();
            assert_eq!(sniff(&random).0, Encoding::Bytes);
        }
        let mut ascii = b"plain text line\n".repeat(64);
        ascii.push(0);
        assert_eq!(sniff(&ascii).0, Encoding::Bytes);
    }

    /// `bytes` decoded, then written back by an [`Encoder`] in pieces cut at every `cut`.
    fn round_trip(bytes: &[u8], cut: usize) -> Vec<u8> {
        let (enc, text) = decoded(bytes, 8192);
        let mut e = Encoder::new(enc);
        let mut back: Vec<u8> = text.chunks(cut.max(1)).flat_map(|p| e.encode(p)).collect();
        back.extend(e.finish());
        back
    }

    #[test]
    fn text_is_encoded_back_as_it_came() {
        for enc in [
            Encoding::Utf16Le,
            Encoding::Utf16Be,
            Encoding::Utf32Le,
            Encoding::Utf32Be,
        ] {
            let bytes = Encoder::new(enc).encode(TEXT.as_bytes());
            assert_eq!(decoded(&bytes, 8192), (enc, TEXT.as_bytes().to_vec()));
            for cut in [1, 2, 3, 5, 64] {
                assert_eq!(round_trip(&bytes, cut), bytes, "{enc:?} {cut}");
            }
        }
        assert_eq!(Encoder::new(Encoding::Bytes).encode(b"a\xff"), b"a\xff");
    }

    #[test]
    fn what_does_not_decode_is_escaped_and_written_back_as_it_was() {
        let mut bytes = utf16("ab", true);
        bytes.extend_from_slice(&0xd800u16.to_le_bytes());
        bytes.extend_from_slice(&utf16("cd", true));
        bytes.push(b'e');
        let mut with_bom = vec![0xff, 0xfe];
        with_bom.extend_from_slice(&bytes);
        let (enc, text) = decoded(&with_bom, 8);
        assert_eq!(enc, Encoding::Utf16Le);
        assert_eq!(text, b"ab\xff\x82\x80\x80\x8d\x88cd\xff\x81\x86\x85");
        assert_eq!(round_trip(&bytes, 3), bytes);
        let mut bytes = vec![0xff, 0xfe, 0, 0];
        bytes.extend_from_slice(&utf32("ab", true));
        bytes.extend_from_slice(&0x11_0000u32.to_le_bytes());
        bytes.push(0);
        let (enc, text) = decoded(&bytes, 8);
        assert_eq!(enc, Encoding::Utf32Le);
        assert!(text.starts_with(b"ab\xff\x84"), "{text:?}");
        assert_eq!(round_trip(&bytes[4..], 2), bytes[4..]);
    }

    #[test]
    fn a_stray_bad_unit_does_not_hide_the_text() {
        let line = "key = vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17 and more text\r\n";
        for le in [true, false] {
            for stray in [0xd800u16, 0xdc00, 0] {
                let mut bytes = utf16("a", le);
                bytes.extend_from_slice(&if le {
                    stray.to_le_bytes()
                } else {
                    stray.to_be_bytes()
                });
                bytes.extend_from_slice(&utf16(line, le));
                let (enc, text) = decoded(&bytes, 8192);
                assert_ne!(enc, Encoding::Bytes, "{stray:x}");
                assert!(
                    text.windows(8).any(|w| w == b"vbx_zQWB"),
                    "{stray:x}: {text:?}"
                );
            }
            let mut bytes = utf32("a", le);
            bytes.extend_from_slice(&if le {
                0x11_0000u32.to_le_bytes()
            } else {
                0x11_0000u32.to_be_bytes()
            });
            bytes.extend_from_slice(&utf32(line, le));
            assert_ne!(decoded(&bytes, 8192).0, Encoding::Bytes);
        }
    }

    proptest::proptest! {
        /// Whatever the bytes, UTF-16 or UTF-32 ones come back exactly, in pieces cut anywhere.
        #[test]
        fn any_utf16_or_utf32_stream_is_written_back_exactly(
            units in proptest::collection::vec(proptest::prop_oneof![
                0x20u32..0x7f, 0xd800u32..0xe000, 0x80u32..0x11_0000, 0x10_0000u32..0x20_0000,
            ], 1..40),
            odd in 0usize..4,
            wide in proptest::bool::ANY,
            le in proptest::bool::ANY,
            cut in 1usize..9,
        ) {
            let (enc, mut bytes): (Encoding, Vec<u8>) = if wide {
                let enc = if le { Encoding::Utf32Le } else { Encoding::Utf32Be };
                (enc, units.iter().flat_map(|&u| if le { u.to_le_bytes() } else { u.to_be_bytes() }).collect())
            } else {
                let enc = if le { Encoding::Utf16Le } else { Encoding::Utf16Be };
                (enc, units.iter().flat_map(|&u| {
                    let u = u as u16;
                    if le { u.to_le_bytes() } else { u.to_be_bytes() }
                }).collect())
            };
            bytes.extend(std::iter::repeat_n(0x41, odd));
            // Told by its BOM, so that every stream is decoded, text or not.
            let bom = Encoder::new(enc).encode("\u{feff}".as_bytes());
            let mut input = bom.clone();
            input.extend_from_slice(&bytes);
            let mut d = Decoded::new(&input[..], 8).expect("reads");
            let mut text = Vec::new();
            d.read_to_end(&mut text).expect("reads");
            // A mark followed (in the probe) by a line break and no NUL is read as bytes: then
            // every byte passes as it is.
            let after = &input[bom.len()..input.len().min(8)];
            if after.contains(&b'\n') && !after.contains(&0) {
                proptest::prop_assert_eq!(d.encoding(), Encoding::Bytes);
                proptest::prop_assert_eq!(text, input);
                return Ok(());
            }
            proptest::prop_assert_eq!(d.encoding(), enc);
            let mut e = Encoder::new(enc);
            let mut back: Vec<u8> = text.chunks(cut).flat_map(|p| e.encode(p)).collect();
            back.extend(e.finish());
            proptest::prop_assert_eq!(back, bytes);
        }
    }
}
