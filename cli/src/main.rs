//! `cf-secondary-dns`: Cloudflare's Secondary DNS peers and TSIG keys from a
//! shell. The subcommands, their flags and help text are generated from the
//! spec (`generated.rs`, by `cargo xtask generate`); this file wires them to
//! the sdk's `Client`: credentials and endpoint from the environment, the
//! account from `CLOUDFLARE_ACCOUNT_ID`, TSIG secrets never on the command
//! line, output as JSON or a table, and exit codes by kind of failure.

use std::process::ExitCode;

use clap::{Arg, ArgAction, Command};
use cloudflare_secondary_dns::{ApiError, Client, ErrorKind};

// progenitor's default `execute_*` hooks leave their arguments unused, and
// the list callbacks of `CliConfig` serve paginated APIs only.
#[rustfmt::skip]
#[allow(missing_docs, unused_imports, unused_variables, dead_code, clippy::all, clippy::pedantic)]
mod generated;
mod output;
mod secret_input;

// The generated code names the sdk's identifier types by the paths the sdk
// itself uses (`crate::AccountIdentifier`); these make them resolve here.
use cloudflare_secondary_dns::{AccountIdentifier, PeerIdentifier, TsigIdentifier};
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
  8  transport: no connection, or it timed out";

/// The command-line tree: one subcommand per operation (generated), plus
/// `completions`.
fn command() -> Command {
    let mut root = Command::new("cf-secondary-dns")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Manage Cloudflare Secondary DNS zone-transfer peers and TSIG keys")
        .after_help(EXIT_CODES_HELP)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("format")
                .long("format")
                .global(true)
                .value_parser(clap::builder::EnumValueParser::<Format>::new())
                .default_value("json")
                .help("Output: the result as pretty JSON (for jq), or a table for people"),
        )
        .arg(
            Arg::new("show-secrets")
                .long("show-secrets")
                .global(true)
                .action(ArgAction::SetTrue)
                .help("Print TSIG secrets in the output instead of [REDACTED]"),
        );
    for operation in CliCommand::iter() {
        root = root.subcommand(subcommand(operation));
    }
    root.subcommand(
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
/// the tool differs from a plain rendering of the spec.
fn subcommand(operation: CliCommand) -> Command {
    let name = operation.operation_id().replace('_', "-");
    let mut command = Cli::<Printer>::get_command(operation).name(name);
    // progenitor puts the spec's summary and description in one `about`; the
    // summary alone keeps the command list one line per command, and
    // `--help` shows both.
    if let Some(about) = command.get_about().map(ToString::to_string)
        && let Some((summary, _)) = about.split_once("\n\n")
    {
        let summary = summary.to_owned();
        command = command.about(summary).long_about(about);
    }
    if command.get_arguments().any(|a| a.get_id() == "account-id") {
        command = command.mut_arg("account-id", |arg| arg.env("CLOUDFLARE_ACCOUNT_ID"));
    }
    if command
        .get_arguments()
        .any(|a| a.get_id() == "json-body-template")
    {
        // Generated, but nothing reads it.
        command = command.mut_arg("json-body-template", |arg| arg.hide(true));
    }
    if secret_input::takes_secret(operation) {
        command = secret_input::with_secret_args(command);
    }
    command
}

fn main() -> ExitCode {
    let matches = match command().try_get_matches() {
        Ok(matches) => matches,
        Err(err) => {
            let _ = err.print();
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
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut command(), "cf-secondary-dns", &mut script);
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &script);
        return ExitCode::SUCCESS;
    }
    let Some(operation) = CliCommand::iter().find(|c| c.operation_id().replace('_', "-") == name)
    else {
        return ExitCode::from(exit::USAGE);
    };

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
    let cli = Cli::new(client, printer);
    match runtime.block_on(cli.execute(operation, sub_matches)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => ExitCode::from(report(&err)),
    }
}

/// Prints `err` on stderr in one line and says which exit status it is.
fn report(err: &anyhow::Error) -> u8 {
    if let Some(api) = err.downcast_ref::<ApiError>() {
        eprintln!("error: {}", api.report());
        return match api.kind() {
            ErrorKind::NotFound => exit::NOT_FOUND,
            ErrorKind::Authentication | ErrorKind::PermissionDenied => exit::AUTH,
            ErrorKind::RateLimited { .. } => exit::RATE_LIMITED,
            ErrorKind::Server => exit::SERVER,
            ErrorKind::Connection | ErrorKind::Timeout => exit::TRANSPORT,
            // A body the client could not build (a required field missing):
            // the command line did not say enough.
            ErrorKind::InvalidRequest => exit::USAGE,
            _ => exit::API_REFUSED,
        };
    }
    if err.downcast_ref::<secret_input::MissingSecret>().is_some() {
        eprintln!("error: {err}");
        return exit::USAGE;
    }
    // Reading a secret or a JSON body: the tool's own input, on one line too.
    eprintln!("error: {}", visible(&format!("{err:#}")));
    exit::CONFIGURATION
}
