//! `incoming create-from-file`: the sdk's bulk workflow
//! (`extras::bulk::configure_incoming`) from a shell. Reads a zone list
//! (`<zone id> <zone name>` per line, or `-` for stdin), a bounded number of
//! zones in flight, at the pace of the client's rate limit; one line out per
//! zone as it completes, and per bad input line as it is read (nothing is
//! collected); progress and a closing summary on stderr; a rerun skips the
//! zones already configured, at one call per zone.

use std::cell::Cell;
use std::io::{BufRead, Write as _};
use std::time::Instant;

use clap::{Arg, ArgMatches, Command};
use cloudflare_secondary_dns::extras::bulk::{
    Configured, ZoneEntry, ZoneIds, ZoneLine, ZoneLineError, ZoneReport, read_zone_lines,
};
use cloudflare_secondary_dns::{Client, PeerIdentifier};
use futures_util::StreamExt;
use serde_json::json;

use crate::edit::BadEdit;
use crate::output::{Format, json_text, visible};
use crate::progress;

/// The verb under `incoming`.
pub const VERB: &str = "create-from-file";

/// The most peers a zone links (Cloudflare's limit; the sdk refuses more).
const MAX_PEERS: usize = 30;

pub fn command() -> Command {
    Command::new(VERB)
        .about("Create incoming configurations for every zone of a file (resumable)")
        .long_about(
            "Create incoming configurations for every zone of a file (resumable)\n\n\
             FILE holds one zone per line, `<zone id> <zone name>`, or a zone's name alone\n\
             (`#` starts a comment; `-` reads stdin; a byte-order mark is skipped; a name with a\n\
             control character is a bad line). Names alone are found with one paged list of the\n\
             zones (CLOUDFLARE_ACCOUNT_ID's, when set), not a call per zone; on stdin, when the\n\
             first zone is named alone.\n\n\
             Every zone gets an incoming configuration naming --peers. Zones\n\
             already configured are reported (with their peers when they differ) and left as\n\
             they are, so a rerun after an interruption carries on, at one request per zone.\n\n\
             Requests keep to Cloudflare's rate limit (1,200 per 5 minutes), so a long list takes\n\
             its time instead of meeting the 5-minute lockout.\n\n\
             One line out per zone as it completes (one JSON object per line with --format json,\n\
             --dry-run too), and one per bad input line as it is read; progress and a summary on\n\
             stderr. Exit status: 1 when any zone or line failed; 2 for more than 30 peers,\n\
             before any request; 3 when FILE cannot be read (on): the zones before are done.",
        )
        .after_help(
            "Examples:\n  \
             cf-secondary-dns incoming create-from-file zones.txt --peers 23ff594956f20c2a721606e94745a8aa --dry-run\n  \
             cf-secondary-dns incoming create-from-file zones.txt --peers 23ff594956f20c2a721606e94745a8aa\n  \
             grep -v staging zones.txt | cf-secondary-dns incoming create-from-file - --peers 23ff594956f20c2a721606e94745a8aa --format table",
        )
        .arg(
            Arg::new("file")
                .required(true)
                .value_name("FILE")
                .help("The zone list (`-` for stdin)"),
        )
        .arg(
            Arg::new("peers")
                .long("peers")
                .required(true)
                .value_name("ID,...")
                .value_delimiter(',')
                .value_parser(clap::value_parser!(PeerIdentifier))
                .help("The peers every zone transfers from (at most 30)"),
        )
        .arg(
            Arg::new("concurrency")
                .long("concurrency")
                .value_name("N")
                .value_parser(clap::value_parser!(u16).range(1..=256))
                .default_value("8")
                .help("Zones in flight at once"),
        )
}

/// What a run found, for the exit status.
pub struct Totals {
    pub failed: usize,
}

/// The list could not be read on (exit status 3).
#[derive(Debug)]
pub struct Unreadable(pub String);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreadable {}

