//! The operations beyond peers and TSIG keys: ACLs, and zones' incoming
//! (secondary) and outgoing (primary) transfers. The exact requests, what is
//! refused before sending, the stand-in's rules seen through the sdk, and
//! the waiters.

use std::time::Duration;

use cloudflare_secondary_dns::{
    ApiError, Client, Credentials, Error, ErrorKind, ForceOutcome, ResponseExt, TransferStatus,
    WaitError, types,
};
use sdk_tests::{
    EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, EXAMPLE_TSIG_ID, EXAMPLE_ZONE_ID, FIRST_SERIAL, StandIn,
    recorded_requests, start_stand_in,
};

const PRIMARY_ZONE: &str = "00920f38ce07c2e2f4df50b1f61d4194";

async fn client_and_stand_in() -> (Client, StandIn) {
    let server = start_stand_in().await;
    let client = Client::builder(Credentials::api_token("test-token-123"))
        .base_url(server.uri())
        .build()
        .unwrap();
    (client, server)
}

fn incoming(name: &str) -> types::builder::IncomingInput {
    types::IncomingInput::builder()
        .name(name)
        .peers(vec![EXAMPLE_PEER_ID.parse().unwrap()])
}

fn outgoing(name: &str) -> types::builder::OutgoingInput {
    types::OutgoingInput::builder()
        .name(name)
        .peers(vec![EXAMPLE_PEER_ID.parse().unwrap()])
}

/// One request of each of the 18 operations, in the documented order of
/// each workflow; each is pinned in its own snapshot (method, path, headers,
/// JSON body).
#[tokio::test]
async fn every_acl_and_zone_operation_sends_the_documented_request() {
    let (client, server) = client_and_stand_in().await;
    let account = EXAMPLE_ACCOUNT_ID;

    client.list_acls().account_id(account).send().await.unwrap();
    let acl = client
        .create_acl()
        .account_id(account)
        .body(
            types::AclInput::builder().name("my-acl-2").ip_range(
                "192.0.2.48/28"
                    .parse::<cloudflare_secondary_dns::IpRange>()
                    .unwrap(),
            ),
        )
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    client
        .get_acl()
        .account_id(account)
        .acl_id(acl.id.as_str())
        .send()
        .await
        .unwrap();
    let mut update = types::AclInput::from(&acl);
    update.name = "my-acl-3".to_owned();
    client
        .update_acl()
        .account_id(account)
        .acl_id(acl.id.as_str())
        .body(update)
        .send()
        .await
        .unwrap();
    client
        .delete_acl()
        .account_id(account)
        .acl_id(acl.id.as_str())
        .send()
        .await
        .unwrap();

    let zone = EXAMPLE_ZONE_ID;
    client
        .create_incoming()
        .zone_id(zone)
        .body(incoming("www.example.com."))
        .send()
        .await
        .unwrap();
    let read = client
        .get_incoming()
        .zone_id(zone)
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    let mut update = types::IncomingInput::from(&read);
    update.auto_refresh_seconds = Some(3600);
    client
        .update_incoming()
        .zone_id(zone)
        .body(update)
        .send()
        .await
        .unwrap();
    let forced = client.force_axfr().zone_id(zone).send().await.unwrap();
    assert_eq!(forced.into_result().unwrap(), ForceOutcome::Ok);
    client.delete_incoming().zone_id(zone).send().await.unwrap();

    let zone = PRIMARY_ZONE;
    client
        .create_outgoing()
        .zone_id(zone)
        .body(outgoing("example.com."))
        .send()
        .await
        .unwrap();
    let read = client
        .get_outgoing()
        .zone_id(zone)
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    let mut update = types::OutgoingInput::from(&read);
    update.name = "example.net.".to_owned();
    client
        .update_outgoing()
        .zone_id(zone)
        .body(update)
        .send()
        .await
        .unwrap();
    let enabled = client.enable_outgoing().zone_id(zone).send().await.unwrap();
    assert_eq!(enabled.into_result().unwrap(), TransferStatus::Enabled);
    let status = client
        .get_outgoing_status()
        .zone_id(zone)
        .send()
        .await
        .unwrap();
    assert_eq!(status.into_result().unwrap(), TransferStatus::Enabled);
    client.force_notify().zone_id(zone).send().await.unwrap();
    let disabled = client
        .disable_outgoing()
        .zone_id(zone)
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.into_result().unwrap(), TransferStatus::Disabled);
    client.delete_outgoing().zone_id(zone).send().await.unwrap();

    let requests = recorded_requests(&server).await;
    let operations = [
        "list_acls",
        "create_acl",
        "get_acl",
        "update_acl",
        "delete_acl",
        "create_incoming",
        "get_incoming",
        "update_incoming",
        "force_axfr",
        "delete_incoming",
        "create_outgoing",
        "get_outgoing",
        "update_outgoing",
        "enable_outgoing",
        "get_outgoing_status",
        "force_notify",
        "disable_outgoing",
        "delete_outgoing",
    ];
    assert_eq!(requests.len(), operations.len());
    for (operation, request) in operations.iter().zip(&requests) {
        // The four actions send the empty JSON object the spec requires.
        if [
            "force_axfr",
            "enable_outgoing",
            "disable_outgoing",
            "force_notify",
        ]
        .contains(operation)
        {
            assert_eq!(request["body"], serde_json::json!({}), "{operation}");
            assert_eq!(request["headers"]["content-type"], "application/json");
        }
        if operation.starts_with("delete_") || operation.starts_with("get_") {
            assert!(request["body"].is_null(), "{operation} sent a body");
        }
        insta::assert_json_snapshot!(*operation, request);
    }
}

