//! Zone transfers as code in the sdk (`extras::reconcile`), against the
//! stand-in: an account made as desired and then found clean; an apply
//! interrupted after every k of its n changes finished by a rerun with no
//! object created twice; 300 zones under Cloudflare's rate limit (time
//! ÷ 100) with no 429, interrupted midway and rerun.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cloudflare_secondary_dns::extras::reconcile::{
    Action, Desired, DesiredIncoming, DesiredOutgoing, DesiredPeer, DesiredTsig, DesiredZone,
    Object,
};
use cloudflare_secondary_dns::{AccountIdentifier, Client, Credentials, RateLimit};
use secondary_dns_stand_in::{EXAMPLE_ACCOUNT_ID, RateLimit as StandInPolicy, StandIn};

fn client(stand_in: &StandIn, rate_limit: Option<RateLimit>) -> Client {
    let builder = Client::builder(Credentials::api_token("test-token-123"))
        .base_url(stand_in.uri())
        .max_retries(0);
    match rate_limit {
        Some(limit) => builder.rate_limit(limit),
        None => builder,
    }
    .build()
    .unwrap()
}

fn account() -> AccountIdentifier {
    EXAMPLE_ACCOUNT_ID.parse().unwrap()
}

/// Both directions: a new secondary zone from a new peer with a new key,
/// an ACL, and the seeded full zone transferring out, enabled.
fn desired() -> Desired {
    let mut desired = Desired::default();
    desired.tsigs.insert(
        "xfr.example.org.".into(),
        DesiredTsig::new("hmac-sha256", "c2VjcmV0LXNlY3JldC1zZWNyZXQ="),
    );
    let mut peer = DesiredPeer::at("192.0.2.10".parse().unwrap(), 53);
    peer.ixfr = Some(true);
    peer.tsig = Some("xfr.example.org.".into());
    desired.peers.insert("bind-1".into(), peer);
    desired
        .acls
        .insert("notify-src".into(), "198.51.100.0/28".parse().unwrap());
    let mut incoming = DesiredIncoming::from(vec!["bind-1".to_owned()]);
    incoming.auto_refresh_seconds = Some(3600);
    desired
        .zones
        .insert("example.org".into(), DesiredZone::incoming(incoming));
    let mut outgoing = DesiredOutgoing::from(vec!["bind-1".to_owned()]);
    outgoing.enabled = Some(true);
    desired
        .zones
        .insert("example.net".into(), DesiredZone::outgoing(outgoing));
    desired
}

/// The creates the stand-in received, by path.
fn creates(stand_in: &StandIn) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for request in stand_in.requests() {
        if request.method == "POST"
            && !request.path.ends_with("/enable")
            && !request.path.ends_with("/force_axfr")
        {
            // The zone's id varies; count per kind of path.
            let kind = request
                .path
                .split('/')
                .map(|part| if part.len() == 32 { "{id}" } else { part })
                .collect::<Vec<_>>()
                .join("/");
            *counts.entry(kind).or_default() += 1;
        }
    }
    counts
}

#[tokio::test]
async fn an_account_made_as_desired_is_then_clean() {
    let stand_in = StandIn::start().await;
    let client = client(&stand_in, None);
    let plan = client.plan(&account(), &desired(), false).await.unwrap();
    let changes: Vec<String> = plan.changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        changes,
        [
            "create tsig xfr.example.org. (algo: - → hmac-sha256., secret: (changes))",
            "create peer bind-1 (ip: - → 192.0.2.10, port: - → 53, ixfr: - → true, tsig: - → xfr.example.org.)",
            "create acl notify-src (ip_range: - → 198.51.100.0/28)",
            "create zone example.org (type: - → secondary)",
            "create zone example.net outgoing (peers: - → bind-1)",
            "create zone example.org incoming (peers: - → bind-1, auto_refresh_seconds: - → 3600)",
            "update zone example.net outgoing transfers (enabled: false → true)",
        ]
    );
    assert_eq!(
        plan.summary(),
        "Plan: 6 to create, 1 to update, 0 to delete, 1 unchanged."
    );
    let mut landed = Vec::new();
    client
        .apply(&account(), &plan, |change| {
            landed.push(change.object.clone())
        })
        .await
        .unwrap();
    assert_eq!(landed.len(), 7);
    let again = client.plan(&account(), &desired(), false).await.unwrap();
    assert!(again.is_empty(), "{:?}", again.changes);
    // Seven objects made or changed, and the full zone itself.
    assert_eq!(again.unchanged, 8);
    // The secret is compared, never shown.
    assert!(!format!("{plan:?}").contains("c2VjcmV0LXNlY3JldC1zZWNyZXQ="));
}

