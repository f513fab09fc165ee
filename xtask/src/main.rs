//! `cargo xtask generate [--check]`: regenerate (or verify) openapi/secondary-dns.yaml
//! and sdk/src/generated.rs from Cloudflare's spec and the overlay.
//! `cargo xtask upstream import|diff|update <openapi.json>`: refresh, compare
//! against, or update (diff, import, generate, then what to review) from, the
//! vendored subset of Cloudflare's published spec.

use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask generate [--check]
       cargo xtask upstream diff <cloudflare openapi.json>
       cargo xtask upstream import <cloudflare openapi.json> [--commit SHA] [--date YYYY-MM-DD] [--source TEXT]
       cargo xtask upstream update <cloudflare openapi.json> [--commit SHA] [--date YYYY-MM-DD] [--source TEXT]
       cargo xtask semver [--baseline REV]

  generate          openapi/upstream/ + openapi/overlay.yaml -> openapi/secondary-dns.yaml
                    (and the table in openapi/README.md) -> sdk/src/generated.rs;
                    writes only what changed
  generate --check  exit 1 with a diff if a committed output is not what the inputs produce
  upstream diff     what changed for the Secondary DNS operations between the vendored
                    subset (openapi/upstream/) and a downloaded spec; exit 1 if anything did
  upstream import   replace the vendored subset and its provenance with the Secondary DNS
                    part of a downloaded spec; nothing is written if the file is refused
  upstream update   the routine case in one: diff, import, generate; then what changed
                    for review and the next commands (MAINTAINERS.md)
  semver            whether the sdk's public API changed in a major, minor or patch way
                    against a git revision (default HEAD: the last commit), with
                    cargo-semver-checks (install it first: see README, For maintainers)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args[..] {
        ["generate"] => run(false),
        ["generate", "--check"] => run(true),
        ["upstream", "diff", file] => upstream_diff(file),
        ["semver"] => semver("HEAD"),
        ["semver", "--baseline", baseline] => semver(baseline),
        ["upstream", "import", file, ref options @ ..] => match import_options(options) {
            Some(options) => upstream_import(file, options),
            None => Err(USAGE.into()),
        },
        ["upstream", "update", file, ref options @ ..] => match import_options(options) {
            Some(options) => upstream_update(file, options),
            None => Err(USAGE.into()),
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn import_options<'a>(mut options: &[&'a str]) -> Option<xtask::upstream::ImportOptions<'a>> {
    let mut parsed = xtask::upstream::ImportOptions::default();
    while let [flag, value, rest @ ..] = options {
        match *flag {
            "--commit" => parsed.commit = Some(value),
            "--date" => parsed.date = Some(value),
            "--source" => parsed.source = Some(value),
            _ => return None,
        }
        options = rest;
    }
    options.is_empty().then_some(parsed)
}

/// Runs cargo-semver-checks on the sdk against `baseline`: its report says
/// which change needs which version bump; its exit status says whether any does.
fn semver(baseline: &str) -> xtask::Result<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let installed = std::process::Command::new(&cargo)
        .args(["semver-checks", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        return Err("cargo-semver-checks is not installed: \
                    `cargo install --locked cargo-semver-checks` (see README, For maintainers)"
            .into());
    }
    let status = std::process::Command::new(&cargo)
        .args([
            "semver-checks",
            "check-release",
            "--package",
            "cloudflare-secondary-dns",
            "--baseline-rev",
            baseline,
        ])
        .current_dir(xtask::workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo semver-checks: {e}"))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn upstream_diff(file: &str) -> xtask::Result<ExitCode> {
    let report = xtask::upstream::diff_file(&xtask::workspace_root(), Path::new(file))?;
    match report {
        None => {
            eprintln!("no change for the Secondary DNS operations");
            Ok(ExitCode::SUCCESS)
        }
        Some(report) => {
            print!("{report}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn upstream_import(
    file: &str,
    options: xtask::upstream::ImportOptions<'_>,
) -> xtask::Result<ExitCode> {
    let summary =
        xtask::upstream::import_file(&xtask::workspace_root(), Path::new(file), &options)?;
    eprintln!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// Diff, import and generate, then what to review and run next. A
/// generation that needs overlay actions leaves the import in place and
/// prints them: add them, then `cargo xtask generate`.
fn upstream_update(
    file: &str,
    options: xtask::upstream::ImportOptions<'_>,
) -> xtask::Result<ExitCode> {
    let started = std::time::Instant::now();
    let root = xtask::workspace_root();
    let Some(report) = xtask::upstream::diff_file(&root, Path::new(file))? else {
        eprintln!("no change for the Secondary DNS operations: nothing imported");
        return Ok(ExitCode::SUCCESS);
    };
    println!("API changes (upstream diff):\n{report}");
    let summary = xtask::upstream::import_file(&root, Path::new(file), &options)?;
    eprintln!("{summary}");
    let outputs = match xtask::generate_workspace(&root) {
        Ok(outputs) => outputs,
        Err(e) => {
            eprintln!(
                "error: {e}\n\nThe import is in place. Add the overlay actions above to \
                 openapi/overlay.yaml (each `description:` says why), then run \
                 `cargo xtask generate` and go on with the review in MAINTAINERS.md."
            );
            return Ok(ExitCode::from(2));
        }
    };
    let written = write_changed(&root, &outputs)?;
    println!(
        "regenerated in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        if written.is_empty() {
            "no output changed".to_owned()
        } else {
            written.join(", ")
        }
    );
    println!(
        "next:\n  git diff openapi/secondary-dns.yaml sdk/src/generated.rs   # review\n  \
         cargo test --workspace; cargo insta review                 # accept only the snapshots the change alters\n  \
         cargo xtask semver                                         # the version bump\n  \
         then a CHANGELOG.md section from the API changes above, and one commit"
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the outputs whose text changed (rewriting an unchanged file would
/// bump its mtime and rebuild the sdk); returns their paths.
fn write_changed(root: &Path, outputs: &xtask::Outputs) -> xtask::Result<Vec<&'static str>> {
    let mut written = Vec::new();
    for (relative, fresh) in &outputs.files {
        let path = root.join(relative);
        if std::fs::read_to_string(&path).unwrap_or_default() == *fresh {
            continue;
        }
        std::fs::write(&path, fresh)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(*relative);
    }
    Ok(written)
}

fn run(check: bool) -> xtask::Result<ExitCode> {
    let root = xtask::workspace_root();
    let outputs = xtask::generate_workspace(&root)?;
    let mut stale = Vec::new();
    let mut written = 0;
    if check {
        for (relative, fresh) in &outputs.files {
            let committed = std::fs::read_to_string(root.join(relative)).unwrap_or_default();
            if committed != *fresh {
                eprint!("{}", xtask::short_diff_of(relative, &committed, fresh, 40));
                stale.push(*relative);
            }
        }
    } else {
        for relative in write_changed(&root, &outputs)? {
            eprintln!("wrote {relative}");
            written += 1;
        }
    }
    if !stale.is_empty() {
        eprintln!(
            "error: {} stale relative to {} and {}; run `cargo xtask generate`",
            stale.join(", "),
            xtask::upstream::SUBSET_PATH,
            xtask::fragment::OVERLAY_PATH
        );
        return Ok(ExitCode::FAILURE);
    }
    if !check && written == 0 {
        eprintln!(
            "up to date: {}",
            outputs
                .files
                .iter()
                .map(|(p, _)| *p)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
