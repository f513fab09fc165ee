//! What callers get back: the seed's response decoded, and every kind of
//! failure as a typed error with a readable report.

use cloudflare_secondary_dns::{ApiError, Client, Credentials, Error, ErrorKind, types};
use sdk_tests::{
    EXAMPLE_PEER_ID, UPDATE_PEER_PATH, update_example_peer, update_peer_response_example,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Update Peer with retries off: these tests are about one response each
/// (retries are tested in `retries.rs`).
async fn update_peer_at(base_url: &str) -> Result<types::SinglePeerResponse, ApiError> {
    let client = Client::builder(Credentials::api_token("test-token-123"))
        .base_url(base_url)
        .max_retries(0)
        .build()
        .unwrap();
    update_example_peer(&client, types::PeerUpdate::builder().name("my-peer-1"))
        .await
        .map(|response| response.into_inner())
}

/// Update Peer against a server that answers every request with `response`.
async fn update_peer_answered_by(
    response: ResponseTemplate,
) -> Result<types::SinglePeerResponse, ApiError> {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path_regex(UPDATE_PEER_PATH))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    update_peer_at(&server.uri()).await
}

fn json_response(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn raw_response(status: u16, body: &str, mime: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), mime)
}

#[tokio::test]
async fn the_seed_example_response_decodes_into_a_peer() {
    let envelope =
        update_peer_answered_by(json_response(200, update_peer_response_example().clone()))
            .await
            .unwrap();
    assert_eq!(envelope.errors.len(), 1);
    assert_eq!(envelope.messages[0].code, 1000);
    let peer = envelope.result.unwrap();
    assert_eq!(peer.port, Some(53));
    assert_eq!(peer.id, "23ff594956f20c2a721606e94745a8aa");
    insta::assert_debug_snapshot!(peer);
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let mut body = update_peer_response_example().clone();
    body["result_info"] = json!({"count": 1});
    body["result"]["created_on"] = json!("2026-11-27T00:00:00Z");
    let envelope = update_peer_answered_by(json_response(200, body))
        .await
        .unwrap();
    assert_eq!(envelope.result.unwrap().name, "my-peer-1");
}

#[tokio::test]
async fn a_bad_request_keeps_every_cloudflare_error() {
    let body = json!({
        "success": false,
        "errors": [
            {"code": 1003, "message": "Invalid or missing name", "source": {"pointer": "/name"},
             "documentation_url": "https://developers.cloudflare.com/api/"},
            {"code": 1004, "message": "Invalid port"}
        ],
        "messages": [],
        "result": null
    });
    let err = update_peer_answered_by(json_response(400, body))
        .await
        .unwrap_err();
    let Error::ErrorResponse(response) = err.raw() else {
        panic!("not a typed error: {err:?}")
    };
    assert_eq!(response.status(), 400);
    assert_eq!(response.errors[0].code, 1003);
    assert_eq!(
        response.errors[0]
            .source
            .as_ref()
            .unwrap()
            .pointer
            .as_deref(),
        Some("/name")
    );
    assert_eq!(err.cloudflare_errors().len(), 2);
    insta::assert_snapshot!(err.report().to_string(), @"Cloudflare API error, HTTP 400 Bad Request: 1003: Invalid or missing name (at /name); 1004: Invalid port");
}

#[tokio::test]
async fn an_authentication_failure_with_a_short_envelope_is_typed() {
    let body =
        json!({"success": false, "errors": [{"code": 10000, "message": "Authentication error"}]});
    let err = update_peer_answered_by(json_response(401, body))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(err.cloudflare_errors()[0].code, 10000);
    insta::assert_snapshot!(err.report().to_string(), @"Cloudflare API error, HTTP 401 Unauthorized: 10000: Authentication error");
}

