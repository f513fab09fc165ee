//! Zone transfers as code: `plan FILE`, `apply FILE`, `export` and `schema`,
//! thin over the sdk's `extras::reconcile` (the diff and the ordered apply).

pub mod file;

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};
use cloudflare_secondary_dns::extras::reconcile::{Action, Change, Plan};
use cloudflare_secondary_dns::extras::zones::ZoneQuery;
use cloudflare_secondary_dns::types::Zone;
use cloudflare_secondary_dns::{
    AccountIdentifier, ApiError, Client, ErrorKind, ResponseExt, TransferStatus, ZoneType,
};
use futures_util::TryStreamExt as _;
use serde_json::json;
use toml::Spanned;

use crate::edit::{BadEdit, Stopped};
use crate::output::{Format, json_text, out, visible};
use file::{
    AclEntry, IncomingEntry, OutgoingEntry, PeerEntry, TransfersFile, TsigEntry, ZoneEntry,
};

/// The commands this module adds at the top level.
pub const COMMANDS: [&str; 4] = ["plan", "apply", "export", "schema"];

/// Exit status of `plan --expect-no-changes` when there are changes.
pub const CHANGES: u8 = 13;

/// octoDNS's rule: pruning more than this share of the existing objects
/// (when there are at least `PRUNE_FLOOR`) needs `--force`.
const PRUNE_SHARE: f64 = 0.3;
const PRUNE_FLOOR: usize = 10;

fn file_arg() -> Arg {
    Arg::new("file")
        .value_name("FILE")
        .required(true)
        .value_parser(clap::value_parser!(PathBuf))
        .help("The transfers file (TOML; `cf-secondary-dns schema` gives its JSON Schema)")
}

fn prune_args() -> [Arg; 2] {
    [
        Arg::new("prune")
            .long("prune")
            .action(ArgAction::SetTrue)
            .help(
                "Also delete the account's TSIG keys, peers and ACLs the file does not name, and \
                 the configurations its zones leave out",
            ),
        Arg::new("force")
            .long("force")
            .action(ArgAction::SetTrue)
            .requires("prune")
            .help("Prune even more than 30 % of the existing objects"),
    ]
}

pub fn commands() -> Vec<Command> {
    vec![
        Command::new("plan")
            .about("Show what apply would change to make the account as FILE says (reads only)")
            .after_help(
                "Examples:\n  cf-secondary-dns plan transfers.toml\n  \
                 cf-secondary-dns plan transfers.toml --expect-no-changes   # drift check in CI\n\n\
                 Exit status: 0, or 13 with --expect-no-changes when anything would change.",
            )
            .arg(file_arg())
            .args(prune_args())
            .arg(
                Arg::new("expect-no-changes")
                    .long("expect-no-changes")
                    .action(ArgAction::SetTrue)
                    .help("Exit 13 when anything would change (drift detection)"),
            ),
        Command::new("apply")
            .about("Make the account as FILE says: the plan, then its changes in Cloudflare's order")
            .after_help(
                "Examples:\n  cf-secondary-dns apply transfers.toml\n  \
                 cf-secondary-dns apply transfers.toml --yes\n\n\
                 An interrupted apply is finished by running it again: the new plan sees what landed.",
            )
            .arg(file_arg())
            .args(prune_args())
            .arg(
                Arg::new("yes")
                    .long("yes")
                    .action(ArgAction::SetTrue)
                    .help("Apply without asking (needed when standard input is not a terminal)"),
            )
            .arg(
                Arg::new("wait")
                    .long("wait")
                    .action(ArgAction::SetTrue)
                    .help(
                        "Then force a transfer of each zone whose incoming configuration changed and \
                         wait until Cloudflare checked its primary, and wait for outgoing zones to \
                         be enabled",
                    ),
            )
            .arg(
                Arg::new("wait-timeout")
                    .long("wait-timeout")
                    .value_name("SECONDS")
                    .requires("wait")
                    .value_parser(clap::value_parser!(u64).range(1..=86_400))
                    .help("The deadline for --wait, for all zones together (default 300)"),
            ),
        Command::new("export")
            .about("Write the account's zone transfers as a transfers file (secrets as env: references)")
            .after_help(
                "Examples:\n  cf-secondary-dns export > transfers.toml\n  \
                 cf-secondary-dns plan transfers.toml --expect-no-changes   # with the secrets' variables set",
            ),
        Command::new("schema").about("Print the JSON Schema of the transfers file (for editors)"),
    ]
}

