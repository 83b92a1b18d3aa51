//! The progress bar of a batch of runs: runs done out of runs to make, runs in flight, and
//! the time left, on stderr.

use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::schedule::BatchProgress;

/// One bar for a whole sweep or plan. Hidden when `visible` is false (`--quiet`, or stderr
/// is not a terminal), in which case it costs nothing.
pub struct BatchBar {
    bar: ProgressBar,
    in_flight: AtomicU64,
    reused: AtomicU64,
}

impl BatchBar {
    pub fn new(visible: bool) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(
                "runs [{bar:30}] {pos}/{len}  {msg}  elapsed {elapsed}, about {eta} left",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        Self {
            bar,
            in_flight: AtomicU64::new(0),
            reused: AtomicU64::new(0),
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn show_in_flight(&self) {
        let in_flight = self.in_flight.load(Ordering::Relaxed);
        let reused = self.reused.load(Ordering::Relaxed);
        self.bar
            .set_message(format!("{in_flight} in flight, {reused} found from before"));
    }
}

impl BatchProgress for BatchBar {
    fn begin(&self, pending: u64, reused: u64) {
        self.bar
            .set_length(self.bar.length().unwrap_or(0) + pending);
        self.reused.fetch_add(reused, Ordering::Relaxed);
        self.show_in_flight();
    }

    fn run_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.show_in_flight();
    }

    fn run_finished(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.bar.inc(1);
        self.show_in_flight();
    }
}