#[tokio::test]
async fn a_server_error_envelope_is_typed() {
    let body = json!({"success": false, "errors": [{"code": 10001, "message": "Internal error"}],
                      "messages": [], "result": null});
    let err = update_peer_answered_by(json_response(500, body))
        .await
        .unwrap_err();
    assert!(matches!(err.raw(), Error::ErrorResponse(r) if r.status() == 500));
    insta::assert_snapshot!(err.report().to_string(), @"Cloudflare API error, HTTP 500 Internal Server Error: 10001: Internal error");
}

#[tokio::test]
async fn an_html_bad_gateway_is_a_typed_502_that_keeps_the_body() {
    let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n";
    let err = update_peer_answered_by(raw_response(502, html, "text/html"))
        .await
        .unwrap_err();
    let Error::ErrorResponse(response) = err.raw() else {
        panic!("{err:?}")
    };
    assert_eq!(response.status(), 502);
    assert_eq!(
        response.headers()["content-type"],
        "text/html",
        "the server's headers are kept"
    );
    assert_eq!(
        response.result,
        Some(Value::String(html.to_owned())),
        "the body is kept whole"
    );
    assert!(err.cloudflare_errors().is_empty());
    insta::assert_snapshot!(err.report().to_string(), @r#"Cloudflare API error, HTTP 502 Bad Gateway: no error details; body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n""#);
}

#[tokio::test]
async fn a_failure_body_in_another_json_shape_is_kept_as_json() {
    let err = update_peer_answered_by(json_response(405, json!({"error": "method not allowed"})))
        .await
        .unwrap_err();
    let Error::ErrorResponse(response) = err.raw() else {
        panic!("{err:?}")
    };
    assert_eq!(
        response.result,
        Some(json!({"error": "method not allowed"}))
    );
    assert_eq!(
        err.report().to_string(),
        r#"Cloudflare API error, HTTP 405 Method Not Allowed: no error details; body: "{\"error\":\"method not allowed\"}""#
    );
}

#[tokio::test]
async fn a_long_non_json_body_is_cut_in_the_report() {
    let body = "é".repeat(5_000);
    let err = update_peer_answered_by(raw_response(503, &body, "text/plain"))
        .await
        .unwrap_err();
    let report = err.report().to_string();
    assert!(
        report.starts_with(
            "Cloudflare API error, HTTP 503 Service Unavailable: no error details; body: \"ééé"
        ),
        "{report}"
    );
    // The first 200 characters, and what was left out.
    assert!(report.ends_with("é… (9600 more bytes)\""), "{report}");
    assert!(report.len() < 600, "{report}");
}

#[tokio::test]
async fn a_long_invalid_success_body_is_cut_in_the_report() {
    let body = "é".repeat(5_000);
    let err = update_peer_answered_by(raw_response(200, &body, "text/plain"))
        .await
        .unwrap_err();
    let report = err.report().to_string();
    // 200 characters (400 bytes) shown, and what was left out.
    assert!(report.ends_with("é… (9600 more bytes)\""), "{report}");
    assert!(report.len() < 600, "{report}");
}

#[tokio::test]
async fn success_false_in_a_200_is_refused_with_its_errors() {
    let mut body = update_peer_response_example().clone();
    body["success"] = false.into();
    body["errors"] = json!([{"code": 1003, "message": "Invalid or missing name",
        "source": {"pointer": "/name"}}]);
    let err = update_peer_answered_by(json_response(200, body))
        .await
        .unwrap_err();
    let Error::InvalidResponsePayload(_, e) = err.raw() else {
        panic!("{err:?}")
    };
    assert!(e.to_string().contains("expected `true`"), "{e}");
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert_eq!(err.http_status(), Some(200));
    let codes: Vec<i64> = err.cloudflare_errors().iter().map(|e| e.code).collect();
    assert_eq!(codes, [1003]);
    assert_eq!(
        err.report().to_string(),
        "Cloudflare API error in a 200 response (success: false): \
         1003: Invalid or missing name (at /name)"
    );
}

#[tokio::test]
async fn a_missing_required_field_is_named() {
    let mut body = update_peer_response_example().clone();
    body["result"].as_object_mut().unwrap().remove("name");
    let err = update_peer_answered_by(json_response(200, body))
        .await
        .unwrap_err();
    assert!(
        err.report().to_string().contains("missing field `name`"),
        "{}",
        err.report()
    );
}

#[tokio::test]
async fn a_truncated_body_is_an_invalid_payload() {
    let full = update_peer_response_example().to_string();
    let truncated = &full[..full.len() / 2];
    let err = update_peer_answered_by(raw_response(200, truncated, "application/json"))
        .await
        .unwrap_err();
    let Error::InvalidResponsePayload(_, e) = err.raw() else {
        panic!("{err:?}")
    };
    assert!(e.to_string().contains("EOF while parsing"), "{e}");
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let response =
        ResponseTemplate::new(307).insert_header("location", "http://127.0.0.1:9/elsewhere");
    let err = update_peer_answered_by(response).await.unwrap_err();
    assert!(
        matches!(err.raw(), Error::UnexpectedResponse(r) if r.status() == 307),
        "{err:?}"
    );
    assert!(
        err.report()
            .to_string()
            .starts_with("unexpected response: HTTP 307"),
        "{}",
        err.report()
    );
}

#[tokio::test]
async fn a_closed_port_is_a_connection_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // dropped: nothing listens there any more
    let err = update_peer_at(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_err();
    let Error::CommunicationError(e) = err.raw() else {
        panic!("{err:?}")
    };
    assert!(e.is_connect(), "{e:?}");
    let report = err.report().to_string();
    assert!(
        report.starts_with("could not connect to the API: error sending request for url"),
        "{report}"
    );
    assert!(report.contains("Connection refused"), "{report}");
}

#[tokio::test]
async fn a_slow_server_is_a_timeout_error() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(
            json_response(200, update_peer_response_example().clone())
                .set_delay(std::time::Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let client = Client::builder(Credentials::api_token("t"))
        .base_url(server.uri())
        .timeout(std::time::Duration::from_millis(200))
        .max_retries(0)
        .build()
        .unwrap();
    let err = update_example_peer(&client, types::PeerUpdate::builder().name("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err.raw(), Error::CommunicationError(e) if e.is_timeout()),
        "{err:?}"
    );
    assert!(
        err.report()
            .to_string()
            .starts_with("the request timed out"),
        "{}",
        err.report()
    );
}

#[tokio::test]
async fn error_kinds_follow_the_status_and_keep_cloudflare_errors() {
    use cloudflare_secondary_dns::ErrorKind;
    let cases = [
        (400, ErrorKind::BadRequest),
        (401, ErrorKind::Authentication),
        (403, ErrorKind::PermissionDenied),
        (404, ErrorKind::NotFound),
        (409, ErrorKind::Conflict),
        (422, ErrorKind::Unprocessable),
        (
            429,
            ErrorKind::RateLimited {
                retry_after: Some(std::time::Duration::from_secs(7)),
            },
        ),
        (500, ErrorKind::Server),
        (503, ErrorKind::Server),
        (418, ErrorKind::OtherStatus),
    ];
    for (status, kind) in cases {
        let body = json!({"success": false, "errors": [{"code": 1003, "message": "Invalid name",
            "documentation_url": "https://developers.cloudflare.com/", "source": {"pointer": "/name"}}]});
        let err =
            update_peer_answered_by(json_response(status, body).insert_header("retry-after", "7"))
                .await
                .unwrap_err();
        assert_eq!(err.kind(), kind, "HTTP {status}");
        let first = &err.cloudflare_errors()[0];
        assert_eq!(
            (first.code, first.documentation_url.as_deref()),
            (1003, Some("https://developers.cloudflare.com/"))
        );
        assert_eq!(
            first.source.as_ref().and_then(|s| s.pointer.as_deref()),
            Some("/name")
        );
    }
    let mut body = update_peer_response_example().clone();
    body["success"] = false.into();
    let err = update_peer_answered_by(json_response(200, body))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    let err = update_peer_at("http://127.0.0.1:1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    let client = Client::builder(Credentials::api_token("t"))
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    let err = client
        .get_peer()
        .account_id("..")
        .peer_id(EXAMPLE_PEER_ID)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
}

#[tokio::test]
async fn informational_lists_may_be_absent_or_null() {
    for (member, value) in [
        ("messages", None),
        ("messages", Some(Value::Null)),
        ("errors", None),
        ("errors", Some(Value::Null)),
    ] {
        let mut body = update_peer_response_example().clone();
        match value {
            None => drop(body.as_object_mut().unwrap().remove(member)),
            Some(ref value) => body[member] = value.clone(),
        }
        let envelope = update_peer_answered_by(json_response(200, body))
            .await
            .unwrap_or_else(|err| panic!("{member} {value:?}: {}", err.report()));
        assert_eq!(envelope.result.unwrap().name, "my-peer-1");
    }
    // `success` stays strict.
    let mut body = update_peer_response_example().clone();
    body.as_object_mut().unwrap().remove("success");
    let err = update_peer_answered_by(json_response(200, body))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
}

async fn list_peers_answered_by(body: &str) -> Result<types::PeerCollectionResponse, ApiError> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(raw_response(200, body, "application/json"))
        .mount(&server)
        .await;
    let client = Client::builder(Credentials::api_token("t0ken"))
        .base_url(server.uri())
        .build()
        .unwrap();
    client
        .list_peers()
        .account_id(sdk_tests::EXAMPLE_ACCOUNT_ID)
        .send()
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn integral_numbers_written_as_floats_decode() {
    let body = |port: &str| {
        format!(
            r#"{{"success":true,"errors":[],"messages":[],"result":[
                {{"id":"a","name":"ok","port":53}},{{"id":"b","name":"float","port":{port}}}],
                "result_info":{{"count":2.0,"page":1.0,"per_page":2e1,"total_count":2}}}}"#
        )
    };
    let list = list_peers_answered_by(&body("53.0")).await.unwrap();
    let ports: Vec<_> = list.result.unwrap().iter().map(|p| p.port).collect();
    assert_eq!(ports, [Some(53), Some(53)]);
    assert_eq!(list.result_info.unwrap().per_page, Some(20));

    for (port, expected) in [
        (
            "53.5",
            "at `port`: invalid type: floating point `53.5`, expected u16",
        ),
        (
            "65536.0",
            "at `port`: invalid value: integer `65536`, expected u16",
        ),
    ] {
        let err = list_peers_answered_by(&body(port)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse);
        assert!(
            err.report().to_string().contains(expected),
            "{}",
            err.report()
        );
    }
}

/// A server's text cannot add a line to a log or steer a terminal through
/// `report()`: line breaks, escape sequences and bidi overrides in messages,
/// pointers, bodies and wrongly typed values are written as escapes.
#[tokio::test]
async fn every_report_is_one_line_whatever_the_server_wrote() {
    let hostile =
        "bad\nerror: forged line\r\u{2028}\u{2029}\u{85}\u{1b}[2J\u{1b}]0;title\u{7}\u{202e}dlrow";
    let responses = [
        json_response(
            400,
            json!({"success": false, "errors": [{"code": 1003, "message": hostile,
                "source": {"pointer": hostile}}]}),
        ),
        raw_response(502, hostile, "text/html"),
        json_response(
            200,
            json!({"success": false, "errors": [{"code": 1003, "message": hostile}]}),
        ),
        json_response(
            200,
            json!({"success": true, "errors": [], "messages": [],
                "result": {"id": EXAMPLE_PEER_ID, "name": "p", "port": hostile}}),
        ),
    ];
    for response in responses {
        let err = update_peer_answered_by(response).await.unwrap_err();
        let report = err.report().to_string();
        assert!(
            !report
                .chars()
                .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202e}')),
            "{report:?}"
        );
        assert!(report.contains("forged line"), "{report}");
    }
}

