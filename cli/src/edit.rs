//! Update commands edit: read the resource, apply only the flags given
//! (and `--unset`), show what changes (before → after), then write; or stop
//! at `--dry-run`, or when nothing changes. Works on any update whose body
//! type describes itself (`JsonSchema`): the flags are the body's fields.

use std::fmt;

use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::output::{json_text, redact_secrets, visible};

/// Flags of every subcommand that are not fields of a body.
pub const NOT_BODY_FIELDS: &[&str] = &[
    "json-body",
    "json-body-template",
    "format",
    "show-secrets",
    "dry-run",
    "yes",
    "max-retries",
    "timeout",
    "unset",
    "secret-file",
    "secret-env",
];

/// A command that ended without sending, successfully.
#[derive(Debug)]
pub enum Stopped {
    /// `--dry-run`: the request was printed.
    DryRun,
    /// The flags name the values the resource already has.
    NoChange,
    /// A delete the operator did not confirm at the prompt (exit status 10).
    NotConfirmed,
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DryRun => "dry run: nothing was sent",
            Self::NoChange => "nothing to change: the resource already has these values",
            Self::NotConfirmed => "not deleted: not confirmed (--yes deletes without asking)",
        })
    }
}

impl std::error::Error for Stopped {}

/// The command line asked for an edit that cannot be made (exit status 2).
#[derive(Debug)]
pub struct BadEdit(pub String);

impl fmt::Display for BadEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadEdit {}

/// What an update starts from, and how it ends.
pub struct Edit {
    /// The resource as read (its `result`), secrets included.
    pub current: Value,
    pub dry_run: bool,
    /// The changes, printed once the API has accepted them.
    pub pending: std::sync::Mutex<Vec<String>>,
}

impl Edit {
    pub fn new(current: Value, dry_run: bool) -> Self {
        Self {
            current,
            dry_run,
            pending: Default::default(),
        }
    }

    /// Whether this makes a new resource (nothing was read).
    pub fn creates(&self) -> bool {
        self.current.as_object().is_some_and(Map::is_empty)
    }

    /// Says on stderr what changed (after a success; a create says nothing
    /// more than its result).
    pub fn report_changes(&self) {
        if self.creates() {
            return;
        }
        use std::io::Write as _;
        let stderr = &mut std::io::stderr().lock();
        if let Ok(mut pending) = self.pending.lock() {
            for line in pending.drain(..) {
                let _ = writeln!(stderr, "{line}");
            }
        }
    }
}

