//! `cargo xtask generate [--check]`: regenerate (or verify) sdk/src/generated.rs.

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask generate [--check]

  generate          regenerate sdk/src/generated.rs from openapi/ (writes only on change)
  generate --check  exit 1 with a diff if the committed file is not what the spec produces";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["generate"] => false,
        ["generate", "--check"] => true,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(check) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(check: bool) -> xtask::Result<ExitCode> {
    let root = xtask::workspace_root();
    let fresh = xtask::generate_from_workspace(&root)?;
    let path = root.join(xtask::GENERATED_PATH);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();

    if committed == fresh {
        if !check {
            eprintln!("{} is up to date", xtask::GENERATED_PATH);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if check {
        eprint!("{}", xtask::short_diff(&committed, &fresh, 40));
        eprintln!(
            "error: {} is stale relative to {}; run `cargo xtask generate`",
            xtask::GENERATED_PATH,
            xtask::SPEC_PATH
        );
        return Ok(ExitCode::FAILURE);
    }
    // Write only on change: rewriting bumps the mtime and rebuilds the sdk.
    std::fs::write(&path, fresh).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("wrote {}", xtask::GENERATED_PATH);
    Ok(ExitCode::SUCCESS)
}
