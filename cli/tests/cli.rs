//! The built `cf-secondary-dns` binary, end to end: every subcommand against
//! the local stand-in of the API, the exit statuses by kind of failure,
//! stdout for results and stderr for errors, secrets kept off both, and
//! snapshots of `--help` and of each command's JSON output.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};

use secondary_dns_stand_in::{
    EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, EXAMPLE_TSIG_ID, EXAMPLE_TSIG_SECRET, StandIn,
};

const BINARY: &str = env!("CARGO_BIN_EXE_cf-secondary-dns");

/// Runs the binary with `args`, the environment reduced to `env`, and `stdin`.
fn run(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary runs");
    let mut pipe = child.stdin.take().expect("piped");
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// The environment of an operator pointed at `base_url`.
fn operator_env(base_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CLOUDFLARE_API_TOKEN", "test-token".to_owned()),
        ("CLOUDFLARE_BASE_URL", base_url.to_owned()),
        ("CLOUDFLARE_ACCOUNT_ID", EXAMPLE_ACCOUNT_ID.to_owned()),
    ]
}

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

fn cli(stand_in: &str, args: &[&str]) -> Run {
    cli_with(stand_in, args, &[], None)
}

fn cli_with(stand_in: &str, args: &[&str], extra: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let env = operator_env(stand_in);
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    let output = run(args, &all, stdin);
    Run {
        status: output.status.code().expect("exited"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn ok(run: &Run) -> serde_json::Value {
    assert_eq!(run.status, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "", "a success writes nothing on stderr");
    serde_json::from_str(&run.stdout).expect("stdout is the result as JSON")
}

/// A stand-in on its own runtime thread; it serves until the test ends.
fn stand_in() -> (
    String,
    std::thread::JoinHandle<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let server = StandIn::start().await;
            url_tx.send(server.uri()).unwrap();
            let _ = stop_rx.await;
        });
    });
    (url_rx.recv().unwrap(), handle, stop_tx)
}

/// A server that answers every request with `status` and Cloudflare's failure envelope.
fn failing_server(status: u16, extra_header: &'static str) -> String {
    let payload = format!(
        r#"{{"success":false,"errors":[{{"code":{},"message":"canned failure"}}],"messages":[],"result":null}}"#,
        10000 + status
    );
    canned_server(status, extra_header, payload)
}

/// A server that answers every request with `status` and `payload` (JSON).
fn canned_server(status: u16, extra_header: &'static str, payload: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let payload = &payload;
            let mut reader = BufReader::new(stream);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    let mut body = vec![0; length];
                    let _ = reader.read_exact(&mut body);
                    let response = format!(
                        "HTTP/1.1 {status} Canned\r\ncontent-type: application/json\r\n{extra_header}content-length: {}\r\nconnection: close\r\n\r\n{payload}",
                        payload.len()
                    );
                    let _ = reader.get_mut().write_all(response.as_bytes());
                    break;
                }
            }
        }
    });
    url
}

#[test]
fn every_peer_command_against_the_stand_in() {
    let (url, _thread, _stop) = stand_in();

    let listed = ok(&cli(&url, &["list-peers"]));
    insta::assert_json_snapshot!("list_peers", listed);

    let created = ok(&cli(&url, &["create-peer", "--name", "secondary-1"]));
    insta::assert_json_snapshot!("create_peer", created);
    let new_id = created["id"].as_str().unwrap().to_owned();

    let updated = ok(&cli(
        &url,
        &[
            "update-peer",
            "--peer-id",
            &new_id,
            "--name",
            "secondary-1",
            "--ip",
            "192.0.2.54",
            "--port",
            "5353",
            "--ixfr-enable",
            "true",
            "--tsig-id",
            EXAMPLE_TSIG_ID,
        ],
    ));
    insta::assert_json_snapshot!("update_peer", updated);

    let got = ok(&cli(&url, &["get-peer", "--peer-id", &new_id]));
    assert_eq!(got, updated);
    insta::assert_json_snapshot!("get_peer", got);

    let deleted = ok(&cli(&url, &["delete-peer", "--peer-id", &new_id]));
    assert_eq!(deleted, serde_json::json!({"id": new_id}));
    insta::assert_json_snapshot!("delete_peer", deleted);
    let gone = cli(&url, &["get-peer", "--peer-id", &new_id]);
    assert_eq!(gone.status, 4, "not found: {}", gone.stderr);
}

