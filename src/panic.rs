//! Panics are bugs, or a dependency failing hard on damaged data; either way the user gets one
//! line, never a backtrace. The hook records the message; `main` prints it as an internal error
//! and [`quietly`] lets the store report a damaged file instead.

use std::cell::RefCell;
use std::panic::{self, PanicHookInfo, UnwindSafe};

thread_local! {
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the default hook (which prints a backtrace hint) with one that records the message.
/// Panics on threads other than the main one are printed at once, as nobody else will see them.
pub fn install_hook() {
    panic::set_hook(Box::new(|info| {
        let message = describe(info);
        if std::thread::current().name() != Some("main") {
            eprintln!("vbx-tokens: internal error in a background thread: {message}");
        }
        LAST.with(|last| *last.borrow_mut() = Some(message));
    }));
}

/// Runs `f`, turning a panic into `Err(message)`.
pub fn quietly<T>(f: impl FnOnce() -> T + UnwindSafe) -> Result<T, String> {
    panic::catch_unwind(f).map_err(|_| {
        LAST.with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| "a panic with no message".to_owned())
    })
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".to_owned());
    match info.location() {
        Some(at) => format!("{text} (at {}:{})", at.file(), at.line()),
        None => text,
    }
}
