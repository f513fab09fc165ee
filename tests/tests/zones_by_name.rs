//! Zones by name (issue 26): the zone operations' exact requests, the zone
//! name checked before anything is sent, `find_zone` (none, one, several),
//! `all_zones` across pages and against a server whose paging lies, and the
//! stand-in's zone rules seen through the sdk.

use cloudflare_secondary_dns::extras::zones::{FindZoneError, ZoneListError, ZoneQuery};
use cloudflare_secondary_dns::{
    Client, Credentials, ErrorKind, ResponseExt, ZoneName, ZoneStatus, ZoneType, types,
};
use futures_util::TryStreamExt;
use httpmock::MockServer;
use sdk_tests::{EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, recorded_requests, start_stand_in};
use serde_json::{Value, json};

const OTHER_ACCOUNT_ID: &str = "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a";

fn client(base_url: &str) -> Client {
    Client::builder(Credentials::api_token("test-token-123"))
        .base_url(base_url)
        .max_retries(0)
        .build()
        .unwrap()
}

fn zone(id: usize, name: &str, account: &str) -> Value {
    json!({"id": format!("{id:032x}"), "name": name, "account": {"id": account, "name": "an account"},
           "type": "secondary", "status": "pending"})
}

fn page(zones: Vec<Value>, page: u32, total_pages: Option<u32>) -> Value {
    let mut info = json!({"page": page, "per_page": 50, "count": zones.len()});
    if let Some(total) = total_pages {
        info["total_pages"] = total.into();
    }
    json!({"success": true, "errors": [], "messages": [], "result": zones, "result_info": info})
}

