//! The pacer, against the stand-in's rate-limit mode (time scaled down: 1,200
//! requests per 3 s) and against servers that say hostile things in
//! `Ratelimit` and `Retry-After`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudflare_secondary_dns::{
    CallOptions, Client, ClientBuilder, Credentials, ErrorKind, RateLimit,
};
use sdk_tests::{EXAMPLE_ACCOUNT_ID, StandIn};
use secondary_dns_stand_in::{RateLimit as ServerPolicy, RateLimitStats};
use serde_json::json;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

/// Cloudflare's policy with time scaled by 1/100: 1,200 per 3 s, 3 s blocked.
fn scaled_cloudflare() -> ServerPolicy {
    ServerPolicy::CLOUDFLARE.scaled(0.01)
}

fn builder(url: &str) -> ClientBuilder {
    Client::builder(Credentials::api_token("pacing-token")).base_url(url)
}

async fn list(client: &Client) -> Result<(), cloudflare_secondary_dns::ApiError> {
    client
        .list_peers()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .send()
        .await
        .map(|_| ())
}

/// `calls` list calls spread over `tasks` tasks on clones of `client`;
/// returns the failures.
async fn run(
    client: &Client,
    tasks: usize,
    calls: usize,
) -> Vec<cloudflare_secondary_dns::ApiError> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (client, next) = (client.clone(), next.clone());
        handles.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < calls {
                if let Err(e) = list(&client).await {
                    failures.push(e);
                }
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for handle in handles {
        failures.extend(handle.await.unwrap());
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_calls_from_64_tasks_meet_no_429() {
    let stand_in = StandIn::start_rate_limited(scaled_cloudflare()).await;
    let limit = RateLimit::new(1200, Duration::from_secs(3)).unwrap();
    let client = builder(&stand_in.uri()).rate_limit(limit).build().unwrap();
    let failures = run(&client, 64, 2000).await;
    assert!(
        failures.is_empty(),
        "{} failed: {}",
        failures.len(),
        failures[0]
    );
    assert_eq!(stand_in.rate_limit_stats(), RateLimitStats::default());
    let status = client.rate_limit_status().unwrap();
    assert_eq!(
        (status.sent, status.waiting, status.paused_for),
        (2000, 0, None)
    );
    assert_eq!(status.limit, limit);
    // The stand-in's latest word is visible to a progress display.
    assert!(status.server_remaining.is_some_and(|r| r < 1200));
    assert!(
        status
            .server_resets_in
            .is_some_and(|t| t <= Duration::from_secs(3))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pacer_off_is_today_s_client_and_trips_the_limit() {
    let stand_in = StandIn::start_rate_limited(ServerPolicy {
        limit: 50,
        window: Duration::from_secs(3),
        lockout: Duration::from_millis(300),
    })
    .await;
    let client = builder(&stand_in.uri())
        .no_rate_limit()
        .max_retries(0)
        .build()
        .unwrap();
    assert_eq!(client.rate_limit_status(), None);
    let failures = run(&client, 8, 80).await;
    // Nothing holds the requests back: everything past 50 meets a 429.
    assert_eq!(failures.len(), 30);
    assert!(failures.iter().all(|e| e.http_status() == Some(429)));
    assert_eq!(
        stand_in.rate_limit_stats(),
        RateLimitStats {
            limited: 30,
            lockouts: 1
        }
    );
}

fn peers_page() -> serde_json::Value {
    json!({"success": true, "errors": [], "messages": [], "result": []})
}

/// A server whose first answer carries `headers` (and `status`), then plain 200s.
async fn server_saying(status: u16, headers: &[(&str, &str)]) -> MockServer {
    let server = MockServer::start().await;
    let mut first = ResponseTemplate::new(status).set_body_json(if status == 200 {
        peers_page()
    } else {
        json!({"success": false, "errors": [{"code": 10100, "message": "More than 1200 requests per 300 seconds reached"}], "messages": [], "result": null})
    });
    for (name, value) in headers {
        first = first.insert_header(*name, *value);
    }
    Mock::given(any())
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(peers_page()))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_server_that_says_none_remain_pauses_the_client_until_its_reset() {
    let server = server_saying(200, &[("ratelimit", r#""default";r=0;t=2"#)]).await;
    let client = builder(&server.uri()).build().unwrap();
    // The pause starts when the answer is read, so it ends at least 2 s after this.
    let first_sent = Instant::now();
    list(&client).await.unwrap();
    let paused = client.rate_limit_status().unwrap();
    assert_eq!(paused.server_remaining, Some(0));
    // (Lower bounds loose: a loaded machine may take a while between two lines.)
    assert!(
        paused
            .paused_for
            .is_some_and(|p| p > Duration::from_millis(500) && p <= Duration::from_secs(2))
    );

    // A call that may not wait fails at once, unsent, with the time to come back.
    let impatient = client.with_options(CallOptions::new().max_pacing_wait(Duration::ZERO));
    let err = list(&impatient).await.unwrap_err();
    let ErrorKind::RateLimited {
        retry_after: Some(after),
    } = err.kind()
    else {
        panic!("{:?}", err.kind());
    };
    assert!(after > Duration::from_millis(500) && after <= Duration::from_secs(2));
    assert_eq!(err.http_status(), None);
    assert_eq!(err.retry_after(), Some(after));
    let report = err.report().to_string();
    let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    assert!(
        report.starts_with("rate limited, not sent: it would wait ")
            && report.contains("for Cloudflare's rate-limit window to reset (Ratelimit header)")
            && report.ends_with(&format!("retry after {seconds} s")),
        "{report}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // The client's default (60 s) waits the pause out.
    list(&client).await.unwrap();
    assert!(first_sent.elapsed() >= Duration::from_secs(2));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_pauses_every_task_which_then_resume() {
    // The client believes in a far higher limit than the server keeps, so it
    // meets a 429; the pause must hold every task, not only the one that met it.
    let stand_in = StandIn::start_rate_limited(ServerPolicy {
        limit: 20,
        window: Duration::from_secs(1),
        lockout: Duration::from_secs(1),
    })
    .await;
    let client = builder(&stand_in.uri())
        .rate_limit(RateLimit::new(100_000, Duration::from_secs(1)).unwrap())
        .build()
        .unwrap();
    let failures = run(&client, 8, 30).await;
    assert!(failures.is_empty(), "{}", failures[0]);
    let stats = stand_in.rate_limit_stats();
    assert_eq!(stats.lockouts, 1);
    // Only the requests already on their way when the first 429 came back
    // met one (at most one per task); none was sent during the pause.
    assert!((1..=8).contains(&stats.limited), "{stats:?}");
    let served = stand_in
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/peers"))
        .count() as u64;
    assert_eq!(served, 30 + stats.limited);
}

#[tokio::test]
async fn a_lockout_longer_than_the_call_may_wait_comes_back_at_once() {
    // Cloudflare's lockout: Retry-After 300 s. With the default 60 s wait the
    // call returns the 429 at once; the next call fails unsent at once too.
    let server = server_saying(
        429,
        &[
            ("retry-after", "300"),
            ("ratelimit", r#""default";r=0;t=300"#),
        ],
    )
    .await;
    let client = builder(&server.uri()).build().unwrap();
    let started = Instant::now();
    let err = list(&client).await.unwrap_err();
    assert_eq!(err.http_status(), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(300)));
    let err = list(&client).await.unwrap_err();
    assert_eq!(err.http_status(), None);
    assert!(
        err.retry_after()
            .is_some_and(|d| d > Duration::from_secs(290))
    );
    // Many at once: each refused at once with the pause's end, none queued
    // behind the others.
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { list(&client).await })
        })
        .collect();
    for call in calls {
        let err = call.await.unwrap().unwrap_err();
        assert!(
            err.retry_after()
                .is_some_and(|d| d > Duration::from_secs(290))
        );
        let report = err.report().to_string();
        assert!(
            report.contains("the pause Cloudflare asked for with a 429"),
            "{report}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_caller_that_chooses_to_wait_out_a_429_is_sent_after_it() {
    let server = server_saying(429, &[("retry-after", "1")]).await;
    let client = builder(&server.uri())
        .max_pacing_wait(Duration::MAX)
        .build()
        .unwrap();
    let started = Instant::now();
    list(&client).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn hostile_rate_limit_headers_are_ignored_or_bounded() {
    // Values no pause may come of: ignored, the next call goes at once.
    for value in [
        r#""default";r=-1;t=30"#,
        r#""default";r=0;t=-30"#,
        r#""default";r=0;t=2.5"#,
        r#""default";r=zero;t=1"#,
        "garbage",
        r#""default";r=0"#,
        r#""default";r=9999999999999999;t=1"#,
    ] {
        let server = server_saying(200, &[("ratelimit", value)]).await;
        let client = builder(&server.uri())
            .max_pacing_wait(Duration::ZERO)
            .build()
            .unwrap();
        list(&client).await.unwrap();
        let status = client.rate_limit_status().unwrap();
        assert_eq!(
            (status.paused_for, status.server_remaining),
            (None, None),
            "{value}"
        );
        list(&client)
            .await
            .unwrap_or_else(|e| panic!("{value}: {e}"));
    }
    // Huge, valid numbers: a pause no longer than two of the client's windows.
    let limit = RateLimit::new(100, Duration::from_secs(1)).unwrap();
    for headers in [
        vec![("ratelimit", r#""default";r=0;t=999999999999999"#)],
        vec![("retry-after", "99999999999")],
        vec![("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")],
    ] {
        let status = if headers[0].0 == "retry-after" {
            429
        } else {
            200
        };
        let server = server_saying(status, &headers).await;
        let client = builder(&server.uri())
            .rate_limit(limit)
            .max_retries(0)
            .build()
            .unwrap();
        let _ = list(&client).await;
        let paused = client.rate_limit_status().unwrap().paused_for;
        assert!(
            paused.is_some_and(|p| p <= Duration::from_secs(2) && p > Duration::from_millis(500)),
            "{headers:?}: {paused:?}"
        );
        // And the client is usable again after it.
        tokio::time::sleep(Duration::from_millis(2100)).await;
        list(&client).await.unwrap();
    }
}

#[tokio::test]
async fn few_remaining_requests_are_spread_until_the_reset() {
    // r=3 with the reset 3 s away (2 s at the earliest, t being rounded up):
    // the three go about 0.67 s apart instead of at once.
    let server = server_saying(200, &[("ratelimit", r#""default";r=3;t=3"#)]).await;
    let client = builder(&server.uri()).build().unwrap();
    list(&client).await.unwrap();
    let started = Instant::now();
    for _ in 0..3 {
        list(&client).await.unwrap();
    }
    // The plain 200s that follow say nothing new: the report holds until its
    // reset, each request spaced (time left until the earliest reset) / 3
    // (0.67 s, then 0.44 s, …) while that is longer than the client's own pace.
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
}