/// `schema`: the file's JSON Schema (needs no credentials, reads nothing).
pub fn print_schema() {
    out(&json_text(&file::schema(), true));
}

/// Runs one of [`COMMANDS`] but `schema`; its exit status.
pub async fn run(
    client: &Client,
    name: &str,
    matches: &ArgMatches,
    format: Format,
    dry_run: bool,
) -> anyhow::Result<u8> {
    let account = crate::account_from_env()?.ok_or_else(|| {
        BadEdit("set CLOUDFLARE_ACCOUNT_ID to the account the file describes".to_owned())
    })?;
    if name == "export" {
        return export(client, &account).await;
    }
    let path = matches.get_one::<PathBuf>("file").expect("required");
    let desired = file::read(path, &|variable| std::env::var(variable).ok())?;
    let prune = matches.get_flag("prune");
    let plan = client.plan(&account, &desired, prune).await?;
    show(&plan, format);
    if prune && !matches.get_flag("force") && too_much_pruning(&plan) {
        return Err(BadEdit(format!(
            "refusing to delete {} of the {} existing objects (over 30 %): pass --force",
            plan.count(Action::Delete),
            plan.existing
        ))
        .into());
    }
    if name == "plan" {
        let changes = !plan.is_empty() && matches.get_flag("expect-no-changes");
        return Ok(if changes { CHANGES } else { 0 });
    }
    if plan.is_empty() {
        return Ok(0);
    }
    if dry_run {
        eprintln!("dry run: nothing was sent");
        return Ok(0);
    }
    if !matches.get_flag("yes") {
        if !std::io::stdin().is_terminal() {
            return Err(BadEdit(
                "refusing to apply without confirmation: standard input is not a terminal; pass \
                 --yes to apply without asking"
                    .to_owned(),
            )
            .into());
        }
        eprint!("apply these {} changes? [y/N] ", plan.changes.len());
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("nothing applied: not confirmed (--yes applies without asking)");
            return Err(Stopped::NotConfirmed.into());
        }
    }
    client
        .apply(&account, &plan, |change| {
            eprintln!("done: {}", visible(&change.to_string()));
        })
        .await?;
    eprintln!("Applied {} changes.", plan.changes.len());
    if matches.get_flag("wait") {
        let seconds = matches
            .get_one::<u64>("wait-timeout")
            .copied()
            .unwrap_or(300);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
        wait(client, &account, &plan, deadline).await?;
    }
    Ok(0)
}

