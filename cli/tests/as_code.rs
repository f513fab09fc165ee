//! Zone transfers as code from a shell (issue 28), against the stand-in:
//! export, then a plan with no change; drift made through the CLI named
//! exactly by the plan (and `--expect-no-changes` failing); apply restoring
//! it; a secret rotated through `file:`; pruning refused over the threshold;
//! the file's schema; no secret in any output.

mod common;

use common::{cli, cli_with, stand_in};
use secondary_dns_stand_in::{EXAMPLE_PEER_ID, EXAMPLE_TSIG_SECRET, SEEDED_SECONDARY_ZONE};

const SECRET_VAR: &str = "TSIG_SECRET_TSIG_CUSTOMER_CF";

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("as-code-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn no_secret(run: &common::Run, secret: &str) {
    assert!(!run.stdout.contains(secret), "{}", run.stdout);
    assert!(!run.stderr.contains(secret), "{}", run.stderr);
}

#[test]
fn export_plan_drift_apply_and_clean_again() {
    let (url, _server, _stop) = stand_in();
    let linked = cli(
        &url,
        &[
            "incoming",
            "create",
            "--zone",
            SEEDED_SECONDARY_ZONE.1,
            "--peers",
            EXAMPLE_PEER_ID,
        ],
    );
    assert_eq!(linked.status, 0, "{}", linked.stderr);
    let exported = cli(&url, &["export"]);
    assert_eq!(exported.status, 0, "{}", exported.stderr);
    assert!(
        exported
            .stdout
            .contains(&format!("secret = \"env:{SECRET_VAR}\"")),
        "{}",
        exported.stdout
    );
    assert!(
        exported.stderr.contains(SECRET_VAR),
        "the variables are listed: {}",
        exported.stderr
    );
    no_secret(&exported, EXAMPLE_TSIG_SECRET);
    let dir = temp("drift");
    let file = dir.join("a.toml");
    std::fs::write(&file, &exported.stdout).unwrap();
    let file = file.to_str().unwrap();
    let env = [(SECRET_VAR, EXAMPLE_TSIG_SECRET)];
    let plan = |extra: &[&str]| {
        cli_with(
            &url,
            &[&["plan", file, "--format", "table"], extra].concat(),
            &env,
            None,
        )
    };

    let clean = plan(&["--expect-no-changes"]);
    assert_eq!(clean.status, 0, "{}\n{}", clean.stdout, clean.stderr);
    assert!(
        clean
            .stdout
            .contains("Plan: 0 to create, 0 to update, 0 to delete"),
        "{}",
        clean.stdout
    );

    // Drift: a port changed, and the zone's peer unlinked for another.
    let other = cli(&url, &["peers", "create", "--name", "other"]);
    let other: serde_json::Value = serde_json::from_str(&other.stdout).unwrap();
    let other_id = other["id"].as_str().unwrap();
    let ported = cli(
        &url,
        &[
            "peers",
            "update",
            "--peer-id",
            EXAMPLE_PEER_ID,
            "--name",
            "my-peer-1",
            "--port",
            "5353",
        ],
    );
    assert_eq!(ported.status, 0, "{}", ported.stderr);
    let relinked = cli(
        &url,
        &[
            "incoming",
            "update",
            "--zone",
            SEEDED_SECONDARY_ZONE.1,
            "--peers",
            other_id,
        ],
    );
    assert_eq!(relinked.status, 0, "{}", relinked.stderr);
    let drift = plan(&["--expect-no-changes"]);
    assert_eq!(drift.status, 13, "{}\n{}", drift.stdout, drift.stderr);
    let lines: Vec<&str> = drift.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "~ update peer my-peer-1 (port: 5353 → 53)",
            "~ update zone example.com incoming (peers: other → my-peer-1)",
            "Plan: 0 to create, 2 to update, 0 to delete, 3 unchanged.",
        ]
    );
    // JSON for scripts: the same changes.
    let json = cli_with(&url, &["plan", file], &env, None);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["changes"][0]["fields"][0]["field"], "port");
    assert_eq!(value["changes"][0]["fields"][0]["old"], "5353");

    // A dry run sends nothing, even with --yes.
    let dry = cli_with(&url, &["apply", file, "--yes", "--dry-run"], &env, None);
    assert_eq!(dry.status, 0, "{}", dry.stderr);
    assert!(
        dry.stderr.contains("dry run: nothing was sent"),
        "{}",
        dry.stderr
    );
    assert_eq!(plan(&["--expect-no-changes"]).status, 13, "still drifted");
    // Off a terminal, apply needs --yes.
    let refused = cli_with(&url, &["apply", file], &env, None);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("pass --yes"), "{}", refused.stderr);
    let applied = cli_with(
        &url,
        &["apply", file, "--yes", "--format", "table"],
        &env,
        None,
    );
    assert_eq!(applied.status, 0, "{}", applied.stderr);
    assert!(
        applied
            .stderr
            .contains("done: update peer my-peer-1 (port: 5353 → 53)"),
        "{}",
        applied.stderr
    );
    assert!(
        applied.stderr.contains("Applied 2 changes."),
        "{}",
        applied.stderr
    );
    assert_eq!(plan(&["--expect-no-changes"]).status, 0);
    for run in [&clean, &drift, &json, &applied] {
        no_secret(run, EXAMPLE_TSIG_SECRET);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_secret_rotated_through_its_file() {
    let (url, _server, _stop) = stand_in();
    let dir = temp("rotate");
    let secret = dir.join("xfr.key");
    std::fs::write(&secret, "Zmlyc3Qgc2VjcmV0\n").unwrap();
    let file = dir.join("t.toml");
    std::fs::write(
        &file,
        format!(
            "[tsigs.\"xfr.example.org.\"]\nalgorithm = \"hmac-sha256\"\nsecret = \"file:{}\"\n",
            secret.display()
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let created = cli(&url, &["apply", file, "--yes", "--format", "table"]);
    assert_eq!(created.status, 0, "{}", created.stderr);
    assert!(
        created
            .stdout
            .contains("+ create tsig xfr.example.org. (algo: - → hmac-sha256., secret: (changes))"),
        "{}",
        created.stdout
    );
    assert_eq!(cli(&url, &["plan", file, "--expect-no-changes"]).status, 0);

    std::fs::write(&secret, "c2Vjb25kIHNlY3JldA==\n").unwrap();
    let rotated = cli(
        &url,
        &["plan", file, "--format", "table", "--expect-no-changes"],
    );
    assert_eq!(rotated.status, 13);
    assert_eq!(
        rotated.stdout.lines().next(),
        Some("~ update tsig xfr.example.org. (secret: (changes))")
    );
    assert_eq!(cli(&url, &["apply", file, "--yes"]).status, 0);
    assert_eq!(cli(&url, &["plan", file, "--expect-no-changes"]).status, 0);
    for run in [&created, &rotated] {
        no_secret(run, "Zmlyc3Qgc2VjcmV0");
        no_secret(run, "c2Vjb25kIHNlY3JldA==");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pruning_more_than_30_percent_needs_force() {
    let (url, _server, _stop) = stand_in();
    for i in 0..10 {
        let made = cli(&url, &["peers", "create", "--name", &format!("old-{i}")]);
        assert_eq!(made.status, 0, "{}", made.stderr);
    }
    let dir = temp("prune");
    let file = dir.join("p.toml");
    // The file names only the seeded peer; the 10 others and the seeded key
    // and ACL would go: 12 of 13 objects.
    std::fs::write(
        &file,
        "[peers.my-peer-1]\nip = \"192.0.2.53\"\nport = 53\nixfr = false\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let without = cli(
        &url,
        &["apply", file, "--prune", "--yes", "--format", "table"],
    );
    assert_eq!(without.status, 2, "{}", without.stderr);
    assert!(
        without
            .stderr
            .contains("refusing to delete 12 of the 13 existing objects"),
        "{}",
        without.stderr
    );
    assert!(
        without.stdout.contains("- delete peer old-0"),
        "{}",
        without.stdout
    );
    let peers: serde_json::Value =
        serde_json::from_str(&cli(&url, &["peers", "list"]).stdout).unwrap();
    assert_eq!(peers.as_array().unwrap().len(), 11, "nothing deleted");
    // Without --prune, what the file does not name is left alone.
    let plain = cli(&url, &["plan", file, "--format", "table"]);
    assert!(
        !plain.stdout.lines().any(|l| l.starts_with("- delete")),
        "{}",
        plain.stdout
    );
    let forced = cli(&url, &["apply", file, "--prune", "--force", "--yes"]);
    assert_eq!(forced.status, 0, "{}", forced.stderr);
    let peers: serde_json::Value =
        serde_json::from_str(&cli(&url, &["peers", "list"]).stdout).unwrap();
    assert_eq!(peers.as_array().unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_file_is_refused_before_any_request_and_the_schema_is_printed() {
    let dir = temp("bad");
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "[zones.\"example.com\".incoming]\npeers = [\"nowhere\"]\n",
    )
    .unwrap();
    // Nothing listens at this base URL: a request would fail with exit 8.
    let run = cli("http://127.0.0.1:9", &["plan", file.to_str().unwrap()]);
    assert_eq!(run.status, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "bad.toml:2:9: zone example.com names peer \"nowhere\", which is not defined"
        ),
        "{}",
        run.stderr
    );
    // The schema needs no credentials (an editor's setup has none).
    let schema = common::run(&["schema"], &[], None);
    assert_eq!(
        schema.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&schema.stderr)
    );
    let schema: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();
    assert!(schema["properties"]["tsigs"].is_object(), "{schema}");
    assert!(
        schema["definitions"]["TsigEntry"]["properties"]["secret"].is_object(),
        "{schema}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_account_with_duplicate_names_exports_with_a_suffix_and_says_so() {
    let (url, _server, _stop) = stand_in();
    assert_eq!(
        cli(&url, &["peers", "create", "--name", "my-peer-1"]).status,
        0
    );
    let exported = cli(&url, &["export"]);
    assert_eq!(exported.status, 0, "{}", exported.stderr);
    assert!(
        exported.stdout.contains("[peers.my-peer-1-2]"),
        "{}",
        exported.stdout
    );
    assert!(
        exported.stderr.contains("exported peer \"my-peer-1\""),
        "{}",
        exported.stderr
    );
    // A plan cannot tell the two apart: it says so.
    let dir = temp("dup");
    let file = dir.join("d.toml");
    std::fs::write(&file, &exported.stdout).unwrap();
    let plan = cli_with(
        &url,
        &["plan", file.to_str().unwrap()],
        &[(SECRET_VAR, EXAMPLE_TSIG_SECRET)],
        None,
    );
    assert_ne!(plan.status, 0);
    assert!(
        plan.stderr.contains("2 peers named \"my-peer-1\""),
        "{}",
        plan.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn apply_wait_brings_the_first_transfer_and_enables_outgoing() {
    let (url, _server, _stop) = stand_in();
    let dir = temp("wait");
    let file = dir.join("w.toml");
    std::fs::write(
        &file,
        "[peers.bind-1]\nip = \"192.0.2.10\"\nport = 53\n\n\
         [zones.\"example.org\".incoming]\npeers = [\"bind-1\"]\n\n\
         [zones.\"example.net\".outgoing]\npeers = [\"bind-1\"]\nenabled = true\n\n\
         [zones.\"example.net\".dns_settings]\nmulti_provider = true\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let applied = cli(
        &url,
        &[
            "apply",
            file,
            "--yes",
            "--wait",
            "--wait-timeout",
            "30",
            "--format",
            "table",
        ],
    );
    assert_eq!(applied.status, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert!(
        applied
            .stderr
            .contains("example.org: transferred, serial 2019102400"),
        "{}",
        applied.stderr
    );
    assert!(
        applied
            .stderr
            .contains("example.net: outgoing transfers Enabled"),
        "{}",
        applied.stderr
    );
    assert!(
        applied
            .stdout
            .contains("~ update zone example.net dns settings (multi_provider: false → true)"),
        "{}",
        applied.stdout
    );
    assert_eq!(cli(&url, &["plan", file, "--expect-no-changes"]).status, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// plan, export, schema and doctor into a closed pipe (`| head`) end
/// without a panic, as every command does.
#[test]
fn the_new_commands_into_a_closed_pipe_end_quietly() {
    use std::process::{Command, Stdio};
    let (url, _server, _stop) = stand_in();
    let dir = temp("pipe");
    let file = dir.join("p.toml");
    std::fs::write(&file, "[peers.new-peer]\nip = \"192.0.2.1\"\n").unwrap();
    let file = file.to_str().unwrap();
    let commands: [&[&str]; 5] = [
        &["plan", file, "--format", "table"],
        &["plan", file],
        &["export"],
        &["schema"],
        &[
            "doctor",
            "--zone",
            SEEDED_SECONDARY_ZONE.1,
            "--probe-timeout",
            "1",
            "--name-server",
            "127.0.0.1:9",
        ],
    ];
    for args in commands {
        let mut child = Command::new(common::BINARY)
            .args(args)
            .env_clear()
            .envs(common::operator_env(&url))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_ne!(output.status.code(), Some(101), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// On a terminal, export shows a name a server sent made visible (a bidi
/// override cannot reorder the screen); into a file it is exact TOML.
#[test]
fn export_on_a_terminal_makes_server_names_visible() {
    let (url, _server, _stop) = stand_in();
    let odd = "odd\u{202e}name";
    assert_eq!(cli(&url, &["peers", "create", "--name", odd]).status, 0);
    let exact = cli(&url, &["export"]);
    assert!(exact.stdout.contains(odd), "{}", exact.stdout);
    let (status, screen) = common::on_terminal(&url, &format!("{} export", common::BINARY));
    assert_eq!(status, Some(0), "{screen}");
    assert!(screen.contains("odd\\u{202e}name"), "{screen}");
    assert!(!screen.contains('\u{202e}'), "{screen}");
}
