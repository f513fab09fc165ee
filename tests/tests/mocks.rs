//! A consumer's tests, written with the typed mocks of `sdk-httpmock`: every
//! operation through its generated `MockServerExt` method, and a failure
//! envelope reaching the caller as a typed error.

// `then.ok(&typed(..))`: the `&` is what lets `typed`'s type be inferred
// from the matcher (clippy's suggestion to drop it does not compile).
#![allow(clippy::needless_borrows_for_generic_args)]

use cloudflare_secondary_dns::{
    AccountIdentifier, Client, Credentials, ErrorKind, PeerIdentifier, TsigIdentifier, types,
};
use cloudflare_secondary_dns_httpmock::MockServerExt;
use httpmock::MockServer;
use sdk_tests::{EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, EXAMPLE_TSIG_ID, example_tsig_secret};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn client(server: &MockServer) -> Client {
    Client::builder(Credentials::api_token("test-token"))
        .base_url(server.base_url())
        .max_retries(0)
        .build()
        .unwrap()
}

fn typed<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid envelope")
}

fn ids() -> (AccountIdentifier, PeerIdentifier, TsigIdentifier) {
    (
        EXAMPLE_ACCOUNT_ID.parse().unwrap(),
        EXAMPLE_PEER_ID.parse().unwrap(),
        EXAMPLE_TSIG_ID.parse().unwrap(),
    )
}

fn peer() -> Value {
    json!({"id": EXAMPLE_PEER_ID, "name": "my-peer-1", "ip": "192.0.2.53", "port": 53})
}

fn tsig() -> Value {
    json!({"id": EXAMPLE_TSIG_ID, "name": "tsig.customer.cf.", "algo": "hmac-sha512.",
           "secret": example_tsig_secret()})
}

fn success(result: Value) -> Value {
    json!({"success": true, "errors": [], "messages": [], "result": result})
}

#[tokio::test]
async fn every_peer_operation_through_its_typed_mock() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    let (account, peer_id, _) = ids();

    let list = server.list_peers(|when, then| {
        when.account_id(&account);
        then.ok(&typed(success(json!([peer()]))));
    });
    let create_body: types::PeerCreate = types::PeerCreate::builder()
        .name("my-peer-1")
        .try_into()
        .unwrap();
    let create = server.create_peer(|when, then| {
        when.account_id(&account).body(&create_body);
        then.ok(&typed(success(
            json!({"id": EXAMPLE_PEER_ID, "name": "my-peer-1"}),
        )));
    });
    let get = server.get_peer(|when, then| {
        when.account_id(&account).peer_id(&peer_id);
        then.ok(&typed(success(peer())));
    });
    let update_body: types::PeerUpdate = types::PeerUpdate::builder()
        .name("my-peer-1")
        .ip(Some("192.0.2.53".parse().unwrap()))
        .port(Some(53))
        .try_into()
        .unwrap();
    let update = server.update_peer(|when, then| {
        when.account_id(&account)
            .peer_id(&peer_id)
            .body(&update_body);
        then.ok(&typed(success(peer())));
    });
    let delete = server.delete_peer(|when, then| {
        when.account_id(&account).peer_id(&peer_id);
        then.ok(&typed(success(json!({"id": EXAMPLE_PEER_ID}))));
    });

    let listed = client
        .list_peers()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.into_inner().result.unwrap()[0].name, "my-peer-1");
    let created = client
        .create_peer()
        .account_id(&account)
        .body(create_body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(created.into_inner().result.unwrap().id, EXAMPLE_PEER_ID);
    let got = client
        .get_peer()
        .account_id(&account)
        .peer_id(&peer_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.into_inner().result.unwrap().port, Some(53));
    let updated = client
        .update_peer()
        .account_id(&account)
        .peer_id(&peer_id)
        .body(update_body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.into_inner().result.unwrap().ip,
        Some("192.0.2.53".parse().unwrap())
    );
    let deleted = client
        .delete_peer()
        .account_id(&account)
        .peer_id(&peer_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted.into_inner().result.unwrap().id.as_deref(),
        Some(EXAMPLE_PEER_ID)
    );

    for mock in [list, create, get, update, delete] {
        mock.assert_async().await;
    }
}

