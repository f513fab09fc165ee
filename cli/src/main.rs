//! `cf-secondary-dns`: Cloudflare's Secondary DNS from a shell, as
//! `cf-secondary-dns <group> <verb>` (`peers list`, `incoming create`; see
//! `groups.rs`). The subcommands, their flags and help text are generated
//! from the spec (`generated.rs`, by `cargo xtask generate`); this file wires them to
//! the sdk's `Client`: credentials and endpoint from the environment, the
//! account from `CLOUDFLARE_ACCOUNT_ID`, TSIG secrets never on the command
//! line, output as JSON or a table, and exit codes by kind of failure.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};
use cloudflare_secondary_dns::extras::zones::{FindZoneError, ZoneListError, ZoneQuery};
use cloudflare_secondary_dns::{ApiError, CallOptions, Client, ErrorKind, ResponseExt, WaitError};
use serde_json::Value;

// progenitor's default `execute_*` hooks leave their arguments unused, and
// the list callbacks of `CliConfig` serve paginated APIs only.
#[rustfmt::skip]
#[allow(missing_docs, unused_imports, unused_variables, dead_code, clippy::all, clippy::pedantic)]
mod generated;
mod as_code;
mod bulk;
mod convert;
mod doctor;
mod edit;
mod groups;
mod output;
mod progress;
mod secret_input;

// The generated code names the sdk's identifier types by the paths the sdk
// itself uses (`crate::AccountIdentifier`); these make them resolve here.
use cloudflare_secondary_dns::{
    AccountIdentifier, AclIdentifier, IpRange, PeerIdentifier, PeerIp, TsigIdentifier,
    ZoneIdentifier, ZoneName, ZoneStatus, ZoneType,
};
use edit::{BadEdit, Edit, NOT_BODY_FIELDS, Stopped, check_limits};
use generated::{Cli, CliCommand};
use output::{Format, Printer, visible};

/// Exit statuses, one per kind of outcome (also in `--help`).
mod exit {
    pub const API_REFUSED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const CONFIGURATION: u8 = 3;
    pub const NOT_FOUND: u8 = 4;
    pub const AUTH: u8 = 5;
    pub const RATE_LIMITED: u8 = 6;
    pub const SERVER: u8 = 7;
    pub const TRANSPORT: u8 = 8;
    pub const WAIT_TIMED_OUT: u8 = 9;
    pub const DECLINED: u8 = 10;
}

