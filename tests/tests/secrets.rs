//! Secrets never show in `Debug` or `Display` of any public type or error.

use cloudflare_secondary_dns::{ApiError, Client, ConfigError, Credentials, ErrorExt, types};
use sdk_tests::{EXAMPLE_ACCOUNT_ID, update_example_peer};
use serde_json::json;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

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
        Client::builder(Credentials::api_token(format!("{TOKEN}\n")))
            .build()
            .unwrap_err(),
        Client::builder(Credentials::api_key(
            "user@example.com",
            format!("{API_KEY}\0"),
        ))
        .build()
        .unwrap_err(),
        Client::builder(Credentials::user_service_key(format!("{SERVICE_KEY}\r")))
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
