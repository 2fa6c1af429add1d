//! The admin endpoint of `examples/admin_http.rs`, served on a free loopback
//! port and fetched over HTTP: the JSON it answers is the registry, with the
//! counts the example's traffic made.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::SocketAddr;

use cache_core::observability::{CacheEntry, CacheKind};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

// The example itself (its `main` is unused here).
#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/admin_http.rs"]
mod admin_http;

/// One request over a fresh connection: status, content type, body.
async fn fetch(
    addr: SocketAddr,
    method: Method,
    path: &str,
) -> (StatusCode, Option<String>, Bytes) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, addr.to_string())
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    drop(sender);
    driver.await.unwrap().unwrap();
    (status, content_type, body)
}

/// `GET /caches` must answer the registry as JSON: both cached functions of
/// the example with the miss and the hit its warm-up made, and its named
/// `Cache`; other paths and methods must be refused.
#[tokio::test]
async fn admin_endpoint_serves_every_cache_as_json_over_loopback() {
    let _sessions = admin_http::warm_up();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(admin_http::serve(listener));

    let (status, content_type, body) = fetch(addr, Method::GET, "/caches").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let entries: Vec<CacheEntry> = serde_json::from_slice(&body).unwrap();

    let rate_identity = admin_http::exchange_rate::cache_parameters().identifier;
    let rate = entries
        .iter()
        .find(|e| e.name == rate_identity)
        .unwrap_or_else(|| panic!("{rate_identity} missing from {entries:?}"));
    assert_eq!(rate.kind, CacheKind::Function);
    assert_eq!(rate.backend, "memory");
    assert_eq!(rate.ttl, Some(std::time::Duration::from_secs(60)));
    assert_eq!(
        (rate.info.hits, rate.info.misses, rate.info.computations),
        (1, 1, 1)
    );
    assert_eq!(rate.info.current_size, 1);
    assert_eq!(rate.hit_ratio, 0.5);

    let name_identity = admin_http::display_name::cache_parameters().identifier;
    let names = entries.iter().find(|e| e.name == name_identity).unwrap();
    assert_eq!(names.max_entries, 1_000);
    assert_eq!((names.info.hits, names.info.misses), (1, 1));

    let sessions = entries.iter().find(|e| e.name == "sessions").unwrap();
    assert_eq!(sessions.kind, CacheKind::Cache);
    assert_eq!((sessions.info.hits, sessions.info.current_size), (1, 1));
    assert_eq!(sessions.max_entries, 50_000);

    // The JSON names the fields as documented.
    let raw: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let first = &raw.as_array().unwrap()[0];
    for field in [
        "name",
        "kind",
        "backend",
        "ttl_secs",
        "max_entries",
        "hit_ratio",
        "info",
    ] {
        assert!(
            first.get(field).is_some(),
            "field {field} missing in {first}"
        );
    }

    assert_eq!(
        fetch(addr, Method::GET, "/nope").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(addr, Method::POST, "/caches").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    server.abort();
}
