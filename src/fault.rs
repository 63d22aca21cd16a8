//! Crash points for tests: with the `fault-injection` feature, a process whose
//! `VBX_TOKENS_FAULT` names a point stops dead there (`abort`, as `kill -9` would: no destructor
//! runs, nothing more is written). Without the feature every point is an empty function.
//!
//! The points (each named where it is called): `create-indexed`, `create-committed`,
//! `create-durable`, `revoke-indexed`, `revoke-committed`, `revoke-durable` (also a bulk
//! revoke), `change-indexed`, `change-committed`, `change-durable` (rotate, disable, enable,
//! extend), `import-chunk`, `import-durable`,
//! `fold-read`, `fold-chunk`, `fold-committed`, `index-temp-written`, `index-renamed`,
//! `journal-written`.

/// Stops the process here if the tests asked for this point.
#[inline]
pub fn point(name: &'static str) {
    #[cfg(feature = "fault-injection")]
    if std::env::var_os("VBX_TOKENS_FAULT").is_some_and(|v| v == name) {
        std::process::abort();
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = name;
}

/// Writes `name` to the file `VBX_TOKENS_REACHED` names, if any: how a test learns that a
/// process is held or paused where it asked, when nothing else shows it.
#[cfg(feature = "fault-injection")]
fn reached(name: &str) {
    if let Some(file) = std::env::var_os("VBX_TOKENS_REACHED") {
        let _ = std::fs::write(file, name);
    }
}

/// Waits here for ever if the tests asked for this point in `VBX_TOKENS_HOLD`, so that they can
/// send a signal at a known step (`temp-written`: a temporary file beside a target exists;
/// `restore-built`: the store being restored is built but not in place; `import-chunk`: an
/// import has committed a chunk it can still undo).
#[inline]
pub fn hold(name: &'static str) {
    #[cfg(feature = "fault-injection")]
    if std::env::var_os("VBX_TOKENS_HOLD").is_some_and(|v| v == name) {
        reached(name);
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = name;
}

/// Waits here three seconds, then goes on, if the tests asked for this point in
/// `VBX_TOKENS_PAUSE`, so that they can send a signal past a command's point of no return
/// (`file-linked`: a file the user named is in place; `restore-swapped`: the restored store is;
/// `import-durable`: an import's last transaction is durable).
#[inline]
pub fn pause(name: &'static str) {
    #[cfg(feature = "fault-injection")]
    if std::env::var_os("VBX_TOKENS_PAUSE").is_some_and(|v| v == name) {
        reached(name);
        std::thread::sleep(std::time::Duration::from_secs(3));
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = name;
}
