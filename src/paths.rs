//! Where the store lives when neither `--store` nor `VBX_TOKENS_HOME` says: the only module that
//! uses `directories`.

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

/// The per-user state directory, where the use witness lives (`~/.local/state/vbx-tokens` on
/// Linux, or under `$XDG_STATE_HOME`); `None` without a home directory.
pub fn state_dir() -> Option<PathBuf> {
    ProjectDirs::from("com", "VasBox", "vbx-tokens")
        .and_then(|dirs| dirs.state_dir().map(std::path::Path::to_owned))
}
