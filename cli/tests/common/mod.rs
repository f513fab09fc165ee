//! What the binary's tests share: running it against a stand-in or a canned
//! server, and reading what it printed.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};

use secondary_dns_stand_in::{EXAMPLE_ACCOUNT_ID, StandIn};

pub const BINARY: &str = env!("CARGO_BIN_EXE_cf-secondary-dns");

/// Runs the binary with `args`, the environment reduced to `env`, and `stdin`.
pub fn run(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
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

/// Runs `line` (the binary and its arguments) on a pseudo-terminal, as an
/// operator at `base_url`: its exit status and what the screen showed.
pub fn on_terminal(base_url: &str, line: &str) -> (Option<i32>, String) {
    let output = Command::new("script")
        .args(["-qec", line, "/dev/null"])
        .env_clear()
        .envs(operator_env(base_url))
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .expect("script(1) from util-linux");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// The subcommands a help text lists (without `help`, `man`, `completions`).
pub fn listed(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| !matches!(c.as_str(), "help" | "man" | "completions"))
        .collect()
}

/// The environment of an operator pointed at `base_url`.
pub fn operator_env(base_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CLOUDFLARE_API_TOKEN", "test-token".to_owned()),
        ("CLOUDFLARE_BASE_URL", base_url.to_owned()),
        ("CLOUDFLARE_ACCOUNT_ID", EXAMPLE_ACCOUNT_ID.to_owned()),
    ]
}

pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn cli(stand_in: &str, args: &[&str]) -> Run {
    cli_with(stand_in, args, &[], None)
}

pub fn cli_with(stand_in: &str, args: &[&str], extra: &[(&str, &str)], stdin: Option<&str>) -> Run {
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

pub fn ok(run: &Run) -> serde_json::Value {
    assert_eq!(run.status, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "", "a success writes nothing on stderr");
    serde_json::from_str(&run.stdout).expect("stdout is the result as JSON")
}

/// The result of an update, which says on stderr what changed.
pub fn edited(run: &Run) -> serde_json::Value {
    assert_eq!(run.status, 0, "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .lines()
            .all(|l| l.starts_with("  ") && l.contains(" → ")),
        "stderr holds only the changes: {}",
        run.stderr
    );
    serde_json::from_str(&run.stdout).expect("stdout is the result as JSON")
}

/// A stand-in on its own runtime thread; it serves until the test ends.
pub fn stand_in() -> (
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
pub fn failing_server(status: u16, extra_header: &'static str) -> String {
    let payload = format!(
        r#"{{"success":false,"errors":[{{"code":{},"message":"canned failure"}}],"messages":[],"result":null}}"#,
        10000 + status
    );
    canned_server(status, extra_header, payload)
}

/// A server that answers every request with `status` and `payload` (JSON).
pub fn canned_server(status: u16, extra_header: &'static str, payload: String) -> String {
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
