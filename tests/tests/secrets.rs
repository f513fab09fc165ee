//! Secrets never show in `Debug` or `Display` of any public type or error.

use cloudflare_secondary_dns::{ApiError, Client, ConfigError, Credentials, types};
use sdk_tests::{EXAMPLE_ACCOUNT_ID, update_example_peer};
use serde_json::json;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

/// Retries stay on (their annotations must not leak either), but quick.
const FAST: std::time::Duration = std::time::Duration::from_millis(1);
const TOKEN: &str = "tok-SECRET-7f3a9c";
const API_KEY: &str = "key-SECRET-144c9d";
const SERVICE_KEY: &str = "svc-SECRET-v1.0";

fn all_credentials() -> [Credentials; 3] {
    [
        Credentials::api_token(TOKEN),
        Credentials::api_key("user@example.com", API_KEY),
        Credentials::user_service_key(SERVICE_KEY),
    ]
}

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for secret in [TOKEN, API_KEY, SERVICE_KEY, "SECRET"] {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
    }
}

async fn failing_call(client: &Client) -> ApiError {
    update_example_peer(client, types::PeerUpdate::builder().name("x"))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn configuration_types_hide_secrets() {
    for credentials in all_credentials() {
        assert_no_secret("Credentials", &format!("{credentials:?}"));
        let builder = Client::builder(credentials).base_url("http://127.0.0.1:9");
        assert_no_secret("ClientBuilder", &format!("{builder:?}"));
        let client = builder.build().unwrap();
        assert_no_secret("Client", &format!("{client:?} {client:#?}"));
        let request = client.update_peer().account_id(EXAMPLE_ACCOUNT_ID);
        assert_no_secret("builder::UpdatePeer", &format!("{request:?}"));
    }
}

#[tokio::test]
async fn configuration_errors_hide_secrets() {
    let errors: Vec<ConfigError> = vec![
        Client::builder(Credentials::api_token(format!("{TOKEN}\nx")))
            .build()
            .unwrap_err(),
        Client::builder(Credentials::api_key(
            "user@example.com",
            format!("{API_KEY}\0"),
        ))
        .build()
        .unwrap_err(),
        Client::builder(Credentials::user_service_key(format!("{SERVICE_KEY}\rx")))
            .build()
            .unwrap_err(),
        Client::builder(Credentials::api_token(TOKEN))
            .base_url(format!("https://user:{TOKEN}@api.cloudflare.com"))
            .build()
            .unwrap_err(),
    ];
    for err in errors {
        assert_no_secret("ConfigError", &format!("{err} {err:?}"));
    }
}

#[tokio::test]
async fn api_errors_hide_secrets() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"success": false, "errors": [{"code": 10000, "message": "Authentication error"}]}),
        ))
        .mount(&server)
        .await;
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    for credentials in all_credentials() {
        for base_url in [server.uri(), format!("http://127.0.0.1:{closed_port}")] {
            let client = Client::builder(credentials.clone())
                .base_url(base_url)
                .retry_backoff(FAST, FAST)
                .build()
                .unwrap();
            let err = failing_call(&client).await;
            assert_no_secret(
                "ApiError",
                &format!("{err} | {err:#} | {err:?} | {}", err.report()),
            );
        }
    }
    // The server did see the secrets: the assertions above are not vacuous.
    let seen = server.received_requests().await.unwrap();
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
    assert_eq!(seen[1].headers["x-auth-key"], API_KEY);
    assert_eq!(seen[2].headers["x-auth-user-service-key"], SERVICE_KEY);
}

const TSIG_SECRET: &str = "tsig-SECRET-caf79a7804b04337";

fn tsig_json() -> serde_json::Value {
    json!({"id": sdk_tests::EXAMPLE_TSIG_ID, "name": "tsig.customer.cf.", "secret": TSIG_SECRET, "algo": "hmac-sha512."})
}

#[tokio::test]
async fn tsig_secrets_stay_out_of_debug_output() {
    let input = types::TsigInput::builder()
        .name("n")
        .algo("a")
        .secret(TSIG_SECRET);
    assert_no_secret("builder::TsigInput", &format!("{input:?}"));
    let input = types::TsigInput::try_from(input).unwrap();
    assert_no_secret("TsigInput", &format!("{input:?} {input:#?}"));
    assert!(
        serde_json::to_string(&input).unwrap().contains(TSIG_SECRET),
        "the wire form keeps the secret"
    );

    let envelope = json!({"errors": [], "messages": [], "success": true, "result": tsig_json()});
    let single: types::SingleTsigResponse = serde_json::from_value(envelope).unwrap();
    assert_no_secret("SingleTsigResponse", &format!("{single:?}"));
    assert_eq!(
        single.result.as_ref().unwrap().secret.expose_secret(),
        TSIG_SECRET
    );

    let client = Client::builder(Credentials::api_token("t"))
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let request = client
        .create_tsig()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .body(input);
    assert_no_secret("builder::CreateTsig", &format!("{request:?}"));
}

