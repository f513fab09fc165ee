//! The runtime reads one way: each of its files imports only the files below
//! it in the order `sdk/src/runtime/mod.rs` documents, so any one can be read
//! and changed knowing only what is under it. The public error type reads
//! the attempt count and the client's own refusals from the bottom files,
//! never from the orchestrator.

use std::collections::BTreeSet;
use std::path::Path;

/// Top to bottom, as the table in `runtime/mod.rs` lists them.
const ORDER: [&str; 11] = [
    "mod",
    "policy",
    "pacing",
    "transport",
    "ratelimit_headers",
    "retry",
    "connections",
    "telemetry",
    "outcome",
    "refusal",
    "attempts",
];

fn runtime_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/src/runtime")
}

/// The runtime files `source` names: `super::x`, `self::x` (in mod.rs) and
/// `crate::runtime::x`, in `use` lines and in paths alike.
fn imported(source: &str, from_mod: bool) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut prefixes = vec!["super::", "crate::runtime::"];
    if from_mod {
        prefixes.push("self::");
    }
    for prefix in prefixes {
        for (at, _) in source.match_indices(prefix) {
            let rest = &source[at + prefix.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if ORDER.contains(&name.as_str()) {
                found.insert(name);
            } else if rest.starts_with('{') {
                // `use super::{a, b::c}`: every name in the group.
                let group = &rest[1..rest.find('}').unwrap_or(rest.len())];
                for part in group.split(',') {
                    let name = part.trim().split("::").next().unwrap_or("").to_owned();
                    if ORDER.contains(&name.as_str()) {
                        found.insert(name);
                    }
                }
            }
        }
    }
    found
}

#[test]
fn each_runtime_file_imports_only_the_files_below_it() {
    let mut on_disk: Vec<String> = std::fs::read_dir(runtime_dir())
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            path.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = ORDER.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "a runtime file is missing from ORDER (or gone)"
    );

    let mut violations = Vec::new();
    for (rank, file) in ORDER.iter().enumerate() {
        let source = std::fs::read_to_string(runtime_dir().join(format!("{file}.rs"))).unwrap();
        // Unit tests may reach anywhere.
        let code = source.split("#[cfg(test)]").next().unwrap();
        for name in imported(code, *file == "mod") {
            let below = ORDER.iter().position(|o| *o == name).unwrap();
            if below <= rank && name != *file {
                violations.push(format!("{file}.rs imports {name}.rs, which is above it"));
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn the_error_type_reads_only_the_bottom_of_the_runtime() {
    let error = std::fs::read_to_string(runtime_dir().join("../error.rs")).unwrap();
    let reached = imported(&error, false);
    let allowed: BTreeSet<String> = ["attempts", "refusal", "retry"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(reached.is_subset(&allowed), "error.rs reaches {reached:?}");
    assert!(
        !error.contains("crate::hooks"),
        "error.rs reaches the hooks"
    );
}

#[test]
fn the_checker_sees_imports() {
    // The check above would pass on files it cannot read: prove it reads them.
    let names = imported(
        "use super::outcome::{Buffered, Failure};\nuse super::{pacing::Pacer, retry};\nsuper::telemetry::x();",
        false,
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["outcome", "pacing", "retry", "telemetry"]
    );
}
