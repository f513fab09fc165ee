//! `incoming create-from-file`: the sdk's bulk workflow
//! (`extras::bulk::configure_incoming`) from a shell. Reads a zone list
//! (`<zone id> <zone name>` per line, or `-` for stdin), a bounded number of
//! zones in flight, at the pace of the client's rate limit; one line out per
//! zone as it completes, and per bad input line; a rerun skips the zones
//! already configured.

use std::io::{BufRead, Write as _};

use clap::{Arg, ArgMatches, Command};
use cloudflare_secondary_dns::extras::bulk::{Configured, ZoneEntry, ZoneReport, read_zone_list};
use cloudflare_secondary_dns::{Client, PeerIdentifier};
use futures_util::StreamExt;
use serde_json::json;

use crate::output::{Format, visible};

/// The verb under `incoming`.
pub const VERB: &str = "create-from-file";

pub fn command() -> Command {
    Command::new(VERB)
        .about("Create incoming configurations for every zone of a file (resumable)")
        .long_about(
            "Create incoming configurations for every zone of a file (resumable)\n\n\
             FILE holds one zone per line, `<zone id> <zone name>` (`#` starts a comment; `-`\n\
             reads stdin). Every zone gets an incoming configuration naming --peers. Zones\n\
             already configured are reported and left as they are, so a rerun after an\n\
             interruption carries on.\n\n\
             Requests keep to Cloudflare's rate limit (1,200 per 5 minutes), so a long list takes\n\
             its time instead of meeting the 5-minute lockout.\n\n\
             One line out per zone as it completes (one JSON object per line with --format json),\n\
             and one per bad input line; the exit status is 1 when any zone or line failed.",
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

pub async fn run(
    client: &Client,
    matches: &ArgMatches,
    format: Format,
    dry_run: bool,
) -> anyhow::Result<Totals> {
    let file = matches.get_one::<String>("file").expect("required");
    let peers: Vec<PeerIdentifier> = matches
        .get_many::<PeerIdentifier>("peers")
        .expect("required")
        .cloned()
        .collect();
    let concurrency = usize::from(*matches.get_one::<u16>("concurrency").expect("defaulted"));
    let reader: Box<dyn BufRead> = if file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let opened = std::fs::File::open(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", visible(file)))?;
        Box::new(std::io::BufReader::new(opened))
    };
    let mut failed = 0;
    let mut out = std::io::stdout().lock();
    let mut write = |line: String| {
        // A closed pipe ends the output, not the run.
        let _ = writeln!(out, "{line}");
    };
    let mut bad_lines = Vec::new();
    let zones = read_zone_list(reader).filter_map(|line| line.map_err(|e| bad_lines.push(e)).ok());
    if dry_run {
        for zone in zones {
            write(
                visible(&format!(
                    "would configure line {} {} {}",
                    zone.line, zone.zone_id, zone.name
                ))
                .into_owned(),
            );
        }
    } else {
        let mut reports = client.configure_incoming(zones, &peers, concurrency);
        while let Some(report) = reports.next().await {
            failed += usize::from(report.outcome.is_err());
            write(render(&report, format));
        }
    }
    for bad in &bad_lines {
        write(match format {
            Format::Json => {
                json!({"line": bad.line, "outcome": "bad line", "error": bad.reason}).to_string()
            }
            _ => visible(&format!("{file}: {bad}")).into_owned(),
        });
    }
    Ok(Totals {
        failed: failed + bad_lines.len(),
    })
}

fn render(report: &ZoneReport, format: Format) -> String {
    let ZoneEntry {
        line,
        zone_id,
        name,
    } = &report.zone;
    let (outcome, error) = match &report.outcome {
        Ok(Configured::Created(_)) => ("configured", None),
        Ok(Configured::AlreadyConfigured(_)) => ("already configured", None),
        Ok(_) => ("configured", None),
        Err(err) => ("failed", Some(err.report().to_string())),
    };
    match format {
        Format::Json => {
            let mut value =
                json!({"line": line, "zone_id": zone_id, "name": name, "outcome": outcome});
            if let Some(error) = error {
                value["error"] = error.into();
            }
            value.to_string()
        }
        _ => {
            let error = error.map(|e| format!(": {e}")).unwrap_or_default();
            visible(&format!("line {line} {zone_id} {name}: {outcome}{error}")).into_owned()
        }
    }
}
