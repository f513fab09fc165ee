//! `doctor`: why a zone does not transfer, rendered from the doctor crate's
//! report (a table for people, JSON for scripts) with a graded exit status.

use std::time::Duration;

use clap::{Arg, ArgMatches, Command};
use cloudflare_secondary_dns::{Client, ZoneIdentifier, ZoneName};
use cloudflare_secondary_dns_doctor::{Doctor, DoctorOptions, ProbeLimits, Verdict, ZoneReport};

use crate::output::{Format, json_text, visible};

pub const NAME: &str = "doctor";

/// Exit status: every check ok (or skipped).
pub const HEALTHY: u8 = 0;
/// Exit status: warnings, no failure.
pub const WARNINGS: u8 = 11;
/// Exit status: at least one failure.
pub const FAILURES: u8 = 12;

pub fn command() -> Command {
    Command::new(NAME)
        .about("Say why a zone does not transfer: the API's view joined with signed DNS probes")
        .long_about(
            "Say why a zone does not transfer: the API's view joined with signed DNS probes\n\n\
             Reads the zone, its incoming or outgoing configuration, its peers and their TSIG\n\
             keys, then sends the primary the SOA query and the AXFR (and IXFR) Cloudflare\n\
             sends, signed with the same key, from this host. Each check has a verdict (ok,\n\
             warning, failure, skipped), what was seen and what to do; a TSIG error is named\n\
             for its cause (BADKEY: the name or algorithm; BADSIG: the secret; BADTIME: the\n\
             clock). A transfer that works from here while Cloudflare stays behind means the\n\
             primary refuses Cloudflare's addresses (new since 2026-12-01): the allow-list\n\
             lines for BIND, NSD, Knot and PowerDNS are printed. Secrets are never shown.",
        )
        .after_help(
            "Examples:\n  \
             cf-secondary-dns doctor --zone example.com --format table\n  \
             cf-secondary-dns doctor --zone-id 269d8f4853475ca241c4e730be286b20\n\n\
             Exit status: 0 every check ok, 11 warnings, 12 a failure; 2 usage, 3\n\
             configuration, 4 no zone of that name, as for the other commands.",
        )
        .args(crate::zone_args())
        .arg(
            Arg::new("probe-timeout")
                .long("probe-timeout")
                .value_name("SECONDS")
                .value_parser(clap::value_parser!(u64).range(1..=120))
                .help("The wait for each DNS answer (default 5)"),
        )
        .arg(
            Arg::new("name-server")
                .long("name-server")
                .value_name("ADDR:PORT")
                .action(clap::ArgAction::Append)
                .value_parser(clap::value_parser!(std::net::SocketAddr))
                .help(
                    "Ask this server for the served serial (I9) instead of the zone's name \
                     servers (repeatable; e.g. the stand-in's)",
                ),
        )
        .arg(
            Arg::new("max-transfer-mb")
                .long("max-transfer-mb")
                .value_name("MB")
                .value_parser(clap::value_parser!(u64).range(1..=4096))
                .help("Stop a transfer after this many megabytes (default 64)"),
        )
}

pub async fn run(client: &Client, matches: &ArgMatches, format: Format) -> anyhow::Result<u8> {
    let mut limits = ProbeLimits::default();
    if let Some(seconds) = matches.get_one::<u64>("probe-timeout") {
        limits = limits.timeout(Duration::from_secs(*seconds));
    }
    if let Some(mb) = matches.get_one::<u64>("max-transfer-mb") {
        limits = limits.max_transfer_bytes(mb * 1024 * 1024);
    }
    let mut options = DoctorOptions::default().limits(limits);
    if let Some(servers) = matches.get_many::<std::net::SocketAddr>("name-server") {
        options = options.served_by(servers.copied().collect());
    }
    let doctor = Doctor::new(client.clone()).with_options(options);
    let report = match matches.get_one::<ZoneName>("zone") {
        Some(name) => {
            doctor
                .diagnose(crate::find_zone_by_name(client, name).await?)
                .await
        }
        None => {
            let zone_id = matches
                .get_one::<ZoneIdentifier>("zone-id")
                .expect("required");
            doctor.zone(zone_id).await
        }
    };
    match format {
        Format::Json => println!("{}", json_text(&report, true)),
        Format::Table => print!("{}", table(&report)),
    }
    eprintln!("{}", visible(&report.summary()));
    Ok(match report.verdict() {
        Verdict::Failure => FAILURES,
        Verdict::Warning => WARNINGS,
        Verdict::Ok | Verdict::Skipped => HEALTHY,
    })
}

/// One row per check (check, verdict, what was seen), its "to do" lines
/// under it; server text made visible.
fn table(report: &ZoneReport) -> String {
    let rows: Vec<(String, String, String)> = report
        .checks
        .iter()
        .map(|c| {
            (
                format!("{} {}", c.id, visible(&c.title)),
                c.verdict.to_string(),
                visible(&c.seen).into_owned(),
            )
        })
        .collect();
    let width = rows
        .iter()
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!("{:width$}  {:8} {}\n", "CHECK", "VERDICT", "SEEN");
    for (check, row) in report.checks.iter().zip(&rows) {
        out.push_str(&format!("{:width$}  {:8} {}\n", row.0, row.1, row.2));
        if let Some(todo) = &check.todo {
            for (i, line) in todo.lines().enumerate() {
                let lead = if i == 0 { "→ " } else { "  " };
                out.push_str(&format!(
                    "{:width$}  {:8} {lead}{}\n",
                    "",
                    "",
                    visible(line)
                ));
            }
        }
    }
    out
}
