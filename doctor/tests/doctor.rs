//! The doctor against the stand-in (the API) and a real primary on
//! 127.0.0.1 (UDP and TCP, TSIG as BIND answers it): each cause of a
//! failed transfer named, and no secret in any output.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cloudflare_secondary_dns::prelude::*;
use cloudflare_secondary_dns::{PeerIp, ZoneIdentifier};
use cloudflare_secondary_dns_doctor::probe::{self, TransferKind};
use cloudflare_secondary_dns_doctor::{
    Direction, Doctor, DoctorOptions, ProbeError, ProbeLimits, Verdict, ZoneReport,
};
use secondary_dns_stand_in::primary::{Behaviour, Primary};
use secondary_dns_stand_in::{
    EXAMPLE_ACCOUNT_ID, FIRST_SERIAL, SEEDED_FULL_ZONE, SEEDED_SECONDARY_ZONE, StandIn,
};

const ZONE: &str = SEEDED_SECONDARY_ZONE.1;
const KEY_NAME: &str = "xfr.example.com.";
/// The key's bytes, and the base64 both sides hold.
const SECRET: &[u8] = b"a shared TSIG secret of 32 bytes";
const SECRET_B64: &str = "YSBzaGFyZWQgVFNJRyBzZWNyZXQgb2YgMzIgYnl0ZXM=";

struct Setup {
    _stand_in: StandIn,
    primary: Primary,
    client: Client,
    zone_id: ZoneIdentifier,
    tsig_id: String,
}

fn client(base_url: &str) -> Client {
    Client::builder(Credentials::api_token("test-token-123"))
        .base_url(base_url)
        .max_retries(0)
        .build()
        .unwrap()
}

/// The seeded secondary zone, configured through the API with one peer at
/// a primary on loopback that shares the key; Cloudflare's first transfer
/// has landed (serial FIRST_SERIAL, as the primary's).
async fn setup(secret_at_cloudflare: &str, ixfr: bool) -> Setup {
    let stand_in = StandIn::start().await;
    let primary = Primary::start(ZONE, FIRST_SERIAL as u32).await;
    primary.require_key(KEY_NAME, "hmac-sha256", SECRET);
    let client = client(&stand_in.uri());
    let (tsig_id, peer_id) =
        key_and_peer(&client, secret_at_cloudflare, primary.addr(), ixfr).await;
    let zone_id: ZoneIdentifier = SEEDED_SECONDARY_ZONE.0.parse().unwrap();
    client
        .create_incoming()
        .zone_id(zone_id)
        .body(
            types::IncomingInput::builder()
                .name(format!("{ZONE}."))
                .peers(vec![peer_id.parse().unwrap()]),
        )
        .send()
        .await
        .unwrap();
    // The stand-in's first transfer lands on the next read.
    for _ in 0..2 {
        client.get_incoming().zone_id(zone_id).send().await.unwrap();
    }
    Setup {
        _stand_in: stand_in,
        primary,
        client,
        zone_id,
        tsig_id,
    }
}

/// A TSIG key (`KEY_NAME`, hmac-sha256, `secret`) and a peer `primary-1` at
/// `addr` that uses it, made through the API: their ids.
async fn key_and_peer(
    client: &Client,
    secret: &str,
    addr: SocketAddr,
    ixfr: bool,
) -> (String, String) {
    let tsig = client
        .create_tsig()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .body(
            types::TsigInput::builder()
                .name(KEY_NAME)
                .algo("hmac-sha256.")
                .secret(secret),
        )
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    let peer = client
        .create_peer()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .body(types::PeerCreate::builder().name("primary-1"))
        .send()
        .await
        .unwrap()
        .into_result()
        .unwrap();
    client
        .update_peer()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .peer_id(peer.id.as_str())
        .body(
            types::PeerUpdate::builder()
                .name("primary-1")
                .ip(Some(PeerIp::from(addr.ip())))
                .port(Some(addr.port()))
                .ixfr_enable(Some(ixfr))
                .tsig_id(Some(tsig.id.clone())),
        )
        .send()
        .await
        .unwrap();
    (tsig.id, peer.id)
}

