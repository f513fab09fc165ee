//! Zones by name from a shell (issue 26): `zones create NAME` with the name
//! servers to set, `--zone NAME` wherever `--zone-id` is taken (exit 4 when
//! no zone has the name), the stand-in's rule that an incoming configuration
//! needs a secondary zone, hostile names refused before any request, and the
//! zone list across pages.

mod common;

use common::{cli, cli_with, failing_server, ok, stand_in};
use secondary_dns_stand_in::{EXAMPLE_PEER_ID, SEEDED_FULL_ZONE, SEEDED_SECONDARY_ZONE};

#[test]
fn a_secondary_zone_from_its_name_to_its_configuration() {
    let (url, _server, _stop) = stand_in();
    let created = cli(
        &url,
        &["zones", "create", "example.org", "--type", "secondary"],
    );
    assert_eq!(created.status, 0, "{}", created.stderr);
    let zone: serde_json::Value = serde_json::from_str(&created.stdout).unwrap();
    assert_eq!(zone["name"], "example.org");
    assert_eq!(zone["type"], "secondary");
    assert_eq!(zone["status"], "pending");
    // For people (a table), the name servers to set at the registrar.
    let table = cli(
        &url,
        &[
            "zones",
            "create",
            "example.info",
            "--type",
            "secondary",
            "--format",
            "table",
        ],
    );
    assert_eq!(table.status, 0, "{}", table.stderr);
    assert!(
        table
            .stderr
            .starts_with("Set the name servers at example.info's registrar: ns")
            && table.stderr.contains(".secondary.cloudflare.com"),
        "{}",
        table.stderr
    );
    // The same name again: Cloudflare's 1061.
    let again = cli(
        &url,
        &["zones", "create", "example.org", "--type", "secondary"],
    );
    assert_eq!(again.status, 1);
    assert!(
        again.stderr.contains("1061: example.org already exists"),
        "{}",
        again.stderr
    );

    // By name: the configuration names its zone (no --name needed).
    let incoming = ok(&cli(
        &url,
        &[
            "incoming",
            "create",
            "--zone",
            "Example.ORG.",
            "--peers",
            EXAMPLE_PEER_ID,
        ],
    ));
    assert_eq!(incoming["name"], "example.org");
    assert_eq!(incoming["id"], zone["id"]);
    let read = ok(&cli(&url, &["incoming", "get", "--zone", "example.org"]));
    assert_eq!(read["peers"][0], EXAMPLE_PEER_ID);

    // A full zone takes no incoming configuration: the stand-in's 400.
    let full = cli(
        &url,
        &[
            "incoming",
            "create",
            "--zone",
            SEEDED_FULL_ZONE.1,
            "--peers",
            EXAMPLE_PEER_ID,
        ],
    );
    assert_eq!(full.status, 1, "{}", full.stderr);
    assert!(
        full.stderr.contains("not a secondary zone"),
        "{}",
        full.stderr
    );
    // ... and a secondary zone no outgoing one.
    let secondary = cli(
        &url,
        &[
            "outgoing",
            "create",
            "--zone",
            SEEDED_SECONDARY_ZONE.1,
            "--peers",
            EXAMPLE_PEER_ID,
        ],
    );
    assert_eq!(secondary.status, 1, "{}", secondary.stderr);

    // No zone has the name: exit 4, the name in the message.
    let missing = cli(&url, &["incoming", "get", "--zone", "nope.example"]);
    assert_eq!(missing.status, 4, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("no zone is named nope.example"),
        "{}",
        missing.stderr
    );

    // Every page of the list, filtered here by type.
    for i in 0..60 {
        let name = format!("z{i:02}.example");
        let made = cli(&url, &["zones", "create", &name, "--type", "secondary"]);
        assert_eq!(made.status, 0, "{}", made.stderr);
    }
    let all = ok(&cli(&url, &["zones", "list", "--type", "secondary"]));
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3 + 60, "{names:?}");
    assert!(!names.contains(&SEEDED_FULL_ZONE.1));
    let one_page = ok(&cli(
        &url,
        &["zones", "list", "--page", "1", "--per-page", "5"],
    ));
    assert_eq!(one_page.as_array().unwrap().len(), 5);

    // Delete by name; a script must say --yes.
    let refused = cli(&url, &["zones", "delete", "--zone", "example.org"]);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    ok(&cli(
        &url,
        &["zones", "delete", "--zone", "example.org", "--yes"],
    ));
    let gone = cli(
        &url,
        &["incoming", "get", "--zone-id", zone["id"].as_str().unwrap()],
    );
    assert_eq!(
        gone.status, 4,
        "the zone's configuration went with it: {}",
        gone.stderr
    );
}