const EXIT_CODES_HELP: &str = "\
Environment:
  CLOUDFLARE_API_TOKEN                     an API token (recommended), or
  CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY    an email and a global API key
  CLOUDFLARE_ACCOUNT_ID                    the account, unless --account-id is given
  CLOUDFLARE_BASE_URL                      the API root (default https://api.cloudflare.com/client/v4)

Exit status:
  0  success
  1  the API refused the request (400, 409, 422, another status) or sent a response that is not understood
  2  usage: a bad flag or value (an invalid id too), refused before any request
  3  configuration: no credentials, a bad base URL, an unreadable TSIG secret or JSON body
  4  not found (404)
  5  authentication or permission (401, 403)
  6  rate limited (429)
  7  Cloudflare server error (5xx)
  8  transport: no connection, or it timed out
  9  --wait: the deadline passed before Cloudflare got there (the error says what it last saw)
  10 a delete declined at the prompt: nothing was sent
  11 doctor: warnings, no failure
  12 doctor: at least one check failed
  13 plan --expect-no-changes: something would change";

/// The command-line tree: a command per group, a subcommand per operation
/// (generated), plus `man` and `completions`.
fn command() -> Command {
    let mut root = Command::new("cf-secondary-dns")
        .version(env!("CARGO_PKG_VERSION"))
        .about(
            "Manage Cloudflare Secondary DNS: zone-transfer peers, TSIG keys, ACLs, and zones' \
             incoming and outgoing transfers",
        )
        .after_help(EXIT_CODES_HELP)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .next_help_heading("Global options")
        .arg(
            Arg::new("format")
                .long("format")
                .global(true)
                .value_parser(clap::builder::EnumValueParser::<Format>::new())
                .default_value("json")
                .help("Output: the result as pretty JSON (for jq), or a table for people"),
        )
        .arg(
            Arg::new("quiet")
                .long("quiet")
                .short('q')
                .global(true)
                .action(ArgAction::SetTrue)
                .help("No progress on stderr (shown only on a terminal: --wait, create-from-file)"),
        )
        .arg(
            Arg::new("show-secrets")
                .long("show-secrets")
                .global(true)
                .action(ArgAction::SetTrue)
                .help("Print TSIG secrets in the output instead of [REDACTED]"),
        )
        .arg(
            Arg::new("dry-run")
                .long("dry-run")
                .global(true)
                .action(ArgAction::SetTrue)
                .help("Anything that changes something: print what would change and the body, send nothing"),
        )
        .arg(
            Arg::new("max-retries")
                .long("max-retries")
                .global(true)
                .value_name("N")
                .value_parser(clap::value_parser!(u32).range(0..=10))
                .help("Retries after a failed attempt (default 2; 0 turns retrying off)"),
        )
        .arg(
            Arg::new("timeout")
                .long("timeout")
                .global(true)
                .value_name("SECONDS")
                .value_parser(clap::value_parser!(u64).range(1..=3600))
                .help("Time allowed for each attempt (default 60)"),
        );
    for group in groups::all() {
        let mut command = Command::new(group)
            .about(groups::about(group))
            .subcommand_required(true)
            .arg_required_else_help(true);
        let mut operations: Vec<CliCommand> =
            CliCommand::iter().filter(|o| o.group() == group).collect();
        operations.sort_by_key(|o| groups::rank(*o));
        for operation in operations {
            command = command.subcommand(subcommand(operation));
        }
        // The one hand-written verb: a workflow of many calls (sdk extras).
        if group == "incoming" {
            command = command.subcommand(bulk::command());
        }
        // A conversion reads the zone first and says what it means.
        if group == "zones" {
            command = command.subcommand(convert::command());
        }
        root = root.subcommand(command);
    }
    root.subcommand(doctor::command())
        .subcommands(as_code::commands())
        .subcommand(
            Command::new("man")
                .about("Print the man page (roff): cf-secondary-dns man > cf-secondary-dns.1")
                .arg(
                    Arg::new("dir")
                        .long("dir")
                        .value_name("DIR")
                        .value_parser(clap::value_parser!(std::path::PathBuf))
                        .help(
                            "Write a page per command instead (cf-secondary-dns.1, \
                         cf-secondary-dns-peers.1, cf-secondary-dns-peers-list.1, …) into DIR",
                        ),
                ),
        )
        .subcommand(
            Command::new("completions")
                .about("Print a shell completion script (bash, zsh, fish, powershell, elvish)")
                .arg(
                    Arg::new("shell")
                        .required(true)
                        .value_parser(clap::value_parser!(clap_complete::Shell)),
                ),
        )
}

/// The generated command of `operation`, named for a shell and adjusted where
/// the tool differs from a plain rendering of the spec. Every rule goes by
/// the operation's verb (`list`, `get`, `create`, `update`, `delete`, …),
/// the flags the spec gave it and its body's schema, not by operation.
fn subcommand(operation: CliCommand) -> Command {
    let verb = groups::verb(operation);
    let group = operation.group();
    let mut command = Cli::<Printer>::get_command(operation).name(verb.clone());
    // progenitor puts the spec's summary and description in one `about`; the
    // summary alone keeps the command list one line per command, and
    // `--help` shows the description too unless it only repeats the summary.
    if let Some(about) = command.get_about().map(ToString::to_string)
        && let Some((summary, description)) = about.split_once("\n\n")
    {
        let repeats = description
            .trim_end_matches('.')
            .eq_ignore_ascii_case(summary);
        let summary = summary.to_owned();
        command = command.about(summary.clone());
        command = if repeats {
            command.long_about(None::<&str>)
        } else {
            command.long_about(about)
        };
    }
    let body_schema = operation.body_schema();
    if let Some(schema) = &body_schema {
        command = with_list_flags(command, schema, verb == "create");
        // Every field has a flag now (and the secret its own sources), so
        // the whole body as a file is one way among others.
        if command.get_arguments().any(|a| a.get_id() == "json-body") {
            command = command.mut_arg("json-body", |arg| arg.required(false));
        }
    }
    let flags: Vec<(String, bool)> = command
        .get_arguments()
        .map(|a| (a.get_id().to_string(), a.is_required_set()))
        .collect();
    // The path's ids are the required flags (`--json-body` is required too
    // where the spec's body cannot be given by flags: not an id).
    let path_ids: Vec<&str> = flags
        .iter()
        .filter(|(flag, required)| *required && !NOT_BODY_FIELDS.contains(&flag.as_str()))
        .map(|(f, _)| f.as_str())
        .collect();
    let body_flags: Vec<String> = flags
        .iter()
        .filter(|(flag, required)| !required && !NOT_BODY_FIELDS.contains(&flag.as_str()))
        .map(|(flag, _)| flag.clone())
        .collect();
    if path_ids.contains(&"account-id") {
        command = command.mut_arg("account-id", |arg| {
            arg.env("CLOUDFLARE_ACCOUNT_ID").hide_env_values(true)
        });
    }
    if body_schema.is_none() && flags.iter().any(|(f, _)| f == "json-body") {
        // An empty body (Force AXFR, Enable, …): the sdk sends `{}` itself.
        command = command.mut_arg("json-body", |arg| arg.hide(true));
    }
    if flags.iter().any(|(f, _)| f == "json-body-template") {
        // Generated, but nothing reads it.
        command = command.mut_arg("json-body-template", |arg| arg.hide(true));
    }
    // (Only a body's fields: a list's query flags have no body to conflict with.)
    for flag in body_flags.iter().filter(|_| body_schema.is_some()) {
        command = command.mut_arg(flag, |arg| {
            // A body file and a field flag: the flag would be ignored.
            let arg = arg.conflicts_with("json-body");
            match flag.as_str() {
                // An id in a body is checked before sending, like a path id.
                "tsig-id" => arg.value_parser(|text: &str| {
                    TsigIdentifier::try_from(text).map(|_| text.to_owned())
                }),
                "peers" => arg.value_parser(|text: &str| {
                    PeerIdentifier::try_from(text).map(|_| text.to_owned())
                }),
                "algo" => arg.help(
                    "TSIG algorithm, with its trailing dot: hmac-sha256., hmac-sha512. (or \
                     hmac-sha384., hmac-sha224., hmac-sha1., hmac-md5.sig-alg.reg.int.)",
                ),
                _ => arg,
            }
        });
    }
    if secret_input::takes_secret(operation) {
        command = secret_input::with_secret_args(command)
            .mut_arg("secret-file", |arg| arg.conflicts_with("json-body"))
            .mut_arg("secret-env", |arg| arg.conflicts_with("json-body"));
    }
    if verb == "update" {
        // An update edits: only the flags given change.
        for flag in &body_flags {
            command = command.mut_arg(flag, |arg| {
                arg.required_unless_present(clap::builder::Resettable::<clap::Id>::Reset)
            });
        }
        command = command.arg(
            Arg::new("unset")
                .long("unset")
                .value_name("FIELD")
                .action(ArgAction::Append)
                .conflicts_with("json-body")
                .help("Remove an optional field of the body, if it has one; repeatable"),
        );
    }
    if path_ids.contains(&"zone-id") {
        // A zone by its name, as operators know it: `--zone example.com`,
        // resolved once (one list call) before the command runs.
        command = command
            .mut_arg("zone-id", |arg| arg.required(false))
            .arg(zone_arg())
            .group(
                clap::ArgGroup::new("the-zone")
                    .args(["zone-id", "zone"])
                    .required(true),
            );
        if has_field(body_schema.as_ref(), "name") && verb != "update" {
            // A configuration's body names its zone: `--zone` says it.
            command = command.mut_arg("name", |arg| arg.required_unless_present("zone"));
        }
    }
    if has_field(body_schema.as_ref(), "account") && !flags.iter().any(|(f, _)| f == "account-id") {
        // A new zone's account is a body field (`account.id`), given as the
        // other commands' account is.
        command = command.arg(
            Arg::new("account-id")
                .long("account-id")
                .value_name("ID")
                .env("CLOUDFLARE_ACCOUNT_ID")
                .hide_env_values(true)
                .value_parser(|text: &str| {
                    AccountIdentifier::try_from(text).map(|_| text.to_owned())
                })
                .required_unless_present("json-body")
                .help("The account the zone belongs to (32 lowercase hexadecimal characters)"),
        );
    }
    if matches!(operation, CliCommand::ListZones) {
        // The account, as every other command takes it.
        command = command.mut_arg("account-id", |arg| {
            arg.env("CLOUDFLARE_ACCOUNT_ID").hide_env_values(true)
        });
        // Cloudflare's list has no type filter: the zones listed are filtered.
        command = command.arg(
            Arg::new("type")
                .long("type")
                .value_name("TYPE")
                .value_parser(["full", "partial", "secondary"])
                .conflicts_with_all(PAGE_FLAGS)
                .help(
                    "Only zones of this type (filtered here: Cloudflare's list has no such filter)",
                ),
        );
    }
    if group == "zones" && verb == "create" {
        // `zones create example.com --type secondary`: the name is what the
        // command is about.
        command = command.mut_arg("name", |arg| {
            arg.long(None::<&str>)
                .index(1)
                .value_name("NAME")
                .required_unless_present("json-body")
        });
    }
    if matches!(verb.as_str(), "get" | "delete")
        && list_of(operation).is_some()
        && !path_ids.contains(&"zone-id")
    {
        // Found by name: the list, filtered.
        if let Some(resource_id) = path_ids.iter().find(|f| **f != "account-id") {
            let resource_id = (*resource_id).to_owned();
            command = command
                .mut_arg(&resource_id, |arg| {
                    arg.required(false).required_unless_present("name")
                })
                .arg(
                    Arg::new("name")
                        .long("name")
                        .conflicts_with(&resource_id)
                        .help("Find it by its name instead of its id"),
                );
        }
    }
    if let Some(waiter) = Waiter::of(operation) {
        command = command
            .arg(
                Arg::new("wait")
                    .long("wait")
                    .action(ArgAction::SetTrue)
                    .help(waiter.help()),
            )
            .arg(
                Arg::new("wait-timeout")
                    .long("wait-timeout")
                    .value_name("SECONDS")
                    .value_parser(clap::value_parser!(u64).range(1..=86_400))
                    .default_value("300")
                    .requires("wait")
                    .help("How long --wait waits before it fails (exit status 9)"),
            );
    }
    if verb == "delete" {
        command = command.arg(
            Arg::new("yes")
                .long("yes")
                .short('y')
                .action(ArgAction::SetTrue)
                .help(
                    "Delete without asking (required when standard input is not a terminal; \
                     declining at the prompt exits with status 10)",
                ),
        );
    }
    let reads = groups::reads(operation);
    let waits = Waiter::of(operation).is_some();
    command.after_help(examples(
        operation,
        group,
        &verb,
        (reads, waits),
        &path_ids,
        &body_flags,
    ))
}

/// What `--wait` waits for after an operation (the sdk's waiters).
#[derive(Clone, Copy)]
enum Waiter {
    /// The secondary zone's serial changes (after Force AXFR).
    SerialChanged,
    /// The secondary zone has a serial (its first transfer, after Create).
    FirstTransfer,
    /// Outgoing transfers are enabled (after Enable).
    OutgoingEnabled,
}

impl Waiter {
    fn of(operation: CliCommand) -> Option<Self> {
        match (operation.group(), groups::verb(operation).as_str()) {
            ("incoming", "force-axfr") => Some(Self::SerialChanged),
            ("incoming", "create") => Some(Self::FirstTransfer),
            ("outgoing", "enable") => Some(Self::OutgoingEnabled),
            _ => None,
        }
    }

    fn help(self) -> &'static str {
        match self {
            Self::SerialChanged => {
                "Then wait until Cloudflare has asked the primary again (the SOA serial changed, \
                 or checked_time moved on: the primary had nothing newer), and print the zone"
            }
            Self::FirstTransfer => {
                "Then wait until the zone's first transfer has arrived, and print the zone"
            }
            Self::OutgoingEnabled => "Then wait until the status reads Enabled, and print it",
        }
    }

    /// Runs `operation` (its own output kept), waits, prints what it waited for.
    async fn run(
        self,
        client: &Client,
        operation: CliCommand,
        matches: &ArgMatches,
        printer: Printer,
    ) -> anyhow::Result<()> {
        let zone_id = matches
            .get_one::<ZoneIdentifier>("zone-id")
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("--wait needs --zone-id"))?;
        let timeout = Duration::from_secs(*matches.get_one::<u64>("wait-timeout").unwrap_or(&300));
        let before = match self {
            Self::SerialChanged => Some(
                client
                    .get_incoming()
                    .zone_id(zone_id)
                    .send()
                    .await?
                    .into_result()?,
            ),
            _ => None,
        };
        let (quiet, printer) = printer.for_waiting();
        Cli::new(client.clone(), quiet)
            .execute(operation, matches)
            .await?;
        let progress = progress::Waiting::start(&self.waiting_for(), matches);
        let waited = match self {
            Self::SerialChanged | Self::FirstTransfer => {
                let waiter = client
                    .wait_for_transfer()
                    .zone_id(zone_id)
                    .timeout(timeout)
                    .on_read(|zone| progress.read(&progress::serial_seen(zone)));
                let waiter = match &before {
                    Some(before) => waiter.refreshed_since(before),
                    None => waiter,
                };
                let zone = waiter.wait().await;
                progress.finish();
                let zone = zone?;
                if let Some(before) = &before
                    && zone.soa_serial == before.soa_serial
                {
                    // A check, not a transfer: say so, and succeed.
                    let checked = zone.checked_time.as_ref().map_or("-", |t| t.as_str());
                    let serial = zone
                        .soa_serial
                        .map_or_else(|| "none".to_owned(), |s| s.to_string());
                    eprintln!(
                        "{}",
                        visible(&format!(
                            "checked at {checked}; the primary's serial is still {serial}"
                        ))
                    );
                }
                serde_json::to_value(zone)?
            }
            Self::OutgoingEnabled => {
                let status = client
                    .wait_for_outgoing_enabled()
                    .zone_id(zone_id)
                    .timeout(timeout)
                    .on_read(|status| progress.read(&format!("status {status}")))
                    .wait()
                    .await;
                progress.finish();
                serde_json::to_value(status?)?
            }
        };
        printer.print_value(waited);
        Ok(())
    }

    /// What the progress line says it waits for.
    fn waiting_for(self) -> String {
        match self {
            Self::SerialChanged => "Cloudflare to ask the primary again".to_owned(),
            Self::FirstTransfer => "the zone's first transfer".to_owned(),
            Self::OutgoingEnabled => "outgoing transfers to be enabled".to_owned(),
        }
    }
}