/// How many zones each outcome had, for the summary.
#[derive(Default)]
struct Counts {
    configured: Cell<usize>,
    already: Cell<usize>,
    failed: Cell<usize>,
    bad_lines: Cell<usize>,
}

fn bump(cell: &Cell<usize>) {
    cell.set(cell.get() + 1);
}

pub async fn run(
    client: &Client,
    matches: &ArgMatches,
    format: Format,
    dry_run: bool,
    quiet: bool,
) -> anyhow::Result<Totals> {
    let file = matches.get_one::<String>("file").expect("required");
    let peers: Vec<PeerIdentifier> = matches
        .get_many::<PeerIdentifier>("peers")
        .expect("required")
        .cloned()
        .collect();
    if peers.len() > MAX_PEERS {
        return Err(BadEdit(format!(
            "--peers: `peers` has {} items; at most {MAX_PEERS} are allowed; nothing was sent",
            peers.len()
        ))
        .into());
    }
    let concurrency = usize::from(*matches.get_one::<u16>("concurrency").expect("defaulted"));
    // A file is read twice: first for the zones to come (the progress bar)
    // and whether any is named alone; stdin is only peeked.
    let (reader, total, named_in_file): (Box<dyn BufRead>, Option<u64>, bool) = if file == "-" {
        (Box::new(std::io::stdin().lock()), None, false)
    } else {
        let open = || {
            std::fs::File::open(file)
                .map(std::io::BufReader::new)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", visible(file)))
        };
        let (count, named) = open()
            .map(|reader| {
                read_zone_lines(reader)
                    .take_while(|z| z.as_ref().map_or_else(|e| !e.unreadable, |_| true))
                    .fold((0u64, false), |(count, named), line| {
                        (
                            count + 1,
                            named || matches!(line, Ok(ZoneLine::Named { .. })),
                        )
                    })
            })
            .unwrap_or_default();
        let total = (!quiet && progress::shown(matches)).then_some(count);
        (Box::new(open()?), total, named)
    };
    // (The list below counts among the run's requests.)
    let sent_before = client.rate_limit_status().map(|s| s.sent);
    // Zones named alone: their ids from one paged list, fetched only when
    // the list has such a line.
    let mut lines = read_zone_lines(reader).peekable();
    let named = named_in_file || matches!(lines.peek(), Some(Ok(ZoneLine::Named { .. })));
    let ids: Option<ZoneIds> = if named {
        let account = crate::account_from_env()?;
        let ids = client.zone_ids(account.as_ref()).await;
        Some(ids.map_err(crate::zone_list_error)?)
    } else {
        None
    };
    let bar = progress::Bulk::start(total, matches);
    let counts = Counts::default();
    let unreadable: Cell<Option<ZoneLineError>> = Cell::new(None);
    let started = Instant::now();
    let write = |line: String| {
        // A closed pipe ends the output, not the run.
        bar.suspend(|| {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        });
    };
    let pacing = || match client.rate_limit_status() {
        Some(status) if status.paused_for.is_some() => format!(
            "paused by the rate limit for {} s",
            status.paused_for.unwrap_or_default().as_secs()
        ),
        Some(status) => status
            .server_remaining
            .map(|r| format!("{r} requests left in Cloudflare's window"))
            .unwrap_or_default(),
        None => String::new(),
    };
    // Bad lines are written as they are read; a read error ends the list.
    let zones = lines.map(|line| {
        let line = line?;
        match (&ids, line) {
            (Some(ids), line) => ids.resolve(line),
            (None, ZoneLine::Named { line, name }) => Err(ZoneLineError {
                line,
                reason: format!(
                    "{name} is named alone, but the first zone of standard input was not \
                     (then names are not looked up): give `<zone id> <zone name>`"
                ),
                unreadable: false,
            }),
            // A zone with its id (or what the sdk reads next): as it is.
            (None, other) => ZoneIds::default().resolve(other),
        }
    });
    let zones = zones.filter_map(|line| match line {
        Ok(zone) => Some(zone),
        Err(bad) if bad.unreadable => {
            unreadable.set(Some(bad));
            None
        }
        Err(bad) => {
            bump(&counts.bad_lines);
            write(render_bad_line(file, &bad, format));
            bar.done(&pacing());
            None
        }
    });
    if dry_run {
        for zone in zones {
            write(render_zone(&zone, "would configure", None, format));
            bar.done("");
        }
    } else {
        let mut reports = client.configure_incoming(zones, &peers, concurrency);
        while let Some(report) = reports.next().await {
            match &report.outcome {
                Ok(Configured::AlreadyConfigured(_)) => bump(&counts.already),
                Ok(_) => bump(&counts.configured),
                Err(_) => bump(&counts.failed),
            }
            write(render(&report, &peers, format));
            bar.done(&pacing());
        }
    }
    bar.finish();
    if !quiet && !dry_run {
        let requests = client
            .rate_limit_status()
            .zip(sent_before)
            .map(|(status, before)| format!("{} requests in ", status.sent - before))
            .unwrap_or_default();
        eprintln!(
            "{} zones: {} configured, {} already configured, {} failed, {} bad lines ({requests}{:.1} s)",
            counts.configured.get() + counts.already.get() + counts.failed.get(),
            counts.configured.get(),
            counts.already.get(),
            counts.failed.get(),
            counts.bad_lines.get(),
            started.elapsed().as_secs_f64(),
        );
    }
    if let Some(bad) = unreadable.take() {
        return Err(
            Unreadable(visible(&format!("cannot read {file} on: {bad}")).into_owned()).into(),
        );
    }
    Ok(Totals {
        failed: counts.failed.get() + counts.bad_lines.get(),
    })
}