#[test]
fn convert_says_what_it_means_and_asks() {
    let (url, _server, _stop) = stand_in();
    let args = [
        "zones",
        "convert",
        "--zone",
        SEEDED_FULL_ZONE.1,
        "--to",
        "secondary",
    ];
    let dry = cli(&url, &[&args[..], &["--dry-run"]].concat());
    assert_eq!(dry.status, 0, "{}", dry.stderr);
    assert_eq!(dry.stdout.trim(), r#"{"type":"secondary"}"#);
    assert!(
        dry.stderr
            .contains("type full → secondary: its records will come only from its primaries"),
        "{}",
        dry.stderr
    );
    let unasked = cli(&url, &args);
    assert_eq!(
        unasked.status, 2,
        "no terminal, no --yes: {}",
        unasked.stderr
    );
    let converted = cli(&url, &[&args[..], &["--yes"]].concat());
    assert_eq!(converted.status, 0, "{}", converted.stderr);
    assert!(
        converted.stderr.contains("type full → secondary"),
        "{}",
        converted.stderr
    );
    let zone: serde_json::Value = serde_json::from_str(&converted.stdout).unwrap();
    assert_eq!(zone["type"], "secondary");
    let again = cli(&url, &[&args[..], &["--yes"]].concat());
    assert_eq!(again.status, 0);
    assert!(
        again.stderr.contains("is a secondary zone already"),
        "{}",
        again.stderr
    );
}

#[test]
fn zone_names_and_flags_are_checked_before_any_request() {
    // Any request would be answered 500 (exit 7): exit 2 means none was sent.
    let url = failing_server(500, "");
    let label_64 = format!("{}.com", "a".repeat(64));
    let long_300 = format!("{}.com", vec!["a".repeat(60); 5].join("."));
    for name in [
        "exa mple.com",
        "example.com\u{7}",
        label_64.as_str(),
        long_300.as_str(),
        "com",
        "münchen.de",
    ] {
        let run = cli(&url, &["incoming", "get", "--zone", name]);
        assert_eq!(run.status, 2, "{name:?}: {}", run.stderr);
        assert!(run.stderr.contains("is not a zone name"), "{}", run.stderr);
    }
    let idn = cli(
        &url,
        &["zones", "create", "münchen.de", "--type", "secondary"],
    );
    assert_eq!(idn.status, 2, "{}", idn.stderr);
    assert!(idn.stderr.contains("xn--mnchen-3ya.de"), "{}", idn.stderr);
    // --zone and --zone-id together: one or the other.
    let both = cli(
        &url,
        &[
            "incoming",
            "get",
            "--zone",
            "example.com",
            "--zone-id",
            SEEDED_SECONDARY_ZONE.0,
        ],
    );
    assert_eq!(both.status, 2, "{}", both.stderr);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
    let neither = cli_with(&url, &["incoming", "get"], &[], None);
    assert_eq!(neither.status, 2, "{}", neither.stderr);
}

#[test]
fn a_zone_list_may_name_zones_alone_and_they_are_found_with_one_list() {
    let (url, _server, _stop) = stand_in();
    for name in ["a.example", "b.example", "c.example"] {
        let made = cli(&url, &["zones", "create", name, "--type", "secondary"]);
        assert_eq!(made.status, 0, "{}", made.stderr);
    }
    let dir = std::env::temp_dir().join(format!("cf-zone-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let list = dir.join("zones.txt");
    std::fs::write(
        &list,
        "a.example\nB.Example.\n269d8f4853475ca241c4e730be286b20 by-id.example.\nnope.example\nc.example\n",
    )
    .unwrap();
    let run = cli(
        &url,
        &[
            "incoming",
            "create-from-file",
            list.to_str().unwrap(),
            "--peers",
            EXAMPLE_PEER_ID,
        ],
    );
    assert_eq!(
        run.status, 1,
        "the unknown name is a bad line: {}",
        run.stderr
    );
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let configured: Vec<&str> = lines
        .iter()
        .filter(|l| l["outcome"] == "configured")
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(configured.len(), 4, "{lines:?}");
    for name in ["a.example", "b.example", "c.example", "by-id.example."] {
        assert!(configured.contains(&name), "{name}: {lines:?}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l["line"] == 4 && l["error"] == "no zone is named nope.example"),
        "{lines:?}"
    );
    // One list call for the three names, then one create per zone: 1 + 4.
    assert!(
        run.stderr.contains(
            "4 zones: 4 configured, 0 already configured, 0 failed, 1 bad lines (5 requests"
        ),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}
