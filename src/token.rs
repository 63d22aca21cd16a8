//! The token format: generation, checksum, parsing and the stored hash. Pure functions only.
//!
//! A token is `vbx_` + 30 base62 characters of OS randomness + a 6-character checksum, the
//! shape GitHub uses so secret scanners and people recognise it: the checksum is the CRC32 (IEEE)
//! of the 30 random characters, written in the same base62 alphabet and left-padded with `0`.
//! The checksum lets anyone reject a look-alike without touching a store.

use std::fmt;

use rand::TryRngCore;
use rand::distr::{Alphanumeric, SampleString};
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Every token starts with this.
pub const PREFIX: &str = "vbx_";
/// Characters of randomness after the prefix: 30 × log2(62) ≈ 178 bits.
pub const RANDOM_LEN: usize = 30;
/// Characters of checksum at the end.
pub const CHECKSUM_LEN: usize = 6;
/// A whole token's length.
pub const TOKEN_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
/// How much of a token is shown as its non-secret hint (`vbx_XXXX`).
pub const HINT_LEN: usize = 8;

/// The base62 alphabet, in the order the checksum is written in: `0-9A-Za-z`.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A token that has passed the format and checksum checks. It never prints its value through
/// `Debug`, and its memory is wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(Zeroizing<String>);

/// The SHA-256 of a whole token: what the store keeps and looks tokens up by.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

/// Why a string is not a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("a token is {TOKEN_LEN} characters long")]
    Length,
    #[error("a token starts with `{PREFIX}`")]
    Prefix,
    #[error("a token holds only the characters 0-9, A-Z and a-z after its prefix")]
    Alphabet,
    #[error("the token's checksum does not match: it was mistyped or cut")]
    Checksum,
}

impl Token {
    /// A new token from the operating system's CSPRNG.
    pub fn generate() -> Token {
        let mut rng = OsRng.unwrap_err();
        let random = Zeroizing::new(Alphanumeric.sample_string(&mut rng, RANDOM_LEN));
        let mut s = String::with_capacity(TOKEN_LEN);
        s.push_str(PREFIX);
        s.push_str(&random);
        s.push_str(&checksum(&random));
        Token(Zeroizing::new(s))
    }

    /// Checks the format and checksum; never consults a store.
    pub fn parse(candidate: &str) -> Result<Token, Malformed> {
        if candidate.len() != TOKEN_LEN {
            // Forty characters, some not ASCII (a look-alike letter): the alphabet is wrong,
            // not the length.
            if candidate.chars().count() == TOKEN_LEN {
                return match candidate.starts_with(PREFIX) {
                    true => Err(Malformed::Alphabet),
                    false => Err(Malformed::Prefix),
                };
            }
            return Err(Malformed::Length);
        }
        let rest = candidate.strip_prefix(PREFIX).ok_or(Malformed::Prefix)?;
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Malformed::Alphabet);
        }
        let (random, check) = rest.split_at(RANDOM_LEN);
        if checksum(random) != check {
            return Err(Malformed::Checksum);
        }
        Ok(Token(Zeroizing::new(candidate.to_owned())))
    }

    /// The plaintext, for showing once or keeping in the vault.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The non-secret start of the token that lists show (`vbx_XXXX`).
    pub fn hint(&self) -> String {
        self.0[..HINT_LEN].to_owned()
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.expose())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({}…)", self.hint())
    }
}

impl TokenHash {
    /// The SHA-256 of any string. Used for tokens of our format and, on import, for tokens of
    /// another system's format.
    pub fn of(token: &str) -> TokenHash {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Reads 64 hex digits (either case).
    pub fn from_hex(digits: &str) -> Option<TokenHash> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(digits, &mut out).ok()?;
        Some(TokenHash(out))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({})", self.to_hex())
    }
}

/// The hash to look a candidate up by: a token of our format (its checksum checked), or
/// another system's token, imported with `import --any-format` (one word of printable ASCII,
/// at most 256 characters). `None` for anything else, which is malformed.
pub fn lookup_hash(candidate: &str) -> Option<TokenHash> {
    match Token::parse(candidate) {
        Ok(token) => Some(token.hash()),
        // A string of our shape whose checksum fails is a typo, not another system's token.
        Err(_) if candidate.starts_with(PREFIX) => None,
        Err(_)
            if !candidate.is_empty()
                && candidate.len() <= 256
                && candidate.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Some(TokenHash::of(candidate))
        }
        Err(_) => None,
    }
}

