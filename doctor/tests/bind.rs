//! The doctor's probes against a real BIND 9 primary on 127.0.0.1 (Debian's
//! `bind9`; CI installs it): a TSIG-signed AXFR verified message by message,
//! and each TSIG error as BIND sends it: BADSIG for another secret, BADKEY
//! for another name, and BADTIME to a request signed an hour ahead, which
//! the doctor must name as the clock, not the secret.
//!
//! Off CI, a machine without `named` skips with a message.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cloudflare_secondary_dns_doctor::key::KeyLint;
use cloudflare_secondary_dns_doctor::probe::{self, Answered, TransferKind, Transport};
use cloudflare_secondary_dns_doctor::{ProbeError, ProbeLimits, TsigFailure};

const ZONE: &str = "example.com";
const SERIAL: u32 = 2_019_102_400;
const KEY_NAME: &str = "xfr.example.com.";
const SECRET_B64: &str = "YSBzaGFyZWQgVFNJRyBzZWNyZXQgb2YgMzIgYnl0ZXM=";

/// A `named` on a free loopback port, stopped when dropped.
struct Bind {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for Bind {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `program` is installed; on CI its absence is a failure.
fn installed(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is not installed; .ci/run installs it"
        );
        eprintln!("skipped: {program} is not installed (apt-get install bind9 faketime)");
    }
    found
}

