//! Which encoding a stream's text is in, told from its first bytes, and a reader that gives
//! UTF-16 and UTF-32 text as UTF-8, so the byte search of [`super::find_tokens`] sees tokens in
//! Windows exports and PowerShell output as in any other file. The only `use encoding_rs`.

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
/// starts with UTF-16LE's); without one, a probe holding NUL bytes is UTF-32 when every 4-byte
/// unit is a character of text, else UTF-16 when NULs stand in the high bytes of at least one
/// unit in eight and in few low ones (the other way round for big-endian) and every unit
/// decodes to a character of text. Anything else, binary included, is [`Encoding::Bytes`]: a
/// stray NUL in ASCII text, or a binary whose NULs happen to fall at odd places, does not pass.
pub fn sniff(probe: &[u8]) -> (Encoding, usize) {
    match probe {
        [0xff, 0xfe, 0, 0, ..] => return (Encoding::Utf32Le, 4),
        [0, 0, 0xfe, 0xff, ..] => return (Encoding::Utf32Be, 4),
        [0xff, 0xfe, ..] => return (Encoding::Utf16Le, 2),
        [0xfe, 0xff, ..] => return (Encoding::Utf16Be, 2),
        _ => {}
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
    (Encoding::Bytes, 0)
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

fn looks_utf32(probe: &[u8], le: bool) -> bool {
    let mut units = probe.chunks_exact(4).peekable();
    units.peek().is_some() && units.all(|u| char::from_u32(unit32(u, le)).is_some_and(is_text))
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
    // The probe may end inside a surrogate pair.
    let whole = match units.last() {
        Some(u) if (0xd800..0xdc00).contains(u) => &units[..units.len() - 1],
        _ => &units[..],
    };
    char::decode_utf16(whole.iter().copied()).all(|c| c.is_ok_and(is_text))
}

/// `utf8` (UTF-8, as [`Decoded`] gives it and `redact` masks it) written back in `encoding`:
/// what `redact` prints for UTF-16 or UTF-32 input. Bytes that are not UTF-8 become U+FFFD.
pub fn encode(utf8: &[u8], encoding: Encoding) -> Vec<u8> {
    let text = String::from_utf8_lossy(utf8);
    match encoding {
        Encoding::Bytes => utf8.to_vec(),
        Encoding::Utf16Le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        Encoding::Utf16Be => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        Encoding::Utf32Le => text
            .chars()
            .flat_map(|c| u32::from(c).to_le_bytes())
            .collect(),
        Encoding::Utf32Be => text
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect(),
    }
}

/// Bytes read from the stream at a time.
const CHUNK: usize = 64 * 1024;

/// `inner` as UTF-8: the bytes as they are for [`Encoding::Bytes`], else decoded (a byte order
/// mark left out; what does not decode, such as an unpaired surrogate or an odd byte at the
/// end, becomes U+FFFD, so it breaks a token as any other character would). Line breaks stay
/// where they were, so lines count the same. Buffers are wiped when dropped: they may hold
/// tokens.
pub struct Decoded<R> {
    inner: R,
    encoding: Encoding,
    utf16: Option<encoding_rs::Decoder>,
    /// Raw bytes read and not yet decoded: the probe at first, then a UTF-32 unit cut short.
    raw: Zeroizing<Vec<u8>>,
    /// Decoded bytes not yet handed out, from `at`.
    out: Zeroizing<Vec<u8>>,
    at: usize,
    eof: bool,
    bom: bool,
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
        let utf16 = match encoding {
            Encoding::Utf16Le => Some(encoding_rs::UTF_16LE.new_decoder_without_bom_handling()),
            Encoding::Utf16Be => Some(encoding_rs::UTF_16BE.new_decoder_without_bom_handling()),
            _ => None,
        };
        Ok(Decoded {
            inner,
            encoding,
            utf16,
            raw,
            out: Zeroizing::new(Vec::new()),
            at: 0,
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

    /// Decodes what `raw` holds into `out` (all of it when `last`).
    fn decode(&mut self, last: bool) {
        self.out.clear();
        self.at = 0;
        if let Some(decoder) = self.utf16.as_mut() {
            let need = decoder
                .max_utf8_buffer_length(self.raw.len())
                .unwrap_or(usize::MAX);
            self.out.resize(need, 0);
            // The buffer is as long as the most the input can give, so it all goes in.
            let (_, read, written, _) = decoder.decode_to_utf8(&self.raw, &mut self.out, last);
            self.out.truncate(written);
            self.raw.drain(..read);
            return;
        }
        let le = self.encoding == Encoding::Utf32Le;
        let whole = self.raw.len() / 4 * 4;
        let mut utf8 = [0u8; 4];
        for unit in self.raw[..whole].chunks_exact(4) {
            let c = char::from_u32(unit32(unit, le)).unwrap_or(char::REPLACEMENT_CHARACTER);
            self.out
                .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
        self.raw.drain(..whole);
        if last && !self.raw.is_empty() {
            self.raw.clear();
            self.out.extend_from_slice(
                char::REPLACEMENT_CHARACTER
                    .encode_utf8(&mut utf8)
                    .as_bytes(),
            );
        }
    }
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
            if self.eof && self.raw.is_empty() && self.utf16.is_none() {
                return Ok(0);
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
            if last {
                // Nothing is left to decode: the decoder is done.
                self.utf16 = None;
                if self.out.is_empty() {
                    return Ok(0);
                }
            }
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
    fn text_is_encoded_back_as_it_came() {
        for enc in [
            Encoding::Utf16Le,
            Encoding::Utf16Be,
            Encoding::Utf32Le,
            Encoding::Utf32Be,
        ] {
            let bytes = encode(TEXT.as_bytes(), enc);
            assert_eq!(decoded(&bytes, 8192), (enc, TEXT.as_bytes().to_vec()));
        }
        assert_eq!(encode(b"a\xff", Encoding::Bytes), b"a\xff");
    }

    #[test]
    fn what_does_not_decode_becomes_a_replacement_character() {
        let mut bytes = utf16("ab", true);
        bytes.extend_from_slice(&0xd800u16.to_le_bytes());
        bytes.extend_from_slice(&utf16("cd", true));
        bytes.push(b'e');
        let mut with_bom = vec![0xff, 0xfe];
        with_bom.extend_from_slice(&bytes);
        assert_eq!(
            decoded(&with_bom, 8),
            (
                Encoding::Utf16Le,
                "ab\u{fffd}cd\u{fffd}".as_bytes().to_vec()
            )
        );
        let mut bytes = vec![0xff, 0xfe, 0, 0];
        bytes.extend_from_slice(&utf32("ab", true));
        bytes.extend_from_slice(&0x11_0000u32.to_le_bytes());
        bytes.push(0);
        assert_eq!(
            decoded(&bytes, 8),
            (Encoding::Utf32Le, "ab\u{fffd}\u{fffd}".as_bytes().to_vec())
        );
    }
}