/// How many base62 characters after `vbx_` make a string token-shaped: fewer than a whole
/// token's 36, so a token cut short or mistyped is still caught, and more than a hint's 4.
pub const SHAPE_MIN_TAIL: usize = 20;

/// The token-shaped runs in `text`, as byte ranges: `vbx` (any case), then at most two
/// characters that are not letters or digits (`_`, or a typo's `-`, `__`, `.`), then at least
/// [`SHAPE_MIN_TAIL`] characters of `0-9A-Za-z`, whatever their checksum. This is what is never
/// echoed, whether or not it would verify.
pub fn token_shapes(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    // The ranges start at an ASCII `v` and end after an ASCII letter or digit, so they fall on
    // character boundaries of `text`.
    token_shapes_in(text.as_bytes())
}

/// [`token_shapes`] over bytes that need not be UTF-8 (a file, a log line): tokens are ASCII.
pub fn token_shapes_in(bytes: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        while at + STEM.len() <= bytes.len() {
            let start = at;
            at += 1;
            let Some(mut end) = shape_at(bytes, start) else {
                continue;
            };
            // A run that ends in the next token's stem (two tokens written together,
            // `vbx_…vbx_…`) would otherwise leave that token's body outside every range.
            while let Some(next) = end
                .checked_sub(STEM.len())
                .and_then(|stem| shape_at(bytes, stem))
            {
                end = next;
            }
            at = end;
            return Some(start..end);
        }
        None
    })
}

/// Where a token shape starts, any case.
const STEM: &[u8] = b"vbx";

/// The end of the token shape starting at `start`, if one does.
fn shape_at(bytes: &[u8], start: usize) -> Option<usize> {
    let stem = bytes.get(start..start + STEM.len())?;
    if !stem.eq_ignore_ascii_case(STEM) {
        return None;
    }
    let rest = &bytes[start + STEM.len()..];
    let separators = rest
        .iter()
        .take(2)
        .take_while(|b| is_separator(**b))
        .count();
    let tail = rest[separators..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    (tail >= SHAPE_MIN_TAIL).then_some(start + STEM.len() + separators + tail)
}

/// A byte that may stand between a shape's stem and its tail.
fn is_separator(b: u8) -> bool {
    !b.is_ascii_alphanumeric() && !b.is_ascii_whitespace()
}

/// Whether `bytes` may be cut after index `at` without splitting a token shape: the byte there
/// is no letter or digit (so in no stem or tail) and no separator after a stem. Streams are
/// redacted piece by piece, cut only at such places.
pub fn can_cut_after(bytes: &[u8], at: usize) -> bool {
    let b = bytes[at];
    if b.is_ascii_whitespace() {
        return true;
    }
    if b.is_ascii_alphanumeric() {
        return false;
    }
    let stem_ends_at = |end: usize| {
        end.checked_sub(STEM.len())
            .is_some_and(|s| bytes[s..end].eq_ignore_ascii_case(STEM))
    };
    // First separator: a stem just before; second: a separator and a stem before that.
    !(stem_ends_at(at) || (at >= 1 && is_separator(bytes[at - 1]) && stem_ends_at(at - 1)))
}

/// Every whole token (format and checksum) in `bytes`, with its start: each `vbx_` followed by
/// 36 letters and digits that check out, wherever it stands (inside a word, a URL, a longer
/// run). A look-alike (another alphabet, a zero-width character inside) never checks out.
pub fn tokens_in(bytes: &[u8]) -> impl Iterator<Item = (usize, Token)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        while at + TOKEN_LEN <= bytes.len() {
            let start = at;
            at += 1;
            if bytes[start] != b'v' || !bytes[start..].starts_with(PREFIX.as_bytes()) {
                continue;
            }
            let candidate = &bytes[start..start + TOKEN_LEN];
            if !candidate[PREFIX.len()..]
                .iter()
                .all(u8::is_ascii_alphanumeric)
            {
                continue;
            }
            let candidate = std::str::from_utf8(candidate).expect("ASCII, checked above");
            if let Ok(token) = Token::parse(candidate) {
                at = start + TOKEN_LEN;
                return Some((start, token));
            }
        }
        None
    })
}