/// `command` with a flag for each list field of the body (progenitor makes
/// flags of scalar fields only): `--peers a,b` or `--peers a --peers b`.
fn with_list_flags(
    mut command: Command,
    schema: &schemars::schema::RootSchema,
    creating: bool,
) -> Command {
    let Some(object) = schema.schema.object.as_ref() else {
        return command;
    };
    for (field, property) in &object.properties {
        let flag = field.replace('_', "-");
        let schemars::schema::Schema::Object(property) = property else {
            continue;
        };
        let is_list = property
            .instance_type
            .as_ref()
            .is_some_and(|t| *t == schemars::schema::InstanceType::Array.into());
        if !is_list || command.get_arguments().any(|a| a.get_id() == flag.as_str()) {
            continue;
        }
        let help = property
            .metadata
            .as_ref()
            .and_then(|m| m.description.clone())
            .unwrap_or_default();
        // Ids (a zone's peers) or names (vanity name servers).
        let of_ids =
            serde_json::to_string(&property.array).is_ok_and(|items| items.contains("Identifier"));
        let mut arg = Arg::new(flag.clone())
            .long(flag)
            .value_name(if of_ids { "ID" } else { "NAME" })
            .action(ArgAction::Append)
            .value_delimiter(',')
            .help(format!("{help} (comma-separated, or repeat the flag)"));
        if creating && object.required.contains(field) {
            arg = arg.required_unless_present("json-body");
        }
        command = command.arg(arg);
    }
    command
}

