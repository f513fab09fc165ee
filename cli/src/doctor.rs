//! `doctor`: why a zone does not transfer, rendered from the doctor crate's
//! report (a table for people, JSON for scripts) with a graded exit status.

use std::time::Duration;

use clap::{Arg, ArgMatches, Command};
use cloudflare_secondary_dns::extras::zones::ZoneQuery;
use cloudflare_secondary_dns::{Client, ZoneIdentifier, ZoneName};
use cloudflare_secondary_dns_doctor::{
    DEFAULT_FLEET_CONCURRENCY, Doctor, DoctorOptions, ProbeLimits, Verdict, ZoneReport,
};
use futures_util::StreamExt as _;

use crate::output::{Format, json_text, out, visible};

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
             cf-secondary-dns doctor --zone-id 269d8f4853475ca241c4e730be286b20\n  \
             cf-secondary-dns doctor --zone example.com --fix --fix-timeout 120\n  \
             cf-secondary-dns doctor --all --format json > fleet.jsonl\n  \
             cf-secondary-dns doctor --rerun-failed fleet.jsonl --format table\n\n\
             Exit status: 0 every check ok, 11 warnings, 12 a failure; 2 usage, 3\n\
             configuration, 4 no zone of that name, as for the other commands.",
        )
        .args(crate::zone_args().map(|arg| {
            if arg.get_id() == "zone" {
                arg.required_unless_present_any(["all", "rerun-failed"])
            } else {
                arg
            }
        }))
        .arg(
            Arg::new("all")
                .long("all")
                .action(clap::ArgAction::SetTrue)
                .conflicts_with_all(["zone", "zone-id", "rerun-failed"])
                .help(
                    "Every zone with a transfer configuration (in CLOUDFLARE_ACCOUNT_ID's account \
                     when set): a line per zone as it completes, then the zones ranked by trouble",
                ),
        )
        .arg(
            Arg::new("rerun-failed")
                .long("rerun-failed")
                .value_name("FILE")
                .value_parser(clap::value_parser!(std::path::PathBuf))
                .conflicts_with_all(["zone", "zone-id"])
                .help(
                    "Only the zones that failed in FILE, the JSON lines of an earlier \
                     `doctor --all --format json`",
                ),
        )
        .arg(
            Arg::new("concurrency")
                .long("concurrency")
                .value_name("N")
                .value_parser(clap::value_parser!(u16).range(1..=64))
                .help("Zones diagnosed at once with --all (default 8; API calls are paced whatever it is)"),
        )
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
            Arg::new("send-notify")
                .long("send-notify")
                .action(clap::ArgAction::SetTrue)
                .help(
                    "Also send a NOTIFY (signed with the peer's key) to Cloudflare's NOTIFY targets, \
                     as the primary would; run it from the primary (I10)",
                ),
        )
        .arg(
            Arg::new("fix")
                .long("fix")
                .action(clap::ArgAction::SetTrue)
                .help(
                    "Also force a transfer and wait for Cloudflare to check the primary (I12); \
                     changes nothing but the zone's serial at Cloudflare",
                ),
        )
        .arg(
            Arg::new("fix-timeout")
                .long("fix-timeout")
                .value_name("SECONDS")
                .requires("fix")
                .value_parser(clap::value_parser!(u64).range(1..=3600))
                .help("How long --fix waits (default 300)"),
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
    if matches.get_flag("send-notify") {
        options = options.send_notify(None);
    }
    if matches.get_flag("fix") {
        let seconds = matches
            .get_one::<u64>("fix-timeout")
            .copied()
            .unwrap_or(300);
        options = options.fix(Duration::from_secs(seconds));
    }
    let doctor = Doctor::new(client.clone()).with_options(options);
    if matches.get_flag("all") || matches.contains_id("rerun-failed") {
        return fleet(&doctor, matches, format).await;
    }
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
        Format::Json => out(&json_text(&report, true)),
        Format::Table => out(table(&report).trim_end_matches('\n')),
    };
    eprintln!("{}", visible(&report.summary()));
    Ok(status(report.verdict()))
}

fn status(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Failure => FAILURES,
        Verdict::Warning => WARNINGS,
        Verdict::Ok | Verdict::Skipped => HEALTHY,
    }
}

/// How many zones the fleet summary ranks by name.
const RANKED: usize = 20;

