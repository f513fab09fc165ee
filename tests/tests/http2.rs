//! HTTP/2 is negotiated by ALPN: over TLS on loopback, the client speaks h2
//! to a server that offers it and HTTP/1.1 to one that does not. The server
//! records the version of each request it answers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use cloudflare_secondary_dns::{ApiError, Client, Credentials, ErrorKind, types};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use sdk_tests::{
    EXAMPLE_ACCOUNT_ID, EXAMPLE_PEER_ID, update_example_peer, update_peer_response_example,
};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::PrivateKeyDer;

struct TlsServer {
    url: String,
    /// The root to trust: the server's self-signed certificate, as PEM.
    certificate_pem: String,
    versions: Arc<Mutex<Vec<http::Version>>>,
}

/// A TLS acceptor offering `alpn` protocols with a new self-signed
/// certificate for 127.0.0.1, and that certificate as PEM.
fn tls_acceptor(alpn: &[&[u8]]) -> (TlsAcceptor, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let mut config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    (TlsAcceptor::from(Arc::new(config)), certified.cert.pem())
}

/// A TLS server on 127.0.0.1 offering `alpn` protocols, answering every
/// request with the seed's Update Peer response.
async fn start_tls_server(alpn: &[&[u8]]) -> TlsServer {
    let (acceptor, certificate_pem) = tls_acceptor(alpn);

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let versions = Arc::new(Mutex::new(Vec::new()));
    let recorded = versions.clone();
    let body = Bytes::from(update_peer_response_example().to_string());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, recorded, body) = (acceptor.clone(), recorded.clone(), body.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    recorded.lock().unwrap().push(request.version());
                    let response = http::Response::builder()
                        .header("content-type", "application/json")
                        .body(Full::new(body.clone()))
                        .unwrap();
                    async move { Ok::<_, std::convert::Infallible>(response) }
                });
                // Serves HTTP/1.1 or h2, whichever the client speaks.
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    TlsServer {
        url,
        certificate_pem,
        versions,
    }
}

async fn versions_spoken_to(server: &TlsServer) -> Vec<http::Version> {
    let client = Client::builder(Credentials::api_token("test-token-123"))
        .base_url(&server.url)
        .add_root_certificate(
            reqwest::Certificate::from_pem(server.certificate_pem.as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    for _ in 0..2 {
        let response = update_example_peer(&client, types::PeerUpdate::builder().name("my-peer-1"))
            .await
            .unwrap();
        assert_eq!(response.into_inner().result.unwrap().name, "my-peer-1");
    }
    server.versions.lock().unwrap().clone()
}

#[tokio::test]
async fn the_client_speaks_h2_to_a_server_that_offers_it() {
    let server = start_tls_server(&[b"h2", b"http/1.1"]).await;
    assert_eq!(
        versions_spoken_to(&server).await,
        [http::Version::HTTP_2, http::Version::HTTP_2]
    );
}

#[tokio::test]
async fn the_client_speaks_http1_to_a_server_that_offers_only_http1() {
    let server = start_tls_server(&[b"http/1.1"]).await;
    assert_eq!(
        versions_spoken_to(&server).await,
        [http::Version::HTTP_11, http::Version::HTTP_11]
    );
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let server = start_tls_server(&[b"h2", b"http/1.1"]).await;
    let client = Client::builder(Credentials::api_token("test-token-123"))
        .base_url(&server.url)
        .max_retries(0)
        .build()
        .unwrap();
    let err = update_example_peer(&client, types::PeerUpdate::builder().name("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(server.versions.lock().unwrap().is_empty());
}

/// What the HTTP/2 server does with each POST it receives.
#[derive(Clone, Copy, Debug)]
enum OnPost {
    /// Reads it whole, then drops the connection unanswered.
    ReadThenDrop,
    /// Reads it whole, then sends GOAWAY naming it as processed (its stream
    /// id is the last-stream-id) and closes the connection unanswered.
    ReadThenGoAway,
    /// Refuses the first one with REFUSED_STREAM, unread (RFC 9113 §8.7: it
    /// was not processed), and answers the rest.
    RefuseFirst,
}

/// An h2-only TLS server that answers GETs and handles POSTs as `on_post`
/// says. Counts the POSTs it read (or refused) and the connections.
async fn start_h2_server(on_post: OnPost) -> (String, String, Arc<[AtomicUsize; 3]>) {
    let (acceptor, certificate_pem) = tls_acceptor(&[b"h2"]);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    // [POSTs read, POSTs refused, connections]
    let counts: Arc<[AtomicUsize; 3]> = Arc::new(Default::default());
    let shared = counts.clone();
    let body = Bytes::from(update_peer_response_example().to_string());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, counts, body) = (acceptor.clone(), shared.clone(), body.clone());
            counts[2].fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut connection) = h2::server::handshake(tls).await else {
                    return;
                };
                while let Some(Ok((request, mut respond))) = connection.accept().await {
                    if request.method() != http::Method::POST {
                        answer(&mut respond, &body);
                        continue;
                    }
                    if let OnPost::RefuseFirst = on_post
                        && counts[1].fetch_add(1, Ordering::SeqCst) == 0
                    {
                        respond.send_reset(h2::Reason::REFUSED_STREAM);
                        continue;
                    }
                    // Read the body to its end while driving the connection.
                    let mut received = request.into_body();
                    let read = async {
                        while let Some(Ok(chunk)) = received.data().await {
                            let _ = received.flow_control().release_capacity(chunk.len());
                        }
                    };
                    tokio::select! {
                        () = read => {}
                        _ = std::future::poll_fn(|cx| connection.poll_closed(cx)) => return,
                    }
                    counts[0].fetch_add(1, Ordering::SeqCst);
                    match on_post {
                        OnPost::ReadThenDrop => return,
                        OnPost::ReadThenGoAway => {
                            connection.abrupt_shutdown(h2::Reason::NO_ERROR);
                            let _ = std::future::poll_fn(|cx| connection.poll_closed(cx)).await;
                            drop(respond);
                            return;
                        }
                        OnPost::RefuseFirst => answer(&mut respond, &body),
                    }
                }
            });
        }
    });
    (url, certificate_pem, counts)
}

