//! The stand-in models zones as Cloudflare does (issue 26, item 4), seen
//! over plain HTTP: unique names per account (400, code 1061), a type and a
//! status (a new zone is `pending`), name servers, DNS settings; an incoming
//! configuration only on a secondary zone and an outgoing one only on a
//! zone that is not secondary; deleting a zone removes its configuration.

use serde_json::{Value, json};

use secondary_dns_stand_in::{
    EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, SEEDED_FULL_ZONE, SEEDED_SECONDARY_ZONE, StandIn,
};

async fn call(server: &StandIn, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client
        .request(method.parse().unwrap(), format!("{}{path}", server.uri()))
        .bearer_auth("stand-in-token");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn zones_have_unique_names_a_type_a_status_and_the_configuration_their_type_allows() {
    let server = StandIn::start().await;
    let create =
        json!({"name": "example.org", "account": {"id": EXAMPLE_ACCOUNT_ID}, "type": "secondary"});
    let (status, created) = call(&server, "POST", "/zones", Some(create.clone())).await;
    assert_eq!(status, 200, "{created}");
    let zone = &created["result"];
    assert_eq!(zone["type"], "secondary");
    assert_eq!(zone["status"], "pending");
    assert!(
        zone["name_servers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|ns| ns.as_str().unwrap().ends_with(".secondary.cloudflare.com")),
        "{zone}"
    );
    let zone_id = zone["id"].as_str().unwrap().to_owned();

    let (status, again) = call(&server, "POST", "/zones", Some(create)).await;
    assert_eq!(status, 400);
    assert_eq!(again["errors"][0]["code"], 1061);
    assert_eq!(again["errors"][0]["message"], "example.org already exists");

    // Found by name (case aside), alone; the seeded zones are there too.
    let (_, found) = call(&server, "GET", "/zones?name=EXAMPLE.ORG", None).await;
    assert_eq!(found["result"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["result"][0]["id"], zone_id.as_str());
    let (_, all) = call(&server, "GET", "/zones?type=secondary", None).await;
    let names: Vec<&str> = all["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [SEEDED_SECONDARY_ZONE.1, "example.org"]);

    // Incoming on the secondary zone; on the full one, refused saying why.
    let incoming = json!({"name": "example.org.", "peers": [EXAMPLE_PEER_ID]});
    let path = format!("/zones/{zone_id}/secondary_dns/incoming");
    let (status, body) = call(&server, "POST", &path, Some(incoming.clone())).await;
    assert_eq!(status, 200, "{body}");
    let full = format!("/zones/{}/secondary_dns/incoming", SEEDED_FULL_ZONE.0);
    let (status, body) = call(&server, "POST", &full, Some(incoming.clone())).await;
    assert_eq!(status, 400);
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("not a secondary zone"), "{message}");
    // Outgoing on the secondary zone: refused.
    let outgoing = format!("/zones/{}/secondary_dns/outgoing", SEEDED_SECONDARY_ZONE.0);
    let (status, body) = call(&server, "POST", &outgoing, Some(incoming)).await;
    assert_eq!(status, 400);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("is a secondary zone"),
        "{body}"
    );

    // DNS settings: read, and a PATCH sets what it holds.
    let settings = format!("/zones/{}/dns_settings", SEEDED_FULL_ZONE.0);
    let (_, read) = call(&server, "GET", &settings, None).await;
    assert_eq!(read["result"]["multi_provider"], false);
    let (status, patched) = call(
        &server,
        "PATCH",
        &settings,
        Some(json!({"multi_provider": true})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(patched["result"]["multi_provider"], true);
    assert_eq!(patched["result"]["ns_ttl"], 86400);

    // Converted, the full zone takes an incoming configuration.
    let one = format!("/zones/{}", SEEDED_FULL_ZONE.0);
    let (status, converted) =
        call(&server, "PATCH", &one, Some(json!({"type": "secondary"}))).await;
    assert_eq!(
        (status, &converted["result"]["type"]),
        (200, &json!("secondary"))
    );

    // Deleting a zone removes its configuration; unknown ids are 404.
    let (status, _) = call(&server, "DELETE", &format!("/zones/{zone_id}"), None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&server, "GET", &path, None).await;
    assert_eq!(status, 404);
    let (status, _) = call(&server, "GET", &format!("/zones/{zone_id}"), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_zone_list_is_paged() {
    let server = StandIn::start().await;
    for n in 0..10 {
        let body = json!({"name": format!("z{n}.example"), "account": {"id": EXAMPLE_ACCOUNT_ID}});
        assert_eq!(call(&server, "POST", "/zones", Some(body)).await.0, 200);
    }
    // 12 zones, 5 a page: 5, 5, 2.
    let (_, third) = call(&server, "GET", "/zones?page=3&per_page=5", None).await;
    assert_eq!(third["result"].as_array().unwrap().len(), 2);
    assert_eq!(
        third["result_info"],
        json!({"count": 2, "page": 3, "per_page": 5, "total_count": 12, "total_pages": 3})
    );
}