/// `--all` or `--rerun-failed`: a line per zone as it completes, then a
/// summary and the zones ranked by trouble (on stderr).
async fn fleet(doctor: &Doctor, matches: &ArgMatches, format: Format) -> anyhow::Result<u8> {
    let concurrency = matches
        .get_one::<u16>("concurrency")
        .map_or(DEFAULT_FLEET_CONCURRENCY, |n| usize::from(*n));
    let started = std::time::Instant::now();
    let mut reports: Vec<ZoneReport> = Vec::new();
    // `false` once stdout is closed: the run stops, nobody reads it.
    let mut show = |report: ZoneReport| {
        let open = match format {
            Format::Json => out(&json_text(&report, false)),
            Format::Table => out(&fleet_line(&report)),
        };
        // Kept for the ranking with only their troubled checks (memory stays
        // small per zone, whatever the fleet).
        let mut report = report;
        report.checks.retain(|c| c.verdict > Verdict::Ok);
        reports.push(report);
        open
    };
    match matches.get_one::<std::path::PathBuf>("rerun-failed") {
        Some(file) => {
            let zone_ids = failed_zones(file)?;
            let mut runs = futures_util::stream::iter(zone_ids)
                .map(|zone_id| async move { doctor.zone(&zone_id).await })
                .buffer_unordered(concurrency);
            while let Some(report) = runs.next().await {
                if !show(report) {
                    break;
                }
            }
        }
        None => {
            let mut query = ZoneQuery::new();
            if let Some(account) = crate::account_from_env()? {
                query = query.account(account);
            }
            let mut runs = std::pin::pin!(doctor.fleet(query, concurrency));
            while let Some(report) = runs.next().await {
                if !show(report.map_err(crate::zone_list_error)?) {
                    break;
                }
            }
        }
    }
    reports.sort_by(|a, b| {
        b.trouble()
            .cmp(&a.trouble())
            .then(a.zone_name.cmp(&b.zone_name))
    });
    let count = |verdict: Verdict| reports.iter().filter(|r| r.verdict() == verdict).count();
    let stuck = reports.iter().filter(|r| r.unchanged_since_cutoff).count();
    eprintln!(
        "{} zones in {:.1} s: {} ok, {} with warnings, {} failing; {stuck} unchanged since {} \
         (Cloudflare's old transfer addresses stopped that day)",
        reports.len(),
        started.elapsed().as_secs_f64(),
        count(Verdict::Ok),
        count(Verdict::Warning),
        count(Verdict::Failure),
        doctor.options().addresses.old_sources_until,
    );
    let troubled: Vec<&ZoneReport> = reports
        .iter()
        .filter(|r| r.verdict() > Verdict::Ok)
        .collect();
    if !troubled.is_empty() {
        eprintln!("Most trouble first:");
        for report in troubled.iter().take(RANKED) {
            eprintln!(
                "  {}{}",
                fleet_line(report),
                if report.unchanged_since_cutoff {
                    "  [unchanged since the address change]"
                } else {
                    ""
                }
            );
        }
        if troubled.len() > RANKED {
            eprintln!("  … and {} more", troubled.len() - RANKED);
        }
    }
    Ok(status(
        reports
            .iter()
            .map(ZoneReport::verdict)
            .max()
            .unwrap_or(Verdict::Ok),
    ))
}

/// `name  verdict  the worst check`, made visible.
fn fleet_line(report: &ZoneReport) -> String {
    let name = report.zone_name.as_deref().unwrap_or(&report.zone_id);
    let worst = report.worst().map_or(String::new(), |c| {
        let seen: String = c.seen.chars().take(100).collect();
        format!("{} {}: {seen}", c.id, c.title)
    });
    visible(&format!(
        "{name:30} {:8} {worst}",
        report.verdict().to_string()
    ))
    .into_owned()
}

/// Largest file `--rerun-failed` reads (a 1,000-zone run is about 4 MB).
const MAX_RERUN_FILE: u64 = 256 * 1024 * 1024;

/// The zones whose verdict was `failure` in a file of JSON lines.
fn failed_zones(file: &std::path::Path) -> anyhow::Result<Vec<ZoneIdentifier>> {
    use std::io::BufRead as _;
    let unreadable = |err: std::io::Error| {
        anyhow::anyhow!(
            "cannot read {}: {err}",
            visible(&file.display().to_string())
        )
    };
    let opened = std::fs::File::open(file).map_err(unreadable)?;
    let size = opened.metadata().map_err(unreadable)?.len();
    if size > MAX_RERUN_FILE {
        return Err(anyhow::anyhow!(
            "{} is {size} bytes, more than the {MAX_RERUN_FILE} a fleet's report takes",
            visible(&file.display().to_string())
        ));
    }
    let mut zone_ids = Vec::new();
    for (number, line) in std::io::BufReader::new(opened).lines().enumerate() {
        let line = line.map_err(unreadable)?;
        let Ok(report) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if report["verdict"] == "failure" {
            let id = report["zone_id"].as_str().unwrap_or_default();
            let zone_id = ZoneIdentifier::try_from(id)
                .map_err(|err| anyhow::anyhow!("line {}: zone_id: {err}", number + 1))?;
            zone_ids.push(zone_id);
        }
    }
    Ok(zone_ids)
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
