//! Progress counters for long work (import, export, scan): the only module that uses indicatif.
//! They draw on stderr when it is a terminal and are silent otherwise, so pipes and logs stay
//! clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress(ProgressBar);

impl Progress {
    /// A counter for work whose size is not known ahead (a streamed import).
    pub fn spinner(what: &'static str) -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {msg} {pos} ({per_sec})")
            .expect("a valid template");
        bar.set_style(style);
        bar.set_message(what);
        Progress(bar)
    }

    pub fn set(&self, done: u64) {
        self.0.set_position(done);
    }

    /// Runs `f` (which writes to stderr) with the counter taken off the screen.
    pub fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        self.0.suspend(f)
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
