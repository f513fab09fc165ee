//! Path parameters that could change which URL is requested are refused
//! before anything reaches the network.

use cloudflare_secondary_dns::{Client, Credentials, Error, types};
use sdk_tests::{EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, recorded_requests, start_stand_in};

const HOSTILE_IDS: &[&str] = &[
    "",
    ".",
    "..",
    "../zones",
    "a/b",
    "%2e%2e",
    "23ff594956f20c2a721606e94745a8a\r\n",
    "23ff594956f20c2a721606e94745a8\u{e9}",
    "23ff594956f20c2a721606e94745a8aa0", // 33 hex characters
    "23FF594956F20C2A721606E94745A8AA",  // upper case: not Cloudflare's form
];

#[tokio::test]
async fn hostile_ids_are_refused_without_a_request() {
    let server = start_stand_in().await;
    let client = Client::builder(Credentials::api_token("t"))
        .base_url(server.uri())
        .build()
        .unwrap();
    let mut table = String::new();
    for &hostile in HOSTILE_IDS {
        for param in ["account_id", "peer_id"] {
            let (account_id, peer_id) = match param {
                "account_id" => (hostile, EXAMPLE_PEER_ID),
                _ => (EXAMPLE_ACCOUNT_ID, hostile),
            };
            let err = client
                .update_peer()
                .account_id(account_id)
                .peer_id(peer_id)
                .body(types::PeerUpdate::builder().name("x"))
                .send()
                .await
                .unwrap_err();
            let Error::InvalidRequest(reason) = err.raw() else {
                panic!("{param}={hostile:?}: {err:?}")
            };
            assert!(reason.contains(param), "{param}={hostile:?}: {reason}");
            table.push_str(&format!(
                "{param:<10} {:<38} -> {}\n",
                format!("{hostile:?}"),
                err.report()
            ));
        }
    }
    assert_eq!(
        recorded_requests(&server).await,
        Vec::<serde_json::Value>::new(),
        "a hostile id reached the server"
    );
    insta::assert_snapshot!(table);
}

#[test]
fn the_identifier_types_say_why_a_value_is_refused() {
    use cloudflare_secondary_dns::{AccountIdentifier, PeerIdentifier, TsigIdentifier};
    let reason = |s: &str| PeerIdentifier::try_from(s).unwrap_err().to_string();
    assert_eq!(
        reason(".."),
        r#"peer_id must be 32 lowercase hexadecimal characters, got "..""#
    );
    assert_eq!(
        TsigIdentifier::try_from("../zones")
            .unwrap_err()
            .to_string(),
        r#"tsig_id must be 32 lowercase hexadecimal characters, got "../zones""#
    );
    assert!(AccountIdentifier::try_from(EXAMPLE_ACCOUNT_ID).is_ok());
}

#[tokio::test]
async fn the_report_of_a_refused_id_names_the_rule() {
    let client = Client::builder(Credentials::api_token("t"))
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    let err = client
        .get_tsig()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .tsig_id("..")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.report().to_string(),
        "invalid request, nothing was sent: tsig_id must be 32 lowercase hexadecimal characters"
    );
}

/// Calls `operation` with `account_id` and, where it has one, `id` as its
/// peer or TSIG id.
async fn call(
    client: &Client,
    operation: &str,
    account_id: &str,
    id: &str,
) -> cloudflare_secondary_dns::ApiError {
    let peer = || types::PeerUpdate::builder().name("x");
    let tsig = || types::TsigInput::builder().name("x").algo("x").secret("x");
    let result = match operation {
        "list_peers" => client
            .list_peers()
            .account_id(account_id)
            .send()
            .await
            .map(drop),
        "create_peer" => client
            .create_peer()
            .account_id(account_id)
            .body(types::PeerCreate::builder().name("x"))
            .send()
            .await
            .map(drop),
        "get_peer" => client
            .get_peer()
            .account_id(account_id)
            .peer_id(id)
            .send()
            .await
            .map(drop),
        "update_peer" => client
            .update_peer()
            .account_id(account_id)
            .peer_id(id)
            .body(peer())
            .send()
            .await
            .map(drop),
        "delete_peer" => client
            .delete_peer()
            .account_id(account_id)
            .peer_id(id)
            .send()
            .await
            .map(drop),
        "list_tsigs" => client
            .list_tsigs()
            .account_id(account_id)
            .send()
            .await
            .map(drop),
        "create_tsig" => client
            .create_tsig()
            .account_id(account_id)
            .body(tsig())
            .send()
            .await
            .map(drop),
        "get_tsig" => client
            .get_tsig()
            .account_id(account_id)
            .tsig_id(id)
            .send()
            .await
            .map(drop),
        "update_tsig" => client
            .update_tsig()
            .account_id(account_id)
            .tsig_id(id)
            .body(tsig())
            .send()
            .await
            .map(drop),
        "delete_tsig" => client
            .delete_tsig()
            .account_id(account_id)
            .tsig_id(id)
            .send()
            .await
            .map(drop),
        other => panic!("unknown operation {other}"),
    };
    result.expect_err(operation)
}

#[tokio::test]
async fn every_operation_refuses_hostile_ids_without_a_request() {
    let server = start_stand_in().await;
    let client = Client::builder(Credentials::api_token("t"))
        .base_url(server.uri())
        .build()
        .unwrap();
    // (operation, the parameter its second id fills)
    let operations = [
        ("list_peers", None),
        ("create_peer", None),
        ("get_peer", Some("peer_id")),
        ("update_peer", Some("peer_id")),
        ("delete_peer", Some("peer_id")),
        ("list_tsigs", None),
        ("create_tsig", None),
        ("get_tsig", Some("tsig_id")),
        ("update_tsig", Some("tsig_id")),
        ("delete_tsig", Some("tsig_id")),
    ];
    let mut refused = 0;
    for (operation, id_param) in operations {
        for &hostile in HOSTILE_IDS {
            let err = call(&client, operation, hostile, EXAMPLE_PEER_ID).await;
            assert!(
                matches!(err.raw(), Error::InvalidRequest(r) if r.contains("account_id")),
                "{operation}: {err}"
            );
            refused += 1;
            if let Some(param) = id_param {
                let err = call(&client, operation, EXAMPLE_ACCOUNT_ID, hostile).await;
                assert!(
                    matches!(err.raw(), Error::InvalidRequest(r) if r.contains(param)),
                    "{operation}: {err}"
                );
                refused += 1;
            }
        }
    }
    assert_eq!(refused, HOSTILE_IDS.len() * 16);
    assert!(
        recorded_requests(&server).await.is_empty(),
        "a hostile id reached the server"
    );
}