/// An `EXAMPLES` section from the command's verb and flags, with the spec's
/// example values (`CliCommand::flag_examples`, generated from the spec; a
/// get's or delete's `--name` takes the example of its group's create).
fn examples(
    operation: CliCommand,
    group: &str,
    verb: &str,
    (reads, waits): (bool, bool),
    path_ids: &[&str],
    body_flags: &[String],
) -> String {
    let create = groups::find(group, "create");
    let example = |flag: &str| -> &'static str {
        let in_examples = |command: CliCommand| {
            command
                .flag_examples()
                .iter()
                .find(|(name, _)| *name == flag)
                .map(|(_, example)| *example)
        };
        in_examples(operation)
            .or_else(|| create.and_then(in_examples))
            // Every flag has one (the generator makes one for each path
            // parameter and body field); `tests/help_examples.rs` runs them.
            .unwrap_or("example")
    };
    // The zone itself (and its settings) by its name, as operators know it;
    // a transfer configuration's zone by its id, which the spec's examples give.
    let zone_by_name = matches!(group, "zones" | "dns-settings");
    let zone_name = groups::find("zones", "create")
        .and_then(|create| create.flag_examples().iter().find(|(f, _)| *f == "name"))
        .map_or("example.com", |(_, example)| *example);
    let ids: String = path_ids
        .iter()
        .filter(|f| **f != "account-id")
        .map(|f| match *f {
            "zone-id" if zone_by_name => format!(" --zone {zone_name}"),
            _ => format!(" --{f} {}", example(f)),
        })
        .collect();
    let bin = "cf-secondary-dns";
    let name = format!("{group} {verb}");
    let secret = if group == "tsigs" && matches!(verb, "create" | "update") {
        " --secret-file tsig.key"
    } else {
        ""
    };
    let mut lines = Vec::new();
    match verb {
        "list" => {
            lines.push(format!("{bin} {name} --format table"));
            lines.push(format!("{bin} {name} | jq -r '.[].id'"));
        }
        "get" => {
            lines.push(format!("{bin} {name}{ids}"));
            if path_ids
                .iter()
                .any(|f| *f != "account-id" && *f != "zone-id")
            {
                lines.push(format!("{bin} {name} --name {}", example("name")));
            }
        }
        "create" => {
            // `zones create NAME`: the name is the command's argument.
            let positional = group == "zones";
            let flags: String = body_flags
                .iter()
                .filter(|f| *f != "auto-refresh-seconds")
                .map(|f| match f.as_str() {
                    "name" if positional => format!(" {}", example(f)),
                    _ => format!(" --{f} {}", example(f)),
                })
                .collect();
            lines.push(format!("{bin} {name}{ids}{flags}{secret} --dry-run"));
            lines.push(format!("{bin} {name}{ids}{flags}{secret}"));
            if waits {
                lines.push(format!(
                    "{bin} {name}{ids}{flags} --wait --wait-timeout 600"
                ));
            }
        }
        "update" | "edit" => {
            let first = body_flags
                .iter()
                .find(|f| *f != "name")
                .map_or(String::new(), |f| format!(" --{f} {}", example(f)));
            lines.push(format!("{bin} {name}{ids}{first} --dry-run"));
            lines.push(format!("{bin} {name}{ids}{first}"));
            if body_flags.iter().any(|f| f == "tsig-id") {
                lines.push(format!("{bin} {name}{ids} --unset tsig-id"));
            }
            if !secret.is_empty() {
                lines.push(format!(
                    "{bin} {name}{ids}{secret}    # rotate only the secret"
                ));
            }
        }
        "delete" => {
            lines.push(format!("{bin} {name}{ids}    # asks first, naming it"));
            lines.push(format!(
                "{bin} {name}{ids} --yes    # in a script (required there)"
            ));
            if path_ids
                .iter()
                .any(|f| *f != "account-id" && *f != "zone-id")
            {
                lines.push(format!("{bin} {name} --name {} --dry-run", example("name")));
            }
        }
        _ => {
            lines.push(format!("{bin} {name}{ids}"));
            if !reads {
                lines.push(format!("{bin} {name}{ids} --dry-run"));
            }
            if waits {
                lines.push(format!("{bin} {name}{ids} --wait --wait-timeout 600"));
            }
        }
    }
    let mut text = String::from("Examples:\n");
    for line in lines {
        text.push_str("  ");
        text.push_str(&line);
        text.push('\n');
    }
    text.trim_end().to_owned()
}

/// The list of a get's or a delete's group (`peers get` → `peers list`),
/// if there is one: they find their object by name in it.
fn list_of(operation: CliCommand) -> Option<CliCommand> {
    matches!(groups::verb(operation).as_str(), "get" | "delete")
        .then(|| groups::find(operation.group(), "list"))
        .flatten()
}

