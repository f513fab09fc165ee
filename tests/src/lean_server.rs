//! A minimal HTTP/1.1 keep-alive server on 127.0.0.1 for load, fuzz and
//! benchmark runs. wiremock keeps state per request (about 5 KiB each, even
//! with recording off), which would swamp a memory check over 10 000
//! requests; this server keeps none.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A request as the handler sees it: head and whole body.
pub type LeanRequest = http::Request<Bytes>;
/// What the handler answers.
pub type LeanResponse = http::Response<Full<Bytes>>;

/// A running server; it stops when dropped.
pub struct LeanServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// How many connections it has accepted so far.
    pub connections: Arc<AtomicUsize>,
    accept_loop: JoinHandle<()>,
}

impl Drop for LeanServer {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

/// Starts a server on a free port of 127.0.0.1 that answers every request with `handler`.
pub async fn start_lean_server<H>(handler: H) -> LeanServer
where
    H: Fn(LeanRequest) -> LeanResponse + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let handler = Arc::new(handler);
    let connections = Arc::new(AtomicUsize::new(0));
    let accepted = connections.clone();
    let accept_loop = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: http::Request<Incoming>| {
                    let handler = handler.clone();
                    async move {
                        let (head, body) = request.into_parts();
                        // A body that fails to arrive is answered as empty.
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        Ok::<_, Infallible>(handler(http::Request::from_parts(head, body)))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    LeanServer {
        url,
        connections,
        accept_loop,
    }
}

/// A response with `status` and a body of `content_type`.
pub fn lean_response(status: u16, content_type: &str, body: impl Into<Bytes>) -> LeanResponse {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()))
        .expect("a valid status and header")
}