/// One request of each zone operation, each pinned in its own snapshot
/// (method, path, query, headers, JSON body).
#[tokio::test]
async fn every_zone_operation_sends_the_documented_request() {
    let server = start_stand_in().await;
    let client = client(&server.uri());
    let created = client
        .create_zone()
        .body(
            types::ZoneCreate::builder()
                .name("Example.ORG.".parse::<ZoneName>().unwrap())
                .account(types::ZoneAccountRef::builder().id(EXAMPLE_ACCOUNT_ID))
                .type_(Some(ZoneType::Secondary)),
        )
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(created.name, "example.org");
    assert_eq!(created.type_, Some(ZoneType::Secondary));
    assert_eq!(created.status, Some(ZoneStatus::Pending));
    let zone_id = created.id.clone();
    client
        .list_zones()
        .name("example.org")
        .status(ZoneStatus::Pending)
        .account_id(EXAMPLE_ACCOUNT_ID)
        .page(1)
        .per_page(50)
        .send()
        .await
        .unwrap();
    client.get_zone().zone_id(&zone_id).send().await.unwrap();
    client
        .edit_zone()
        .zone_id(&zone_id)
        .body(types::ZoneEdit::builder().paused(Some(true)))
        .send()
        .await
        .unwrap();
    client
        .get_dns_settings()
        .zone_id(&zone_id)
        .send()
        .await
        .unwrap();
    let settings = client
        .update_dns_settings()
        .zone_id(&zone_id)
        .body(types::DnsSettings::builder().secondary_overrides(Some(true)))
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(settings.secondary_overrides, Some(true));
    client.delete_zone().zone_id(&zone_id).send().await.unwrap();

    let requests = recorded_requests(&server).await;
    let operations = [
        "create_zone",
        "list_zones",
        "get_zone",
        "edit_zone",
        "get_dns_settings",
        "update_dns_settings",
        "delete_zone",
    ];
    assert_eq!(requests.len(), operations.len());
    // What is sent is what Cloudflare's published spec asks for: each body
    // validates against the upstream request schema (the vendored subset,
    // not the overlay's), and each query parameter is one upstream lists.
    let upstream: Value = serde_json::from_str(
        &std::fs::read_to_string(xtask::workspace_root().join(xtask::upstream::SUBSET_PATH))
            .unwrap(),
    )
    .unwrap();
    for (path, method, body) in [
        ("/zones", "post", &requests[0]["body"]),
        ("/zones/{zone_id}", "patch", &requests[3]["body"]),
        (
            "/zones/{zone_id}/dns_settings",
            "patch",
            &requests[5]["body"],
        ),
    ] {
        let schema = &upstream["paths"][path][method]["requestBody"]["content"]["application/json"]
            ["schema"];
        assert!(schema.is_object(), "{method} {path}");
        // (Beside the components, whose `$ref`s it resolves against.)
        let mut root = upstream.clone();
        root["components"]["schemas"]["request body under test"] = schema.clone();
        root["$ref"] = json!("#/components/schemas/request%20body%20under%20test");
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .build(&root)
            .unwrap();
        let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{method} {path}: {body}: {errors:?}");
    }
    let parameters: Vec<&str> = upstream["paths"]["/zones"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for pair in requests[1]["query"].as_str().unwrap().split('&') {
        let name = pair.split('=').next().unwrap();
        assert!(
            parameters.contains(&name),
            "{name} is not one of {parameters:?}"
        );
    }
    for (operation, request) in operations.iter().zip(&requests) {
        if operation.starts_with("delete_") || operation.starts_with("get_") {
            assert!(request["body"].is_null(), "{operation} sent a body");
        }
        insta::assert_json_snapshot!(*operation, request);
    }
}

#[tokio::test]
async fn a_name_that_cannot_be_a_zone_is_refused_before_any_request() {
    let server = MockServer::start_async().await;
    let any = server.mock(|when, then| {
        when.any_request();
        then.status(500);
    });
    let client = client(&server.base_url());
    let label_64 = format!("{}.com", "a".repeat(64));
    let long_300 = format!("{}.com", vec!["a".repeat(60); 5].join("."));
    for name in [
        "exa mple.com",
        label_64.as_str(),
        long_300.as_str(),
        "example.com\u{0}",
        "example..com",
        "com",
        "münchen.de",
    ] {
        let err = client.find_zone(name, None).await.unwrap_err();
        assert!(
            matches!(err, FindZoneError::InvalidName(_)),
            "{name:?}: {err}"
        );
        assert!(err.to_string().contains("is not a zone name"), "{err}");
    }
    let idn = client.find_zone("münchen.de", None).await.unwrap_err();
    assert!(idn.to_string().contains("xn--mnchen-3ya.de"), "{idn}");
    // A typed body refuses it too: a ZoneName is checked when built.
    assert!("exa mple.com".parse::<ZoneName>().is_err());
    any.assert_calls(0);
}

#[tokio::test]
async fn find_zone_is_one_list_call_and_says_none_or_several() {
    let server = MockServer::start_async().await;
    let several = server.mock(|when, then| {
        when.path("/zones")
            .query_param("name", "example.com")
            .query_param_missing("account.id");
        then.status(200).json_body(page(
            vec![
                zone(1, "example.com", EXAMPLE_ACCOUNT_ID),
                zone(2, "example.com", OTHER_ACCOUNT_ID),
            ],
            1,
            Some(1),
        ));
    });
    let one = server.mock(|when, then| {
        when.path("/zones")
            .query_param("name", "example.com")
            .query_param("account.id", OTHER_ACCOUNT_ID);
        then.status(200).json_body(page(
            vec![zone(2, "example.com", OTHER_ACCOUNT_ID)],
            1,
            Some(1),
        ));
    });
    let none = server.mock(|when, then| {
        when.path("/zones").query_param("name", "example.org");
        then.status(200).json_body(page(vec![], 1, Some(0)));
    });
    let client = client(&server.base_url());

    // The trailing dot and the case are not the name's: the same zone.
    let found = client
        .find_zone("EXAMPLE.com.", Some(&OTHER_ACCOUNT_ID.parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(found.id, format!("{:032x}", 2));
    one.assert_calls(1);

    let err = client.find_zone("example.com", None).await.unwrap_err();
    let FindZoneError::Several { zones, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(zones.len(), 2);
    let text = err.to_string();
    assert!(text.starts_with("2 zones are named example.com:"), "{text}");
    assert!(
        text.contains(&format!("{:032x} (account {EXAMPLE_ACCOUNT_ID})", 1)),
        "{text}"
    );
    assert!(text.contains(OTHER_ACCOUNT_ID), "{text}");
    several.assert_calls(1);

    let err = client.find_zone("example.org", None).await.unwrap_err();
    assert!(matches!(err, FindZoneError::NotFound { .. }), "{err}");
    assert_eq!(err.to_string(), "no zone is named example.org");
    none.assert_calls(1);
}

#[tokio::test]
async fn all_zones_follows_the_pages_to_the_last() {
    let server = MockServer::start_async().await;
    let mut pages = Vec::new();
    for (number, count) in [(1, 50), (2, 50), (3, 7)] {
        let zones = (0..count)
            .map(|i| {
                zone(
                    number * 100 + i,
                    &format!("z{number}-{i}.example"),
                    EXAMPLE_ACCOUNT_ID,
                )
            })
            .collect();
        let body = page(zones, number as u32, Some(3));
        pages.push(server.mock(move |when, then| {
            when.path("/zones")
                .query_param("page", number.to_string())
                .query_param("per_page", "50")
                .query_param("status", "active");
            then.status(200).json_body(body);
        }));
    }
    let client = client(&server.base_url());
    let zones: Vec<types::Zone> = client
        .all_zones(ZoneQuery::new().status(ZoneStatus::Active))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(zones.len(), 107);
    assert_eq!(zones[0].name, "z1-0.example");
    assert_eq!(zones[106].name, "z3-6.example");
    for page in &pages {
        page.assert_calls(1);
    }
}

#[tokio::test]
async fn a_server_whose_paging_never_ends_is_not_followed_forever() {
    // Every page is the same 50 zones and claims 1,000 pages: the second
    // page is seen to repeat the first, and reading stops there.
    let server = MockServer::start_async().await;
    let zones: Vec<Value> = (0..50)
        .map(|i| zone(i, &format!("z{i}.example"), EXAMPLE_ACCOUNT_ID))
        .collect();
    let lying = server.mock(|when, then| {
        when.path("/zones");
        then.status(200).json_body(page(zones, 1, Some(1000)));
    });
    let client = client(&server.base_url());
    let mut read = 0;
    let mut stream = std::pin::pin!(client.all_zones(ZoneQuery::new()));
    let err = loop {
        match stream.try_next().await {
            Ok(Some(_)) => read += 1,
            Ok(None) => panic!("the list ended after {read} zones"),
            Err(err) => break err,
        }
    };
    assert_eq!(read, 50);
    assert!(
        matches!(err, ZoneListError::Runaway { page: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("a page already read"), "{err}");
    lying.assert_calls(2);
    assert!(
        stream.try_next().await.unwrap().is_none(),
        "the stream ends after its error"
    );
}

#[tokio::test]
async fn a_zone_body_with_every_documented_field_and_unknown_ones_decodes() {
    let body = json!({
        "success": true, "errors": [], "messages": [],
        "result": {
            "id": "023e105f4ecef8ad9ca31a8372d0c353",
            "name": "example.com",
            "account": {"id": "023e105f4ecef8ad9ca31a8372d0c353", "name": "Example Account Name"},
            "activated_on": "2014-01-02T00:01:00.12345Z",
            "created_on": "2014-01-01T05:20:00.12345Z",
            "development_mode": 7200,
            "meta": {"cdn_only": true, "custom_certificate_quota": 1, "dns_only": true,
                     "foundation_dns": true, "page_rule_quota": 100, "phishing_detected": false,
                     "step": 2, "a_new_meta": 1},
            "modified_on": "2014-01-01T05:20:00.12345Z",
            "name_servers": ["bob.ns.cloudflare.com", "lola.ns.cloudflare.com"],
            "original_dnshost": "NameCheap",
            "original_name_servers": ["ns1.originaldnshost.com", "ns2.originaldnshost.com"],
            "original_registrar": "GoDaddy",
            "owner": {"id": "023e105f4ecef8ad9ca31a8372d0c353", "name": "Example Org", "type": "organization"},
            "vanity_name_servers": ["ns1.example.com", "ns2.example.com"],
            "paused": false, "status": "a status Cloudflare adds", "type": "a type too",
            "plan": {"id": "x", "name": "Free Website", "price": 0},
            "tenant": {"id": null}, "permissions": ["#zone:read"],
            "verification_key": "284344499-1084221259"
        }
    });
    let envelope: types::SingleZoneResponse = serde_json::from_value(body).unwrap();
    let zone = envelope.result.unwrap();
    assert_eq!(
        zone.status,
        Some(ZoneStatus::from("a status Cloudflare adds"))
    );
    assert_eq!(
        zone.type_.as_ref().map(ZoneType::as_str),
        Some("a type too")
    );
    assert_eq!(zone.name_servers.len(), 2);
    assert_eq!(zone.development_mode, Some(7200));
    // A pending zone's `activated_on` is null; owner and meta may be missing.
    let pending: types::Zone =
        serde_json::from_value(json!({"id": "1", "name": "example.com", "activated_on": null}))
            .unwrap();
    assert!(pending.activated_on.is_none());
}

#[tokio::test]
async fn the_stand_in_keeps_cloudflares_zone_rules_through_the_sdk() {
    let server = start_stand_in().await;
    let client = client(&server.uri());
    let create = |name: &str, kind: ZoneType| {
        client.create_zone().body(
            types::ZoneCreate::builder()
                .name(name.parse::<ZoneName>().unwrap())
                .account(types::ZoneAccountRef::builder().id(EXAMPLE_ACCOUNT_ID))
                .type_(Some(kind)),
        )
    };
    let secondary = create("example.org", ZoneType::Secondary)
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    assert!(
        secondary
            .name_servers
            .iter()
            .all(|ns| ns.ends_with(".secondary.cloudflare.com")),
        "{:?}",
        secondary.name_servers
    );
    let again = create("example.org", ZoneType::Secondary)
        .send()
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::BadRequest);
    assert_eq!(again.cloudflare_errors()[0].code, 1061);

    let found = client.find_zone("example.org", None).await.unwrap();
    assert_eq!(found.id, secondary.id);
    let incoming = types::IncomingInput::builder()
        .name("example.org")
        .peers(vec![EXAMPLE_PEER_ID.parse().unwrap()]);
    client
        .create_incoming()
        .zone_id(&found.id)
        .body(incoming.clone())
        .send()
        .await
        .unwrap();
    let full = client.find_zone("example.net", None).await.unwrap();
    let refused = client
        .create_incoming()
        .zone_id(&full.id)
        .body(incoming)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::BadRequest);
    assert!(
        refused.to_string().contains("not a secondary zone"),
        "{}",
        refused.report()
    );
    let all: Vec<types::Zone> = client
        .all_zones(ZoneQuery::new())
        .try_collect()
        .await
        .unwrap();
    let names: Vec<&str> = all.iter().map(|z| z.name.as_str()).collect();
    assert_eq!(names, ["example.com", "example.net", "example.org"]);
}