#[tokio::test]
async fn every_tsig_operation_through_its_typed_mock() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    let (account, _, tsig_id) = ids();
    let input: types::TsigInput = types::TsigInput::builder()
        .name("tsig.customer.cf.")
        .algo("hmac-sha512.")
        .secret(example_tsig_secret())
        .try_into()
        .unwrap();

    let list = server.list_tsigs(|when, then| {
        when.account_id(&account);
        then.ok(&typed(success(json!([tsig()]))));
    });
    let create = server.create_tsig(|when, then| {
        when.account_id(&account).body(&input);
        then.ok(&typed(success(tsig())));
    });
    let get = server.get_tsig(|when, then| {
        when.account_id(&account).tsig_id(&tsig_id);
        then.ok(&typed(success(tsig())));
    });
    let update = server.update_tsig(|when, then| {
        when.account_id(&account).tsig_id(&tsig_id).body(&input);
        then.ok(&typed(success(tsig())));
    });
    let delete = server.delete_tsig(|when, then| {
        when.account_id(&account).tsig_id(&tsig_id);
        then.ok(&typed(success(json!({"id": EXAMPLE_TSIG_ID}))));
    });

    let listed = client
        .list_tsigs()
        .account_id(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.into_inner().result.unwrap().len(), 1);
    let created = client
        .create_tsig()
        .account_id(&account)
        .body(input.clone())
        .send()
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!(created.secret.expose_secret(), example_tsig_secret());
    let got = client
        .get_tsig()
        .account_id(&account)
        .tsig_id(&tsig_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.into_inner().result.unwrap().algo, "hmac-sha512.");
    client
        .update_tsig()
        .account_id(&account)
        .tsig_id(&tsig_id)
        .body(input.clone())
        .send()
        .await
        .unwrap();
    let deleted = client
        .delete_tsig()
        .account_id(&account)
        .tsig_id(&tsig_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted.into_inner().result.unwrap().id.as_deref(),
        Some(EXAMPLE_TSIG_ID)
    );

    for mock in [list, create, get, update, delete] {
        mock.assert_async().await;
    }
}

#[tokio::test]
async fn a_404_envelope_reaches_the_caller_as_not_found() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    let (account, peer_id, _) = ids();
    let failure: types::ApiResponseCommonFailure = typed(json!({
        "success": false,
        "errors": [{"code": 1003, "message": "peer not found"}],
        "messages": [],
        "result": null,
    }));
    let mock = server.get_peer(|when, then| {
        when.account_id(&account).peer_id(&peer_id);
        then.client_error(404, &failure);
    });

    let err = client
        .get_peer()
        .account_id(&account)
        .peer_id(&peer_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.http_status(), Some(404));
    assert_eq!(err.cloudflare_errors()[0].code, 1003);
    let report = err.report().to_string();
    assert!(report.contains("1003: peer not found"), "{report}");
    mock.assert_async().await;
}

#[tokio::test]
async fn a_mock_matches_only_its_own_identifiers_and_body() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    let (account, peer_id, _) = ids();
    let other: PeerIdentifier = "0123456789abcdef0123456789abcdef".parse().unwrap();
    let mock = server.get_peer(|when, then| {
        when.account_id(&account).peer_id(&other);
        then.ok(&typed(success(peer())));
    });
    // httpmock answers an unmatched request with 404 and no envelope.
    let err = client
        .get_peer()
        .account_id(&account)
        .peer_id(&peer_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(404));
    assert_eq!(mock.calls_async().await, 0);
}

/// The README's mock example is not compiled where it stands (the sdk's
/// doctests do not depend on the mocks crate); it is a copy of lines of
/// sdk-httpmock's crate documentation, which is compiled and run. This keeps
/// the copy true.
#[test]
fn the_readme_mock_example_is_taken_from_the_compiled_one() {
    let root = xtask::workspace_root();
    let readme = std::fs::read_to_string(root.join("sdk/README.md")).unwrap();
    let section = &readme[readme.find("## Testing your code: typed mocks").unwrap()..];
    let block = section
        .split("```rust,ignore\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    // The test's own frame (attribute, signature, closing brace) is the README's.
    let shown: Vec<&str> = block
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("//") && !line.is_empty())
        .filter(|line| !["#[tokio::test]", "async fn updates_the_port() {", "}"].contains(line))
        .collect();
    assert!(shown.len() >= 8, "{shown:?}");

    let lib = std::fs::read_to_string(root.join("sdk-httpmock/src/lib.rs")).unwrap();
    let compiled: Vec<&str> = lib
        .lines()
        .filter_map(|line| line.strip_prefix("//! ").or(line.strip_prefix("//!")))
        .map(str::trim)
        .collect();
    let mut rest = compiled.iter();
    for line in &shown {
        assert!(
            rest.any(|compiled| compiled == line),
            "README line {line:?} is not in sdk-httpmock's compiled example (in this order)"
        );
    }
}