/// What to mask in `bytes`, in order, as byte ranges: each whole token (see [`tokens_in`]) with
/// the token, and each token shape ([`token_shapes_in`]) holding none, with `None`. A token
/// glued to other letters (`vbx_…é`, `xx vbx_…abc`) is masked alone and its neighbours kept:
/// they are no part of it. Before a run's first token, what stands after the run's stem is a
/// piece of a shape and is masked too.
pub fn masked_parts(bytes: &[u8]) -> Vec<(std::ops::Range<usize>, Option<Token>)> {
    let mut parts = Vec::new();
    for run in token_shapes_in(bytes) {
        let mut cursor = run.start;
        for (at, token) in tokens_in(&bytes[run.clone()]) {
            let start = run.start + at;
            if cursor == run.start && start > cursor {
                parts.push((cursor..start, None));
            } else {
                shapes_between(bytes, cursor..start, &mut parts);
            }
            parts.push((start..start + TOKEN_LEN, Some(token)));
            cursor = start + TOKEN_LEN;
        }
        if cursor == run.start {
            parts.push((run, None));
        } else {
            shapes_between(bytes, cursor..run.end, &mut parts);
        }
    }
    parts
}

/// The shapes inside `within`, a stretch between or after a run's tokens, for [`masked_parts`].
fn shapes_between(
    bytes: &[u8],
    within: std::ops::Range<usize>,
    parts: &mut Vec<(std::ops::Range<usize>, Option<Token>)>,
) {
    let offset = within.start;
    for r in token_shapes_in(&bytes[within]) {
        parts.push((offset + r.start..offset + r.end, None));
    }
}

/// How a token is written in UTF-16 or UTF-32 text: each of its ASCII characters as one unit of
/// `width` bytes, the character in the low byte (little-endian: the first; big-endian: the last)
/// and zeros in the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wide {
    /// Bytes a unit: 2 or 4.
    pub width: usize,
    pub little_endian: bool,
}

impl Wide {
    /// UTF-16LE, UTF-16BE, UTF-32LE, UTF-32BE.
    pub const ALL: [Wide; 4] = [
        Wide {
            width: 2,
            little_endian: true,
        },
        Wide {
            width: 2,
            little_endian: false,
        },
        Wide {
            width: 4,
            little_endian: true,
        },
        Wide {
            width: 4,
            little_endian: false,
        },
    ];

    /// Where in a unit its character's byte is.
    pub fn low(self) -> usize {
        if self.little_endian {
            0
        } else {
            self.width - 1
        }
    }

    /// `text` (ASCII) written in this encoding.
    pub fn encode(self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * self.width);
        for c in text.chars() {
            let unit = u32::from(c).to_le_bytes();
            let unit = &unit[..self.width];
            match self.little_endian {
                true => out.extend(unit),
                false => out.extend(unit.iter().rev()),
            }
        }
        out
    }
}

/// Every whole token written in UTF-16 or UTF-32 in `bytes` (see [`Wide`]), at any byte offset,
/// with its byte range and encoding, in order of start. A token is ASCII, so this finds each one
/// whatever came before it: text in another encoding, or a stray byte that left a decoder one
/// byte out of step. One token can read both ways (UTF-16LE `v\0b\0…` after a zero byte is
/// UTF-16BE one byte earlier): it is given once, in `prefer` (the stream's encoding) when that
/// is one of the two, else little-endian, as Windows writes it.
pub fn wide_tokens_in(
    bytes: &[u8],
    prefer: Option<Wide>,
) -> Vec<(std::ops::Range<usize>, Token, Wide)> {
    let mut found = Vec::new();
    for (at, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'v') {
        for wide in Wide::ALL {
            let Some(start) = at.checked_sub(wide.low()) else {
                continue;
            };
            let end = start + TOKEN_LEN * wide.width;
            let Some(units) = bytes.get(start..end) else {
                continue;
            };
            let mut ascii = [0u8; TOKEN_LEN];
            let whole = units
                .chunks_exact(wide.width)
                .zip(&mut ascii)
                .all(|(unit, c)| {
                    *c = unit[wide.low()];
                    unit.iter()
                        .enumerate()
                        .all(|(i, b)| i == wide.low() || *b == 0)
                });
            if !whole {
                continue;
            }
            if let Ok(token) = std::str::from_utf8(&ascii)
                .map_err(|_| Malformed::Alphabet)
                .and_then(Token::parse)
            {
                found.push((start..end, token, wide));
            }
        }
    }
    found.sort_by_key(|(r, _, _)| r.start);
    let rank = |w: Wide| (Some(w) != prefer, !w.little_endian);
    let mut kept: Vec<(std::ops::Range<usize>, Token, Wide)> = Vec::with_capacity(found.len());
    for hit in found {
        match kept.last_mut() {
            Some(last) if last.0.end > hit.0.start => {
                if rank(hit.2) < rank(last.2) {
                    *last = hit;
                }
            }
            _ => kept.push(hit),
        }
    }
    kept
}

