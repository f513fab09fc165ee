//! `doctor` from a shell (issue 27), as "Try it locally" shows it: the
//! stand-in wired to a primary on loopback. Healthy exits 0 with every check
//! ok; a TSIG secret changed at Cloudflare only exits 12 naming BADSIG and
//! what to do; a stopped primary is named unreachable within the timeout.
//! No output carries a secret.

mod common;

use std::time::{Duration, Instant};

use common::{cli, cli_with};
use secondary_dns_stand_in::primary::Primary;
use secondary_dns_stand_in::{FIRST_SERIAL, PRIMARY_TSIG_ID, StandIn};

const SECRET: &[u8] = b"a shared TSIG secret of 32 bytes";
const SECRET_B64: &str = "YSBzaGFyZWQgVFNJRyBzZWNyZXQgb2YgMzIgYnl0ZXM=";
const WRONG_B64: &str = "b3RoZXIgc2VjcmV0";

/// The stand-in and a primary wired to it, on their own runtime thread,
/// until `stop` (the primary's address, then the stand-in's URL).
fn serve_with_primary() -> (
    String,
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (url, primary, _name_server, stop_primary, stop) = serve_fleet(0);
    (url, primary, stop_primary, stop)
}

/// As [`serve_with_primary`], with `zones` more secondary zones served by
/// the same primary, and the stand-in's name server (its address third).
fn serve_fleet(
    zones: usize,
) -> (
    String,
    String,
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_primary, primary_stopped) = tokio::sync::oneshot::channel::<()>();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let stand_in = StandIn::start().await;
            let primary = Primary::start("example.com", FIRST_SERIAL as u32).await;
            primary.require_key("xfr.example.com.", "hmac-sha256", SECRET);
            primary.with_state(|state| state.any_zone = true);
            stand_in.seed_fleet(
                zones,
                &primary,
                "xfr.example.com.",
                "hmac-sha256.",
                SECRET_B64,
            );
            let name_server = stand_in.start_name_server().await;
            let addrs = (primary.addr().to_string(), name_server.addr().to_string());
            tx.send((stand_in.uri(), addrs)).unwrap();
            let _ = primary_stopped.await;
            drop(primary);
            let _ = stopped.await;
            drop(name_server);
        });
    });
    let (url, (primary, name_server)) = rx.recv().unwrap();
    (url, primary, name_server, stop_primary, stop)
}

fn no_secret(run: &common::Run) {
    for secret in [SECRET_B64, WRONG_B64, "a shared TSIG secret"] {
        assert!(!run.stdout.contains(secret), "{}", run.stdout);
        assert!(!run.stderr.contains(secret), "{}", run.stderr);
    }
}