/// The least a success may carry under Cloudflare's own spec (its `required`
/// lists: a peer's id and name; a TSIG key's id, name, secret and algo; a
/// Delete's `result: {}` with no id) reads as success for every operation:
/// the overlay tightens no response field so that a success reads as a failure.
#[tokio::test]
async fn the_least_upstream_allows_reads_as_success_for_every_operation() {
    let envelope =
        |result: Value| json!({"success": true, "errors": [], "messages": [], "result": result});
    let peer = json!({"id": EXAMPLE_PEER_ID, "name": "p"});
    let tsig = json!({"id": sdk_tests::EXAMPLE_TSIG_ID, "name": "t.", "secret": "c2VjcmV0", "algo": "hmac-sha256."});
    let server = MockServer::start().await;
    for (resource, item) in [("/peers", &peer), ("/tsigs", &tsig)] {
        for (verb, body) in [
            ("GET", envelope(json!([item]))),
            ("POST", envelope(item.clone())),
            ("PUT", envelope(item.clone())),
            ("DELETE", envelope(json!({}))),
        ] {
            Mock::given(method(verb))
                .and(wiremock::matchers::path_regex(resource))
                .respond_with(json_response(200, body))
                .mount(&server)
                .await;
        }
    }
    // Single-resource GETs answer one object, not a list.
    for (path, body) in [
        ("/peers/[0-9a-f]{32}$", &peer),
        ("/tsigs/[0-9a-f]{32}$", &tsig),
    ] {
        Mock::given(method("GET"))
            .and(wiremock::matchers::path_regex(path))
            .respond_with(json_response(200, envelope(body.clone())))
            .with_priority(1)
            .mount(&server)
            .await;
    }
    let client = Client::builder(Credentials::api_token("t0ken"))
        .base_url(server.uri())
        .max_retries(0)
        .build()
        .unwrap();
    let (acc, peer_id, tsig_id) = (
        sdk_tests::EXAMPLE_ACCOUNT_ID,
        EXAMPLE_PEER_ID,
        sdk_tests::EXAMPLE_TSIG_ID,
    );
    let tsig_body = || {
        types::TsigInput::builder()
            .name("t.")
            .algo("hmac-sha256.")
            .secret("c2VjcmV0")
    };
    let report = |err: ApiError| err.report().to_string();
    let peers = client
        .list_peers()
        .account_id(acc)
        .send()
        .await
        .map_err(report)
        .unwrap();
    assert_eq!(peers.into_inner().result.unwrap()[0].name, "p");
    let body = types::PeerCreate::builder().name("p");
    client
        .create_peer()
        .account_id(acc)
        .body(body)
        .send()
        .await
        .map_err(report)
        .unwrap();
    client
        .get_peer()
        .account_id(acc)
        .peer_id(peer_id)
        .send()
        .await
        .map_err(report)
        .unwrap();
    let body = types::PeerUpdate::builder().name("p");
    client
        .update_peer()
        .account_id(acc)
        .peer_id(peer_id)
        .body(body)
        .send()
        .await
        .map_err(report)
        .unwrap();
    let deleted = client
        .delete_peer()
        .account_id(acc)
        .peer_id(peer_id)
        .send()
        .await
        .map_err(report)
        .unwrap();
    assert_eq!(deleted.into_inner().result.unwrap().id, None);
    client
        .list_tsigs()
        .account_id(acc)
        .send()
        .await
        .map_err(report)
        .unwrap();
    client
        .create_tsig()
        .account_id(acc)
        .body(tsig_body())
        .send()
        .await
        .map_err(report)
        .unwrap();
    client
        .get_tsig()
        .account_id(acc)
        .tsig_id(tsig_id)
        .send()
        .await
        .map_err(report)
        .unwrap();
    client
        .update_tsig()
        .account_id(acc)
        .tsig_id(tsig_id)
        .body(tsig_body())
        .send()
        .await
        .map_err(report)
        .unwrap();
    let deleted = client
        .delete_tsig()
        .account_id(acc)
        .tsig_id(tsig_id)
        .send()
        .await
        .map_err(report)
        .unwrap();
    assert_eq!(deleted.into_inner().result.unwrap().id, None);
}