fn quick() -> ProbeLimits {
    ProbeLimits::default()
        .timeout(Duration::from_millis(700))
        .transfer_timeout(Duration::from_secs(5))
}

impl Setup {
    async fn doctor(&self) -> ZoneReport {
        self.doctor_with(DoctorOptions::default().limits(quick()))
            .await
    }

    async fn doctor_with(&self, options: DoctorOptions) -> ZoneReport {
        // I9 asks the primary itself: it serves the same serial here.
        let options = options.served_by(vec![self.primary.addr()]);
        let report = Doctor::new(self.client.clone())
            .with_options(options)
            .zone(&self.zone_id)
            .await;
        let json = serde_json::to_string(&report).unwrap();
        for secret in [SECRET_B64, "a shared TSIG secret"] {
            assert!(!json.contains(secret), "a secret in the report: {json}");
            assert!(!format!("{report:?}").contains(secret));
        }
        report
    }
}

fn check<'a>(report: &'a ZoneReport, id: &str) -> &'a cloudflare_secondary_dns_doctor::Check {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#?}"))
}

#[tokio::test]
async fn a_healthy_zone_passes_every_check() {
    let setup = setup(SECRET_B64, true).await;
    let report = setup.doctor().await;
    assert_eq!(report.direction, Direction::Incoming);
    for c in &report.checks {
        // The seeded zone is pending (no registrar here): I1 says so.
        let expected = if c.id == "I1" {
            Verdict::Warning
        } else {
            Verdict::Ok
        };
        assert_eq!(c.verdict, expected, "{c:#?}");
    }
    let transfer = check(&report, "I6");
    assert!(transfer.seen.contains("13 records"), "{}", transfer.seen);
    assert!(transfer.seen.contains("TSIG verified"), "{}", transfer.seen);
    assert!(
        transfer.seen.contains("IXFR from 2019102400: up to date"),
        "{}",
        transfer.seen
    );
    assert!(
        report
            .summary()
            .starts_with("example.com (incoming): warning: 8 ok, 1 warning, 0 failures"),
        "{}",
        report.summary()
    );
}

#[tokio::test]
async fn a_secret_changed_at_cloudflare_only_is_badsig() {
    let setup = setup(SECRET_B64, false).await;
    setup
        .client
        .update_tsig()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .tsig_id(setup.tsig_id.as_str())
        .body(
            types::TsigInput::builder()
                .name(KEY_NAME)
                .algo("hmac-sha256.")
                .secret("b3RoZXIgc2VjcmV0LCBvdGhlciBzZWNyZXQhIQ=="),
        )
        .send()
        .await
        .unwrap();
    let report = setup.doctor().await;
    let transfer = check(&report, "I6");
    assert_eq!(transfer.verdict, Verdict::Failure);
    assert!(transfer.seen.starts_with("BADSIG"), "{}", transfer.seen);
    assert!(
        transfer.todo.as_deref().unwrap().contains("tsigs update"),
        "{transfer:?}"
    );
    assert_eq!(report.verdict(), Verdict::Failure);
}

#[tokio::test]
async fn a_key_the_primary_does_not_know_is_badkey() {
    let setup = setup(SECRET_B64, false).await;
    setup
        .primary
        .require_key("other-name.example.com.", "hmac-sha256", SECRET);
    let report = setup.doctor().await;
    let transfer = check(&report, "I6");
    assert!(transfer.seen.starts_with("BADKEY"), "{}", transfer.seen);
    assert!(
        transfer.todo.as_deref().unwrap().contains(KEY_NAME),
        "{transfer:?}"
    );
}

#[tokio::test]
async fn a_secret_stored_as_hex_is_named_with_the_decoding_that_works() {
    let hex: String = SECRET.iter().map(|b| format!("{b:02x}")).collect();
    let setup = setup(&hex, false).await;
    let report = setup.doctor().await;
    assert_eq!(check(&report, "I4").verdict, Verdict::Warning);
    assert!(
        check(&report, "I4").seen.contains("64 hex digits"),
        "{:?}",
        check(&report, "I4")
    );
    let transfer = check(&report, "I6");
    assert_eq!(transfer.verdict, Verdict::Failure);
    assert!(
        transfer.seen.contains("works with it read as hex"),
        "{}",
        transfer.seen
    );
    assert!(!serde_json::to_string(&report).unwrap().contains(&hex));
}