const HOSTILE_IDS: &[&str] = &[
    "",
    "..",
    "../accounts",
    "a/b",
    "%2e%2e",
    "269d8f4853475ca241c4e730be286b2\r\n",
    "269D8F4853475CA241C4E730BE286B20",
];

/// Every zone operation with `zone_id`, and every ACL operation with
/// `acl_id`; the error each returns.
async fn each_operation(
    client: &Client,
    zone_id: &str,
    acl_id: &str,
) -> Vec<(&'static str, ApiError)> {
    let account = EXAMPLE_ACCOUNT_ID;
    let acl = || {
        types::AclInput::builder().name("x").ip_range(
            "192.0.2.0/24"
                .parse::<cloudflare_secondary_dns::IpRange>()
                .unwrap(),
        )
    };
    macro_rules! calls {
        ($($name:literal => $call:expr),* $(,)?) => {
            vec![$(($name, $call.send().await.map(drop).expect_err($name))),*]
        };
    }
    calls![
        "get_acl" => client.get_acl().account_id(account).acl_id(acl_id),
        "update_acl" => client.update_acl().account_id(account).acl_id(acl_id).body(acl()),
        "delete_acl" => client.delete_acl().account_id(account).acl_id(acl_id),
        "get_incoming" => client.get_incoming().zone_id(zone_id),
        "create_incoming" => client.create_incoming().zone_id(zone_id).body(incoming("x.")),
        "update_incoming" => client.update_incoming().zone_id(zone_id).body(incoming("x.")),
        "delete_incoming" => client.delete_incoming().zone_id(zone_id),
        "force_axfr" => client.force_axfr().zone_id(zone_id),
        "get_outgoing" => client.get_outgoing().zone_id(zone_id),
        "create_outgoing" => client.create_outgoing().zone_id(zone_id).body(outgoing("x.")),
        "update_outgoing" => client.update_outgoing().zone_id(zone_id).body(outgoing("x.")),
        "delete_outgoing" => client.delete_outgoing().zone_id(zone_id),
        "enable_outgoing" => client.enable_outgoing().zone_id(zone_id),
        "disable_outgoing" => client.disable_outgoing().zone_id(zone_id),
        "force_notify" => client.force_notify().zone_id(zone_id),
        "get_outgoing_status" => client.get_outgoing_status().zone_id(zone_id),
    ]
}

