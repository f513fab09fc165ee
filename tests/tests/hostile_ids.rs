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
            let Error::InvalidRequest(reason) = &err else {
                panic!("{param}={hostile:?}: {err:?}")
            };
            assert!(reason.contains(param), "{param}={hostile:?}: {reason}");
            table.push_str(&format!(
                "{param:<10} {:<38} -> {err}\n",
                format!("{hostile:?}")
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
    let reason = |s: &str| types::PeerIdentifier::try_from(s).unwrap_err().to_string();
    assert_eq!(reason(".."), "shorter than 32 characters");
    assert_eq!(
        reason("23ff594956f20c2a721606e94745a8aa0"),
        "longer than 32 characters"
    );
    assert_eq!(
        reason("../zones/23ff594956f20c2a721606e94"),
        "longer than 32 characters"
    );
    assert_eq!(
        reason("23ff594956f20c2a721606e94745a8a."),
        "doesn't match pattern \"^[0-9a-f]{32}$\""
    );
    assert!(types::AccountIdentifier::try_from(EXAMPLE_ACCOUNT_ID).is_ok());
}