#[tokio::test]
async fn a_skewed_clock_is_badtime_not_a_wrong_secret() {
    let setup = setup(SECRET_B64, false).await;
    setup.primary.with_state(|state| state.clock_skew = 3_600);
    let report = setup.doctor().await;
    let transfer = check(&report, "I6");
    assert!(transfer.seen.starts_with("BADTIME"), "{}", transfer.seen);
    assert!(transfer.seen.contains("+3600 s"), "{}", transfer.seen);
    assert!(transfer.todo.as_deref().unwrap().contains("NTP"));
}

#[tokio::test]
async fn a_refusing_primary_is_named() {
    let setup = setup(SECRET_B64, false).await;
    setup.primary.set_behaviour(Behaviour::Refuse);
    let report = setup.doctor().await;
    assert_eq!(check(&report, "I5").verdict, Verdict::Failure);
    assert_eq!(check(&report, "I5").seen, "REFUSED");
    assert_eq!(check(&report, "I6").seen, "REFUSED");
    assert!(
        check(&report, "I6")
            .todo
            .as_deref()
            .unwrap()
            .contains("allow-transfer")
    );
}

#[tokio::test]
async fn udp_answered_but_tcp_silent_is_a_firewall() {
    let setup = setup(SECRET_B64, false).await;
    setup.primary.set_behaviour(Behaviour::TcpSilent);
    let report = setup.doctor().await;
    let soa = check(&report, "I5");
    assert!(
        soa.seen.starts_with("UDP answers but TCP does not"),
        "{soa:?}"
    );
    assert!(soa.todo.as_deref().unwrap().contains("TCP port"));
}

#[tokio::test]
async fn a_stopped_primary_is_unreachable_within_the_timeout() {
    let Setup {
        _stand_in,
        primary,
        client,
        zone_id,
        ..
    } = setup(SECRET_B64, false).await;
    let addr = primary.addr();
    drop(primary);
    let started = Instant::now();
    let report = Doctor::new(client)
        .with_options(DoctorOptions::default().limits(quick()).served_by(vec![]))
        .zone(&zone_id)
        .await;
    let soa = check(&report, "I5");
    assert_eq!(soa.verdict, Verdict::Failure);
    assert!(soa.title.contains(&addr.to_string()), "{soa:?}");
    assert!(
        soa.seen.starts_with("unreachable over UDP and TCP"),
        "{soa:?}"
    );
    assert_eq!(check(&report, "I6").verdict, Verdict::Failure);
    // Two SOA probes and a transfer, each within the 0.7 s wait.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_primary_ahead_while_the_transfer_works_here_is_an_allow_list() {
    let setup = setup(SECRET_B64, false).await;
    setup.primary.set_serial(FIRST_SERIAL as u32 + 3);
    let report = setup.doctor().await;
    assert_eq!(check(&report, "I7").verdict, Verdict::Warning);
    let stale = check(&report, "I8");
    assert_eq!(stale.verdict, Verdict::Failure, "{stale:#?}");
    assert!(
        stale.seen.contains("refuses Cloudflare's addresses"),
        "{}",
        stale.seen
    );
    let todo = stale.todo.as_deref().unwrap();
    for line in ["104.30.167.163", "BIND:", "NSD:", "Knot:", "PowerDNS:"] {
        assert!(todo.contains(line), "{todo}");
    }
}

#[tokio::test]
async fn a_serial_gone_backwards_is_a_failure() {
    let setup = setup(SECRET_B64, false).await;
    setup.primary.set_serial(FIRST_SERIAL as u32 - 1);
    let report = setup.doctor().await;
    assert_eq!(check(&report, "I7").verdict, Verdict::Failure);
    assert!(check(&report, "I7").seen.contains("went backwards"));
    // The wrap past 2^32 is tested on the check itself (incoming.rs).
}

