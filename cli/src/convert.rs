//! `zones convert --to secondary|full`: Edit Zone's `type`, with what the
//! conversion means said first, asked on a terminal (`--yes` otherwise), and
//! `--dry-run`. Hand-written because it reads the zone before it writes.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use clap::{Arg, ArgAction, ArgMatches, Command};
use cloudflare_secondary_dns::{Client, ResponseExt, ZoneIdentifier, ZoneName, ZoneType, types};

use crate::edit::{BadEdit, Stopped};
use crate::output::{Printer, visible};

/// The verb under `zones`.
pub const VERB: &str = "convert";

pub fn command() -> Command {
    Command::new(VERB)
        .about("Convert a zone between full and secondary (Edit Zone's type)")
        .long_about(
            "Convert a zone between full and secondary (Edit Zone's type)\n\n\
             A secondary zone's records come only from its primaries, by zone transfer: records\n\
             edited at Cloudflare stop being served once a transfer replaces them, and the zone\n\
             needs an incoming configuration (incoming create --zone NAME --peers ID). A full\n\
             zone's records are edited at Cloudflare: transfers in stop. Cloudflare allows the\n\
             change for Enterprise zones, or where it has been enabled for the zone.",
        )
        .after_help(
            "Examples:\n  \
             cf-secondary-dns zones convert --zone example.com --to secondary --dry-run\n  \
             cf-secondary-dns zones convert --zone example.com --to secondary --yes",
        )
        .args(crate::zone_args())
        .arg(
            Arg::new("to")
                .long("to")
                .value_name("TYPE")
                .required(true)
                .value_parser(["secondary", "full"])
                .help("The zone's new type"),
        )
        .arg(
            Arg::new("yes")
                .long("yes")
                .action(ArgAction::SetTrue)
                .help("Convert without asking (needed when standard input is not a terminal)"),
        )
}

/// What becoming `to` means, in a sentence.
fn meaning(to: &ZoneType) -> &'static str {
    match to {
        ZoneType::Secondary => {
            "its records will come only from its primaries, by zone transfer (records edited \
             at Cloudflare stop being served once a transfer replaces them); next: incoming \
             create --zone NAME --peers ID"
        }
        _ => "its records will be edited at Cloudflare; transfers in stop",
    }
}

pub async fn run(
    client: &Client,
    matches: &ArgMatches,
    printer: &Printer,
    dry_run: bool,
) -> anyhow::Result<()> {
    let to = ZoneType::from(matches.get_one::<String>("to").expect("required").as_str());
    let zone = match matches.get_one::<ZoneName>("zone") {
        Some(name) => crate::find_zone_by_name(client, name).await?,
        None => {
            let zone_id = matches
                .get_one::<ZoneIdentifier>("zone-id")
                .expect("one of the two");
            client
                .get_zone()
                .zone_id(zone_id)
                .send()
                .await?
                .into_result()?
        }
    };
    let from = zone.type_.as_ref().map_or("-", ZoneType::as_str);
    let what = format!("zone {} ({})", visible(&zone.name), visible(&zone.id));
    if zone.type_.as_ref() == Some(&to) {
        eprintln!("{what} is a {to} zone already: nothing to change");
        return Err(Stopped::NoChange.into());
    }
    let body = types::ZoneEdit::builder().type_(Some(to.clone()));
    let body = types::ZoneEdit::try_from(body).map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("{what}: type {from} → {to}: {}", meaning(&to));
    if dry_run {
        println!("{}", serde_json::to_string(&body)?);
        return Err(Stopped::DryRun.into());
    }
    if !matches.get_flag("yes") {
        if !std::io::stdin().is_terminal() {
            return Err(BadEdit(
                "refusing to convert without confirmation: standard input is not a terminal; \
                 pass --yes to convert without asking"
                    .to_owned(),
            )
            .into());
        }
        eprint!("convert {what} to a {to} zone? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("not converted: not confirmed (--yes converts without asking)");
            return Err(Stopped::NotConfirmed.into());
        }
    }
    let zone_id = zone.id.as_str();
    let converted = client
        .edit_zone()
        .zone_id(zone_id)
        .body(body)
        .send()
        .await?
        .into_result()?;
    printer.print_value(serde_json::to_value(converted)?);
    Ok(())
}
