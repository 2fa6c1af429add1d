//! An admin endpoint: every cache of the process, with its settings and its
//! counters, as JSON over HTTP.
//!
//! ```text
//! cargo run -p cache-examples --example admin_http              # 127.0.0.1:9090
//! cargo run -p cache-examples --example admin_http -- 127.0.0.1:0
//! curl -s http://127.0.0.1:9090/caches
//! ```
//!
//! `GET /caches` answers `cache_core::observability::caches()` serialized
//! with serde: one object per `#[ttl_cache]` function that has been called and
//! per named `Cache` (`name`, `kind`, `backend`, `ttl_secs`, `max_entries`,
//! `hit_ratio`, and `info` with every counter). It names caches and counts,
//! never keys or values; still, an admin endpoint belongs on a loopback or
//! private interface.
//!
//! HTTP is served by hyper itself (HTTP/1, on tokio) rather than a framework:
//! one route needs no router, and hyper is the smallest well-kept stack that
//! does it (fewer crates to build than axum, which is built on it).

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use cache_core::{Cache, observability, ttl_cache};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Where the endpoint listens unless an address is given.
const DEFAULT_ADDR: &str = "127.0.0.1:9090";

/// A slow lookup worth caching: the exchange rate between two currencies.
#[ttl_cache(ttl = 60)]
pub fn exchange_rate(from: &str, to: &str) -> f64 {
    match (from, to) {
        ("EUR", "USD") => 1.08,
        ("USD", "EUR") => 0.93,
        _ => 1.0,
    }
}

/// Another: a user's display name.
#[ttl_cache(ttl = 300, max_entries = 1_000)]
pub fn display_name(user_id: u64) -> String {
    format!("user #{user_id}")
}

/// Some traffic, so that `/caches` has something to show: two calls of each
/// function (a miss, then a hit) and a named standalone `Cache`, which the
/// caller keeps alive (the registry holds caches weakly).
pub fn warm_up() -> Cache<String, String> {
    for _ in 0..2 {
        exchange_rate("EUR", "USD");
        display_name(7);
    }
    let sessions: Cache<String, String> = Cache::builder()
        .name("sessions")
        .ttl(Duration::from_secs(1_800))
        .max_entries(50_000)
        .build();
    sessions.insert("token-1".into(), "ada".into());
    sessions.get("token-1");
    sessions
}

/// Serves the endpoint on `listener` until the task is dropped or accepting
/// fails.
///
/// # Errors
///
/// When the listener cannot accept connections.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            // A client that goes away mid-request is its own problem.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(respond))
                .await;
        });
    }
}

/// `GET /caches`: the registry as JSON; anything else: 404 or 405.
async fn respond(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.uri().path() != "/caches" {
        return Ok(plain(StatusCode::NOT_FOUND, "not found; try GET /caches\n"));
    }
    if request.method() != Method::GET {
        return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "GET only\n"));
    }
    // Reading a Redis- or disk-backed cache's size is a call to the store:
    // off the async workers.
    let listed = tokio::task::spawn_blocking(|| serde_json::to_vec(&observability::caches())).await;
    Ok(match listed {
        Ok(Ok(json)) => {
            let mut response = Response::new(Full::new(Bytes::from(json)));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Ok(Err(error)) => plain(StatusCode::INTERNAL_SERVER_ERROR, &format!("{error}\n")),
        Err(error) => plain(StatusCode::INTERNAL_SERVER_ERROR, &format!("{error}\n")),
    })
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT_ADDR.into())
        .parse()?;
    let _sessions = warm_up();
    let listener = TcpListener::bind(addr).await?;
    println!("serving http://{}/caches", listener.local_addr()?);
    for cache in observability::caches() {
        println!("{:<40} {}", cache.name, cache.info);
    }
    serve(listener).await?;
    Ok(())
}