/// The body's properties: name → (JSON type, required).
fn properties<B: schemars::JsonSchema>() -> Vec<(String, Option<String>, bool)> {
    let schema = serde_json::to_value(schemars::schema_for!(B)).unwrap_or(Value::Null);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema["properties"]
        .as_object()
        .map(|properties| {
            properties
                .iter()
                .map(|(name, property)| {
                    let kind = property["type"]
                        .as_str()
                        .or_else(|| property["type"][0].as_str())
                        .map(str::to_owned);
                    (name.clone(), kind, required.contains(&name.as_str()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The value a flag typed on the command line gives a field of JSON type `kind`.
fn flag_value(matches: &ArgMatches, id: &str, kind: Option<&str>) -> Option<Value> {
    // (`try_`: a body field the command has no flag for is not an error.)
    let mut values = matches.try_get_raw(id).ok().flatten()?;
    if matches.value_source(id) != Some(ValueSource::CommandLine) {
        return None;
    }
    if kind == Some("array") {
        let items = values.map(|v| Value::String(v.to_string_lossy().into_owned()));
        return Some(Value::Array(items.collect()));
    }
    let raw = values.next()?.to_string_lossy().into_owned();
    Some(match kind {
        Some("boolean") => Value::Bool(raw == "true"),
        Some("integer") => raw
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::String(raw)),
        Some("number") => raw
            .parse::<f64>()
            .map(Value::from)
            .unwrap_or(Value::String(raw)),
        _ => Value::String(raw),
    })
}

impl Edit {
    /// The new body: the current resource's fields of `B` (or the
    /// `--json-body` file's), with each flag given and each `--unset` field
    /// applied, and `extra` (e.g. a new secret) last. Prints the changes on
    /// stderr; with `--dry-run`, prints the body on stdout and stops.
    pub fn apply<B>(
        &self,
        matches: &ArgMatches,
        what: &str,
        extra: Option<(&str, Value)>,
    ) -> anyhow::Result<B>
    where
        B: schemars::JsonSchema + DeserializeOwned + Serialize,
    {
        let fields = properties::<B>();
        let mut body = Map::new();
        let base = match matches
            .try_get_one::<std::path::PathBuf>("json-body")
            .ok()
            .flatten()
        {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
                serde_json::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", path.display()))?
            }
            None => self.current.clone(),
        };
        for (name, _, _) in &fields {
            if let Some(value) = base.get(name).filter(|v| !v.is_null()) {
                body.insert(name.clone(), value.clone());
            }
        }
        for (name, kind, _) in &fields {
            if let Some(value) = flag_value(matches, &name.replace('_', "-"), kind.as_deref()) {
                body.insert(name.clone(), value);
            }
        }
        // A new zone's account (`account.id`) comes from `--account-id`.
        if fields.iter().any(|(name, _, _)| name == "account")
            && !body.contains_key("account")
            && let Ok(Some(account)) = matches.try_get_one::<String>("account-id")
        {
            body.insert("account".to_owned(), serde_json::json!({"id": account}));
        }
        let unset: Vec<String> = matches
            .try_get_many::<String>("unset")
            .ok()
            .flatten()
            .map(|values| values.cloned().collect())
            .unwrap_or_default();
        for field in &unset {
            let field = field.replace('-', "_");
            match fields.iter().find(|(name, _, _)| *name == field) {
                Some((_, _, true)) => {
                    return Err(BadEdit(format!("--unset {field}: a {what} requires it")).into());
                }
                Some(_) => {
                    body.remove(&field);
                }
                None => {
                    let optional: Vec<&str> = fields
                        .iter()
                        .filter(|(_, _, required)| !required)
                        .map(|(name, _, _)| name.as_str())
                        .collect();
                    let has = if optional.is_empty() {
                        "it has none".to_owned()
                    } else {
                        format!("it has: {}", optional.join(", "))
                    };
                    return Err(BadEdit(format!(
                        "--unset {field}: a {what} has no such optional field ({has})"
                    ))
                    .into());
                }
            }
        }
        if let Some((name, value)) = extra {
            body.insert(name.to_owned(), value);
        }
        let typed: B = serde_json::from_value(Value::Object(body))
            .map_err(|e| BadEdit(format!("the {what} body is not valid: {e}")))?;
        // What is shown is what is sent: the typed body, serialized as the
        // request will serialize it (a default the type fills in is shown).
        let body = serde_json::to_value(&typed)
            .map_err(|e| BadEdit(format!("the {what} body cannot be written: {e}")))?;
        let changes = changes(&self.current, &body, &fields);
        let stderr = &mut std::io::stderr().lock();
        use std::io::Write as _;
        if changes.is_empty() {
            let _ = writeln!(stderr, "{}", Stopped::NoChange);
            return Err(Stopped::NoChange.into());
        }
        if self.dry_run {
            for line in &changes {
                let _ = writeln!(stderr, "{line}");
            }
            // The request's body byte for byte (compact JSON), but for a
            // secret, which is shown as [REDACTED].
            let mut shown = body.clone();
            redact_secrets(&mut shown);
            let text = if shown == body {
                json_text(&typed, false)
            } else {
                json_text(&shown, false)
            };
            let _ = writeln!(std::io::stdout().lock(), "{text}");
            let _ = writeln!(stderr, "{}", Stopped::DryRun);
            return Err(Stopped::DryRun.into());
        }
        if let Ok(mut pending) = self.pending.lock() {
            *pending = changes;
        }
        Ok(typed)
    }
}

/// Checks the flags against the spec's limits of the body (`limits`: field,
/// rule, n; see `CliCommand::body_limits`) before any request, with the
/// sdk's words: a refresh under 300 s or a 31st peer is refused (exit status
/// 2) before an update reads the resource.
pub fn check_limits(matches: &ArgMatches, limits: &[(&str, &str, u64)]) -> Result<(), BadEdit> {
    for &(field, rule, n) in limits {
        let flag = field.replace('_', "-");
        let Some(values) = matches.try_get_raw(&flag).ok().flatten() else {
            continue;
        };
        if matches.value_source(&flag) != Some(ValueSource::CommandLine) {
            continue;
        }
        let values: Vec<String> = values.map(|v| v.to_string_lossy().into_owned()).collect();
        let count = values.len() as u64;
        let refused = match rule {
            "maxItems" if count > n => {
                format!("`{field}` has {count} items; at most {n} are allowed")
            }
            "minItems" if count < n => {
                format!("`{field}` has {count} items; at least {n} are allowed")
            }
            "minimum" => match values.first().and_then(|v| v.parse::<i128>().ok()) {
                Some(value) if value < i128::from(n) => {
                    format!("`{field}` is {value}; it must be at least {n}")
                }
                _ => continue,
            },
            _ => continue,
        };
        return Err(BadEdit(format!("--{flag}: {refused}; nothing was sent")));
    }
    Ok(())
}

/// `field: before → after` for each field of the body that differs from the
/// resource as read; secrets as `[REDACTED]` (changed or not).
fn changes(
    current: &Value,
    body: &Value,
    fields: &[(String, Option<String>, bool)],
) -> Vec<String> {
    let show = |name: &str, value: Option<&Value>| match value {
        None | Some(Value::Null) => "(unset)".to_owned(),
        Some(_) if name == "secret" => "[REDACTED]".to_owned(),
        Some(Value::String(text)) => visible(text).into_owned(),
        Some(other) => other.to_string(),
    };
    fields
        .iter()
        .filter_map(|(name, _, _)| {
            let before = current.get(name).filter(|v| !v.is_null());
            let after = body.get(name);
            (before != after)
                .then(|| format!("  {name}: {} → {}", show(name, before), show(name, after)))
        })
        .collect()
}
