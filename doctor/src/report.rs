//! What the doctor says of a zone: checks, each a verdict with what was seen
//! and what to do.

use std::fmt;

use serde::Serialize;

/// A check's verdict, in rising order of trouble.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Not run: what it needs is missing (the reason is in `seen`).
    Skipped,
    /// Fine.
    Ok,
    /// Works, but something is likely to bite.
    Warning,
    /// Transfers fail, or will, for this reason.
    Failure,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Skipped => "skipped",
            Verdict::Ok => "ok",
            Verdict::Warning => "warning",
            Verdict::Failure => "failure",
        })
    }
}

/// Which way the zone transfers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Cloudflare is secondary: it transfers from the zone's primaries.
    Incoming,
    /// Cloudflare is primary: secondaries transfer from it.
    Outgoing,
    /// No transfer configuration was found.
    None,
}

/// One check of a zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Check {
    /// Its number in the doctor's table (`I6`, `O1`; see the crate docs).
    pub id: &'static str,
    /// What it checks, with the peer it concerns when there are several.
    pub title: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// What was seen (never a secret).
    pub seen: String,
    /// What to do, when there is something to do.
    pub todo: Option<String>,
}

impl Check {
    pub(crate) fn named(id: &'static str, title: impl Into<String>) -> CheckBuilder {
        CheckBuilder {
            id,
            title: title.into(),
        }
    }
}

pub(crate) struct CheckBuilder {
    id: &'static str,
    title: String,
}

impl CheckBuilder {
    fn verdict(self, verdict: Verdict, seen: impl Into<String>, todo: Option<String>) -> Check {
        Check {
            id: self.id,
            title: self.title,
            verdict,
            seen: seen.into(),
            todo,
        }
    }
    pub(crate) fn ok(self, seen: impl Into<String>) -> Check {
        self.verdict(Verdict::Ok, seen, None)
    }
    pub(crate) fn warning(self, seen: impl Into<String>, todo: impl Into<String>) -> Check {
        self.verdict(Verdict::Warning, seen, Some(todo.into()))
    }
    pub(crate) fn failure(self, seen: impl Into<String>, todo: impl Into<String>) -> Check {
        self.verdict(Verdict::Failure, seen, Some(todo.into()))
    }
    pub(crate) fn skipped(self, why: impl Into<String>) -> Check {
        self.verdict(Verdict::Skipped, why, None)
    }
}

/// The doctor's report on one zone. As JSON it also carries its `verdict`
/// and `summary`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ZoneReport {
    /// The zone's id.
    pub zone_id: String,
    /// The zone's name, once read.
    pub zone_name: Option<String>,
    /// Which way it transfers.
    pub direction: Direction,
    /// The checks, in the order run.
    pub checks: Vec<Check>,
    /// Cloudflare last recorded a change of the zone (`modified_time`)
    /// before its old transfer addresses stopped working (2026-12-01): a
    /// primary that allows only those has failed every refresh since.
    pub unchanged_since_cutoff: bool,
}

impl Serialize for ZoneReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            zone_id: &'a str,
            zone_name: Option<&'a str>,
            direction: Direction,
            verdict: Verdict,
            summary: String,
            unchanged_since_cutoff: bool,
            checks: &'a [Check],
        }
        Json {
            zone_id: &self.zone_id,
            zone_name: self.zone_name.as_deref(),
            direction: self.direction,
            verdict: self.verdict(),
            summary: self.summary(),
            unchanged_since_cutoff: self.unchanged_since_cutoff,
            checks: &self.checks,
        }
        .serialize(serializer)
    }
}

impl ZoneReport {
    /// The worst verdict of any check (`Ok` for a report with none).
    pub fn verdict(&self) -> Verdict {
        self.checks
            .iter()
            .map(|check| check.verdict)
            .max()
            .unwrap_or(Verdict::Ok)
            .max(Verdict::Ok)
    }

    /// How troubled the zone is, for ranking a fleet: the worst verdict,
    /// then the number of failures, then of warnings.
    pub fn trouble(&self) -> (Verdict, usize, usize) {
        (
            self.verdict(),
            self.count(Verdict::Failure),
            self.count(Verdict::Warning),
        )
    }

    /// The first check with the worst verdict, if any is not ok.
    pub fn worst(&self) -> Option<&Check> {
        let worst = self.verdict();
        (worst > Verdict::Ok)
            .then(|| self.checks.iter().find(|c| c.verdict == worst))
            .flatten()
    }

    /// How many checks have `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.checks.iter().filter(|c| c.verdict == verdict).count()
    }

    /// One line: "example.com (incoming): failure: 7 ok, 1 warning, 2 failures, 1 skipped".
    pub fn summary(&self) -> String {
        let direction = match self.direction {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
            Direction::None => "no transfer configuration",
        };
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        format!(
            "{} ({direction}): {}: {} ok, {}, {}, {} skipped",
            self.zone_name.as_deref().unwrap_or(&self.zone_id),
            self.verdict(),
            self.count(Verdict::Ok),
            plural(self.count(Verdict::Warning), "warning"),
            plural(self.count(Verdict::Failure), "failure"),
            self.count(Verdict::Skipped),
        )
    }
}