fn render_bad_line(file: &str, bad: &ZoneLineError, format: Format) -> String {
    match format {
        Format::Json => json_text(
            &json!({"line": bad.line, "outcome": "bad line", "error": bad.reason}),
            false,
        ),
        _ => visible(&format!("{file}: {bad}")).into_owned(),
    }
}

/// A zone's line: `outcome`, and `extra` members (JSON) or words (table).
fn render_zone(
    zone: &ZoneEntry,
    outcome: &str,
    extra: Option<(serde_json::Value, String)>,
    format: Format,
) -> String {
    let ZoneEntry {
        line,
        zone_id,
        name,
    } = zone;
    match format {
        Format::Json => {
            let mut value =
                json!({"line": line, "zone_id": zone_id, "name": name, "outcome": outcome});
            if let (Some((serde_json::Value::Object(members), _)), Some(object)) =
                (extra, value.as_object_mut())
            {
                object.extend(members);
            }
            json_text(&value, false)
        }
        _ => {
            let words = extra.map(|(_, words)| words).unwrap_or_default();
            visible(&format!("line {line} {zone_id} {name}: {outcome}{words}")).into_owned()
        }
    }
}

fn render(report: &ZoneReport, peers: &[PeerIdentifier], format: Format) -> String {
    match &report.outcome {
        Ok(Configured::AlreadyConfigured(incoming)) => {
            let mut theirs: Vec<&str> = incoming.peers.iter().map(|p| p.as_str()).collect();
            let mut ours: Vec<&str> = peers.iter().map(|p| p.as_str()).collect();
            theirs.sort_unstable();
            ours.sort_unstable();
            let extra = (theirs != ours).then(|| {
                (
                    json!({"peers_differ": true, "peers": incoming.peers}),
                    format!(" (with other peers: {})", theirs.join(", ")),
                )
            });
            render_zone(&report.zone, "already configured", extra, format)
        }
        Ok(_) => render_zone(&report.zone, "configured", None, format),
        Err(err) => render_zone(
            &report.zone,
            "failed",
            Some((
                json!({"error": err.report().to_string()}),
                format!(": {}", err.report()),
            )),
            format,
        ),
    }
}
