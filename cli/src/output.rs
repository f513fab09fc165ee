//! What a successful command prints: the response's `result`, as pretty JSON
//! (for `jq`) or as a table (for people). TSIG secrets are shown as
//! `[REDACTED]` unless `--show-secrets` is given. Errors are printed by `main`.

use std::borrow::Cow;
use std::io::Write as _;

use std::sync::{Arc, Mutex};

use clap::ArgMatches;
use cloudflare_secondary_dns::{Error, ResponseValue};
use serde::Serialize;
use serde_json::Value;

use crate::edit::Edit;
use crate::generated::{CliCommand, CliConfig};
use crate::secret_input;

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The `result` as pretty JSON.
    Json,
    /// The `result` as aligned columns.
    Table,
}

/// Prints results and supplies TSIG secrets and edited bodies to the
/// generated commands.
pub struct Printer {
    format: Format,
    show_secrets: bool,
    /// Keeps the `result` instead of printing it (the read before an edit).
    captured: Option<Captured>,
    /// For an update (and a create with `--dry-run`): the body is edited.
    edit: Option<Edit>,
}

impl Printer {
    /// Whether the output is for people (a table).
    pub fn is_table(&self) -> bool {
        matches!(self.format, Format::Table)
    }

    pub fn new(format: Format, show_secrets: bool) -> Self {
        Self {
            format,
            show_secrets,
            captured: None,
            edit: None,
        }
    }

    /// A printer that keeps the result (secrets included) in the slot it
    /// returns too, instead of printing it.
    pub fn capturing() -> (Self, Captured) {
        let slot = Captured::default();
        let printer = Self {
            captured: Some(slot.clone()),
            ..Self::new(Format::Json, true)
        };
        (printer, slot)
    }

    /// For `--wait`: a printer that keeps the operation's own result (and
    /// edits its body as this one would), and one that prints what was
    /// waited for.
    pub fn for_waiting(self) -> (Self, Self) {
        let (mut quiet, _) = Self::capturing();
        quiet.edit = self.edit;
        (quiet, Self::new(self.format, self.show_secrets))
    }

    /// A printer that keeps the result (and edits its body as this one
    /// would), its slot, and one that prints as this one does: for a
    /// command that says more after its result.
    pub fn keeping(self) -> (Self, Captured, Self) {
        let (mut quiet, slot) = Self::capturing();
        quiet.edit = self.edit;
        (quiet, slot, Self::new(self.format, self.show_secrets))
    }

    /// Bodies are edited from `edit` (see `edit.rs`).
    pub fn editing(mut self, edit: Edit) -> Self {
        self.edit = Some(edit);
        self
    }

    /// Prints `result` as the format says (secrets redacted unless shown).
    /// A closed pipe (`| head`) is not an error worth a panic.
    pub fn print_value(&self, mut result: Value) {
        if !self.show_secrets {
            redact_secrets(&mut result);
        }
        let text = match self.format {
            Format::Json => json_text(&result, true),
            Format::Table => table(&result),
        };
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    /// Prints (or keeps, when capturing) the envelope's `result`.
    fn print_result(&self, envelope: &impl Serialize) {
        let result = match serde_json::to_value(envelope) {
            Ok(mut envelope) => envelope
                .get_mut("result")
                .map(Value::take)
                .unwrap_or(Value::Null),
            Err(err) => {
                eprintln!("error: cannot print the response: {err}");
                return;
            }
        };
        if let Some(Captured(slot)) = &self.captured {
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(result);
            }
            return;
        }
        self.print_value(result);
    }

    /// The secret flags' value, for an edited body (none: keep the current).
    fn secret_field(matches: &ArgMatches) -> anyhow::Result<Option<(&'static str, Value)>> {
        Ok(secret_input::read_secret(matches)?.map(|secret| ("secret", Value::String(secret))))
    }
}

/// Where a capturing printer keeps the result.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Option<Value>>>);

