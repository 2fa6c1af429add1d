use super::*;
use crate::text::{password_of, redact, redact_url};

#[test]
fn urls_and_errors_never_show_the_password() {
    assert_eq!(
        redact_url("redis://app:s3cret@127.0.0.1:6379/2"),
        "redis://app:***@127.0.0.1:6379/2"
    );
    assert_eq!(
        redact_url("redis://127.0.0.1:6379/"),
        "redis://127.0.0.1:6379/"
    );
    assert_eq!(
        redact_url("redis://:s3cret@127.0.0.1:6379/"),
        "redis://:***@127.0.0.1:6379/"
    );
    assert_eq!(redact_url("redis://app@h/"), "redis://app@h/");
    assert_eq!(
        password_of("redis://app:s3cret@h/").as_deref(),
        Some("s3cret")
    );
    assert_eq!(password_of("redis://app@h/"), None);
    // A Unix socket URL takes its password as a query parameter.
    assert_eq!(
        redact_url("redis+unix:///run/redis.sock?db=2&pass=s3cret&user=app"),
        "redis+unix:///run/redis.sock?db=2&pass=***&user=app"
    );
    assert_eq!(
        password_of("redis+unix:///run/redis.sock?pass=s3cret").as_deref(),
        Some("s3cret")
    );
    assert_eq!(
        redact_url("redis+unix:///run/redis.sock?db=2"),
        "redis+unix:///run/redis.sock?db=2"
    );
    let unix = RedisBackend::builder("redis+unix:///run/redis.sock?pass=s3cret")
        .build()
        .unwrap();
    assert!(!format!("{unix:?}").contains("s3cret"));
    assert_eq!(
        redact("auth s3cret failed", &["s3cret".into()]),
        "auth *** failed"
    );
    let backend = RedisBackend::builder("redis://app:s3cret@127.0.0.1:1/")
        .build()
        .unwrap();
    assert!(!format!("{backend:?}").contains("s3cret"));
    let builder = RedisBackend::builder("redis://app:s3cret@127.0.0.1:1/");
    assert!(!format!("{builder:?}").contains("s3cret"));
    let cluster = RedisBackend::cluster(["redis://app:s3cret@127.0.0.1:1/"])
        .build()
        .unwrap();
    assert!(!format!("{cluster:?}").contains("s3cret"));
    let bad = RedisBackend::builder("redis://app:s3cret@127.0.0.1:notaport/")
        .build()
        .unwrap_err();
    assert!(!bad.to_string().contains("s3cret"), "{bad}");
}

#[test]
fn a_cluster_needs_a_node() {
    let error = RedisBackend::cluster(Vec::<String>::new())
        .build()
        .unwrap_err();
    assert!(matches!(error, RedisConfigError::NoNodes));
}

#[test]
fn namespace_patterns_match_only_their_own_keys() {
    let backend = RedisBackend::builder("redis://127.0.0.1:1/")
        .prefix("p")
        .build()
        .unwrap();
    assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    let pattern = backend.namespace_pattern("ns");
    assert!(pattern.starts_with("p:ns:v??????????:"));
    assert_eq!(pattern.len(), "p:ns:v??????????:".len() + 64);
}

#[test]
fn ttls_under_a_millisecond_store_nothing() {
    assert!(set_cmd("k".into(), b"v", Some(Duration::from_micros(999))).is_none());
    assert!(set_cmd("k".into(), b"v", Some(Duration::from_millis(1))).is_some());
    assert!(set_cmd("k".into(), b"v", None).is_some());
}

#[test]
fn stored_keys_keep_their_documented_form() {
    let backend = RedisBackend::builder("redis://127.0.0.1:1/")
        .prefix("p:x")
        .build()
        .unwrap();
    let digest = cache_core::hash::persistent_digest(&"k");
    for version in [0, 7, 1_234_567_890, u32::MAX] {
        let key = StorageKey {
            namespace: "app::f",
            version,
            digest,
        };
        let built = backend.key(&key);
        assert_eq!(
            built,
            format!("p:x:app::f:v{version:010}:{}", digest.to_hex()),
            "version {version}"
        );
        // Exactly the capacity asked for (`Vec::with_capacity` guarantees an
        // exact capacity for non-zero-sized items): one allocation, no growth.
        assert_eq!(built.capacity(), built.len());
    }
    assert_eq!(digest.to_hex().len(), 64);
    assert_eq!(
        digest.to_hex(),
        blake3::Hash::from_bytes(*digest.as_bytes())
            .to_hex()
            .as_str()
    );
}