/// `apply --wait`: each zone whose incoming configuration changed gets a
/// forced transfer and is waited for until Cloudflare checked its primary;
/// each zone whose outgoing transfers were enabled, until they are. One
/// deadline for all.
async fn wait(
    client: &Client,
    account: &AccountIdentifier,
    plan: &Plan,
    deadline: tokio::time::Instant,
) -> anyhow::Result<()> {
    use cloudflare_secondary_dns::extras::reconcile::Object;
    let zone_id = |name: &str| {
        let name = name.to_owned();
        async move {
            client
                .find_zone(&name, Some(account))
                .await
                .map(|zone| zone.id)
                .map_err(|err| anyhow::anyhow!("{err}"))
        }
    };
    for change in &plan.changes {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match (&change.object, change.action) {
            (Object::Incoming(name), Action::Create | Action::Update) => {
                let id = zone_id(name).await?;
                let before = client
                    .get_incoming()
                    .zone_id(id.as_str())
                    .send()
                    .await?
                    .into_result()?;
                client.force_axfr().zone_id(id.as_str()).send().await?;
                let after = client
                    .wait_for_transfer()
                    .zone_id(id.as_str())
                    .refreshed_since(&before)
                    .timeout(left)
                    .wait()
                    .await?;
                let serial = after
                    .soa_serial
                    .map_or("none".to_owned(), |s| s.to_string());
                eprintln!("{name}: transferred, serial {serial}");
            }
            (Object::OutgoingEnabled(name), _)
                if change
                    .fields
                    .iter()
                    .any(|f| f.new.as_deref() == Some("true")) =>
            {
                let id = zone_id(name).await?;
                let status = client
                    .wait_for_outgoing_enabled()
                    .zone_id(id.as_str())
                    .timeout(left)
                    .wait()
                    .await?;
                eprintln!("{name}: outgoing transfers {status}");
            }
            _ => {}
        }
    }
    Ok(())
}

fn too_much_pruning(plan: &Plan) -> bool {
    let deletes = plan.count(Action::Delete);
    plan.existing >= PRUNE_FLOOR && deletes as f64 > PRUNE_SHARE * plan.existing as f64
}

/// The plan: a line per change and the summary (or JSON).
fn show(plan: &Plan, format: Format) {
    match format {
        Format::Json => {
            let changes: Vec<serde_json::Value> = plan.changes.iter().map(change_json).collect();
            let value = json!({
                "changes": changes,
                "unchanged": plan.unchanged,
                "summary": plan.summary(),
            });
            out(&json_text(&value, true));
        }
        Format::Table => {
            for change in &plan.changes {
                let mark = match change.action {
                    Action::Create => '+',
                    Action::Update => '~',
                    Action::Delete => '-',
                };
                if !out(&format!("{mark} {}", visible(&change.to_string()))) {
                    return;
                }
            }
            out(&plan.summary());
        }
    }
}

fn change_json(change: &Change) -> serde_json::Value {
    let fields: Vec<serde_json::Value> = change
        .fields
        .iter()
        .map(|f| json!({"field": f.field, "old": f.old, "new": f.new}))
        .collect();
    json!({
        "object": change.object.to_string(),
        "action": format!("{:?}", change.action).to_lowercase(),
        "fields": fields,
    })
}

/// The variable `export` names for a key's secret: `TSIG_SECRET_` and the
/// name in upper case, other characters as `_`.
fn secret_variable(name: &str) -> String {
    let tail: String = name
        .trim_end_matches('.')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("TSIG_SECRET_{tail}")
}

/// A name made unique: `name`, then `name-2`, `name-3` …
fn unique(name: &str, taken: &mut std::collections::BTreeSet<String>) -> String {
    let mut candidate = name.to_owned();
    let mut n = 1;
    while !taken.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{name}-{n}");
    }
    candidate
}