/// `--zone NAME`: a zone by its name, checked before any request, instead
/// of `--zone-id`.
fn zone_arg() -> Arg {
    Arg::new("zone")
        .long("zone")
        .value_name("NAME")
        .value_parser(|text: &str| ZoneName::new(text))
        .conflicts_with("zone-id")
        .help(
            "The zone by its name (example.com) instead of its id; in CLOUDFLARE_ACCOUNT_ID's \
             account when it is set",
        )
}

/// `--zone NAME` or `--zone-id ID`, one of them required: the arguments of a
/// hand-written command about one zone.
fn zone_args() -> [Arg; 2] {
    [
        zone_arg().required_unless_present("zone-id"),
        Arg::new("zone-id")
            .long("zone-id")
            .value_name("ID")
            .value_parser(|text: &str| cloudflare_secondary_dns::ZoneIdentifier::try_from(text))
            .help("The zone by its id (32 lowercase hexadecimal characters)"),
    ]
}

/// Whether a body (its schema) has the field `name`.
fn has_field(body_schema: Option<&schemars::schema::RootSchema>, name: &str) -> bool {
    body_schema
        .and_then(|schema| schema.schema.object.as_ref())
        .is_some_and(|object| object.properties.contains_key(name))
}

/// The get of an update's group (`peers update` → `peers get`).
fn get_of(update: CliCommand) -> Option<CliCommand> {
    (groups::verb(update) == "update")
        .then(|| groups::find(update.group(), "get"))
        .flatten()
}

/// A hint for a usage error an operator is likely to make.
fn usage_hint(err: &clap::Error, args: &[String]) -> Option<String> {
    let mut words = args.iter().skip(1).filter(|a| !a.starts_with('-'));
    let (group, verb) = (words.next()?, words.next());
    match err.kind() {
        // Only when the account is what is missing (clap's context lists
        // the missing flags; its usage line names every required one).
        clap::error::ErrorKind::MissingRequiredArgument
            if err
                .get(clap::error::ContextKind::InvalidArg)
                .is_some_and(|missing| missing.to_string().contains("--account-id")) =>
        {
            Some("hint: pass --account-id or set CLOUDFLARE_ACCOUNT_ID".to_owned())
        }
        clap::error::ErrorKind::InvalidSubcommand => {
            let old = CliCommand::iter().find(|c| c.operation_id().replace('_', "-") == *group)?;
            Some(format!(
                "hint: commands are grouped by resource: `cf-secondary-dns {} {}`",
                old.group(),
                groups::verb(old)
            ))
        }
        clap::error::ErrorKind::UnknownArgument if verb.is_some_and(|v| v == "create") => {
            let update = groups::find(group, "update")?;
            let flag = err.get(clap::error::ContextKind::InvalidArg)?.to_string();
            let flag = flag.split(['=', ' ']).next()?.to_owned();
            let update_command = Cli::<Printer>::get_command(update);
            let takes_it = update_command
                .get_arguments()
                .any(|a| a.get_long().is_some_and(|long| format!("--{long}") == flag));
            let id_flag = update_command
                .get_arguments()
                .find(|a| a.is_required_set() && a.get_id() != "account-id")?
                .get_id()
                .to_string();
            takes_it.then(|| {
                format!(
                    "hint: Cloudflare creates it with a name only; set {flag} afterwards with \
                     `cf-secondary-dns {group} update --{id_flag} <the new id> {flag} …`"
                )
            })
        }
        _ => None,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let matches = match command().try_get_matches() {
        Ok(matches) => matches,
        Err(err) => {
            let _ = err.print();
            if let Some(hint) = usage_hint(&err, &args) {
                eprintln!("{hint}");
            }
            return if err.use_stderr() {
                ExitCode::from(exit::USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let Some((name, sub_matches)) = matches.subcommand() else {
        return ExitCode::from(exit::USAGE);
    };
    if name == "completions" {
        let shell = *sub_matches
            .get_one::<clap_complete::Shell>("shell")
            .expect("required");
        // Written whole, not by clap_complete (which panics on a closed
        // stdout): a closed pipe ends the command quietly, like the others.
        let script = completion_script(shell);
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), script.as_bytes());
        return ExitCode::SUCCESS;
    }
    if name == "man" {
        if let Some(dir) = sub_matches.get_one::<std::path::PathBuf>("dir") {
            return match clap_mangen::generate_to(command(), dir) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!(
                        "error: cannot write the man pages into {}: {err}",
                        visible(&dir.display().to_string())
                    );
                    ExitCode::from(exit::CONFIGURATION)
                }
            };
        }
        let mut page = Vec::new();
        let rendered = clap_mangen::Man::new(command()).render(&mut page);
        if let Err(err) = rendered {
            eprintln!("error: cannot render the man page: {err}");
            return ExitCode::from(exit::CONFIGURATION);
        }
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &page);
        return ExitCode::SUCCESS;
    }
    if name == "schema" {
        as_code::print_schema();
        return ExitCode::SUCCESS;
    }
    let (verb, sub_matches) = match sub_matches.subcommand() {
        Some(verb) => verb,
        // A command without verbs.
        None if name == doctor::NAME || as_code::COMMANDS.contains(&name) => ("", sub_matches),
        None => return ExitCode::from(exit::USAGE),
    };
    let operation = groups::find(name, verb);
    let hand_written = (name == "incoming" && verb == bulk::VERB)
        || (name == "zones" && verb == convert::VERB)
        || name == doctor::NAME
        || as_code::COMMANDS.contains(&name);
    if operation.is_none() && !hand_written {
        return ExitCode::from(exit::USAGE);
    }

    let client = match Client::from_env() {
        Ok(client) => client,
        Err(err) => {
            eprintln!("error: {}", visible(&err.to_string()));
            return ExitCode::from(exit::CONFIGURATION);
        }
    };
    let printer = Printer::new(
        *matches.get_one::<Format>("format").expect("defaulted"),
        matches.get_flag("show-secrets"),
    );
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(exit::CONFIGURATION);
        }
    };
    let mut options = CallOptions::new();
    if let Some(retries) = matches.get_one::<u32>("max-retries") {
        options = options.max_retries(*retries);
    }
    if let Some(seconds) = matches.get_one::<u64>("timeout") {
        options = options.timeout(Duration::from_secs(*seconds));
    }
    let client = client.with_options(options);
    let dry_run = matches.get_flag("dry-run");
    if name == doctor::NAME {
        let format = *matches.get_one::<Format>("format").expect("defaulted");
        // Its own statuses (0, 11, 12); the others' for errors.
        return match runtime.block_on(doctor::run(&client, sub_matches, format)) {
            Ok(status) => ExitCode::from(status),
            Err(err) => ExitCode::from(report(&err)),
        };
    }
    if as_code::COMMANDS.contains(&name) {
        let format = *matches.get_one::<Format>("format").expect("defaulted");
        return match runtime.block_on(as_code::run(&client, name, sub_matches, format, dry_run)) {
            Ok(status) => ExitCode::from(status),
            Err(err) if matches!(err.downcast_ref::<Stopped>(), Some(Stopped::NotConfirmed)) => {
                ExitCode::from(exit::DECLINED)
            }
            Err(err) => ExitCode::from(report(&err)),
        };
    }
    if operation.is_none() && name == "zones" {
        return match runtime.block_on(convert::run(&client, sub_matches, &printer, dry_run)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) if matches!(err.downcast_ref::<Stopped>(), Some(Stopped::NotConfirmed)) => {
                ExitCode::from(exit::DECLINED)
            }
            Err(err) if err.downcast_ref::<Stopped>().is_some() => ExitCode::SUCCESS,
            Err(err) => ExitCode::from(report(&err)),
        };
    }
    let Some(operation) = operation else {
        let format = *matches.get_one::<Format>("format").expect("defaulted");
        let quiet = matches.get_flag("quiet");
        return match runtime.block_on(bulk::run(&client, sub_matches, format, dry_run, quiet)) {
            Ok(totals) if totals.failed == 0 => ExitCode::SUCCESS,
            Ok(_) => ExitCode::from(exit::API_REFUSED),
            Err(err) => ExitCode::from(report(&err)),
        };
    };
    match runtime.block_on(run(client, operation, sub_matches, printer, dry_run)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if matches!(err.downcast_ref::<Stopped>(), Some(Stopped::NotConfirmed)) => {
            ExitCode::from(exit::DECLINED)
        }
        Err(err) if err.downcast_ref::<Stopped>().is_some() => ExitCode::SUCCESS,
        Err(err) => ExitCode::from(report(&err)),
    }
}

