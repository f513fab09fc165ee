//! The binary says exactly what is and what it sends, stays bounded whatever
//! its input, and is safe in scripts (issue 24): each test here fails
//! without the fix it names.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use secondary_dns_stand_in::{EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, RecordedRequest, StandIn};

const ZONE: &str = "269d8f4853475ca241c4e730be286b20";

/// Makes Cloudflare a secondary of `ZONE` from the example peer.
const CREATE_ZONE: [&str; 8] = [
    "incoming",
    "create",
    "--zone-id",
    ZONE,
    "--name",
    "example.com.",
    "--peers",
    EXAMPLE_PEER_ID,
];

/// A stand-in the test can inspect (its requests, its knobs), served by a
/// runtime of its own for as long as the test holds it.
struct Served {
    server: StandIn,
    _runtime: tokio::runtime::Runtime,
}

impl Served {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(StandIn::start());
        Self {
            server,
            _runtime: runtime,
        }
    }

    fn url(&self) -> String {
        self.server.uri()
    }

    fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

fn success(result: &str) -> String {
    format!(r#"{{"success":true,"errors":[],"messages":[],"result":{result}}}"#)
}

#[test]
fn a_value_the_server_did_not_send_is_never_invented() {
    // A configuration read without `auto_refresh_seconds`.
    let zone = format!(r#"{{"id":"{ZONE}","name":"example.com.","peers":["{EXAMPLE_PEER_ID}"]}}"#);
    let url = canned_server(200, "", success(&zone));
    let read = ok(&cli(&url, &["incoming", "get", "--zone-id", ZONE]));
    assert!(read.get("auto_refresh_seconds").is_none(), "{read}");
    // An update built from it sends only what the flags change.
    let dry = cli(
        &url,
        &[
            "incoming",
            "update",
            "--zone-id",
            ZONE,
            "--name",
            "example.net.",
            "--dry-run",
        ],
    );
    assert_eq!(dry.status, 0, "{}", dry.stderr);
    assert_eq!(
        dry.stdout,
        format!("{{\"name\":\"example.net.\",\"peers\":[\"{EXAMPLE_PEER_ID}\"]}}\n")
    );
    assert_eq!(
        dry.stderr,
        "  name: example.com. → example.net.\ndry run: nothing was sent\n"
    );
}

#[test]
fn a_dry_run_prints_the_very_body_the_request_carries() {
    let served = Served::start();
    let url = served.url();
    let create = CREATE_ZONE;
    let dry = cli(&url, &[&create[..], &["--dry-run"]].concat());
    assert_eq!(dry.status, 0, "{}", dry.stderr);
    assert!(served.requests().is_empty(), "a dry run sends nothing");
    ok(&cli(&url, &create));
    let sent = served.requests().pop().unwrap();
    assert_eq!(sent.method, "POST");
    assert_eq!(dry.stdout.trim_end().as_bytes(), &sent.body[..]);

    // An update: the dry run's body is the PUT's, byte for byte...
    let update = [
        "incoming",
        "update",
        "--zone-id",
        ZONE,
        "--auto-refresh-seconds",
        "3600",
    ];
    let dry = cli(&url, &[&update[..], &["--dry-run"]].concat());
    assert_eq!(dry.status, 0, "{}", dry.stderr);
    edited(&cli(&url, &update));
    let put = served.requests().pop().unwrap();
    assert_eq!(put.method, "PUT");
    assert_eq!(dry.stdout.trim_end().as_bytes(), &put.body[..]);
    // ... and `--unset` leaves the field out of what is sent.
    let unset = cli(
        &url,
        &[
            "incoming",
            "update",
            "--zone-id",
            ZONE,
            "--unset",
            "auto-refresh-seconds",
        ],
    );
    assert_eq!(unset.status, 0, "{}", unset.stderr);
    let put = served.requests().pop().unwrap();
    let body: serde_json::Value = serde_json::from_slice(&put.body).unwrap();
    assert!(body.get("auto_refresh_seconds").is_none(), "{body}");
}

#[test]
fn limits_are_checked_before_any_request_on_updates_too() {
    let served = Served::start();
    let url = served.url();
    let low = cli(
        &url,
        &[
            "incoming",
            "update",
            "--zone-id",
            ZONE,
            "--auto-refresh-seconds",
            "299",
        ],
    );
    assert_eq!(low.status, 2, "{}", low.stderr);
    assert!(
        low.stderr
            .contains("`auto_refresh_seconds` is 299; it must be at least 300"),
        "{}",
        low.stderr
    );
    let ids: Vec<String> = (0..31).map(|i| format!("{i:032x}")).collect();
    let many = cli(
        &url,
        &[
            "incoming",
            "update",
            "--zone-id",
            ZONE,
            "--peers",
            &ids.join(","),
        ],
    );
    assert_eq!(many.status, 2, "{}", many.stderr);
    assert!(
        many.stderr
            .contains("`peers` has 31 items; at most 30 are allowed"),
        "{}",
        many.stderr
    );
    let bulk = cli_with(
        &url,
        &[
            "incoming",
            "create-from-file",
            "-",
            "--peers",
            &ids.join(","),
        ],
        &[],
        Some(&format!("{ZONE} example.com.\n{ZONE}0 bad\n")),
    );
    assert_eq!(bulk.status, 2, "{}", bulk.stderr);
    assert_eq!(bulk.stdout, "", "once, before any zone");
    assert!(served.requests().is_empty(), "{:?}", served.requests());
}

#[test]
fn server_text_is_safe_on_a_terminal_in_every_output_form() {
    let url = canned_server(200, "", success(r#""En\u202eabled\u2028x""#));
    let table = cli(
        &url,
        &["outgoing", "status", "--zone-id", ZONE, "--format", "table"],
    );
    assert_eq!(table.status, 0, "{}", table.stderr);
    assert_eq!(table.stdout, "En\\u{202e}abled\\u{2028}x\n");
    let json = cli(&url, &["outgoing", "status", "--zone-id", ZONE]);
    assert_eq!(json.stdout, "\"En\\u202eabled\\u2028x\"\n");
    assert_eq!(
        serde_json::from_str::<String>(&json.stdout).unwrap(),
        "En\u{202e}abled\u{2028}x"
    );
    // A plain result is its text, not a JSON string.
    let url = canned_server(200, "", success(r#""Enabled""#));
    let table = cli(
        &url,
        &["outgoing", "status", "--zone-id", ZONE, "--format", "table"],
    );
    assert_eq!(table.stdout, "Enabled\n");
}

#[test]
fn a_dry_run_of_a_zone_list_is_json_lines() {
    let url = canned_server(500, "", String::new());
    let run = cli_with(
        &url,
        &[
            "--dry-run",
            "incoming",
            "create-from-file",
            "-",
            "--peers",
            EXAMPLE_PEER_ID,
        ],
        &[],
        Some(&format!("{ZONE} example.com.\nnot-a-zone example.org.\n")),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert_eq!(lines[0]["outcome"], "would configure");
    assert_eq!(lines[1]["outcome"], "bad line");
}

#[test]
fn a_zone_list_that_cannot_be_read_ends_the_run_once() {
    let url = canned_server(500, "", String::new());
    let dir = std::env::temp_dir();
    let dir = dir.to_str().unwrap();
    let started = Instant::now();
    let named = cli(
        &url,
        &[
            "incoming",
            "create-from-file",
            dir,
            "--peers",
            EXAMPLE_PEER_ID,
        ],
    );
    assert_eq!(named.status, 3, "{}", named.stderr);
    assert_eq!(named.stdout, "");
    assert_eq!(
        named.stderr.matches("error: cannot read").count(),
        1,
        "{}",
        named.stderr
    );
    // Standard input from a directory: the same.
    let mut command = Command::new(BINARY);
    command
        .args([
            "incoming",
            "create-from-file",
            "-",
            "--peers",
            EXAMPLE_PEER_ID,
        ])
        .env_clear()
        .envs(operator_env(&url))
        .stdin(std::fs::File::open(dir).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// A server that answers POSTs at once and GETs after `delay`, with `result`.
fn slow_reads(delay: Duration, result: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let _ = reader.read_exact(&mut vec![0; length]);
                if first.starts_with("GET") {
                    std::thread::sleep(delay);
                }
                let body = success(result);
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = reader.get_mut().write_all(response.as_bytes());
            });
        }
    });
    url
}

#[test]
fn a_wait_ends_at_its_deadline_even_during_a_read() {
    let url = slow_reads(Duration::from_secs(20), r#""Disabled""#);
    let started = Instant::now();
    let waited = cli(
        &url,
        &[
            "outgoing",
            "enable",
            "--zone-id",
            ZONE,
            "--wait",
            "--wait-timeout",
            "2",
        ],
    );
    let took = started.elapsed();
    assert_eq!(waited.status, 9, "{}", waited.stderr);
    assert!(
        waited
            .stderr
            .contains("no read completed before the deadline"),
        "{}",
        waited.stderr
    );
    assert!(took < Duration::from_secs(12), "{took:?}");
}

#[test]
fn force_axfr_wait_succeeds_when_the_primary_has_nothing_newer() {
    let served = Served::start();
    let url = served.url();
    ok(&cli(
        &url,
        &[&CREATE_ZONE[..], &["--wait", "--wait-timeout", "30"]].concat(),
    ));
    served.server.hold_serial(ZONE);
    let forced = cli(
        &url,
        &[
            "incoming",
            "force-axfr",
            "--zone-id",
            ZONE,
            "--wait",
            "--wait-timeout",
            "60",
        ],
    );
    assert_eq!(forced.status, 0, "{}", forced.stderr);
    let zone: serde_json::Value = serde_json::from_str(&forced.stdout).unwrap();
    assert_eq!(zone["soa_serial"], 2_019_102_400);
    assert_eq!(
        forced.stderr,
        format!(
            "checked at {}; the primary's serial is still 2019102400\n",
            zone["checked_time"].as_str().unwrap()
        )
    );
}

#[test]
fn a_delete_in_a_script_needs_yes_and_names_what_it_deletes() {
    let served = Served::start();
    let url = served.url();
    let refused = cli(&url, &["peers", "delete", "--peer-id", EXAMPLE_PEER_ID]);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("pass --yes to delete without asking"),
        "{}",
        refused.stderr
    );
    let dry = cli(
        &url,
        &["peers", "delete", "--name", "my-peer-1", "--dry-run"],
    );
    assert_eq!(dry.status, 0, "{}", dry.stderr);
    assert_eq!(
        dry.stderr,
        format!(
            "would delete peer my-peer-1 (peer-id {EXAMPLE_PEER_ID}, account-id {EXAMPLE_ACCOUNT_ID})\n"
        )
    );
    assert!(served.requests().iter().all(|r| r.method == "GET"));
    let deleted = ok(&cli(
        &url,
        &["peers", "delete", "--name", "my-peer-1", "--yes"],
    ));
    assert_eq!(deleted["id"], EXAMPLE_PEER_ID);
    let gone = cli(&url, &["peers", "get", "--peer-id", EXAMPLE_PEER_ID]);
    assert_eq!(gone.status, 4, "{}", gone.stderr);
}

#[test]
fn declining_at_the_prompt_exits_10_and_the_prompt_names_the_peer() {
    let served = Served::start();
    let url = served.url();
    // A terminal for the binary: `script` runs it on a pseudo-terminal.
    let line = format!("{BINARY} peers delete --peer-id {EXAMPLE_PEER_ID}");
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_clear()
        .envs(operator_env(&url))
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    std::thread::sleep(Duration::from_millis(1500));
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(10), "{screen}");
    assert!(
        screen.contains(&format!("delete peer my-peer-1 (peer-id {EXAMPLE_PEER_ID}")),
        "{screen}"
    );
    assert!(served.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn messages_fit_the_case() {
    let served = Served::start();
    let url = served.url();
    // The account is set: the missing flag is the peer's id, and no hint
    // about the account follows.
    let missing = cli(&url, &["peers", "update", "--port", "1"]);
    assert_eq!(missing.status, 2);
    assert!(
        !missing.stderr.contains("CLOUDFLARE_ACCOUNT_ID"),
        "{}",
        missing.stderr
    );
    // Two peers of one name: a usage error (exit 2), naming both ids.
    ok(&cli(&url, &["peers", "create", "--name", "dup"]));
    ok(&cli(&url, &["peers", "create", "--name", "dup"]));
    let ambiguous = cli(&url, &["peers", "get", "--name", "dup"]);
    assert_eq!(ambiguous.status, 2, "{}", ambiguous.stderr);
    assert!(
        ambiguous.stderr.contains("2 have the name \"dup\""),
        "{}",
        ambiguous.stderr
    );
}

#[test]
fn man_writes_every_page_its_pages_refer_to() {
    let dir = std::env::temp_dir().join(format!("cf-secondary-dns-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let output = run(&["man", "--dir", dir.to_str().unwrap()], &[], None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // The root, a page per group, per operation, the two hand-written verbs
    // (create-from-file, convert), doctor, plan, apply, export, schema, man,
    // completions.
    assert_eq!(pages.len(), 1 + 7 + 35 + 2 + 1 + 4 + 2, "{pages:?}");
    let mut referred = 0;
    for page in &pages {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        for (at, _) in text.match_indices("cf\\-secondary\\-dns") {
            let rest = &text[at..];
            let Some(end) = rest.find("(1)") else {
                continue;
            };
            let name = rest[..end].replace("\\-", "-");
            if name.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                referred += 1;
                assert!(
                    pages.contains(&format!("{name}.1")),
                    "{page} refers to {name}(1)"
                );
            }
        }
    }
    assert!(referred >= 36, "{referred}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn long_work_shows_progress_on_a_terminal_and_a_summary() {
    let served = Served::start();
    let url = served.url();
    let list = format!("{ZONE} example.com.\n369d8f4853475ca241c4e730be286b20 example.net.\n");
    let args = [
        "incoming",
        "create-from-file",
        "-",
        "--peers",
        EXAMPLE_PEER_ID,
    ];
    let run = cli_with(&url, &args, &[], Some(&list));
    assert_eq!(run.status, 0, "{}", run.stderr);
    // Not a terminal: no bar, one summary line.
    assert!(
        run.stderr.starts_with(
            "2 zones: 2 configured, 0 already configured, 0 failed, 0 bad lines (2 requests in "
        ) && run.stderr.lines().count() == 1,
        "{}",
        run.stderr
    );
    let quiet = cli_with(&url, &[&["--quiet"][..], &args].concat(), &[], Some(&list));
    assert_eq!((quiet.status, quiet.stderr.as_str()), (0, ""));
    // On a terminal, --wait says what it waits for and what it last read.
    let line = format!("{BINARY} incoming force-axfr --zone-id {ZONE} --wait --wait-timeout 30");
    let (status, screen) = common::on_terminal(&url, &line);
    assert_eq!(status, Some(0), "{screen}");
    assert!(
        screen.contains("waiting for Cloudflare to ask the primary again"),
        "{screen}"
    );
}