#[tokio::test]
async fn ixfr_answered_with_the_whole_zone_is_named() {
    let setup = setup(SECRET_B64, true).await;
    setup.primary.set_serial(FIRST_SERIAL as u32 + 1);
    setup.primary.set_behaviour(Behaviour::IxfrAsAxfr);
    let report = setup.doctor().await;
    let transfer = check(&report, "I6");
    assert_eq!(transfer.verdict, Verdict::Warning, "{transfer:#?}");
    assert!(transfer.seen.contains("answered with the whole zone"));
    assert!(transfer.todo.as_deref().unwrap().contains("PowerDNS"));
}

/// Each hostile answer is a typed error, in bounded time.
#[tokio::test]
async fn hostile_primaries_get_typed_errors_never_a_hang() {
    let primary = Primary::start(ZONE, 7).await;
    let limits = quick().max_transfer_bytes(200_000);
    type Expected = fn(&ProbeError) -> bool;
    let cases: [(Behaviour, Expected); 6] = [
        (Behaviour::WrongId, |e| {
            matches!(e, ProbeError::WrongId { .. })
        }),
        (Behaviour::Truncated, |e| {
            matches!(e, ProbeError::Closed { .. })
        }),
        (Behaviour::Garbage, |e| {
            matches!(e, ProbeError::Malformed { .. } | ProbeError::WrongId { .. })
        }),
        (Behaviour::Endless, |e| {
            matches!(e, ProbeError::TooLarge { .. })
        }),
        (Behaviour::OtherZone, |e| {
            matches!(e, ProbeError::OtherZone { .. })
        }),
        (Behaviour::Silent, |e| {
            matches!(e, ProbeError::TimedOut { .. })
        }),
    ];
    for (behaviour, expected) in cases {
        primary.set_behaviour(behaviour);
        let started = Instant::now();
        let err = probe::transfer(primary.addr(), ZONE, TransferKind::Axfr, None, &limits)
            .await
            .unwrap_err();
        assert!(expected(&err), "{behaviour:?}: {err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{behaviour:?} took {:?}",
            started.elapsed()
        );
    }
    // Nothing listening at all.
    let closed: SocketAddr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let err = probe::transfer(closed, ZONE, TransferKind::Axfr, None, &limits)
        .await
        .unwrap_err();
    assert!(matches!(err, ProbeError::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn an_answer_signed_with_another_secret_is_named() {
    let setup = setup(SECRET_B64, false).await;
    setup.primary.set_behaviour(Behaviour::BadSignature);
    let report = setup.doctor().await;
    let transfer = check(&report, "I6");
    assert_eq!(transfer.verdict, Verdict::Failure);
    assert_eq!(
        transfer.seen,
        "the answer's signature does not verify: bad signature"
    );
    assert!(
        transfer
            .todo
            .as_deref()
            .unwrap()
            .contains("signs with another secret")
    );
}

#[tokio::test]
async fn an_unsigned_answer_to_a_signed_transfer_is_refused() {
    let setup = setup(SECRET_B64, false).await;
    setup.primary.set_behaviour(Behaviour::Unsigned);
    let report = setup.doctor().await;
    assert_eq!(check(&report, "I6").seen, "the answer is not signed");
}

#[tokio::test]
async fn an_outgoing_zone_is_checked_from_cloudflare_to_its_secondary() {
    let stand_in = StandIn::start().await;
    let client = client(&stand_in.uri());
    let (zone_id, zone) = SEEDED_FULL_ZONE;
    let zone_id: ZoneIdentifier = zone_id.parse().unwrap();
    // Cloudflare's transfer address, played by a primary on loopback that
    // holds the zone at the serial the API reports.
    let cloudflare = Primary::start(zone, FIRST_SERIAL as u32).await;
    cloudflare.require_key(KEY_NAME, "hmac-sha256", SECRET);
    // The secondary, one serial behind.
    let secondary = Primary::start(zone, FIRST_SERIAL as u32 - 1).await;
    let (_, peer_id) = key_and_peer(&client, SECRET_B64, secondary.addr(), false).await;
    client
        .create_outgoing()
        .zone_id(zone_id)
        .body(
            types::OutgoingInput::builder()
                .name(format!("{zone}."))
                .peers(vec![peer_id.parse().unwrap()]),
        )
        .send()
        .await
        .unwrap();
    let doctor = Doctor::new(client.clone()).with_options(
        DoctorOptions::default()
            .limits(quick())
            .outgoing_transfer(cloudflare.addr()),
    );
    let report = doctor.zone(&zone_id).await;
    assert_eq!(report.direction, Direction::Outgoing);
    let verdicts: Vec<(&str, Verdict)> = report.checks.iter().map(|c| (c.id, c.verdict)).collect();
    assert_eq!(
        verdicts,
        [
            ("O1", Verdict::Failure),
            ("O2", Verdict::Ok),
            ("O3", Verdict::Warning),
            ("O4", Verdict::Ok),
            ("O5", Verdict::Warning),
        ],
        "{report:#?}"
    );
    assert!(
        check(&report, "O1")
            .todo
            .as_deref()
            .unwrap()
            .contains("outgoing enable")
    );
    assert!(
        check(&report, "O4").seen.contains("TSIG verified"),
        "{:?}",
        check(&report, "O4")
    );
    assert_eq!(
        check(&report, "O5").seen,
        format!("serial {}, Cloudflare has {FIRST_SERIAL}", FIRST_SERIAL - 1)
    );

    client
        .enable_outgoing()
        .zone_id(zone_id)
        .send()
        .await
        .unwrap();
    secondary.set_serial(FIRST_SERIAL as u32);
    let report = doctor.zone(&zone_id).await;
    assert_eq!(check(&report, "O1").verdict, Verdict::Ok);
    assert_eq!(check(&report, "O5").verdict, Verdict::Ok);
    assert!(!serde_json::to_string(&report).unwrap().contains(SECRET_B64));
}

#[tokio::test]
async fn opt_in_notify_and_fix() {
    let setup = setup(SECRET_B64, false).await;
    let options = DoctorOptions::default()
        .limits(quick())
        .send_notify(Some(vec![setup.primary.addr()]))
        .fix(Duration::from_secs(10));
    let report = setup.doctor_with(options).await;
    let notify = check(&report, "I10");
    assert_eq!(notify.verdict, Verdict::Ok, "{notify:?}");
    assert_eq!(
        setup.primary.notifies(),
        1,
        "the NOTIFY arrived, signed and answered"
    );
    let fix = check(&report, "I12");
    assert_eq!(fix.verdict, Verdict::Ok, "{fix:?}");
    assert_eq!(
        fix.seen,
        format!(
            "transferred: serial {} (was {FIRST_SERIAL})",
            FIRST_SERIAL + 1
        )
    );

    // A NOTIFY refused: the source is neither a peer's IP nor in an ACL.
    setup.primary.set_behaviour(Behaviour::Refuse);
    let options = DoctorOptions::default()
        .limits(quick())
        .send_notify(Some(vec![setup.primary.addr()]));
    let report = setup.doctor_with(options).await;
    let notify = check(&report, "I10");
    assert_eq!(notify.verdict, Verdict::Failure, "{notify:?}");
    assert!(notify.todo.as_deref().unwrap().contains("acls create"));
}

#[tokio::test]
async fn an_md5_key_cannot_be_tested_and_says_so() {
    let setup = setup(SECRET_B64, false).await;
    setup
        .client
        .update_tsig()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .tsig_id(setup.tsig_id.as_str())
        .body(
            types::TsigInput::builder()
                .name(KEY_NAME)
                .algo("hmac-md5.sig-alg.reg.int.")
                .secret(SECRET_B64),
        )
        .send()
        .await
        .unwrap();
    let report = setup.doctor().await;
    assert_eq!(check(&report, "I4").verdict, Verdict::Warning);
    let transfer = check(&report, "I6");
    assert_eq!(transfer.verdict, Verdict::Warning, "{transfer:?}");
    assert!(
        transfer.seen.starts_with("cannot test: hmac-md5"),
        "{}",
        transfer.seen
    );
}