#[tokio::test]
async fn an_apply_interrupted_after_every_k_changes_is_finished_by_a_rerun_without_duplicates() {
    let n = client(&StandIn::start().await, None)
        .plan(&account(), &desired(), false)
        .await
        .unwrap()
        .changes
        .len();
    for k in 1..n {
        let stand_in = StandIn::start().await;
        let client = Arc::new(client(&stand_in, None));
        let plan = client.plan(&account(), &desired(), false).await.unwrap();
        let landed = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut stop = Some(stop);
        let counted = landed.clone();
        let applying = {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .apply(&account(), &plan, move |_| {
                        if counted.fetch_add(1, Ordering::SeqCst) + 1 == k
                            && let Some(stop) = stop.take()
                        {
                            let _ = stop.send(());
                        }
                    })
                    .await
            })
        };
        // Interrupted as Ctrl-C would: the next change may be in flight.
        let _ = stopped.await;
        applying.abort();
        let _ = applying.await;
        let rerun = client.plan(&account(), &desired(), false).await.unwrap();
        assert!(rerun.changes.len() <= n - k, "k={k}: {:?}", rerun.changes);
        client.apply(&account(), &rerun, |_| {}).await.unwrap();
        let clean = client.plan(&account(), &desired(), false).await.unwrap();
        assert!(clean.is_empty(), "k={k}: {:?}", clean.changes);
        for (path, count) in creates(&stand_in) {
            assert_eq!(count, 1, "k={k}: {path} created {count} times");
        }
    }
}

#[tokio::test]
async fn three_hundred_zones_under_the_rate_limit_interrupted_and_rerun() {
    let window = Duration::from_secs(3);
    let stand_in = StandIn::start_rate_limited(StandInPolicy {
        limit: 1200,
        window,
        lockout: window,
    })
    .await;
    let client = Arc::new(client(
        &stand_in,
        Some(RateLimit::new(1200, window).unwrap()),
    ));
    let mut desired = Desired::default();
    desired.peers.insert(
        "bind-1".into(),
        DesiredPeer::at("192.0.2.10".parse().unwrap(), 53),
    );
    for i in 0..300 {
        desired.zones.insert(
            format!("zone-{i:03}.example"),
            DesiredZone::incoming(DesiredIncoming::from(vec!["bind-1".to_owned()])),
        );
    }
    let plan = client.plan(&account(), &desired, false).await.unwrap();
    assert_eq!(plan.count(Action::Create), 1 + 300 + 300);
    let landed = Arc::new(AtomicUsize::new(0));
    let counted = landed.clone();
    let applying = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .apply(&account(), &plan, move |_| {
                    counted.fetch_add(1, Ordering::SeqCst);
                })
                .await
        })
    };
    while landed.load(Ordering::SeqCst) < 300 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    applying.abort();
    let _ = applying.await;
    let rerun = client.plan(&account(), &desired, false).await.unwrap();
    assert!(rerun.changes.len() <= 301, "{}", rerun.summary());
    assert!(
        rerun.changes.iter().all(|c| c.action == Action::Create
            && matches!(c.object, Object::Zone(_) | Object::Incoming(_))),
        "{}",
        rerun.summary()
    );
    client.apply(&account(), &rerun, |_| {}).await.unwrap();
    assert!(
        client
            .plan(&account(), &desired, false)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(stand_in.rate_limit_stats().limited, 0, "no 429");
    let creates = creates(&stand_in);
    assert_eq!(creates.get("/zones"), Some(&300), "{creates:?}");
    assert_eq!(
        creates.get("/zones/{id}/secondary_dns/incoming"),
        Some(&300),
        "{creates:?}"
    );
    assert_eq!(
        creates.get("/accounts/{id}/secondary_dns/peers"),
        Some(&1),
        "{creates:?}"
    );
}
