//! Progress for long jobs (`seed`, `import`): a bar on a terminal, a log
//! line every tenth of the way otherwise (CI logs, pipes).

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressStyle};

/// Reports progress of one phase of a job.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    label: &'static str,
    total: u64,
    done: u64,
    next_log: u64,
}

impl Progress {
    /// Starts a phase of `total` units.
    pub(crate) fn new(label: &'static str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>18} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(label);
            bar
        });
        Self {
            bar,
            label,
            total,
            done: 0,
            next_log: total / 10,
        }
    }

    /// Records `n` more units done.
    pub(crate) fn advance(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.inc(n),
            None if self.done >= self.next_log && self.total > 0 => {
                tracing::info!(
                    phase = self.label,
                    done = self.done,
                    total = self.total,
                    "progress"
                );
                self.next_log = self.done + self.total / 10;
            }
            None => {}
        }
    }

    /// Ends the phase.
    pub(crate) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish();
        }
    }
}