/// TSIG responses that fail to decode: the error text must not carry the
/// secret that was in the body.
#[tokio::test]
async fn tsig_secrets_stay_out_of_decode_errors() {
    let envelope = |result: serde_json::Value| json!({"errors": [], "messages": [], "success": true, "result": result});
    let mut missing_algo = tsig_json();
    missing_algo.as_object_mut().unwrap().remove("algo");
    let full = envelope(tsig_json()).to_string();
    let bodies = [
        (200, envelope(missing_algo.clone()).to_string()), // a required field missing
        (200, full[..full.len() - 20].to_owned()),         // cut after the secret
        (200, full[..full.find(TSIG_SECRET).unwrap() + 8].to_owned()), // cut inside the secret
        (200, envelope(json!([tsig_json()])).to_string()), // a list where one was expected
        (
            400,
            json!({"success": false, "errors": [], "result": tsig_json()}).to_string(),
        ), // decodes; result is free-form
        (
            404,
            json!({"success": false, "result": tsig_json()}).to_string(),
        ), // no `errors`: does not decode
        (500, format!("<html>{}</html>", envelope(tsig_json()))), // not JSON at all
    ];
    for (status, body) in bodies {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_raw(body.clone().into_bytes(), "application/json"),
            )
            .mount(&server)
            .await;
        let client = Client::builder(Credentials::api_token("t"))
            .base_url(server.uri())
            .retry_backoff(FAST, FAST)
            .build()
            .unwrap();
        let err = client
            .get_tsig()
            .account_id(EXAMPLE_ACCOUNT_ID)
            .tsig_id(sdk_tests::EXAMPLE_TSIG_ID)
            .send()
            .await
            .unwrap_err();
        let text = format!("{err} | {err:#} | {err:?} | {}", err.report());
        assert!(
            !text.contains("caf79a78"),
            "HTTP {status} {body}: the secret leaked: {text}"
        );
        assert!(text.contains("[REDACTED]"), "HTTP {status} {body}: {text}");
    }
}

/// Servers that echo what the client sent: the credential (in JSON, in HTML,
/// in a header, in a 200 that will not decode) or the TSIG secret of an Update
/// TSIG (in an error message). The client knows both, so neither may show.
#[tokio::test]
async fn echoed_secrets_never_reach_error_text() {
    // Secrets without the word "secret": previews of non-JSON text stop at
    // that word, which would hide whether scrubbing worked.
    const SENT_TSIG_SECRET: &str = "sent-tsig-0a1b2c3d";
    let (token, key, service_key) = ("tok-7f3a9c-e1", "key-144c9d-e2", "svc-v1.0-e3");
    let all = [
        (Credentials::api_token(token), token),
        (Credentials::api_key("user@example.com", key), key),
        (Credentials::user_service_key(service_key), service_key),
    ];
    for (credentials, secret) in all {
        let escaped = serde_json::to_string(secret).unwrap();
        let responses = [
            ResponseTemplate::new(401).set_body_json(json!({"success": false, "errors": [
                {"code": 10000, "message": format!("Invalid credential {secret}")}]})),
            ResponseTemplate::new(401).set_body_raw(
                format!("<html><p>X-Auth-Key: {secret}</p></html>"),
                "text/html",
            ),
            ResponseTemplate::new(403)
                .insert_header("x-echo", format!("Bearer {secret}").as_str())
                .set_body_json(json!({"success": false, "errors": [], "result": {"echo": secret}})),
            ResponseTemplate::new(200).set_body_raw(
                format!("{{\"success\":true,\"result\":{escaped},\"messages\":[]}}"),
                "application/json",
            ),
            ResponseTemplate::new(200).set_body_raw(format!("not json {secret}"), "text/plain"),
            ResponseTemplate::new(400).set_body_json(json!({"success": false, "errors": [
                {"code": 1004, "message": format!("secret {SENT_TSIG_SECRET} is too short")}]})),
        ];
        for response in responses {
            let server = MockServer::start().await;
            Mock::given(any())
                .respond_with(response)
                .mount(&server)
                .await;
            let client = Client::builder(credentials.clone())
                .base_url(server.uri())
                .max_retries(0)
                .build()
                .unwrap();
            let body = types::TsigInput::builder()
                .name("tsig.customer.cf.")
                .algo("hmac-sha512.")
                .secret(SENT_TSIG_SECRET);
            let err = client
                .update_tsig()
                .account_id(EXAMPLE_ACCOUNT_ID)
                .tsig_id(sdk_tests::EXAMPLE_TSIG_ID)
                .body(body)
                .send()
                .await
                .unwrap_err();
            let text = format!("{err} | {err:#} | {err:?} | {}", err.report());
            for shown in [secret, SENT_TSIG_SECRET] {
                assert!(!text.contains(shown), "{shown} leaked: {text}");
            }
            assert!(text.contains("[REDACTED]"), "{text}");
            // The server did receive both.
            let received = &server.received_requests().await.unwrap()[0];
            assert!(String::from_utf8_lossy(&received.body).contains(SENT_TSIG_SECRET));
        }
    }
}