#[tokio::test]
async fn hostile_zone_and_acl_ids_are_refused_without_a_request() {
    let (client, server) = client_and_stand_in().await;
    let mut refused = 0;
    for &hostile in HOSTILE_IDS {
        for (operation, err) in each_operation(&client, hostile, hostile).await {
            let param = if operation.ends_with("_acl") {
                "acl_id"
            } else {
                "zone_id"
            };
            assert!(
                matches!(err.raw(), Error::InvalidRequest(r) if r.contains(param)),
                "{operation}: {err}"
            );
            assert_eq!(err.kind(), ErrorKind::InvalidRequest);
            refused += 1;
        }
    }
    assert_eq!(refused, HOSTILE_IDS.len() * 16);
    assert!(
        recorded_requests(&server).await.is_empty(),
        "a hostile id reached the server"
    );
    // An ACL id is not a peer id: the types keep them apart (this would not
    // compile: `client.get_acl().acl_id(peer_id)` with a `PeerIdentifier`).
    let acl: cloudflare_secondary_dns::AclIdentifier = EXAMPLE_PEER_ID.parse().unwrap();
    assert_eq!(acl.as_str(), EXAMPLE_PEER_ID);
}

#[tokio::test]
async fn the_spec_limits_are_checked_before_sending() {
    let (client, server) = client_and_stand_in().await;
    let too_many: Vec<_> = (0..31)
        .map(|i| format!("{i:032x}").parse().unwrap())
        .collect();
    let err = client
        .create_incoming()
        .zone_id(EXAMPLE_ZONE_ID)
        .body(incoming("x.").peers(too_many.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string()
            .contains("`peers` has 31 items; at most 30 are allowed"),
        "{err}"
    );
    let err = client
        .update_outgoing()
        .zone_id(EXAMPLE_ZONE_ID)
        .body(outgoing("x.").peers(too_many))
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most 30"), "{err}");
    let err = client
        .create_incoming()
        .zone_id(EXAMPLE_ZONE_ID)
        .body(incoming("x.").auto_refresh_seconds(299u32))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`auto_refresh_seconds` is 299; it must be at least 300"),
        "{err}"
    );
    // Thirty peers and 300 seconds are fine (the stand-in then refuses the
    // unknown peers, which proves the request went out).
    let thirty: Vec<_> = (0..30)
        .map(|i| format!("{i:032x}").parse().unwrap())
        .collect();
    let err = client
        .create_incoming()
        .zone_id(EXAMPLE_ZONE_ID)
        .body(incoming("x.").peers(thirty).auto_refresh_seconds(300u32))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(400));
    assert_eq!(recorded_requests(&server).await.len(), 1);
    // Left out, the refresh interval is not sent (Cloudflare then uses its
    // default): the body carries only what the caller gave.
    let body = types::IncomingInput::try_from(incoming("x.")).unwrap();
    assert_eq!(body.auto_refresh_seconds, None);
    let sent = serde_json::to_value(&body).unwrap();
    assert!(sent.get("auto_refresh_seconds").is_none(), "{sent}");
}