#[test]
fn healthy_then_badsig_then_unreachable() {
    let (url, primary, stop_primary, _stop) = serve_with_primary();
    let doctor = ["doctor", "--zone", "example.com", "--name-server", &primary];

    let healthy = cli(&url, &[&doctor[..], &["--format", "table"]].concat());
    assert_eq!(healthy.status, 0, "{}\n{}", healthy.stdout, healthy.stderr);
    let rows: Vec<&str> = healthy.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 9, "{}", healthy.stdout);
    for row in &rows {
        assert!(row.contains(" ok "), "{row}");
    }
    assert!(
        healthy.stderr.contains("example.com (incoming): ok: 9 ok"),
        "{}",
        healthy.stderr
    );
    no_secret(&healthy);

    // The secret changed on Cloudflare's side only.
    let dir = std::env::temp_dir().join(format!("doctor-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wrong = dir.join("wrong.key");
    std::fs::write(&wrong, WRONG_B64).unwrap();
    let updated = cli(
        &url,
        &[
            "tsigs",
            "update",
            "--tsig-id",
            PRIMARY_TSIG_ID,
            "--name",
            "xfr.example.com.",
            "--algo",
            "hmac-sha256.",
            "--secret-file",
            wrong.to_str().unwrap(),
        ],
    );
    assert_eq!(updated.status, 0, "{}", updated.stderr);
    let failing = cli(&url, &[&doctor[..], &["--format", "table"]].concat());
    assert_eq!(failing.status, 12, "{}\n{}", failing.stdout, failing.stderr);
    let row = failing
        .stdout
        .lines()
        .find(|l| l.starts_with("I6 "))
        .unwrap();
    assert!(row.contains("failure") && row.contains("BADSIG"), "{row}");
    assert!(
        failing.stdout.contains("→ the secret differs"),
        "{}",
        failing.stdout
    );
    no_secret(&failing);

    // JSON for scripts: the same verdicts.
    let json = cli(&url, &doctor);
    assert_eq!(json.status, 12);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let i6 = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "I6")
        .unwrap();
    assert_eq!(i6["verdict"], "failure");
    no_secret(&json);

    // The primary stopped: unreachable, within the timeout asked for.
    stop_primary.send(()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let gone = cli_with(
        &url,
        &[&doctor[..], &["--probe-timeout", "1", "--format", "table"]].concat(),
        &[],
        None,
    );
    assert_eq!(gone.status, 12, "{}", gone.stdout);
    let row = gone.stdout.lines().find(|l| l.starts_with("I5 ")).unwrap();
    assert!(row.contains("unreachable over UDP and TCP"), "{row}");
    assert!(
        row.contains(&primary),
        "the row names the peer's address: {row}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_zone_that_is_not_there_is_not_found() {
    let (url, _primary, _stop_primary, _stop) = serve_with_primary();
    let run = cli(&url, &["doctor", "--zone", "nowhere.example"]);
    assert_eq!(run.status, 4, "{}", run.stderr);
}

#[test]
fn the_fleet_a_line_per_zone_ranked_then_a_rerun_of_the_failures() {
    let (url, _primary, name_server, _stop_primary, _stop) = serve_fleet(30);
    // One zone whose peer has no IP (a peer made by create has only a name).
    let created = cli(
        &url,
        &["zones", "create", "broken.example", "--type", "secondary"],
    );
    assert_eq!(created.status, 0, "{}", created.stderr);
    let peer: serde_json::Value =
        serde_json::from_str(&cli(&url, &["peers", "create", "--name", "no-ip"]).stdout).unwrap();
    let peer_id = peer["id"].as_str().unwrap();
    let linked = cli(
        &url,
        &[
            "incoming",
            "create",
            "--zone",
            "broken.example",
            "--peers",
            peer_id,
        ],
    );
    assert_eq!(linked.status, 0, "{}", linked.stderr);

    let run = cli(
        &url,
        &[
            "doctor",
            "--all",
            "--format",
            "json",
            "--name-server",
            &name_server,
            "--probe-timeout",
            "2",
        ],
    );
    assert_eq!(run.status, 12, "{}", run.stderr);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON lines"))
        .collect();
    // 30 seeded, example.com, broken.example; example.net (full, no
    // configuration) is not a transfer.
    assert_eq!(lines.len(), 32, "{}", run.stdout);
    let failing: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["verdict"] == "failure").collect();
    assert_eq!(failing.len(), 1, "{}", run.stdout);
    assert_eq!(failing[0]["zone_name"], "broken.example");
    // The stand-in's name server answers I9 for every zone.
    for line in &lines {
        if line["zone_name"] != "broken.example" {
            assert_eq!(line["verdict"], "ok", "{line}");
        }
    }
    assert!(run.stderr.contains("32 zones in"), "{}", run.stderr);
    assert!(
        run.stderr.contains("31 ok, 0 with warnings, 1 failing"),
        "{}",
        run.stderr
    );
    let ranked = run
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("Most trouble first"))
        .nth(1)
        .unwrap();
    assert!(
        ranked.contains("broken.example") && ranked.contains("I3"),
        "{ranked}"
    );
    no_secret(&run);

    // Fix it, then rerun only what failed.
    let dir = std::env::temp_dir().join(format!("doctor-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("fleet.jsonl");
    std::fs::write(&report, &run.stdout).unwrap();
    let rerun = cli(
        &url,
        &[
            "doctor",
            "--rerun-failed",
            report.to_str().unwrap(),
            "--format",
            "json",
            "--name-server",
            &name_server,
        ],
    );
    assert_eq!(rerun.status, 12, "still failing: {}", rerun.stderr);
    assert_eq!(rerun.stdout.lines().count(), 1, "{}", rerun.stdout);
    assert!(rerun.stderr.contains("1 zones in"), "{}", rerun.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}
