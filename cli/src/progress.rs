//! Progress of long work on stderr (indicatif): what `--wait` waits for and
//! what it last read, and how far `create-from-file` is. Shown only when
//! stderr is a terminal and `--quiet` is not given, so that scripts and
//! pipes see nothing of it; it is cleared when the work ends.

use std::io::IsTerminal as _;
use std::time::Duration;

use clap::ArgMatches;
use cloudflare_secondary_dns::types::Incoming;
use indicatif::{ProgressBar, ProgressStyle};

use crate::output::visible;

/// Whether progress is shown for this command.
pub fn shown(matches: &ArgMatches) -> bool {
    let quiet = matches.try_get_one::<bool>("quiet").ok().flatten() == Some(&true);
    !quiet && std::io::stderr().is_terminal()
}

/// A spinner for `--wait`: "waiting for …: 3 reads, last: soa_serial …".
pub struct Waiting {
    bar: ProgressBar,
    what: String,
    reads: std::sync::atomic::AtomicU32,
}

impl Waiting {
    pub fn start(what: &str, matches: &ArgMatches) -> Self {
        let bar = if shown(matches) {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        bar.set_message(format!("waiting for {what}"));
        Self {
            bar,
            what: what.to_owned(),
            reads: Default::default(),
        }
    }

    /// A read arrived; `seen` says what it showed.
    pub fn read(&self, seen: &str) {
        let reads = self
            .reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let plural = if reads == 1 { "" } else { "s" };
        self.bar.set_message(format!(
            "waiting for {}: {reads} read{plural}, last: {}",
            self.what,
            visible(seen)
        ));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// What a read of a secondary zone shows, for the progress line.
pub fn serial_seen(zone: &Incoming) -> String {
    let serial = zone
        .soa_serial
        .map_or_else(|| "none".to_owned(), |s| s.to_string());
    let checked = zone.checked_time.as_ref().map_or("none", |t| t.as_str());
    format!("soa_serial {serial}, checked_time {checked}")
}

/// A bar for a bulk run: zones done of the total (when the file's size is
/// known), with the pacer's state.
pub struct Bulk {
    bar: ProgressBar,
}

impl Bulk {
    pub fn start(total: Option<u64>, matches: &ArgMatches) -> Self {
        let bar = match (shown(matches), total) {
            (false, _) => ProgressBar::hidden(),
            (true, Some(total)) => {
                let bar = ProgressBar::new(total);
                bar.set_style(
                    ProgressStyle::with_template("{bar:30} {pos}/{len} zones {elapsed} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar
            }
            (true, None) => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {pos} zones {elapsed} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar
            }
        };
        bar.enable_steady_tick(Duration::from_millis(200));
        Self { bar }
    }

    /// One zone (or bad line) done; `pacing` says what the pacer does.
    pub fn done(&self, pacing: &str) {
        self.bar.inc(1);
        self.bar.set_message(pacing.to_owned());
    }

    /// A line printed while the bar is drawn.
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        self.bar.suspend(print)
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
