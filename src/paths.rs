//! Where the store lives when neither `--store` nor `VBX_TOKENS_HOME` says (the only module that
//! uses `directories`), and how a path is written down as text.

use std::path::PathBuf;

use directories::ProjectDirs;

use crate::error::{Error, Result};

/// The per-user data directory: `~/.local/share/vbx-tokens` on Linux.
pub fn default_store_dir() -> Result<PathBuf> {
    ProjectDirs::from("com", "VasBox", "vbx-tokens")
        .map(|dirs| dirs.data_dir().to_owned())
        .ok_or_else(|| {
            Error::usage(
                "cannot find a home directory for the default store: set VBX_TOKENS_HOME or pass --store DIR",
            )
        })
}

/// The user's home directory (where `~/.pgpass` is); `None` when there is none.
pub fn home_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_owned())
}

/// The per-user state directory, where the use witness lives (`~/.local/state/vbx-tokens` on
/// Linux, or under `$XDG_STATE_HOME`); `None` without a home directory.
pub fn state_dir() -> Option<PathBuf> {
    ProjectDirs::from("com", "VasBox", "vbx-tokens")
        .and_then(|dirs| dirs.state_dir().map(std::path::Path::to_owned))
}

/// `path` as text that keeps every byte and reads back one way: in the body of a shell's
/// `$'…'` it is the path again. A backslash is written `\\`; each byte that is not UTF-8, and
/// each byte of a character that shows nothing or drives a terminal (a control character, a bidi
/// override: `crate::name::is_invisible`), is written `\xNN` (two hex digits, upper case),
/// where `Path::display` would lose the first (U+FFFD) and the second cannot be shown. For what
/// the store notes of a path (the audit log's DETAIL, the last backup), so the file can be
/// named again (`$'bk\xFF.json'`). A path that holds a token (a directory named after one,
/// plain or in disguise) is noted with the token masked (`vbx_AbCd…`), as the store never holds
/// one; it does not read back then.
pub fn path_text(path: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let lossy = path.to_string_lossy();
    let masked = crate::error::Masked::new(&lossy);
    let bytes = if masked.as_str() == lossy {
        path.as_os_str().as_bytes()
    } else {
        masked.as_str().as_bytes()
    };
    let mut out = String::new();
    let hex = |out: &mut String, bytes: &[u8]| {
        for b in bytes {
            out.push_str(&format!("\\x{b:02X}"));
        }
    };
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                c if crate::name::is_invisible(c) => {
                    hex(&mut out, c.encode_utf8(&mut [0; 4]).as_bytes())
                }
                c => out.push(c),
            }
        }
        hex(&mut out, chunk.invalid());
    }
    out
}

/// The path [`path_text`] wrote, read back: `\\` is a backslash and `\xNN` the byte NN.
/// `None` for text it never writes (a lone backslash, a bad escape).
pub fn from_path_text(text: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next()? {
            b'\\' => out.push(b'\\'),
            b'x' => {
                let hex = [bytes.next()?, bytes.next()?];
                let hex = std::str::from_utf8(&hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
            }
            _ => return None,
        }
    }
    Some(std::ffi::OsString::from_vec(out).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn path_text_reads_back_to_the_path() {
        for raw in [
            &b"/b/k\xff\xfe.x\xc3"[..],
            "/b/café".as_bytes(),
            b"a\\xFF",
            "a\u{1b}]0;x\u{7}\u{202e}".as_bytes(),
        ] {
            let p = std::path::Path::new(std::ffi::OsStr::from_bytes(raw));
            assert_eq!(from_path_text(&path_text(p)).as_deref(), Some(p));
        }
        assert_eq!(from_path_text("a\\"), None);
        assert_eq!(from_path_text("a\\xZZ"), None);
    }

    #[test]
    fn a_path_that_is_not_utf8_keeps_every_byte() {
        let p = std::path::Path::new(std::ffi::OsStr::from_bytes(b"/b/k\xff\xfe.x\xc3"));
        assert_eq!(path_text(p), "/b/k\\xFF\\xFE.x\\xC3");
        assert_eq!(path_text(std::path::Path::new("/b/café")), "/b/café");
        // A backslash and what shows nothing are written so that `$'…'` reads them back.
        assert_eq!(path_text(std::path::Path::new("a\\xFF")), "a\\\\xFF");
        assert_eq!(
            path_text(std::path::Path::new("a\u{1b}]0;x\u{7}\u{202e}")),
            "a\\x1B]0;x\\x07\\xE2\\x80\\xAE"
        );
    }
}
