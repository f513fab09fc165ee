//! Every example line in every command's `--help` runs: against the
//! stand-in, with `--dry-run` where the command changes something (a read
//! runs as it is), it exits 0. The examples' values come from the spec
//! (`CliCommand::flag_examples`), so a field Cloudflare adds gets an example
//! that this test proves parses.

mod common;

use common::{cli_with, listed, run, stand_in};

/// The example lines of one help text (the `Examples:` section).
fn example_lines(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Examples:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().to_owned())
        .collect()
}

fn help(args: &[&str]) -> String {
    let output = run(args, &[], None);
    assert!(output.status.success(), "{args:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn every_example_in_every_help_runs() {
    let (url, _server, _stop) = stand_in();
    let dir = std::env::temp_dir().join(format!("cf-help-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("tsig.key");
    std::fs::write(&key, "caf79a7804b04337c9c66ccd7bef9190\n").unwrap();
    let zones = dir.join("zones.txt");
    let zone_list = "269d8f4853475ca241c4e730be286b20 www.example.com.\n";
    std::fs::write(&zones, zone_list).unwrap();
    // The example zone, configured the way its group's examples need (the
    // stand-in starts with no zone configured; a zone is either a secondary
    // or a primary), so that gets, updates and deletes find it.
    let zone = "269d8f4853475ca241c4e730be286b20";
    let configure = |group: &str| {
        for other in ["incoming", "outgoing"] {
            cli_with(
                &url,
                &[other, "delete", "--zone-id", zone, "--yes"],
                &[],
                None,
            );
        }
        let args = [
            group,
            "create",
            "--zone-id",
            zone,
            "--name",
            "www.example.com.",
            "--peers",
            "23ff594956f20c2a721606e94745a8aa",
        ];
        let created = cli_with(&url, &args, &[], None);
        assert_eq!(created.status, 0, "{group}: {}", created.stderr);
    };
    let mut ran = 0;
    let mut failed = Vec::new();
    for group in listed(&help(&["--help"])) {
        if group == "incoming" || group == "outgoing" {
            configure(&group);
        }
        for verb in listed(&help(&[&group, "--help"])) {
            let text = help(&[&group, &verb, "--help"]);
            let lines = example_lines(&text);
            assert!(!lines.is_empty(), "{group} {verb} has no examples");
            for line in lines {
                // What a shell would run of it: no comment; of a pipeline,
                // the binary's part, fed the zone list when something comes
                // before it.
                let command = line.split("    #").next().unwrap();
                let parts: Vec<&str> = command.split(" | ").collect();
                let at = parts
                    .iter()
                    .position(|p| p.starts_with("cf-secondary-dns"))
                    .expect("an example runs the binary");
                let (command, stdin) = (parts[at], (at > 0).then_some(zone_list));
                let mut args: Vec<String> = command
                    .split_whitespace()
                    .skip(1) // the binary's name
                    .map(|a| match a {
                        "tsig.key" => key.display().to_string(),
                        "zones.txt" => zones.display().to_string(),
                        _ => a.to_owned(),
                    })
                    .collect();
                assert!(
                    !args.iter().any(|a| a == "my-peer-1") || group == "peers",
                    "{line}: a peer's name outside peers"
                );
                let changes = !matches!(verb.as_str(), "list" | "get" | "status");
                if changes && !args.iter().any(|a| a == "--dry-run") {
                    args.push("--dry-run".to_owned());
                }
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let result = cli_with(&url, &args, &[], stdin);
                ran += 1;
                if result.status != 0 {
                    failed.push(format!(
                        "{line}\n    ran {args:?}: exit {}: {}",
                        result.status,
                        result.stderr.trim()
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failed.is_empty(),
        "{} of {ran} examples failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert!(ran > 60, "{ran} examples");
}