#[test]
fn every_tsig_command_with_the_secret_kept_off_the_command_line() {
    let (url, _thread, _stop) = stand_in();
    let dir = std::env::temp_dir().join(format!("cf-secondary-dns-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret_file = dir.join("tsig.key");
    std::fs::write(&secret_file, format!("{EXAMPLE_TSIG_SECRET}\n")).unwrap();
    let secret_path = secret_file.to_str().unwrap();

    let listed = cli(&url, &["list-tsigs"]);
    assert!(
        !listed.stdout.contains(EXAMPLE_TSIG_SECRET),
        "{}",
        listed.stdout
    );
    insta::assert_json_snapshot!("list_tsigs", ok(&listed));

    let from_file = ok(&cli(
        &url,
        &[
            "create-tsig",
            "--name",
            "k1.example.",
            "--algo",
            "hmac-sha256.",
            "--secret-file",
            secret_path,
        ],
    ));
    insta::assert_json_snapshot!("create_tsig", from_file);
    let from_stdin = cli_with(
        &url,
        &[
            "create-tsig",
            "--name",
            "k2.example.",
            "--algo",
            "hmac-sha256.",
            "--secret-file",
            "-",
        ],
        &[],
        Some("c2VjcmV0LWZyb20tc3RkaW4=\n"),
    );
    let from_stdin = ok(&from_stdin);
    let from_env = ok(&cli_with(
        &url,
        &[
            "create-tsig",
            "--name",
            "k3.example.",
            "--algo",
            "hmac-sha256.",
            "--secret-env",
            "MY_TSIG",
        ],
        &[("MY_TSIG", "c2VjcmV0LWZyb20tZW52")],
        None,
    ));
    // Each secret reached the API exactly: --show-secrets prints what it stored.
    for (created, secret) in [
        (&from_file, EXAMPLE_TSIG_SECRET),
        (&from_stdin, "c2VjcmV0LWZyb20tc3RkaW4="),
        (&from_env, "c2VjcmV0LWZyb20tZW52"),
    ] {
        let id = created["id"].as_str().unwrap();
        let shown = ok(&cli(&url, &["get-tsig", "--tsig-id", id, "--show-secrets"]));
        assert_eq!(shown["secret"], secret);
        let hidden = ok(&cli(&url, &["get-tsig", "--tsig-id", id]));
        assert_eq!(hidden["secret"], "[REDACTED]");
        if secret == EXAMPLE_TSIG_SECRET {
            insta::assert_json_snapshot!("get_tsig", hidden);
        }
    }

    let id = from_env["id"].as_str().unwrap();
    let updated = ok(&cli_with(
        &url,
        &[
            "update-tsig",
            "--tsig-id",
            id,
            "--name",
            "k3.example.",
            "--algo",
            "hmac-sha512.",
            "--secret-env",
            "MY_TSIG",
        ],
        &[("MY_TSIG", "bmV3LXNlY3JldA==")],
        None,
    ));
    assert_eq!(updated["algo"], "hmac-sha512.");
    insta::assert_json_snapshot!("update_tsig", updated);
    let deleted = ok(&cli(&url, &["delete-tsig", "--tsig-id", id]));
    insta::assert_json_snapshot!("delete_tsig", deleted);

    // No source: refused before any request, as a usage error.
    let missing = cli(
        &url,
        &[
            "create-tsig",
            "--name",
            "k4.example.",
            "--algo",
            "hmac-sha256.",
        ],
    );
    assert_eq!(missing.status, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("--secret-file"),
        "{}",
        missing.stderr
    );
    // There is no flag that takes the secret itself.
    let flag = cli(
        &url,
        &[
            "create-tsig",
            "--name",
            "k",
            "--algo",
            "a",
            "--secret",
            "s3cr3t",
        ],
    );
    assert_eq!(flag.status, 2);
    assert!(!flag.stderr.contains("s3cr3t"), "{}", flag.stderr);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_table_for_people() {
    let (url, _thread, _stop) = stand_in();
    let run = cli(&url, &["list-peers", "--format", "table"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    insta::assert_snapshot!("list_peers_table", run.stdout);
    let run = cli(&url, &["list-tsigs", "--format", "table"]);
    assert!(run.stdout.contains("[REDACTED]") && !run.stdout.contains(EXAMPLE_TSIG_SECRET));
}

#[test]
fn exit_statuses_say_what_kind_of_failure_it_was() {
    let (url, _thread, _stop) = stand_in();
    let expect = |run: Run, status: i32, stderr_has: &str| {
        assert_eq!(run.status, status, "stderr: {}", run.stderr);
        assert_eq!(run.stdout, "", "a failure writes nothing on stdout");
        assert!(
            run.stderr.contains(stderr_has),
            "{stderr_has:?} not in {}",
            run.stderr
        );
        // The sdk's report is one line; clap's usage errors add a hint line.
        if status != 2 {
            assert_eq!(
                run.stderr.trim_end().lines().count(),
                1,
                "one line: {}",
                run.stderr
            );
        }
    };

    // 2: an invalid id is refused before any request, with the sdk's reason.
    expect(
        cli(&url, &["get-peer", "--peer-id", "../../zones"]),
        2,
        "32 lowercase hexadecimal",
    );
    // 3: no credentials.
    let no_credentials = run(
        &["list-peers"],
        &[
            ("CLOUDFLARE_BASE_URL", url.as_str()),
            ("CLOUDFLARE_ACCOUNT_ID", EXAMPLE_ACCOUNT_ID),
        ],
        None,
    );
    expect(
        Run {
            status: no_credentials.status.code().unwrap(),
            stdout: String::from_utf8(no_credentials.stdout).unwrap(),
            stderr: String::from_utf8(no_credentials.stderr).unwrap(),
        },
        3,
        "no Cloudflare credentials",
    );
    // 3: an unreadable secret file.
    expect(
        cli(
            &url,
            &[
                "create-tsig",
                "--name",
                "k",
                "--algo",
                "a",
                "--secret-file",
                "/nonexistent/key",
            ],
        ),
        3,
        "cannot open the TSIG secret file",
    );
    // 4: not found.
    expect(
        cli(
            &url,
            &["get-peer", "--peer-id", "0123456789abcdef0123456789abcdef"],
        ),
        4,
        "peer not found",
    );
    // 1: refused (a TSIG that does not exist, named by a peer update).
    expect(
        cli(
            &url,
            &[
                "update-peer",
                "--peer-id",
                EXAMPLE_PEER_ID,
                "--name",
                "p",
                "--tsig-id",
                "0123456789abcdef0123456789abcdef",
            ],
        ),
        1,
        "names no TSIG",
    );
    // 5, 6, 7: authentication, rate limiting, a server error.
    for (status, header, exit) in [
        (401, "", 5),
        (403, "", 5),
        (429, "retry-after: 0\r\nx-should-retry: false\r\n", 6),
        (503, "x-should-retry: false\r\n", 7),
    ] {
        let server = failing_server(status, header);
        expect(cli(&server, &["list-peers"]), exit, "canned failure");
    }
    // 8: nothing listens.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    expect(cli(&closed, &["list-peers"]), 8, "connect");
}

#[test]
fn help_texts() {
    let help = |args: &[&str]| {
        let output = run(args, &[], None);
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    };
    insta::assert_snapshot!("help", help(&["--help"]));
    for command in [
        "list-peers",
        "create-peer",
        "get-peer",
        "update-peer",
        "delete-peer",
        "list-tsigs",
        "create-tsig",
        "get-tsig",
        "update-tsig",
        "delete-tsig",
    ] {
        insta::assert_snapshot!(format!("help_{command}"), help(&[command, "--help"]));
    }
}

#[test]
fn shell_completions() {
    for shell in ["bash", "zsh", "fish"] {
        let output = run(&["completions", shell], &[], None);
        assert!(output.status.success());
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains("update-peer"), "{shell}");
    }
}

/// A server's text reaches a terminal defused: a table cannot gain rows or
/// clear the screen, an error stays one line; JSON stays exact.
#[test]
fn server_text_cannot_steer_the_terminal() {
    let names = [
        "p1\nforged-id  forged-row",
        "\u{1b}[2J\u{1b}]0;owned\u{7}p2",
        "\u{202e}3p\r",
    ];
    let peers: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| serde_json::json!({"id": format!("{i:032x}"), "name": name}))
        .collect();
    let list = serde_json::json!({"success": true, "errors": [], "messages": [], "result": peers});
    let server = canned_server(200, "", list.to_string());
    let run = cli(&server, &["list-peers", "--format", "table"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.lines().count(),
        4,
        "a header and 3 rows: {}",
        run.stdout
    );
    assert!(
        !run.stdout
            .contains(|c: char| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "{:?}",
        run.stdout
    );
    assert!(
        run.stdout.contains("p1\\nforged-id  forged-row"),
        "{}",
        run.stdout
    );
    // JSON output keeps the exact text.
    let json = ok(&cli(&server, &["list-peers"]));
    let shown: Vec<_> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(shown, names);

    let failure = serde_json::json!({"success": false, "errors": [
        {"code": 1003, "message": "bad\nerror: forged\u{2028}\u{1b}[2J"}]});
    let run = cli(
        &canned_server(400, "", failure.to_string()),
        &["list-peers"],
    );
    assert_eq!(run.status, 1);
    assert_eq!(run.stderr.lines().count(), 1, "{:?}", run.stderr);
    assert!(run.stderr.contains("bad\\nerror: forged"), "{}", run.stderr);
}

/// `completions` into a closed pipe ends quietly, as every command does.
#[test]
fn completions_into_a_closed_pipe_exit_quietly() {
    for shell in ["bash", "zsh", "fish"] {
        let mut child = Command::new(BINARY)
            .args(["completions", shell])
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{shell}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.stderr, b"", "{shell}");
    }
}
