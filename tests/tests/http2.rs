//! HTTP/2 is negotiated by ALPN: over TLS on loopback, the client speaks h2
//! to a server that offers it and HTTP/1.1 to one that does not. The server
//! records the version of each request it answers.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use cloudflare_secondary_dns::{Client, Credentials, types};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use sdk_tests::{update_example_peer, update_peer_response_example};
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

/// A TLS server on 127.0.0.1 offering `alpn` protocols, answering every
/// request with the seed's Update Peer response.
async fn start_tls_server(alpn: &[&[u8]]) -> TlsServer {
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
    let acceptor = TlsAcceptor::from(Arc::new(config));

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
        certificate_pem: certified.cert.pem(),
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
    assert_eq!(
        cloudflare_secondary_dns::ErrorExt::kind(&err),
        cloudflare_secondary_dns::ErrorKind::Connection
    );
    assert!(server.versions.lock().unwrap().is_empty());
}