#[tokio::test]
async fn the_stand_in_keeps_cloudflares_rules() {
    let (client, _server) = client_and_stand_in().await;
    let account = EXAMPLE_ACCOUNT_ID;
    let zone = EXAMPLE_ZONE_ID;
    // A zone's peers must exist.
    let unknown = types::IncomingInput::builder()
        .name("x.")
        .peers(vec!["0123456789abcdef0123456789abcdef".parse().unwrap()]);
    let err = client
        .create_incoming()
        .zone_id(zone)
        .body(unknown)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(400));
    assert!(err.to_string().contains("does not exist"), "{err}");
    // One configuration per zone.
    client
        .create_incoming()
        .zone_id(zone)
        .body(incoming("x."))
        .send()
        .await
        .unwrap();
    for err in [
        client
            .create_incoming()
            .zone_id(zone)
            .body(incoming("x."))
            .send()
            .await
            .unwrap_err(),
        client
            .create_outgoing()
            .zone_id(zone)
            .body(outgoing("x."))
            .send()
            .await
            .unwrap_err(),
    ] {
        assert!(
            err.to_string().contains("already has a configuration"),
            "{err}"
        );
    }
    // A peer a zone names cannot be deleted; nor the TSIG key the peer names.
    let err = client
        .delete_peer()
        .account_id(account)
        .peer_id(EXAMPLE_PEER_ID)
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("in use by the zone"), "{err}");
    let err = client
        .delete_tsig()
        .account_id(account)
        .tsig_id(EXAMPLE_TSIG_ID)
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
    // Force AXFR transfers: the serial arrives, then grows, and checked_time moves.
    let first = client
        .wait_for_transfer()
        .zone_id(zone)
        .poll_interval(ms(5), ms(20))
        .wait()
        .await
        .unwrap();
    assert_eq!(first.soa_serial, Some(FIRST_SERIAL as u32));
    client.force_axfr().zone_id(zone).send().await.unwrap();
    let after = client
        .wait_for_transfer()
        .zone_id(zone)
        .serial_changed_from(first.soa_serial)
        .poll_interval(ms(5), ms(20))
        .wait()
        .await
        .unwrap();
    assert_eq!(after.soa_serial, Some(FIRST_SERIAL as u32 + 1));
    assert!(
        after.checked_time.as_ref().and_then(|t| t.time())
            >= first.checked_time.as_ref().and_then(|t| t.time())
    );
    // Outgoing: disabled until enabled; Force NOTIFY needs it enabled.
    let primary = PRIMARY_ZONE;
    let err = client
        .get_outgoing_status()
        .zone_id(primary)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    client
        .create_outgoing()
        .zone_id(primary)
        .body(outgoing("p."))
        .send()
        .await
        .unwrap();
    let status = client
        .get_outgoing_status()
        .zone_id(primary)
        .send()
        .await
        .unwrap();
    assert_eq!(status.into_result().unwrap(), TransferStatus::Disabled);
    let err = client
        .force_notify()
        .zone_id(primary)
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("disabled"), "{err}");
    client
        .enable_outgoing()
        .zone_id(primary)
        .send()
        .await
        .unwrap();
    let enabled = client
        .wait_for_outgoing_enabled()
        .zone_id(primary)
        .wait()
        .await
        .unwrap();
    assert_eq!(enabled, TransferStatus::Enabled);
    let notified = client.force_notify().zone_id(primary).send().await.unwrap();
    assert_eq!(notified.into_result().unwrap(), ForceOutcome::Ok);
    // Deleting the configurations frees the peer.
    client.delete_incoming().zone_id(zone).send().await.unwrap();
    client
        .delete_outgoing()
        .zone_id(primary)
        .send()
        .await
        .unwrap();
    let err = client
        .get_incoming()
        .zone_id(zone)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test]
async fn a_wait_that_times_out_says_what_it_last_saw() {
    let (client, server) = client_and_stand_in().await;
    let zone = EXAMPLE_ZONE_ID;
    client
        .create_incoming()
        .zone_id(zone)
        .body(incoming("x."))
        .send()
        .await
        .unwrap();
    let err = client
        .wait_for_transfer()
        .zone_id(zone)
        .serial_reached(FIRST_SERIAL as u32 + 100)
        .timeout(ms(200))
        .poll_interval(ms(10), ms(40))
        .wait()
        .await
        .unwrap_err();
    let WaitError::TimedOut {
        polls, last_seen, ..
    } = &err
    else {
        panic!("{err}");
    };
    assert!(*polls >= 3, "{polls}");
    assert!(
        last_seen.starts_with(&format!("soa_serial {FIRST_SERIAL}, checked_time 20")),
        "{last_seen}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "waiting for the zone's SOA serial to reach {}",
            FIRST_SERIAL + 100
        )),
        "{text}"
    );
    // Each poll was one read (the create is the other request), but for the
    // last one when the deadline cut it before the server saw it (a loaded
    // machine); a bad zone id reads nothing.
    let reads = recorded_requests(&server).await.len();
    let polls = *polls as usize;
    assert!(
        reads == 1 + polls || reads == polls,
        "{reads} requests, {polls} polls"
    );
    let err = client
        .wait_for_transfer()
        .zone_id("..")
        .wait()
        .await
        .unwrap_err();
    assert!(matches!(err, WaitError::InvalidZoneId(_)), "{err}");
    assert_eq!(recorded_requests(&server).await.len(), reads);
    // A read that fails ends the wait with that error.
    let err = client
        .wait_for_transfer()
        .zone_id(PRIMARY_ZONE)
        .wait()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WaitError::Api(api) if api.kind() == ErrorKind::NotFound),
        "{err}"
    );
}