/// Runs `operation` as its verb asks: a get by name lists and filters; an
/// update reads, edits and writes; a delete asks first on a terminal.
async fn run(
    client: Client,
    operation: CliCommand,
    matches: &ArgMatches,
    printer: Printer,
    dry_run: bool,
) -> anyhow::Result<()> {
    // The spec's limits, before any request (an update reads first).
    check_limits(matches, operation.body_limits())?;
    let with_zone;
    let mut matches = matches;
    if let Ok(Some(name)) = matches.try_get_one::<ZoneName>("zone") {
        let zone_id = find_zone(&client, name).await?;
        // The body's zone name, when it has one and `--name` was not given.
        let body_name = (has_field(operation.body_schema().as_ref(), "name")
            && matches.value_source("name") != Some(clap::parser::ValueSource::CommandLine))
        .then_some(name);
        with_zone = with_zone_id(&zone_id, body_name)?;
        matches = &with_zone;
    }
    if matches!(operation, CliCommand::ListZones) && !pages_asked(matches) {
        return list_all_zones(&client, matches, &printer).await;
    }
    let deleting = groups::verb(operation) == "delete";
    let by_name;
    if let Ok(Some(name)) = matches.try_get_one::<String>("name")
        && let Some(list) = list_of(operation)
    {
        let one = find_by_name(&client, list, matches, name).await?;
        if !deleting {
            printer.print_value(one);
            return Ok(());
        }
        // A delete by name: the same command, with the id found.
        by_name = with_id_of(operation, matches, &one)?;
        matches = &by_name;
    }
    if deleting {
        confirm_delete(&client, operation, matches, dry_run).await?;
        return Cli::new(client, printer).execute(operation, matches).await;
    }
    let printer = if let Some(get) = get_of(operation) {
        let current = read(&client, get, matches).await?;
        printer.editing(Edit::new(current, dry_run))
    } else if operation.body_schema().is_some() {
        // A create: the body is made from the flags the same way.
        printer.editing(Edit::new(Value::Object(Default::default()), dry_run))
    } else if !groups::reads(operation) {
        if dry_run {
            eprintln!(
                "would send {} ({})",
                operation.operation_id().replace('_', " "),
                target_ids(matches)
            );
            return Err(Stopped::DryRun.into());
        }
        printer
    } else {
        printer
    };
    if matches!(operation, CliCommand::CreateZone) && !dry_run {
        // The zone, then (for people) what to do at the registrar.
        let (quiet, created, printer) = printer.keeping();
        Cli::new(client, quiet).execute(operation, matches).await?;
        let zone = created.take().unwrap_or(Value::Null);
        printer.print_value(zone.clone());
        let servers: Vec<&str> = zone["name_servers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if std::io::stderr().is_terminal() || printer.is_table() {
            eprintln!(
                "Set the name servers at {}'s registrar: {} (the zone stays pending until it \
                 lists them)",
                visible(zone["name"].as_str().unwrap_or_default()),
                visible(&servers.join(", "))
            );
        }
        return Ok(());
    }
    if matches.try_get_one::<bool>("wait").ok().flatten() == Some(&true)
        && let Some(waiter) = Waiter::of(operation)
    {
        return waiter.run(&client, operation, matches, printer).await;
    }
    Cli::new(client, printer).execute(operation, matches).await
}

/// `peer-id 23ff…, account-id 01a7…`: the ids a command names.
fn target_ids(matches: &ArgMatches) -> String {
    let target: Vec<String> = matches
        .ids()
        .filter(|a| a.as_str().ends_with("-id"))
        .filter_map(|a| {
            let value = matches
                .get_raw(a.as_str())?
                .next()?
                .to_string_lossy()
                .into_owned();
            Some(format!("{a} {value}"))
        })
        .collect();
    target.join(", ")
}

