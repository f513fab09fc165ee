//! The built `cf-secondary-dns` binary, end to end: every subcommand against
//! the local stand-in of the API, the exit statuses by kind of failure,
//! stdout for results and stderr for errors, secrets kept off both, and
//! snapshots of `--help` and of each command's JSON output.

mod common;

use common::*;
use secondary_dns_stand_in::{
    EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, EXAMPLE_TSIG_ID, EXAMPLE_TSIG_SECRET,
};
use std::net::TcpListener;
use std::process::{Command, Stdio};

#[test]
fn every_peer_command_against_the_stand_in() {
    let (url, _thread, _stop) = stand_in();

    let listed = ok(&cli(&url, &["peers", "list"]));
    insta::assert_json_snapshot!("list_peers", listed);

    let created = ok(&cli(&url, &["peers", "create", "--name", "secondary-1"]));
    insta::assert_json_snapshot!("create_peer", created);
    let new_id = created["id"].as_str().unwrap().to_owned();

    let updated = edited(&cli(
        &url,
        &[
            "peers",
            "update",
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

    let got = ok(&cli(&url, &["peers", "get", "--peer-id", &new_id]));
    assert_eq!(got, updated);
    insta::assert_json_snapshot!("get_peer", got);

    let deleted = ok(&cli(
        &url,
        &["peers", "delete", "--peer-id", &new_id, "--yes"],
    ));
    assert_eq!(deleted, serde_json::json!({"id": new_id}));
    insta::assert_json_snapshot!("delete_peer", deleted);
    let gone = cli(&url, &["peers", "get", "--peer-id", &new_id]);
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

    let listed = cli(&url, &["tsigs", "list"]);
    assert!(
        !listed.stdout.contains(EXAMPLE_TSIG_SECRET),
        "{}",
        listed.stdout
    );
    insta::assert_json_snapshot!("list_tsigs", ok(&listed));

    let from_file = ok(&cli(
        &url,
        &[
            "tsigs",
            "create",
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
            "tsigs",
            "create",
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
            "tsigs",
            "create",
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
        let shown = ok(&cli(
            &url,
            &["tsigs", "get", "--tsig-id", id, "--show-secrets"],
        ));
        assert_eq!(shown["secret"], secret);
        let hidden = ok(&cli(&url, &["tsigs", "get", "--tsig-id", id]));
        assert_eq!(hidden["secret"], "[REDACTED]");
        if secret == EXAMPLE_TSIG_SECRET {
            insta::assert_json_snapshot!("get_tsig", hidden);
        }
    }

    let id = from_env["id"].as_str().unwrap();
    let updated = edited(&cli_with(
        &url,
        &[
            "tsigs",
            "update",
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
    let deleted = ok(&cli(&url, &["tsigs", "delete", "--tsig-id", id, "--yes"]));
    insta::assert_json_snapshot!("delete_tsig", deleted);

    // No source: refused before any request, as a usage error.
    let missing = cli(
        &url,
        &[
            "tsigs",
            "create",
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
            "tsigs", "create", "--name", "k", "--algo", "a", "--secret", "s3cr3t",
        ],
    );
    assert_eq!(flag.status, 2);
    assert!(!flag.stderr.contains("s3cr3t"), "{}", flag.stderr);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_table_for_people() {
    let (url, _thread, _stop) = stand_in();
    let run = cli(&url, &["peers", "list", "--format", "table"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    insta::assert_snapshot!("list_peers_table", run.stdout);
    let run = cli(&url, &["tsigs", "list", "--format", "table"]);
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
        cli(&url, &["peers", "get", "--peer-id", "../../zones"]),
        2,
        "32 lowercase hexadecimal",
    );
    // 3: no credentials.
    let no_credentials = run(
        &["peers", "list"],
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
                "tsigs",
                "create",
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
            &[
                "peers",
                "get",
                "--peer-id",
                "0123456789abcdef0123456789abcdef",
            ],
        ),
        4,
        "peer not found",
    );
    // 1: refused (a TSIG that does not exist, named by a peer update).
    expect(
        cli(
            &url,
            &[
                "peers",
                "update",
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
        expect(cli(&server, &["peers", "list"]), exit, "canned failure");
    }
    // 8: nothing listens.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    expect(cli(&closed, &["peers", "list"]), 8, "connect");
}

#[test]
fn help_texts() {
    let help = |args: &[&str]| {
        let output = run(args, &[], None);
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    };
    // Every snapshot is checked, and every mismatch named at the end (insta
    // alone stops at the first).
    let mut mismatched = Vec::new();
    let mut check = |name: String, text: String| {
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            insta::assert_snapshot!(name.clone(), text);
        }));
        if checked.is_err() {
            mismatched.push(name);
        }
    };
    let root = help(&["--help"]);
    check("help".to_owned(), root.clone());
    // Every group and every subcommand, as their own help lists them.
    let listed = common::listed;
    let groups = listed(&root);
    assert_eq!(
        groups,
        [
            "peers",
            "tsigs",
            "acls",
            "incoming",
            "outgoing",
            "zones",
            "dns-settings",
            "doctor",
            "plan",
            "apply",
            "export",
            "schema"
        ]
    );
    let mut subcommands = 0;
    for group in &groups {
        let group_help = help(&[group, "--help"]);
        check(format!("help_{group}"), group_help.clone());
        for verb in listed(&group_help) {
            check(
                format!("help_{group}_{verb}"),
                help(&[group, &verb, "--help"]),
            );
            subcommands += 1;
        }
    }
    assert!(
        mismatched.is_empty(),
        "help snapshots that differ: {mismatched:?}"
    );
    // The 35 operations, and the two hand-written verbs (`incoming
    // create-from-file`, `zones convert`).
    assert_eq!(subcommands, 35 + 2);
}

#[test]
fn shell_completions() {
    for shell in ["bash", "zsh", "fish"] {
        let output = run(&["completions", shell], &[], None);
        assert!(output.status.success());
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains("force-axfr"), "{shell}");
    }
}

/// Whether `shell` is installed; CI installs all three, so there a missing
/// one fails instead of skipping.
fn have(shell: &str) -> bool {
    let found = Command::new(shell)
        .arg("-c")
        .arg("exit 0")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var_os("CI").is_none(),
        "{shell} is not installed"
    );
    if !found {
        eprintln!("skipped: {shell} is not installed");
    }
    found
}

/// A directory with the binary on its PATH and each shell's script.
fn completion_home() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cf-completions-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    let bin = dir.join("bin/cf-secondary-dns");
    if !bin.exists() {
        std::os::unix::fs::symlink(BINARY, &bin).unwrap();
    }
    for (shell, file) in [
        ("bash", "c.bash"),
        ("fish", "c.fish"),
        ("zsh", "_cf-secondary-dns"),
    ] {
        let script = run(&["completions", shell], &[], None).stdout;
        std::fs::write(dir.join(file), script).unwrap();
    }
    dir
}

/// Each shell completes a subcommand's own flags, by running its completion
/// (not only checking the script's syntax).
#[test]
fn each_shell_completes_subcommands_and_their_flags() {
    let home = completion_home();
    let path = format!("{}:/usr/bin:/bin", home.join("bin").display());
    let shell = |program: &str, script: &str| {
        let output = Command::new(program)
            .args(["-c", script])
            .env("PATH", &path)
            .env("HOME", &home)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    if have("bash") {
        let complete = |words: &str| {
            shell(
                "bash",
                &format!(
                    "source {}/c.bash; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
                     _cf__secondary__dns cf-secondary-dns \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; \
                     printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                    home.display()
                ),
            )
        };
        let flags = complete("cf-secondary-dns peers list --f");
        assert_eq!(flags.trim(), "--format", "bash: {flags}");
        let flags = complete("cf-secondary-dns peers update --");
        for flag in ["--peer-id", "--port", "--unset", "--dry-run"] {
            assert!(
                flags.lines().any(|l| l == flag),
                "bash lacks {flag}: {flags}"
            );
        }
        let commands = complete("cf-secondary-dns peers upd");
        assert!(commands.lines().any(|l| l == "update"), "bash: {commands}");
        let commands = complete("cf-secondary-dns inc");
        assert!(
            commands.lines().any(|l| l == "incoming"),
            "bash: {commands}"
        );
    }
    if have("fish") {
        let complete = |line: &str| {
            shell(
                "fish",
                &format!(
                    "source {}/c.fish; complete --do-complete '{line}'",
                    home.display()
                ),
            )
        };
        let flags = complete("cf-secondary-dns peers list --f");
        assert!(flags.starts_with("--format\t"), "fish: {flags}");
        let flags = complete("cf-secondary-dns peers update --");
        for flag in ["--peer-id", "--port", "--unset"] {
            assert!(
                flags.lines().any(|l| l.starts_with(&format!("{flag}\t"))),
                "fish lacks {flag}: {flags}"
            );
        }
        let commands = complete("cf-secondary-dns peers upd");
        assert!(
            commands.lines().any(|l| l.starts_with("update")),
            "fish: {commands}"
        );
    }
    if have("zsh") {
        // zsh completes only in an interactive line editor: drive one in a
        // pseudo-terminal (zpty), type the words and a TAB, read the listing.
        // The listing comes when zsh has started and run the completion, which
        // on a loaded machine takes seconds: read until the flags awaited show
        // (or 60 s pass), not for a fixed time.
        let complete = |line: &str, awaited: &[&str]| {
            let awaited: Vec<String> = awaited
                .iter()
                .map(|flag| format!("$out == *\"{flag}\"*"))
                .collect();
            let awaited = awaited.join(" && ");
            let script = format!(
                r#"zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z 'PS1="> "; fpath=({home} $fpath); autoload -U compinit; compinit -u -D; setopt nobeep; LISTMAX=1000'
zpty -w -n z "{line}"$'\t'
out=""
for i in {{1..300}}; do
  while zpty -r -t z chunk; do out+=$chunk; done
  [[ {awaited} ]] && break
  sleep 0.2
done
while zpty -r -t z chunk; do out+=$chunk; done
print -r -- "$out"
zpty -d z"#,
                home = home.display()
            );
            shell("zsh", &script)
        };
        let flags = ["--account-id", "--format", "--show-secrets"];
        let listing = complete("cf-secondary-dns peers list --", &flags);
        for flag in flags {
            assert!(listing.contains(flag), "zsh lacks {flag}: {listing:?}");
        }
        let flags = ["--peer-id", "--unset", "--ixfr-enable"];
        let listing = complete("cf-secondary-dns peers update --", &flags);
        for flag in flags {
            assert!(listing.contains(flag), "zsh lacks {flag}: {listing:?}");
        }
    }
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn a_man_page() {
    let output = run(&["man"], &[], None);
    assert!(output.status.success());
    let page = String::from_utf8(output.stdout).unwrap();
    assert!(
        page.starts_with(".ie"),
        "roff: {}",
        &page[..80.min(page.len())]
    );
    assert!(page.contains(".TH cf-secondary-dns 1"), "{page}");
    assert!(
        page.contains("cf\\-secondary\\-dns\\-incoming(1)"),
        "the subcommands are listed"
    );
}

/// An update changes only the flags it is given, says what changed, can
/// clear an optional field, and refuses what it would ignore.
#[test]
fn updates_edit_only_what_the_flags_name() {
    let (url, _thread, _stop) = stand_in();
    let before = ok(&cli(&url, &["peers", "get", "--peer-id", EXAMPLE_PEER_ID]));

    // A typo'd or forgotten --name no longer renames: only --port is sent as new.
    let run = cli(
        &url,
        &[
            "peers",
            "update",
            "--peer-id",
            EXAMPLE_PEER_ID,
            "--port",
            "5353",
        ],
    );
    let after = edited(&run);
    assert_eq!(run.stderr, "  port: 53 → 5353\n");
    let mut expected = before.clone();
    expected["port"] = 5353.into();
    assert_eq!(after, expected);

    // The same again: nothing to change, nothing sent, success.
    let again = cli(
        &url,
        &[
            "peers",
            "update",
            "--peer-id",
            EXAMPLE_PEER_ID,
            "--port",
            "5353",
        ],
    );
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert_eq!(again.stdout, "");
    assert!(
        again.stderr.contains("nothing to change"),
        "{}",
        again.stderr
    );

    // A dry run prints the body it would send and sends nothing.
    let dry = cli(
        &url,
        &[
            "peers",
            "update",
            "--peer-id",
            EXAMPLE_PEER_ID,
            "--unset",
            "tsig-id",
            "--ip",
            "192.0.2.1",
            "--dry-run",
        ],
    );
    assert_eq!(dry.status, 0, "{}", dry.stderr);
    let body: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"name": "my-peer-1", "ip": "192.0.2.1", "port": 5353, "ixfr_enable": false})
    );
    assert!(
        dry.stderr
            .contains("tsig_id: 69cd1e104af3e6ed3cb344f263fd0d5a → (unset)"),
        "{}",
        dry.stderr
    );
    assert!(dry.stderr.contains("nothing was sent"), "{}", dry.stderr);
    assert_eq!(
        ok(&cli(&url, &["peers", "get", "--peer-id", EXAMPLE_PEER_ID])),
        after
    );

    // Removing the TSIG key for real.
    let cleared = edited(&cli(
        &url,
        &[
            "peers",
            "update",
            "--peer-id",
            EXAMPLE_PEER_ID,
            "--unset",
            "tsig-id",
        ],
    ));
    assert_eq!(cleared.get("tsig_id"), None, "{cleared}");

    // Refused before any request: a required field, an unknown one, a body
    // file with a flag it would override, an invalid TSIG id in the body.
    for (args, says) in [
        (vec!["--unset", "name"], "requires it"),
        (vec!["--unset", "colour"], "no such optional field"),
        (
            vec!["--json-body", "/dev/null", "--port", "3"],
            "cannot be used with",
        ),
        (
            vec!["--tsig-id", "not-an-id"],
            "tsig_id must be 32 lowercase hexadecimal characters",
        ),
    ] {
        let mut line = vec!["peers", "update", "--peer-id", EXAMPLE_PEER_ID];
        line.extend(args);
        let refused = cli(&url, &line);
        assert_eq!(refused.status, 2, "{line:?}: {}", refused.stderr);
        assert!(
            refused.stderr.contains(says),
            "{line:?}: {}",
            refused.stderr
        );
    }
    assert_eq!(
        ok(&cli(&url, &["peers", "get", "--peer-id", EXAMPLE_PEER_ID])),
        cleared
    );
}

/// Rotating a TSIG secret alone keeps the name and algorithm.
#[test]
fn a_tsig_secret_rotates_alone() {
    let (url, _thread, _stop) = stand_in();
    let run = cli_with(
        &url,
        &[
            "tsigs",
            "update",
            "--tsig-id",
            EXAMPLE_TSIG_ID,
            "--secret-env",
            "NEW_SECRET",
        ],
        &[("NEW_SECRET", "bmV3LXNlY3JldA==")],
        None,
    );
    let updated = edited(&run);
    assert_eq!(run.stderr, "  secret: [REDACTED] → [REDACTED]\n");
    assert!(!run.stdout.contains("bmV3LXNlY3JldA=="));
    let shown = ok(&cli(
        &url,
        &[
            "tsigs",
            "get",
            "--tsig-id",
            EXAMPLE_TSIG_ID,
            "--show-secrets",
        ],
    ));
    assert_eq!(shown["secret"], "bmV3LXNlY3JldA==");
    assert_eq!(
        (&shown["name"], &shown["algo"]),
        (&updated["name"], &updated["algo"])
    );
}

#[test]
fn safety_and_scripting_flags() {
    let (url, _thread, _stop) = stand_in();
    // Found by name.
    let by_name = ok(&cli(&url, &["peers", "get", "--name", "my-peer-1"]));
    assert_eq!(by_name["id"], EXAMPLE_PEER_ID);
    let none = cli(&url, &["peers", "get", "--name", "nope"]);
    assert_eq!(none.status, 4, "{}", none.stderr);

    // A create's dry run shows the body; a delete's names what it would delete.
    let dry = cli(&url, &["peers", "create", "--name", "p2", "--dry-run"]);
    assert_eq!(dry.status, 0, "{}", dry.stderr);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&dry.stdout).unwrap(),
        serde_json::json!({"name": "p2"})
    );
    let dry = cli(
        &url,
        &["peers", "delete", "--peer-id", EXAMPLE_PEER_ID, "--dry-run"],
    );
    assert_eq!((dry.status, dry.stdout.as_str()), (0, ""), "{}", dry.stderr);
    assert!(dry.stderr.contains(EXAMPLE_PEER_ID), "{}", dry.stderr);
    let listed = ok(&cli(&url, &["peers", "list"]));
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "nothing was created or deleted"
    );

    // Not a terminal: --yes deletes (without it, see `deletes_are_safe_in_scripts`).
    let deleted = ok(&cli(
        &url,
        &["peers", "delete", "--peer-id", EXAMPLE_PEER_ID, "--yes"],
    ));
    assert_eq!(deleted["id"], EXAMPLE_PEER_ID);

    // create-peer takes a name only, and says where the rest goes.
    let ip = cli(
        &url,
        &["peers", "create", "--name", "p", "--ip", "192.0.2.1"],
    );
    assert_eq!(ip.status, 2);
    assert!(
        ip.stderr
            .contains("peers update --peer-id <the new id> --ip"),
        "{}",
        ip.stderr
    );

    // A missing account says where it comes from.
    let output = run(
        &["peers", "list"],
        &[("CLOUDFLARE_API_TOKEN", "t"), ("CLOUDFLARE_BASE_URL", &url)],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CLOUDFLARE_ACCOUNT_ID"));

    // Retries and timeouts from the command line; a 429 says when to come back.
    let limited = failing_server(429, "retry-after: 120\r\n");
    let run = cli(&limited, &["peers", "list", "--max-retries", "0"]);
    assert_eq!(run.status, 6, "{}", run.stderr);
    assert!(run.stderr.contains("retry after 2 min"), "{}", run.stderr);
    let busy = failing_server(503, "");
    let once = cli(
        &busy,
        &["peers", "list", "--max-retries", "0", "--timeout", "5"],
    );
    assert!(!once.stderr.contains("attempts"), "{}", once.stderr);
    let twice = cli(&busy, &["peers", "list", "--max-retries", "1"]);
    assert!(
        twice.stderr.contains("(after 2 attempts)"),
        "{}",
        twice.stderr
    );
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
    let run = cli(&server, &["peers", "list", "--format", "table"]);
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
    let json = ok(&cli(&server, &["peers", "list"]));
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
        &["peers", "list"],
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

/// Every ACL, incoming and outgoing command against the stand-in, in the
/// order of the documented workflows.
#[test]
fn every_acl_and_zone_command_against_the_stand_in() {
    let (url, _thread, _stop) = stand_in();
    let zone = "269d8f4853475ca241c4e730be286b20";
    let primary = "00920f38ce07c2e2f4df50b1f61d4194";

    // ACLs: list, create, get (by id and by name), update, delete.
    let listed = ok(&cli(&url, &["acls", "list"]));
    assert_eq!(listed[0]["ip_range"], "192.0.2.53/28");
    let created = ok(&cli(
        &url,
        &[
            "acls",
            "create",
            "--name",
            "office",
            "--ip-range",
            "192.0.2.48/28",
        ],
    ));
    let acl_id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["ip_range"], "192.0.2.48/28");
    assert_eq!(
        ok(&cli(&url, &["acls", "get", "--acl-id", &acl_id]))["name"],
        "office"
    );
    assert_eq!(
        ok(&cli(&url, &["acls", "get", "--name", "office"]))["id"],
        acl_id.as_str()
    );
    let updated = edited(&cli(
        &url,
        &[
            "acls",
            "update",
            "--acl-id",
            &acl_id,
            "--ip-range",
            "2001:db8::/64",
        ],
    ));
    assert_eq!(
        (updated["name"].as_str(), updated["ip_range"].as_str()),
        (Some("office"), Some("2001:db8::/64"))
    );
    let wide = cli(
        &url,
        &["acls", "create", "--name", "x", "--ip-range", "10.0.0.0/8"],
    );
    assert_eq!(wide.status, 2, "{}", wide.stderr);
    assert!(
        wide.stderr.contains("at most a /24 for IPv4"),
        "{}",
        wide.stderr
    );
    assert_eq!(
        ok(&cli(
            &url,
            &["acls", "delete", "--acl-id", &acl_id, "--yes"]
        ))["id"],
        acl_id.as_str()
    );

    // Cloudflare as secondary: incoming create (waiting for the first
    // transfer), get, update, force-axfr (waiting for the new serial), delete.
    let first = ok(&cli(
        &url,
        &[
            "incoming",
            "create",
            "--zone-id",
            zone,
            "--name",
            "example.com.",
            "--peers",
            EXAMPLE_PEER_ID,
            "--wait",
            "--wait-timeout",
            "30",
        ],
    ));
    assert_eq!(first["soa_serial"], 2_019_102_400);
    assert_eq!(first["auto_refresh_seconds"], 86_400);
    assert_eq!(
        ok(&cli(&url, &["incoming", "get", "--zone-id", zone]))["peers"][0],
        EXAMPLE_PEER_ID
    );
    let updated = edited(&cli(
        &url,
        &[
            "incoming",
            "update",
            "--zone-id",
            zone,
            "--auto-refresh-seconds",
            "3600",
        ],
    ));
    assert_eq!(
        (
            updated["auto_refresh_seconds"].as_i64(),
            updated["name"].as_str()
        ),
        (Some(3600), Some("example.com."))
    );
    let low = cli(
        &url,
        &[
            "incoming",
            "update",
            "--zone-id",
            zone,
            "--auto-refresh-seconds",
            "60",
        ],
    );
    assert_eq!(low.status, 2, "{}", low.stderr);
    assert!(
        low.stderr.contains("it must be at least 300"),
        "{}",
        low.stderr
    );
    assert_eq!(
        ok(&cli(&url, &["incoming", "force-axfr", "--zone-id", zone])),
        "OK"
    );
    let transferred = ok(&cli(
        &url,
        &["incoming", "force-axfr", "--zone-id", zone, "--wait"],
    ));
    // The first force was still pending when the second came: one transfer.
    assert_eq!(transferred["soa_serial"], 2_019_102_401);
    let dry = cli(
        &url,
        &["incoming", "force-axfr", "--zone-id", zone, "--dry-run"],
    );
    assert_eq!(dry.status, 0);
    assert!(
        dry.stderr.contains("would send force axfr"),
        "{}",
        dry.stderr
    );
    // The peer is in use by the zone.
    let in_use = cli(
        &url,
        &["peers", "delete", "--peer-id", EXAMPLE_PEER_ID, "--yes"],
    );
    assert_eq!(in_use.status, 1, "{}", in_use.stderr);
    assert!(
        in_use.stderr.contains("in use by the zone"),
        "{}",
        in_use.stderr
    );
    assert_eq!(
        ok(&cli(
            &url,
            &["incoming", "delete", "--zone-id", zone, "--yes"]
        ))["id"],
        zone
    );
    assert_eq!(cli(&url, &["incoming", "get", "--zone-id", zone]).status, 4);

    // Cloudflare as primary: outgoing create, get, update, status, enable
    // (waiting), force-notify, disable, delete.
    let created = ok(&cli(
        &url,
        &[
            "outgoing",
            "create",
            "--zone-id",
            primary,
            "--name",
            "example.com.",
            "--peers",
            EXAMPLE_PEER_ID,
        ],
    ));
    assert_eq!(created["id"], primary);
    assert_eq!(
        ok(&cli(&url, &["outgoing", "get", "--zone-id", primary]))["name"],
        "example.com."
    );
    let updated = edited(&cli(
        &url,
        &[
            "outgoing",
            "update",
            "--zone-id",
            primary,
            "--name",
            "example.net.",
        ],
    ));
    assert_eq!(updated["name"], "example.net.");
    assert_eq!(
        ok(&cli(&url, &["outgoing", "status", "--zone-id", primary])),
        "Disabled"
    );
    let refused = cli(&url, &["outgoing", "force-notify", "--zone-id", primary]);
    assert_eq!(refused.status, 1, "{}", refused.stderr);
    assert_eq!(
        ok(&cli(
            &url,
            &["outgoing", "enable", "--zone-id", primary, "--wait"]
        )),
        "Enabled"
    );
    assert_eq!(
        ok(&cli(
            &url,
            &["outgoing", "force-notify", "--zone-id", primary]
        )),
        "OK"
    );
    assert_eq!(
        ok(&cli(&url, &["outgoing", "disable", "--zone-id", primary])),
        "Disabled"
    );
    assert_eq!(
        ok(&cli(
            &url,
            &["outgoing", "delete", "--zone-id", primary, "--yes"]
        ))["id"],
        primary
    );

    // Bad ids and too many peers are refused before any request.
    let bad = cli(&url, &["incoming", "get", "--zone-id", "../accounts"]);
    assert_eq!(bad.status, 2);
    let peers: Vec<String> = (0..31).map(|i| format!("{i:032x}")).collect();
    let many = cli(
        &url,
        &[
            "outgoing",
            "create",
            "--zone-id",
            primary,
            "--name",
            "x.",
            "--peers",
            &peers.join(","),
        ],
    );
    assert_eq!(many.status, 2, "{}", many.stderr);
    assert!(
        many.stderr
            .contains("`peers` has 31 items; at most 30 are allowed"),
        "{}",
        many.stderr
    );
}

/// `--wait` gives up at its deadline, says what it last saw, and exits 9.
#[test]
fn a_wait_that_times_out_exits_9() {
    // A zone whose transfers stay disabled whatever is asked.
    let stuck = canned_server(
        200,
        "",
        r#"{"success":true,"errors":[],"messages":[],"result":"Disabled"}"#.to_owned(),
    );
    let zone = "00920f38ce07c2e2f4df50b1f61d4194";
    let started = std::time::Instant::now();
    let waited = cli(
        &stuck,
        &[
            "outgoing",
            "enable",
            "--zone-id",
            zone,
            "--wait",
            "--wait-timeout",
            "3",
        ],
    );
    assert_eq!(waited.status, 9, "{}", waited.stderr);
    assert!(
        waited.stderr.starts_with("error: timed out after 3 s (")
            && waited.stderr.contains(
                "waiting for outgoing transfers to be enabled; last seen: status Disabled"
            ),
        "{}",
        waited.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(waited.stdout, "", "nothing printed but the error");
}

#[test]
fn incoming_create_from_file_reports_each_zone_and_resumes() {
    let (url, _thread, _stop) = stand_in();
    let list = "# zones to move\n\
                269d8f4853475ca241c4e730be286b20 example.com.\n\
                369d8f4853475ca241c4e730be286b20 example.net.\n\
                not-a-zone example.org.\n";
    let args = [
        "incoming",
        "create-from-file",
        "-",
        "--peers",
        EXAMPLE_PEER_ID,
        "--concurrency",
        "2",
    ];
    let lines = |run: &Run| -> Vec<serde_json::Value> {
        let mut lines: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect();
        lines.sort_by_key(|l| l["line"].as_u64());
        lines
    };
    let first = cli_with(&url, &args, &[], Some(list));
    // A bad line is a failure of the run, reported with its number.
    assert_eq!(first.status, 1, "{}", first.stderr);
    assert_eq!(
        lines(&first),
        [
            serde_json::json!({"line": 2, "zone_id": "269d8f4853475ca241c4e730be286b20", "name": "example.com.", "outcome": "configured"}),
            serde_json::json!({"line": 3, "zone_id": "369d8f4853475ca241c4e730be286b20", "name": "example.net.", "outcome": "configured"}),
            serde_json::json!({"line": 4, "outcome": "bad line", "error": "zone_id must be 32 lowercase hexadecimal characters, got \"not-a-zone\""}),
        ]
    );
    // The rerun carries on: what was done is skipped; a new zone is created.
    let list = "269d8f4853475ca241c4e730be286b20 example.com.\n\
                369d8f4853475ca241c4e730be286b20 example.net.\n\
                469d8f4853475ca241c4e730be286b20 example.org.\n";
    let again = cli_with(&url, &args, &[], Some(list));
    assert_eq!(again.status, 0, "{}", again.stderr);
    let outcomes: Vec<_> = lines(&again).iter().map(|l| l["outcome"].clone()).collect();
    assert_eq!(
        outcomes,
        ["already configured", "already configured", "configured"]
    );
    // A zone Cloudflare refuses (an unknown peer) is a line of its own, with the error.
    let refused = cli_with(
        &url,
        &[
            "--format",
            "table",
            "incoming",
            "create-from-file",
            "-",
            "--peers",
            "ffffffffffffffffffffffffffffffff",
        ],
        &[],
        Some("569d8f4853475ca241c4e730be286b20 example.info.\n"),
    );
    assert_eq!(refused.status, 1);
    assert!(
        refused.stdout.starts_with(
            "line 1 569d8f4853475ca241c4e730be286b20 example.info.: failed: Cloudflare API error, HTTP 400"
        ),
        "{}",
        refused.stdout
    );
    // --dry-run sends nothing.
    let dry = cli_with(
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
        Some("669d8f4853475ca241c4e730be286b20 example.dev.\n"),
    );
    assert_eq!(dry.status, 0);
    assert_eq!(
        dry.stdout,
        "{\"line\":1,\"name\":\"example.dev.\",\"outcome\":\"would configure\",\"zone_id\":\"669d8f4853475ca241c4e730be286b20\"}\n"
    );
    let read = cli(
        &url,
        &[
            "incoming",
            "get",
            "--zone-id",
            "669d8f4853475ca241c4e730be286b20",
        ],
    );
    assert_eq!(read.status, 4, "not created: {}", read.stdout);
}
