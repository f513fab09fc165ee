//! The stand-in's rate-limit mode (off by default), over plain HTTP: counted
//! per credential, `Ratelimit`/`Ratelimit-Policy` on every answer, Cloudflare's
//! 429 (code 10100, `Retry-After`) once over, and every call refused until
//! the lockout has passed.

use std::time::Duration;

use cloudflare_secondary_dns::{Client, Credentials, ErrorKind};
use sdk_tests::{EXAMPLE_ACCOUNT_ID, StandIn};
use secondary_dns_stand_in::{RateLimit, RateLimitStats};
use serde_json::Value;

async fn list(http: &reqwest::Client, url: &str, token: &str) -> reqwest::Response {
    http.get(format!(
        "{url}/accounts/{EXAMPLE_ACCOUNT_ID}/secondary_dns/peers"
    ))
    .bearer_auth(token)
    .send()
    .await
    .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn over_the_limit_is_a_429_for_the_lockout_per_credential() {
    let policy = RateLimit {
        limit: 5,
        window: Duration::from_secs(2),
        lockout: Duration::from_millis(800),
    };
    let stand_in = StandIn::start_rate_limited(policy).await;
    let url = stand_in.uri();
    let http = reqwest::Client::new();
    for remaining in (0..5).rev() {
        let response = list(&http, &url, "a").await;
        assert_eq!(response.status(), 200);
        // t: whole seconds to the reset, rounded up (2, or 1 on a slow machine).
        let current = header(&response, "ratelimit").unwrap();
        assert!(
            [2, 1]
                .iter()
                .any(|t| current == format!("\"default\";r={remaining};t={t}")),
            "{current}"
        );
        assert_eq!(
            header(&response, "ratelimit-policy"),
            Some("\"default\";q=5;w=2")
        );
        assert_eq!(header(&response, "retry-after"), None);
    }
    for _ in 0..2 {
        let response = list(&http, &url, "a").await;
        assert_eq!(response.status(), 429);
        assert_eq!(header(&response, "retry-after"), Some("1"));
        assert!(
            header(&response, "ratelimit")
                .unwrap()
                .starts_with("\"default\";r=0;t=")
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], 10100);
        assert_eq!(
            body["errors"][0]["message"],
            "More than 5 requests per 2 seconds reached. Please wait and consider throttling \
             your request speed"
        );
    }
    // Another credential has its own budget.
    assert_eq!(list(&http, &url, "b").await.status(), 200);
    // Through the sdk, the 429 is RateLimited with the server's Retry-After.
    let client = Client::builder(Credentials::api_token("a"))
        .base_url(url.clone())
        .max_retries(0)
        .build()
        .unwrap();
    let err = client
        .list_peers()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(1))
        }
    );
    assert_eq!(
        stand_in.rate_limit_stats(),
        RateLimitStats {
            limited: 3,
            lockouts: 1
        }
    );
    // After the lockout, a fresh window.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let response = list(&http, &url, "a").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "ratelimit"), Some("\"default\";r=4;t=2"));
}

#[tokio::test]
async fn the_rate_limit_is_off_by_default() {
    let stand_in = StandIn::start().await;
    let http = reqwest::Client::new();
    for _ in 0..20 {
        let response = list(&http, &stand_in.uri(), "a").await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "ratelimit"), None);
    }
    assert_eq!(stand_in.rate_limit_stats(), RateLimitStats::default());
    assert_eq!(
        RateLimit::CLOUDFLARE.scaled(0.01),
        RateLimit {
            limit: 1200,
            window: Duration::from_secs(3),
            lockout: Duration::from_secs(3)
        }
    );
}