async fn export(client: &Client, account: &AccountIdentifier) -> anyhow::Result<u8> {
    let tsigs = client
        .list_tsigs()
        .account_id(account)
        .send()
        .await?
        .into_result()?;
    let peers = client
        .list_peers()
        .account_id(account)
        .send()
        .await?
        .into_result()?;
    let acls = client
        .list_acls()
        .account_id(account)
        .send()
        .await?
        .into_result()?;
    let mut file = TransfersFile::default();
    let mut renamed = Vec::new();
    let mut variables = Vec::new();
    let mut taken = std::collections::BTreeSet::new();
    let mut tsig_names = std::collections::HashMap::new();
    for tsig in &tsigs {
        let name = unique(&tsig.name, &mut taken);
        if name != tsig.name {
            renamed.push(format!("tsig {:?} (id {}) as {name:?}", tsig.name, tsig.id));
        }
        let variable = secret_variable(&name);
        variables.push(variable.clone());
        tsig_names.insert(tsig.id.clone(), name.clone());
        file.tsigs.insert(
            name,
            spanned(TsigEntry {
                algorithm: spanned(tsig.algo.clone()),
                secret: spanned(format!("env:{variable}")),
            }),
        );
    }
    let mut taken = std::collections::BTreeSet::new();
    let mut peer_names = std::collections::HashMap::new();
    for peer in &peers {
        let name = unique(&peer.name, &mut taken);
        if name != peer.name {
            renamed.push(format!("peer {:?} (id {}) as {name:?}", peer.name, peer.id));
        }
        peer_names.insert(peer.id.clone(), name.clone());
        file.peers.insert(
            name,
            spanned(PeerEntry {
                ip: peer.ip.as_ref().map(|ip| spanned(ip.to_string())),
                port: peer.port,
                ixfr: peer.ixfr_enable,
                tsig: peer
                    .tsig_id
                    .as_ref()
                    .and_then(|id| tsig_names.get(id))
                    .map(|name| spanned(name.clone())),
            }),
        );
    }
    let mut taken = std::collections::BTreeSet::new();
    for acl in &acls {
        let name = unique(&acl.name, &mut taken);
        if name != acl.name {
            renamed.push(format!("acl {:?} (id {}) as {name:?}", acl.name, acl.id));
        }
        file.acls.insert(
            name,
            spanned(AclEntry {
                range: spanned(acl.ip_range.to_string()),
            }),
        );
    }
    let names = |ids: &[cloudflare_secondary_dns::PeerIdentifier]| -> Vec<String> {
        ids.iter()
            .filter_map(|id| peer_names.get(id.as_str()).cloned())
            .collect()
    };
    let zones: Vec<Zone> = client
        .all_zones(ZoneQuery::new().account(*account))
        .try_collect()
        .await
        .map_err(crate::zone_list_error)?;
    for zone in zones {
        let mut entry = ZoneEntry {
            type_: zone.type_.as_ref().map(|t| spanned(t.as_str().to_owned())),
            ..ZoneEntry::default()
        };
        if zone.type_ == Some(ZoneType::Secondary) {
            if let Some(read) =
                unless_missing(client.get_incoming().zone_id(&zone.id).send().await)?
            {
                let incoming = read.into_result()?;
                entry.incoming = Some(spanned(IncomingEntry {
                    peers: spanned(names(&incoming.peers)),
                    auto_refresh_seconds: incoming.auto_refresh_seconds.map(spanned),
                }));
            }
        } else if let Some(read) =
            unless_missing(client.get_outgoing().zone_id(&zone.id).send().await)?
        {
            let outgoing = read.into_result()?;
            let status = client
                .get_outgoing_status()
                .zone_id(&zone.id)
                .send()
                .await?
                .into_result()?;
            entry.outgoing = Some(spanned(OutgoingEntry {
                peers: spanned(names(&outgoing.peers)),
                enabled: Some(status == TransferStatus::Enabled),
            }));
        }
        if entry.incoming.is_some() || entry.outgoing.is_some() {
            file.zones.insert(zone.name.clone(), spanned(entry));
        }
    }
    let text = toml::to_string_pretty(&file)?;
    // A terminal sees names a server sent made visible (a bidi override or a
    // control character cannot steer it); a file or a pipe gets the exact TOML.
    if std::io::stdout().is_terminal() {
        for line in text.lines() {
            out(&visible(line));
        }
    } else {
        out(text.trim_end_matches('\n'));
    }
    if !variables.is_empty() {
        eprintln!(
            "The secrets are not written: set {} before plan or apply.",
            variables.join(", ")
        );
    }
    for line in renamed {
        eprintln!("note: the account has several objects of one name; exported {line}");
    }
    Ok(0)
}

/// A read's value, `None` for a 404 (a zone with no such configuration);
/// any other failure stops the export rather than leave the zone out.
fn unless_missing<T>(sent: Result<T, ApiError>) -> Result<Option<T>, ApiError> {
    match sent {
        Ok(value) => Ok(Some(value)),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}