/// The zone operations through their typed mocks: ids as `&str`, a body's
/// builder and a bare result, and a waiter reading a mocked zone.
#[tokio::test]
async fn zone_and_acl_operations_through_their_typed_mocks() {
    use cloudflare_secondary_dns::{ForceOutcome, ResponseExt, TransferStatus};
    let server = MockServer::start_async().await;
    let client = client(&server);
    let zone = "269d8f4853475ca241c4e730be286b20";
    let incoming: types::Incoming = typed(json!({
        "id": zone, "name": "example.com.", "peers": [EXAMPLE_PEER_ID],
        "auto_refresh_seconds": 86400, "soa_serial": 2019102401,
        "checked_time": "2019-10-24T17:09:42.883908+01:00"
    }));
    let create = server.create_incoming(|when, then| {
        when.zone_id(zone).body(
            types::IncomingInput::builder()
                .name("example.com.")
                .peers(vec![EXAMPLE_PEER_ID.parse().unwrap()]),
        );
        then.ok(incoming.clone());
    });
    let force = server.force_axfr(|when, then| {
        when.zone_id(zone).body(types::EmptyBody::builder());
        then.ok(&typed(success(json!("OK"))));
    });
    let get = server.get_incoming(|when, then| {
        when.zone_id(zone);
        then.ok(incoming.clone());
    });
    let status = server.get_outgoing_status(|when, then| {
        when.zone_id(zone);
        then.ok(&typed(success(json!("Enabled"))));
    });
    let acl = server.get_acl(|when, then| {
        when.account_id(EXAMPLE_ACCOUNT_ID).acl_id(EXAMPLE_PEER_ID);
        then.ok(&typed(success(
            json!({"id": EXAMPLE_PEER_ID, "name": "my-acl-1", "ip_range": "192.0.2.53/28"}),
        )));
    });

    let created = client
        .create_incoming()
        .zone_id(zone)
        .body(
            types::IncomingInput::builder()
                .name("example.com.")
                .peers(vec![EXAMPLE_PEER_ID.parse().unwrap()]),
        )
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(created, incoming);
    let outcome = client.force_axfr().zone_id(zone).send().await.unwrap();
    assert_eq!(outcome.into_result().unwrap(), ForceOutcome::Ok);
    let arrived = client
        .wait_for_transfer()
        .zone_id(zone)
        .serial_reached(2019102401)
        .wait()
        .await
        .unwrap();
    assert_eq!(arrived.soa_serial, Some(2019102401));
    let enabled = client
        .wait_for_outgoing_enabled()
        .zone_id(zone)
        .wait()
        .await
        .unwrap();
    assert_eq!(enabled, TransferStatus::Enabled);
    let read = client
        .get_acl()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .acl_id(EXAMPLE_PEER_ID)
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(read.ip_range.to_string(), "192.0.2.53/28");
    for mock in [create, force, get, status, acl] {
        mock.assert_async().await;
    }
}

/// A consumer's code that finds its zone by name and creates it when it is
/// missing, tested with the zone operations' typed mocks.
#[tokio::test]
async fn a_zone_found_or_created_through_the_typed_mocks() {
    use cloudflare_secondary_dns::ResponseExt;
    let server = MockServer::start_async().await;
    let client = client(&server);
    let account: AccountIdentifier = EXAMPLE_ACCOUNT_ID.parse().unwrap();
    let zone = json!({"id": "5ec0de00000000000000000000000001", "name": "example.org",
                      "type": "secondary", "status": "pending",
                      "name_servers": ["ns1001.secondary.cloudflare.com"]});
    let none = server.list_zones(|when, then| {
        when.name("example.org").account_id(&account);
        then.ok(&typed(success(json!([]))));
    });
    let body: types::ZoneCreate = types::ZoneCreate::builder()
        .name(
            "example.org"
                .parse::<cloudflare_secondary_dns::ZoneName>()
                .unwrap(),
        )
        .account(types::ZoneAccountRef::builder().id(account))
        .type_(Some(cloudflare_secondary_dns::ZoneType::Secondary))
        .try_into()
        .unwrap();
    let create = server.create_zone(|when, then| {
        when.body(&body);
        then.ok(&typed(success(zone.clone())));
    });

    let found = client.find_zone("example.org", Some(&account)).await;
    let created = match found {
        Err(cloudflare_secondary_dns::extras::zones::FindZoneError::NotFound { .. }) => client
            .create_zone()
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .into_result()
            .unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(created.name, "example.org");
    assert_eq!(
        created.status,
        Some(cloudflare_secondary_dns::ZoneStatus::Pending)
    );
    none.assert_calls(1);
    create.assert_calls(1);
}