/// Before a delete: with `--dry-run`, say what would be deleted; without
/// `--yes`, ask on a terminal, and refuse without one (a script must say
/// `--yes`). The prompt and the dry run name the object, read first.
async fn confirm_delete(
    client: &Client,
    operation: CliCommand,
    matches: &ArgMatches,
    dry_run: bool,
) -> anyhow::Result<()> {
    let yes = matches.try_get_one::<bool>("yes").ok().flatten() == Some(&true);
    if yes && !dry_run {
        return Ok(());
    }
    if !dry_run && !std::io::stdin().is_terminal() {
        return Err(BadEdit(
            "refusing to delete without confirmation: standard input is not a terminal; \
             pass --yes to delete without asking"
                .to_owned(),
        )
        .into());
    }
    let noun = groups::noun(operation);
    let get = groups::find(operation.group(), "get");
    let read_name = match get {
        Some(get) => read(client, get, matches)
            .await?
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        None => None,
    };
    let name = read_name
        .as_deref()
        .map(|name| format!(" {}", visible(name)))
        .unwrap_or_default();
    let what = format!("{noun}{name} ({})", target_ids(matches));
    if dry_run {
        eprintln!("would delete {what}");
        return Err(Stopped::DryRun.into());
    }
    let mut answer = String::new();
    // A zone goes with everything in it: its name is typed, not `y` (as
    // `gh repo delete` asks for the repository's).
    let zone_name = read_name.filter(|_| operation.group() == "zones");
    if zone_name.is_some() {
        eprint!(
            "delete {what} with its records and transfer configurations? type its name to \
             confirm: "
        );
    } else {
        eprint!("delete {what}? [y/N] ");
    }
    let _ = std::io::stderr().flush();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    let confirmed = match &zone_name {
        Some(zone_name) => answer
            .trim()
            .trim_end_matches('.')
            .eq_ignore_ascii_case(zone_name),
        None => matches!(answer.trim(), "y" | "Y" | "yes"),
    };
    if !confirmed {
        eprintln!("{}", Stopped::NotConfirmed);
        return Err(Stopped::NotConfirmed.into());
    }
    Ok(())
}

/// The one item of `list` named `name`; none or several is an error.
async fn find_by_name(
    client: &Client,
    list: CliCommand,
    matches: &ArgMatches,
    name: &str,
) -> anyhow::Result<Value> {
    let all = read(client, list, matches).await?;
    let found: Vec<&Value> = all
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["name"] == name)
        .collect();
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(NotFoundByName(format!("nothing has the name {name:?}")).into()),
        many => {
            let ids: Vec<&str> = many.iter().filter_map(|m| m["id"].as_str()).collect();
            Err(BadEdit(format!(
                "{} have the name {:?}: give the id ({})",
                many.len(),
                visible(name),
                ids.join(", ")
            ))
            .into())
        }
    }
}

/// The matches of `operation` with the id of `found` in place of `--name`
/// (and the account and `--yes` as given).
fn with_id_of(
    operation: CliCommand,
    matches: &ArgMatches,
    found: &Value,
) -> anyhow::Result<ArgMatches> {
    let command = subcommand(operation);
    let id_flag = command
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .find(|id| id.ends_with("-id") && id != "account-id")
        .ok_or_else(|| anyhow::anyhow!("{} takes no id", groups::verb(operation)))?;
    let id = found["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the {} found has no id", groups::noun(operation)))?;
    let mut args = vec![
        command.get_name().to_owned(),
        format!("--{id_flag}"),
        id.to_owned(),
    ];
    if let Some(account) = matches.get_raw("account-id").and_then(|mut v| v.next()) {
        args.push("--account-id".to_owned());
        args.push(account.to_string_lossy().into_owned());
    }
    if matches.try_get_one::<bool>("yes").ok().flatten() == Some(&true) {
        args.push("--yes".to_owned());
    }
    Ok(command.try_get_matches_from(args)?)
}

/// The `result` of the read `operation`, with the ids of `matches`.
async fn read(
    client: &Client,
    operation: CliCommand,
    matches: &ArgMatches,
) -> anyhow::Result<Value> {
    let (printer, captured) = Printer::capturing();
    Cli::new(client.clone(), printer)
        .execute(operation, matches)
        .await?;
    Ok(captured.take().unwrap_or(Value::Null))
}

/// The flags of `zones list` that make it the one call they describe.
const PAGE_FLAGS: [&str; 6] = [
    "page",
    "per-page",
    "order",
    "direction",
    "match",
    "account-name",
];

/// Whether a zone list's flags ask for one page or an order (then the one
/// call is made as asked, not every page).
fn pages_asked(matches: &ArgMatches) -> bool {
    // A name with one of Cloudflare's operators (`contains:ex`) is not a
    // zone's name: the list is the one call, as asked.
    let operator = matches
        .try_get_one::<String>("name")
        .ok()
        .flatten()
        .is_some_and(|name| ZoneName::new(name).is_err());
    operator
        || PAGE_FLAGS
            .iter()
            .any(|flag| matches.value_source(flag) == Some(clap::parser::ValueSource::CommandLine))
}

/// `zones list`: every page (the sdk's paged stream, paced as every call
/// is), filtered by `--name`, `--status` and `--account-id`.
async fn list_all_zones(
    client: &Client,
    matches: &ArgMatches,
    printer: &Printer,
) -> anyhow::Result<()> {
    use futures_util::TryStreamExt as _;
    let mut query = ZoneQuery::new();
    if let Ok(Some(name)) = matches.try_get_one::<String>("name") {
        // (A name with an operator never gets here: see `pages_asked`.)
        query = query.name(ZoneName::new(name).map_err(|e| BadEdit(e.to_string()))?);
    }
    if let Ok(Some(status)) = matches.try_get_one::<ZoneStatus>("status") {
        query = query.status(status.clone());
    }
    if let Ok(Some(account)) = matches.try_get_one::<AccountIdentifier>("account-id") {
        query = query.account(*account);
    }
    let kind = matches
        .try_get_one::<String>("type")
        .ok()
        .flatten()
        .map(|text| ZoneType::from(text.as_str()));
    let kind = kind.as_ref();
    let zones: Vec<_> = client
        .all_zones(query)
        .map_err(zone_list_error)
        .try_filter(|zone| std::future::ready(kind.is_none() || zone.type_.as_ref() == kind))
        .try_collect()
        .await?;
    if printer.is_table() {
        // One line a zone, with what a transfer setup needs.
        let rows = zones.iter().map(|zone| {
            serde_json::json!({
                "id": zone.id,
                "name": zone.name,
                "type": zone.type_.as_ref().map(ZoneType::as_str),
                "status": zone.status.as_ref().map(ZoneStatus::as_str),
                "name_servers": zone.name_servers.join(" "),
            })
        });
        printer.print_value(Value::Array(rows.collect()));
    } else {
        printer.print_value(serde_json::to_value(zones)?);
    }
    Ok(())
}

