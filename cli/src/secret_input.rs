//! TSIG secrets come from a file, standard input or an environment variable,
//! never from a flag's value: a command line lands in shell history and is
//! visible to every user in `ps`.

use std::io::Read;

use anyhow::Context as _;
use clap::{Arg, ArgMatches, Command};

use crate::generated::CliCommand;

/// A secret longer than this is refused rather than read on (TSIG secrets are
/// base64 of at most 64 bytes in practice; this leaves room for anything real).
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// No secret source was given, and no `--json-body` either.
#[derive(Debug)]
pub struct MissingSecret;

impl std::fmt::Display for MissingSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "a TSIG secret is needed: --secret-file <PATH> (- for standard input) or \
             --secret-env <VARIABLE> (or the whole body with --json-body)",
        )
    }
}

impl std::error::Error for MissingSecret {}

/// Whether `operation` sends a TSIG secret: its body has a `secret` field.
pub fn takes_secret(operation: CliCommand) -> bool {
    operation
        .body_schema()
        .and_then(|schema| schema.schema.object)
        .is_some_and(|object| object.properties.contains_key("secret"))
}

/// `command` with the secret's sources. The generated command requires
/// `--json-body` (it cannot take the secret as a flag); with these it need not.
pub fn with_secret_args(command: Command) -> Command {
    command
        .mut_arg("json-body", |arg| arg.required(false))
        .arg(
            Arg::new("secret-file")
                .long("secret-file")
                .value_name("PATH")
                .value_parser(clap::value_parser!(std::path::PathBuf))
                .conflicts_with("secret-env")
                .help("Read the TSIG secret from this file; - reads standard input"),
        )
        .arg(
            Arg::new("secret-env")
                .long("secret-env")
                .value_name("VARIABLE")
                .help("Read the TSIG secret from this environment variable"),
        )
}

/// The secret the command line points at, if it points at one. Surrounding
/// whitespace (a file's final newline) is not part of it.
pub fn read_secret(matches: &ArgMatches) -> anyhow::Result<Option<String>> {
    let raw = if let Some(path) = matches.get_one::<std::path::PathBuf>("secret-file") {
        let mut text = String::new();
        let (reader, what): (Box<dyn Read>, String) = if path.as_os_str() == "-" {
            (Box::new(std::io::stdin()), "standard input".to_owned())
        } else {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open the TSIG secret file {}", path.display()))?;
            (Box::new(file), path.display().to_string())
        };
        reader
            .take(MAX_SECRET_BYTES + 1)
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read the TSIG secret from {what}"))?;
        if text.len() as u64 > MAX_SECRET_BYTES {
            anyhow::bail!("the TSIG secret in {what} is longer than {MAX_SECRET_BYTES} bytes");
        }
        text
    } else if let Some(variable) = matches.get_one::<String>("secret-env") {
        std::env::var(variable).with_context(|| {
            format!("cannot read the TSIG secret: the environment variable {variable} is not set or not UTF-8")
        })?
    } else {
        return Ok(None);
    };
    let secret = raw.trim();
    if secret.is_empty() {
        anyhow::bail!("the TSIG secret is empty");
    }
    Ok(Some(secret.to_owned()))
}