/// `secret` with every character written as a JSON `\uXXXX` escape.
fn unicode_escaped(secret: &str) -> String {
    secret
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect()
}

/// `secret` with every byte percent-encoded, hex digits in lower case.
fn percent_lower(secret: &str) -> String {
    secret.bytes().map(|b| format!("%{b:02x}")).collect()
}

/// The forms found by adversarial testing: a token written with JSON `\u`
/// escapes in a small 200 (`success: false`, and a wrongly typed field), a
/// TSIG secret percent-encoded in lower case, a token echoed as a header name.
/// None may reach `{}`, `{:?}`, `report()` or `cloudflare_errors()`.
#[tokio::test]
async fn secrets_written_with_other_escapes_never_reach_error_text() {
    const TOKEN: &str = "tok-7f3a9c-e1";
    const SENT_TSIG_SECRET: &str = "c2VudA+/=";
    let escaped_token = unicode_escaped(TOKEN);
    let peer = |port: &str| {
        format!(
            r#"{{"success":true,"errors":[],"messages":[],"result":{{"id":"23ff594956f20c2a721606e94745a8aa","name":"p","port":{port}}}}}"#
        )
    };
    let responses = [
        ResponseTemplate::new(200).set_body_raw(
            format!(
                r#"{{"success":false,"errors":[{{"code":10000,"message":"bad {escaped_token}"}}],"messages":[],"result":null}}"#
            ),
            "application/json",
        ),
        ResponseTemplate::new(200)
            .set_body_raw(peer(&format!("\"{escaped_token}\"")), "application/json"),
        ResponseTemplate::new(200).set_body_raw(
            peer(&format!("\"{}\"", percent_lower(TOKEN))),
            "application/json",
        ),
        ResponseTemplate::new(400).set_body_json(json!({"success": false, "errors": [
            {"code": 1004, "message": format!("bad secret {}", percent_lower(SENT_TSIG_SECRET))}]})),
        ResponseTemplate::new(400).set_body_json(json!({"success": false, "errors": [
            {"code": 1004, "message": "x"}], "result": {"echo": "c2VudA%2b%2F%3d"}})),
        ResponseTemplate::new(404)
            .insert_header(format!("x-{TOKEN}").as_str(), "1")
            .set_body_json(json!({"success": false, "errors": []})),
    ];
    for response in responses {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(response)
            .mount(&server)
            .await;
        let client = Client::builder(Credentials::api_token(TOKEN))
            .base_url(server.uri())
            .max_retries(0)
            .build()
            .unwrap();
        // Update Peer for the peer bodies, Update TSIG (which sends the secret) otherwise.
        let errors = [
            failing_call(&client).await,
            client
                .update_tsig()
                .account_id(EXAMPLE_ACCOUNT_ID)
                .tsig_id(sdk_tests::EXAMPLE_TSIG_ID)
                .body(
                    types::TsigInput::builder()
                        .name("tsig.customer.cf.")
                        .algo("hmac-sha512.")
                        .secret(SENT_TSIG_SECRET),
                )
                .send()
                .await
                .unwrap_err(),
        ];
        // Update Peer's client knows the token only; Update TSIG's the secret too.
        for (err, known) in errors
            .iter()
            .zip([&[TOKEN][..], &[TOKEN, SENT_TSIG_SECRET]])
        {
            let listed = format!("{:?}", err.cloudflare_errors());
            let text = format!("{err} | {err:#} | {err:?} | {} | {listed}", err.report());
            let lower = text.to_ascii_lowercase();
            for &shown in known {
                for form in [
                    shown.to_owned(),
                    unicode_escaped(shown),
                    percent_lower(shown),
                ] {
                    assert!(
                        !lower.contains(&form.to_ascii_lowercase()),
                        "{form} leaked: {text}"
                    );
                }
            }
            if known.len() == 2 {
                assert!(!lower.contains("c2vuda%2b%2f%3d"), "{text}");
            }
        }
    }
}