/// CLOUDFLARE_ACCOUNT_ID's account, when it is set (where zones are looked
/// up by name); a malformed one is a usage error.
fn account_from_env() -> anyhow::Result<Option<AccountIdentifier>> {
    match std::env::var("CLOUDFLARE_ACCOUNT_ID") {
        Ok(text) if !text.is_empty() => Ok(Some(
            AccountIdentifier::try_from(text.as_str())
                .map_err(|e| BadEdit(format!("CLOUDFLARE_ACCOUNT_ID: {e}")))?,
        )),
        _ => Ok(None),
    }
}

/// A zone list that stopped: the API's error as itself (for its exit
/// status), a runaway list as its message.
fn zone_list_error(error: ZoneListError) -> anyhow::Error {
    match error {
        ZoneListError::Api(api) => api.into(),
        other => anyhow::anyhow!(other.to_string()),
    }
}

/// The id of the zone named `name` (`--zone`).
async fn find_zone(client: &Client, name: &ZoneName) -> anyhow::Result<String> {
    Ok(find_zone_by_name(client, name).await?.id)
}

/// The zone named `name`, in CLOUDFLARE_ACCOUNT_ID's account when it is set:
/// one list call. None is exit status 4, several 2.
async fn find_zone_by_name(
    client: &Client,
    name: &ZoneName,
) -> anyhow::Result<cloudflare_secondary_dns::types::Zone> {
    let account = account_from_env()?;
    match client.find_zone(name.as_str(), account.as_ref()).await {
        Ok(zone) => Ok(zone),
        Err(FindZoneError::Api(api)) => Err(api.into()),
        Err(FindZoneError::NotFound { name }) => Err(NotFoundByName(format!(
            "no zone is named {name}{}",
            if account.is_some() {
                " in CLOUDFLARE_ACCOUNT_ID's account"
            } else {
                ""
            }
        ))
        .into()),
        Err(other) => Err(BadEdit(other.to_string()).into()),
    }
}

/// The command line again with `--zone NAME` replaced by `--zone-id ID` (and
/// `--name NAME` added for a body that names its zone), parsed as the
/// command's matches.
fn with_zone_id(zone_id: &str, body_name: Option<&ZoneName>) -> anyhow::Result<ArgMatches> {
    let mut args = Vec::new();
    let mut given = std::env::args();
    while let Some(arg) = given.next() {
        if arg == "--zone" {
            given.next();
            args.extend(["--zone-id".to_owned(), zone_id.to_owned()]);
        } else if arg.starts_with("--zone=") {
            args.push(format!("--zone-id={zone_id}"));
        } else {
            args.push(arg);
        }
    }
    if let Some(name) = body_name {
        args.extend(["--name".to_owned(), name.to_string()]);
    }
    let matches = command().try_get_matches_from(args)?;
    let verb = matches
        .subcommand()
        .and_then(|(_, group)| group.subcommand())
        .map(|(_, verb)| verb.clone());
    verb.ok_or_else(|| anyhow::anyhow!("the command line has no command"))
}

/// `get-* --name` or `--zone` matched nothing: the message.
#[derive(Debug)]
struct NotFoundByName(String);

impl std::fmt::Display for NotFoundByName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotFoundByName {}

/// The completion script for `shell`.
fn completion_script(shell: clap_complete::Shell) -> String {
    const BIN: &str = "cf-secondary-dns";
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), BIN, &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if shell == clap_complete::Shell::Bash {
        // clap_complete 4.6 names a subcommand's case arm by replacing every
        // `-` of the path, the binary's name included, with `__subcmd__`,
        // but tracks the command it is in with the binary's `-` as `__`: for
        // a hyphenated binary no subcommand's flags complete. Name the arms
        // as the tracker does.
        script = script.replace(&BIN.replace('-', "__subcmd__"), &BIN.replace('-', "__"));
    }
    script
}

/// Prints an API error on stderr in one line and says which exit status it is.
fn report_api(api: &ApiError) -> u8 {
    eprintln!("error: {}", api.report());
    match api.kind() {
        ErrorKind::NotFound => exit::NOT_FOUND,
        ErrorKind::Authentication | ErrorKind::PermissionDenied => exit::AUTH,
        ErrorKind::RateLimited { .. } => exit::RATE_LIMITED,
        ErrorKind::Server => exit::SERVER,
        ErrorKind::Connection | ErrorKind::Timeout => exit::TRANSPORT,
        // A body the client could not build (a required field missing):
        // the command line did not say enough.
        ErrorKind::InvalidRequest => exit::USAGE,
        _ => exit::API_REFUSED,
    }
}

/// Prints `err` on stderr in one line and says which exit status it is.
fn report(err: &anyhow::Error) -> u8 {
    if let Some(api) = err.downcast_ref::<ApiError>() {
        return report_api(api);
    }
    match err.downcast_ref::<WaitError>() {
        Some(WaitError::Api(api)) => return report_api(api),
        Some(waited) => {
            eprintln!("error: {}", visible(&waited.to_string()));
            return match waited {
                WaitError::TimedOut { .. } => exit::WAIT_TIMED_OUT,
                _ => exit::USAGE,
            };
        }
        None => {}
    }
    if let Some(bad) = err.downcast_ref::<BadEdit>() {
        eprintln!("error: {}", visible(&bad.to_string()));
        return exit::USAGE;
    }
    if let Some(missing) = err.downcast_ref::<NotFoundByName>() {
        eprintln!("error: {}", visible(&missing.to_string()));
        return exit::NOT_FOUND;
    }
    if err.downcast_ref::<secret_input::MissingSecret>().is_some() {
        eprintln!("error: {err}");
        return exit::USAGE;
    }
    // Reading a secret or a JSON body: the tool's own input, on one line too.
    eprintln!("error: {}", visible(&format!("{err:#}")));
    exit::CONFIGURATION
}