/// True when `text` holds anything token-shaped (see [`token_shapes`]).
pub fn contains_token_shape(text: &str) -> bool {
    token_shapes(text).next().is_some()
}

/// `text` with every token-shaped run replaced by its masked form, `vbx_AbCd…`: the hint
/// lists show, which names a token without giving it away.
pub fn mask_tokens(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::new();
    let mut last = 0;
    // Every range starts at an ASCII letter and ends after one, on character boundaries.
    for (range, _) in masked_parts(text.as_bytes()) {
        out.push_str(&text[last..range.start]);
        out.push_str(&mask(&text[range.clone()]));
        last = range.end;
    }
    if last == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[last..]);
    std::borrow::Cow::Owned(out)
}

/// One token, masked: its first [`HINT_LEN`] characters and an ellipsis (`vbx_AbCd…`).
pub fn mask(token: &str) -> String {
    let head: String = token.chars().take(HINT_LEN).collect();
    format!("{head}…")
}

/// CRC32 (IEEE) of the random part, in base62, left-padded with `0` to six characters.
/// `u32::MAX` needs six base62 digits (62^6 > 2^32), so six always suffice.
pub fn checksum(random: &str) -> String {
    let mut n = crc32fast::hash(random.as_bytes());
    let mut digits = [BASE62[0]; CHECKSUM_LEN];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(digits.to_vec()).expect("base62 digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_the_published_check_value() {
        assert_eq!(checksum("zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ"), "0mLq17");
    }

    #[test]
    fn checksum_is_left_padded() {
        // CRC32 of the empty string is 0, the smallest value: all padding.
        assert_eq!(checksum(""), "000000");
        assert_eq!(checksum("a").len(), CHECKSUM_LEN);
    }

    #[test]
    fn generated_tokens_have_the_documented_shape_and_parse_back() {
        for _ in 0..1000 {
            let t = Token::generate();
            let s = t.expose();
            assert_eq!(s.len(), TOKEN_LEN);
            assert!(s.starts_with("vbx_"));
            assert!(s[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
            assert_eq!(Token::parse(s).expect("round trip"), t);
            assert_eq!(t.hint(), &s[..8]);
        }
    }

    #[test]
    fn generated_tokens_differ() {
        let a = Token::generate();
        let b = Token::generate();
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn the_check_value_token_parses() {
        let s = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";
        assert!(Token::parse(s).is_ok());
    }

    #[test]
    fn rejects() {
        let good = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";
        assert_eq!(Token::parse(""), Err(Malformed::Length));
        assert_eq!(Token::parse(&good[..39]), Err(Malformed::Length));
        assert_eq!(Token::parse(&format!("{good}x")), Err(Malformed::Length));
        assert_eq!(
            Token::parse(&good.replacen("vbx_", "vbx-", 1)),
            Err(Malformed::Prefix)
        );
        assert_eq!(
            Token::parse(&good.replacen("vbx_", "VBX_", 1)),
            Err(Malformed::Prefix)
        );
        assert_eq!(
            Token::parse(&good.replacen('z', "_", 1)),
            Err(Malformed::Alphabet)
        );
        assert_eq!(
            Token::parse(&good.replacen('z', "é", 1)),
            Err(Malformed::Alphabet)
        );
        // One character changed in the random part, then in the checksum.
        assert_eq!(
            Token::parse(&good.replacen('Q', "R", 1)),
            Err(Malformed::Checksum)
        );
        assert_eq!(
            Token::parse(&good.replacen("17", "18", 1)),
            Err(Malformed::Checksum)
        );
    }

    #[test]
    fn a_look_alike_letter_is_the_wrong_alphabet_not_the_wrong_length() {
        let good = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";
        assert_eq!(
            Token::parse(&good.replacen('o', "\u{43e}", 1)).map(|_| ()),
            Err(Malformed::Alphabet)
        );
        assert_eq!(
            Token::parse(&good.replacen('b', "\u{432}", 1)).map(|_| ()),
            Err(Malformed::Prefix)
        );
        assert_eq!(
            Token::parse(&format!("{good}\u{430}")).map(|_| ()),
            Err(Malformed::Length)
        );
    }

    #[test]
    fn every_single_character_change_is_caught() {
        let good = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";
        for i in 4..TOKEN_LEN {
            for &c in BASE62 {
                let mut bytes = good.as_bytes().to_vec();
                if bytes[i] == c {
                    continue;
                }
                bytes[i] = c;
                let s = String::from_utf8(bytes).expect("ascii");
                assert!(Token::parse(&s).is_err(), "{s} should be rejected");
            }
        }
    }

    /// A token built from any 30 base62 characters and their checksum.
    fn any_token() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy;
        "[0-9A-Za-z]{30}".prop_map(|random| format!("{PREFIX}{random}{}", checksum(&random)))
    }

    proptest::proptest! {
        // Each case of the exhaustive check below parses 2,400 strings.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn any_token_round_trips_and_shows_only_its_hint(s in any_token()) {
            let t = Token::parse(&s).expect("a token with its own checksum parses");
            proptest::prop_assert_eq!(t.expose(), s.as_str());
            // The hash is the one a store keeps, whichever way the token came in.
            proptest::prop_assert_eq!(t.hash(), TokenHash::of(&s));
            proptest::prop_assert_eq!(Token::parse(&s).expect("again").hash(), t.hash());
            proptest::prop_assert_eq!(lookup_hash(&s), Some(t.hash()));
            proptest::prop_assert_eq!(TokenHash::from_hex(&t.hash().to_hex()), Some(t.hash()));
            proptest::prop_assert_eq!(mask(&s), format!("{}…", t.hint()));
            let masked = mask_tokens(&s);
            proptest::prop_assert_eq!(masked.as_ref(), format!("{}…", &s[..HINT_LEN]));
            let shown = format!("{t:?}");
            proptest::prop_assert!(!shown.contains(&s[HINT_LEN..]), "{}", shown);
        }

        /// CRC32 catches every error confined to 32 bits, so no single changed character of
        /// the random part gets through, and the checksum part is compared whole.
        #[test]
        fn the_checksum_rejects_every_single_character_change(s in any_token()) {
            for at in 0..TOKEN_LEN {
                for &c in BASE62.iter().chain(b"_") {
                    let mut changed = s.as_bytes().to_vec();
                    if changed[at] == c {
                        continue;
                    }
                    changed[at] = c;
                    let changed = String::from_utf8(changed).expect("ascii");
                    proptest::prop_assert!(Token::parse(&changed).is_err(), "{} passes", changed);
                    proptest::prop_assert_ne!(lookup_hash(&changed), lookup_hash(&s));
                }
            }
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let t = Token::generate();
        let shown = format!("{t:?}");
        assert!(!shown.contains(&t.expose()[8..]));
    }

    #[test]
    fn hash_is_sha256_of_the_whole_token_and_hex_round_trips() {
        let h = TokenHash::of("abc");
        assert_eq!(
            h.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(TokenHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(TokenHash::from_hex(&h.to_hex().to_uppercase()), Some(h));
        assert_eq!(TokenHash::from_hex("ab"), None);
        assert_eq!(TokenHash::from_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn two_tokens_written_together_are_both_inside_a_shape() {
        let a = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";
        let b = Token::generate();
        let text = format!("k={a}{}&", b.expose());
        assert_eq!(
            mask_tokens(&text),
            format!("k=vbx_zQWB…{}&", mask(b.expose()))
        );
        let found: Vec<(usize, String)> = tokens_in(text.as_bytes())
            .map(|(at, t)| (at, t.expose().to_owned()))
            .collect();
        assert_eq!(found, [(2, a.to_owned()), (42, b.expose().to_owned())]);
    }

    #[test]
    fn tokens_are_found_inside_words_and_look_alikes_are_not() {
        let good = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";
        let at =
            |text: &str| -> Vec<usize> { tokens_in(text.as_bytes()).map(|(i, _)| i).collect() };
        assert_eq!(at(&format!("https://x/?key={good}&a=1")), [15]);
        assert_eq!(at(&format!("xx{good}yy")), [2]);
        assert_eq!(at(good), [0]);
        assert_eq!(at(&good[..39]), Vec::<usize>::new());
        // Cyrillic о, a full-width ｂ, a zero-width joiner, a changed checksum.
        for fake in [
            good.replacen('o', "о", 1),
            good.replacen('b', "ｂ", 1),
            good.replacen("Ri4", "R\u{200d}i4", 1),
            good.replacen("17", "18", 1),
        ] {
            assert_eq!(at(&fake), Vec::<usize>::new(), "{fake}");
        }
    }

    #[test]
    fn a_token_glued_to_other_letters_is_masked_alone() {
        let good = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";
        let parts = |text: &str| -> Vec<(std::ops::Range<usize>, bool)> {
            masked_parts(text.as_bytes())
                .into_iter()
                .map(|(r, t)| (r, t.is_some()))
                .collect()
        };
        // Letters after a token are kept, however many; so is a word it is glued into.
        assert_eq!(mask_tokens(&format!("x {good}abc y")), "x vbx_zQWB…abc y");
        let long = format!("{good}{}", "a".repeat(100_000));
        assert_eq!(parts(&long), [(0..40, true)]);
        assert_eq!(mask_tokens(&format!("{good}é")), "vbx_zQWB…é");
        // Before the first token, the rest of the run's shape is masked: it is a piece of one.
        let before = format!("vbx_{}{good}", "A".repeat(17));
        assert_eq!(parts(&before), [(0..21, false), (21..61, true)]);
        // After it, a shape of its own is masked, the letters before that kept.
        let after = format!("{good}ab{}", good.replacen("17", "18", 1));
        assert_eq!(parts(&after), [(0..40, true), (42..82, false)]);
        assert_eq!(mask_tokens(&after), "vbx_zQWB…abvbx_zQWB…");
    }

    #[test]
    fn tokens_in_utf16_and_utf32_are_found_at_any_offset() {
        let good = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";
        for wide in Wide::ALL {
            for stray in 0..4 {
                let mut bytes = vec![b'X'; stray];
                bytes.extend(wide.encode("k="));
                let at = bytes.len();
                bytes.extend(wide.encode(good));
                bytes.extend(wide.encode(" end"));
                let found = wide_tokens_in(&bytes, Some(wide));
                assert_eq!(found.len(), 1, "{wide:?} after {stray}");
                assert_eq!(found[0].0, at..at + 40 * wide.width);
                assert_eq!(found[0].1.expose(), good);
                assert_eq!(found[0].2, wide);
                // Read both ways, it is given once, little-endian unless told otherwise.
                assert_eq!(wide_tokens_in(&bytes, None).len(), 1);
            }
        }
        // A changed checksum, and ASCII, are not wide tokens.
        let bad = good.replacen("17", "18", 1);
        assert!(wide_tokens_in(&Wide::ALL[0].encode(&bad), None).is_empty());
        assert!(wide_tokens_in(good.as_bytes(), None).is_empty());
    }

    #[test]
    fn a_cut_never_splits_a_shape() {
        let text = b"a vbx_-zQWBuTSOoRi4A9spHcVY5ncnsD b";
        let cuts: Vec<usize> = (0..text.len())
            .filter(|&i| can_cut_after(text, i))
            .collect();
        // After each space; never after `_` or `-` (separators after the stem), nor in a run.
        assert_eq!(cuts, [1, 33]);
    }

    #[test]
    fn token_shapes_are_found_and_masked_whatever_their_checksum() {
        let good = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";
        let bad_sum = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq18";
        let cut = &good[..28];
        let dash = good.replacen("vbx_", "vbx-", 1);
        let double = good.replacen("vbx_", "vbx__", 1);
        let none = good.replacen("vbx_", "vbx", 1);
        for t in [
            good,
            bad_sum,
            cut,
            &good.replacen("vbx_", "VBX_", 1),
            &dash,
            &double,
            &none,
        ] {
            let text = format!("unexpected argument '{t}' found");
            let masked = mask_tokens(&text);
            assert!(!masked.contains(&t[8..]), "{masked}");
            assert!(masked.contains("…'"), "{masked}");
            assert!(contains_token_shape(&text));
        }
        assert_eq!(
            mask_tokens(&format!("a {good} b {good}")),
            "a vbx_zQWB… b vbx_zQWB…"
        );
        // Hints, env var names and ordinary words are left alone.
        for text in [
            "vbx_zQWB",
            "VBX_TOKENS_HOME",
            "vbx_ci",
            "no token here",
            "vbx_",
        ] {
            assert_eq!(mask_tokens(text), text);
            assert!(!contains_token_shape(text));
        }
        assert_eq!(mask(good), "vbx_zQWB…");
    }
}