fn free_port() -> u16 {
    // A port free for TCP; UDP on loopback is checked by named itself.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Starts BIND serving `example.com` at SERIAL, transfers allowed to the
/// key only.
async fn start_bind() -> Bind {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("doctor-bind-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = format!(
        r#"options {{
  directory "{dir}";
  listen-on port {port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  pid-file "{dir}/named.pid";
  recursion no;
  dnssec-validation no;
}};
key "{KEY_NAME}" {{ algorithm hmac-sha256; secret "{SECRET_B64}"; }};
controls {{ }};
zone "{ZONE}" {{ type primary; file "{dir}/zone"; allow-transfer {{ key "{KEY_NAME}"; }}; }};
"#,
        dir = dir.display()
    );
    std::fs::write(dir.join("named.conf"), conf).unwrap();
    let mut zone = format!(
        "$TTL 3600\n@ IN SOA ns1.{ZONE}. hostmaster.{ZONE}. {SERIAL} 3600 600 86400 300\n@ IN NS ns1.{ZONE}.\nns1 IN A 192.0.2.1\n"
    );
    for i in 0..300 {
        zone.push_str(&format!("host{i} IN A 192.0.2.{}\n", i % 250));
    }
    std::fs::write(dir.join("zone"), zone).unwrap();
    let conf = dir.join("named.conf");
    let child = Command::new("named")
        .args(["-g", "-c"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("named.log")).unwrap())
        .spawn()
        .expect("named starts");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let bind = Bind { child, addr, dir };
    // Ready once it answers SOA (a few hundred ms).
    let started = Instant::now();
    let limits = ProbeLimits::default().timeout(Duration::from_millis(300));
    while probe::query_soa(addr, ZONE, Transport::Udp, None, &limits)
        .await
        .is_err()
    {
        if started.elapsed() > Duration::from_secs(20) {
            let log = std::fs::read_to_string(bind.dir.join("named.log")).unwrap_or_default();
            panic!("named did not start:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bind
}

fn key(name: &str, secret: &str) -> cloudflare_secondary_dns_doctor::key::SigningKey {
    KeyLint::read(name, "hmac-sha256.", secret)
        .signing_keys
        .into_iter()
        .next()
        .expect("a key that signs")
}

fn limits() -> ProbeLimits {
    ProbeLimits::default().timeout(Duration::from_secs(3))
}

#[tokio::test]
async fn bind_transfers_to_the_key_and_names_each_tsig_error() {
    if !installed("named") {
        return;
    }
    let bind = start_bind().await;
    let good = key(KEY_NAME, SECRET_B64);

    // A signed SOA and a signed AXFR, every message verified.
    let soa = probe::query_soa(bind.addr, ZONE, Transport::Tcp, Some(&good), &limits())
        .await
        .unwrap();
    assert_eq!(soa.serial, SERIAL);
    assert!(soa.authoritative);
    let axfr = probe::transfer(bind.addr, ZONE, TransferKind::Axfr, Some(&good), &limits())
        .await
        .unwrap();
    assert_eq!(
        (axfr.answered, axfr.serial, axfr.records),
        (Answered::Axfr, SERIAL, 304)
    );
    // Without the key, BIND refuses the transfer.
    let unsigned = probe::transfer(bind.addr, ZONE, TransferKind::Axfr, None, &limits()).await;
    assert_eq!(
        unsigned.unwrap_err(),
        ProbeError::Rcode {
            rcode: "REFUSED".to_owned()
        }
    );
    // IXFR from the current serial: up to date; from an older one BIND
    // (with no journal) answers with the whole zone.
    let current = TransferKind::Ixfr { since: SERIAL };
    let ixfr = probe::transfer(bind.addr, ZONE, current, Some(&good), &limits())
        .await
        .unwrap();
    assert_eq!(ixfr.answered, Answered::UpToDate);
    let older = TransferKind::Ixfr { since: SERIAL - 1 };
    let ixfr = probe::transfer(bind.addr, ZONE, older, Some(&good), &limits())
        .await
        .unwrap();
    assert_eq!(ixfr.answered, Answered::Axfr);

    // Another secret: BADSIG. Another name: BADKEY.
    let other_secret = key(KEY_NAME, "b3RoZXIgc2VjcmV0LCBvdGhlciBzZWNyZXQhIQ==");
    let err = probe::transfer(
        bind.addr,
        ZONE,
        TransferKind::Axfr,
        Some(&other_secret),
        &limits(),
    )
    .await
    .unwrap_err();
    assert_eq!(err, ProbeError::Tsig(TsigFailure::BadSig));
    let other_name = key("other.example.com.", SECRET_B64);
    let err = probe::transfer(
        bind.addr,
        ZONE,
        TransferKind::Axfr,
        Some(&other_name),
        &limits(),
    )
    .await
    .unwrap_err();
    assert_eq!(err, ProbeError::Tsig(TsigFailure::BadKey));
}

/// BIND's BADTIME answer to a request signed an hour ahead (RFC 8945
/// §5.2.3: signed, with BIND's time in Other Data). `domain`'s own client
/// check reads it as a bad signature (the trap in the notes, §2.9); the
/// doctor reads the TSIG error first and names the clock, with the skew.
#[tokio::test]
async fn bind_badtime_is_the_clock_not_the_secret() {
    use domain::base::{MessageBuilder, Name, Rtype};
    use domain::rdata::tsig::Time48;
    use domain::tsig::{ClientSequence, Key};
    use std::str::FromStr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    if !installed("named") {
        return;
    }
    let bind = start_bind().await;
    let secret = domain::utils::base64::decode::<Vec<u8>>(SECRET_B64).unwrap();
    let key_name = domain::tsig::KeyName::from_str("xfr.example.com").unwrap();
    let key = Key::new(
        domain::tsig::Algorithm::Sha256,
        &secret,
        key_name,
        None,
        None,
    )
    .unwrap();
    let mut builder = MessageBuilder::new_vec();
    builder.header_mut().set_id(4242);
    let mut question = builder.question();
    question
        .push((
            Name::<Vec<u8>>::from_str("example.com.").unwrap(),
            Rtype::AXFR,
        ))
        .unwrap();
    let mut additional = question.additional();
    // This host's clock an hour ahead of BIND's.
    let ahead = Time48::from_u64(u64::from(Time48::now()) + 3600);
    let mut sequence = ClientSequence::request(&key, &mut additional, ahead).unwrap();
    let request = additional.finish();

    let mut stream = tokio::net::TcpStream::connect(bind.addr).await.unwrap();
    let mut framed = (request.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&request);
    stream.write_all(&framed).await.unwrap();
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.unwrap();
    let mut answer = vec![0; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut answer).await.unwrap();

    let failure = probe::answer_tsig_failure(&answer).expect("a TSIG error");
    let TsigFailure::BadTime { skew: Some(skew) } = failure else {
        panic!("BADTIME expected, got {failure:?}");
    };
    assert!((-3610..=-3590).contains(&skew), "{skew}");
    // What domain's client check makes of the same answer (not BADTIME).
    let mut message = domain::base::Message::from_octets(answer).unwrap();
    let checked = sequence.answer(&mut message, ahead);
    println!("domain's own check: {checked:?}");
    assert!(
        !matches!(
            checked,
            Err(domain::tsig::ValidationError::ServerBadTime { .. })
        ),
        "domain reads BIND's BADTIME correctly now: the doctor's pre-check can go"
    );
}