impl Captured {
    /// The result kept, if a command printed one.
    pub fn take(&self) -> Option<Value> {
        self.0.lock().ok()?.take()
    }
}

/// Replaces every `secret` member with `[REDACTED]`.
pub fn redact_secrets(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                if key == "secret" && !member.is_null() {
                    *member = Value::String("[REDACTED]".to_owned());
                } else {
                    redact_secrets(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_secrets),
        _ => {}
    }
}

/// A list of objects as columns (`id` and `name` first), one object as
/// `field value` lines, anything else as JSON.
fn table(result: &Value) -> String {
    // A tab, which `visible` leaves for messages, would break a column.
    let in_cell = |text: &str| visible(text).replace('\t', "\\t");
    let cell = |value: Option<&Value>| match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => in_cell(s),
        Some(other) => in_cell(&other.to_string()),
    };
    let columns = |objects: &[&serde_json::Map<String, Value>]| {
        let mut names: Vec<String> = Vec::new();
        for object in objects {
            for key in object.keys() {
                if !names.contains(key) {
                    names.push(key.clone());
                }
            }
        }
        names.sort_by_key(|name| (name != "id", name != "name", name.clone()));
        names
    };
    let render = |rows: Vec<Vec<String>>| {
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        rows.iter()
            .map(|row| {
                row.iter()
                    .zip(&widths)
                    .map(|(text, width)| format!("{text:<width$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_owned()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    match result {
        Value::Array(items) if items.is_empty() => "(none)".to_owned(),
        Value::Array(items) if items.iter().all(Value::is_object) => {
            let objects: Vec<_> = items.iter().filter_map(Value::as_object).collect();
            let names = columns(&objects);
            let mut rows = vec![names.iter().map(|n| in_cell(n).to_uppercase()).collect()];
            rows.extend(
                objects
                    .iter()
                    .map(|object| names.iter().map(|n| cell(object.get(n))).collect()),
            );
            render(rows)
        }
        Value::Object(object) => {
            let names = columns(&[object]);
            render(
                names
                    .iter()
                    .map(|n| vec![in_cell(n), cell(object.get(n))])
                    .collect(),
            )
        }
        // A plain result ("Enabled", "OK", a number): the value itself.
        Value::String(text) => visible(text).into_owned(),
        other => visible(&json_text(other, true)).into_owned(),
    }
}

/// Writes `text` and a line break to stdout; `false` once stdout is closed
/// (`| head`), which is not an error worth a panic: the caller stops.
pub fn out(text: &str) -> bool {
    writeln!(std::io::stdout().lock(), "{text}").is_ok()
}

/// `value` as JSON (pretty, or compact as a request carries it), with the
/// characters a terminal would act on that JSON leaves raw (U+2028, U+2029,
/// DEL, C1 controls, bidirectional controls) written as `\uXXXX`: the same
/// JSON value, safe on a terminal. They occur only inside strings, where
/// the escape means the character itself.
pub fn json_text(value: &impl Serialize, pretty: bool) -> String {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .unwrap_or_default();
    let raw = |c: char| {
        matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}'
                | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
    };
    if !text.contains(raw) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 12);
    for c in text.chars() {
        if raw(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` safe to show on a terminal: control characters (line breaks and
/// escape sequences among them), Unicode line separators and bidirectional
/// controls are written as visible escapes (`\n`, `\u{1b}`, `\u{202e}`), so
/// that a server's text can neither forge a row or a line nor steer the
/// terminal. JSON output has its own escapes ([`json_text`]).
pub fn visible(text: &str) -> Cow<'_, str> {
    let escaped = |c: char| {
        (c.is_control() && c != '\t')
            || matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}'
                    | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            )
    };
    if !text.contains(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if escaped(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

impl CliConfig for Printer {
    fn success_item<T>(&self, value: &ResponseValue<T>)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
        if let Some(edit) = &self.edit {
            edit.report_changes();
        }
        self.print_result(value.as_ref());
    }

    fn success_no_item(&self, _: &ResponseValue<()>) {}

    // Errors are reported once, by `main`, from the error the command returns.
    fn error<T>(&self, _: &Error<T>)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
    }

    fn list_start<T>(&self)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
    }

    fn list_item<T>(&self, value: &T)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
        self.print_result(value);
    }

    fn list_end_success<T>(&self)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
    }

    fn list_end_error<T>(&self, _: &Error<T>)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
    }

    // Every operation with a body (generated hook): the body is edited from
    // the flags, the resource as read (an update) and, where the body holds
    // a secret, the secret's sources.
    fn edited_body<B>(
        &self,
        matches: &ArgMatches,
        operation: CliCommand,
    ) -> anyhow::Result<Option<B>>
    where
        B: schemars::JsonSchema + serde::de::DeserializeOwned + serde::Serialize,
    {
        let Some(edit) = &self.edit else {
            return Ok(None);
        };
        let secret = if secret_input::takes_secret(operation) {
            let secret = Self::secret_field(matches)?;
            let from_file = matches
                .try_get_one::<std::path::PathBuf>("json-body")
                .ok()
                .flatten()
                .is_some();
            if secret.is_none() && edit.creates() && !from_file {
                return Err(secret_input::MissingSecret.into());
            }
            secret
        } else {
            None
        };
        edit.apply(matches, crate::groups::noun(operation), secret)
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_wherever_they_are() {
        let mut value = json!([{"id": "a", "secret": "s3cr3t"}, {"nested": {"secret": "x"}}]);
        redact_secrets(&mut value);
        assert!(!value.to_string().contains("s3cr3t"));
        assert_eq!(value[1]["nested"]["secret"], "[REDACTED]");
    }

    #[test]
    fn tables_put_id_and_name_first() {
        let text = table(&json!([
            {"port": 53, "name": "p1", "id": "1", "ip": null},
            {"name": "p2", "id": "22", "ixfr_enable": true}
        ]));
        assert_eq!(
            text,
            "ID  NAME  IP  IXFR_ENABLE  PORT\n\
             1   p1    -   -            53\n\
             22  p2    -   true         -"
        );
        assert_eq!(table(&json!([])), "(none)");
        // Server text cannot forge a row, clear the screen or reorder a line.
        let text = table(&json!([
            {"id": "1", "name": "a\nforged  row\r"},
            {"id": "2", "name": "\u{1b}[2J\u{1b}]0;title\u{7}\u{202e}x", "e\u{1b}[31m": 1},
            {"id": "3", "name": "tab\there"}
        ]));
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(
            text.contains("tab\\there"),
            "a tab is shown, not aligned on: {text}"
        );
        assert!(
            !text.contains(|c: char| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(text.contains("a\\nforged  row\\r"), "{text}");
        assert!(
            text.contains("\\u{1b}[2J\\u{1b}]0;title\\u{7}\\u{202e}x"),
            "{text}"
        );
        assert!(text.contains("E\\U{1B}[31M"), "{text}");
        assert_eq!(table(&json!({"name": "x", "id": "1"})), "id    1\nname  x");
    }

    #[test]
    fn a_plain_result_is_its_text_made_visible() {
        assert_eq!(table(&json!("Enabled")), "Enabled");
        assert_eq!(
            table(&json!("En\u{202e}abled\u{2028}x")),
            "En\\u{202e}abled\\u{2028}x"
        );
        assert_eq!(table(&json!(3)), "3");
    }

    #[test]
    fn json_escapes_what_a_terminal_would_act_on() {
        let value = json!({"status": "a\u{202e}b\u{2028}c\u{85}d\u{7f}"});
        let text = json_text(&value, false);
        assert_eq!(text, r#"{"status":"a\u202eb\u2028c\u0085d\u007f"}"#);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
        assert_eq!(json_text(&json!({"a": "plain"}), false), r#"{"a":"plain"}"#);
    }
}