/// Answers an h2 request with `body` as JSON.
fn answer(respond: &mut h2::server::SendResponse<Bytes>, body: &Bytes) {
    let head = http::Response::builder()
        .header("content-type", "application/json")
        .body(())
        .unwrap();
    let mut send = respond.send_response(head, false).unwrap();
    let _ = send.send_data(body.clone(), true);
}

fn h2_client(url: &str, certificate_pem: &str) -> Client {
    Client::builder(Credentials::api_token("test-token-123"))
        .base_url(url)
        .add_root_certificate(reqwest::Certificate::from_pem(certificate_pem.as_bytes()).unwrap())
        .max_retries(0)
        .build()
        .unwrap()
}

async fn create_peer(client: &Client) -> Result<(), ApiError> {
    client
        .create_peer()
        .account_id(EXAMPLE_ACCOUNT_ID)
        .body(types::PeerCreate::builder().name("my-peer-1"))
        .send()
        .await
        .map(drop)
}

#[tokio::test]
async fn over_h2_a_create_the_server_read_is_delivered_once_with_retries_off() {
    for on_post in [OnPost::ReadThenDrop, OnPost::ReadThenGoAway] {
        for warm in [false, true] {
            let (url, pem, counts) = start_h2_server(on_post).await;
            let client = h2_client(&url, &pem);
            if warm {
                let get = client.get_peer().account_id(EXAMPLE_ACCOUNT_ID);
                get.peer_id(EXAMPLE_PEER_ID).send().await.unwrap();
            }
            let err = create_peer(&client).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Connection, "{}", err.report());
            assert_eq!(
                counts[0].load(Ordering::SeqCst),
                1,
                "{on_post:?}, warm pool: {warm}: {}",
                err.report()
            );
        }
    }
}

#[tokio::test]
async fn over_h2_a_refused_stream_is_sent_again_it_was_never_processed() {
    let (url, pem, counts) = start_h2_server(OnPost::RefuseFirst).await;
    let client = h2_client(&url, &pem);
    create_peer(&client).await.unwrap();
    // Refused once, then read and answered once.
    assert_eq!(counts[1].load(Ordering::SeqCst), 2);
    assert_eq!(counts[0].load(Ordering::SeqCst), 1);
}
