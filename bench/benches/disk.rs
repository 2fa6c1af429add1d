//! Disk scenarios: `#[ttl_cache]` on `cache_disk::DiskBackend` beside a plain
//! redb get/insert of the same value and the `cached` crate's disk store
//! (`cached::RedbCache`, feature `redb_store`, itself on redb 4), each in its
//! own file in one temporary directory.
//!
//! Run: `cargo bench -p cache-bench --bench disk` (about a minute). Env
//! `BENCH_ROUNDS` (default 15) and `BENCH_OPS` (default 20,000 hits per
//! candidate per round in D1; the durable misses of D2 make `BENCH_OPS / 100`,
//! the buffered ones of D3 `BENCH_OPS / 10`) scale it; `BENCH_QUICK=1` runs 5
//! rounds of 5,000; `BENCH_ONLY=D1,D3` runs a subset; without `--bench`
//! (`cargo test --benches`) it runs 3 rounds of 200. Each scenario writes its
//! record (see `cache_bench::record`) once the sanity check has run.
//!
//! Every value is an `Item { id: u64, name: String }` (name of 11 bytes). The
//! plain redb candidate stores its MessagePack with named fields (`rmp_serde`,
//! the encoding inside our envelope) under a `u64` key, in one
//! `TableDefinition<u64, &[u8]>`, and decodes it on a hit: the least a program
//! memoizing into redb by hand would do. Ours adds the blake3 key, the checked
//! envelope, the record check, the expiry index and the namespace counts.
//! `cached::RedbCache` is used through `#[concurrent_cached(ty, create)]`, its
//! documented explicit-store form, with the same TTL.
//!
//! - **D1, hit, sequential.** 1,000 keys are stored first; each round reads
//!   `BENCH_OPS` of them at random. Anchor: plain redb (read transaction, get,
//!   decode). Two more rows of ours say where the time goes: the typed
//!   standalone `DiskCache::get` (no single-flight), and `DiskBackend::get`
//!   alone (the bytes of a given key).
//! - **D2, miss, fsync per commit** (every candidate's default durability).
//!   Every call uses a new key: a lookup that finds nothing, the body, one
//!   write transaction committed with fsync. Anchor: plain redb get + insert +
//!   commit (`Durability::Immediate`).
//! - **D3, miss, buffered**: the same without fsync (ours
//!   `Durability::Buffered`, plain redb `Durability::None`, `cached`
//!   `durable(false)`).
//!
//! Candidates of one scenario run interleaved in one process, in shuffled
//! order over the rounds; tables give medians and ratios. A sanity section
//! checks that every "hit" of ours was a hit and every "miss" a miss, with no
//! backend error (a failure is a fail-open miss, which would void the numbers).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use cache_bench::{
    Candidate, Measured, Plan, Record, Size, Unit, env_usize, measure, report_group, selected,
};
use cache_core::{StorageKey, ttl_cache};
use cache_disk::{DiskBackend, DiskCache, Durability};
use cache_tests::redis_server::TempDir;
use cached::macros::concurrent_cached;
use redb::{ReadableDatabase, TableDefinition};

#[path = "common/item.rs"]
mod item;
use item::{Item, body, decode, encode, fold};

/// Keys stored before the hit scenario.
const KEYS: u64 = 1_000;
/// TTL of every stored value (long: hits must stay hits).
const TTL_SECS: u64 = 3600;

static DIR: OnceLock<PathBuf> = OnceLock::new();

fn dir() -> &'static PathBuf {
    DIR.get().expect("main sets the directory first")
}

fn ours(name: &str, durability: Durability) -> DiskBackend {
    DiskBackend::builder(dir().join(name))
        .durability(durability)
        .open()
        .expect("our cache file")
}

static DISK: LazyLock<DiskBackend> = LazyLock::new(|| ours("ours.cache", Durability::Immediate));
static DISK_BUFFERED: LazyLock<DiskBackend> =
    LazyLock::new(|| ours("ours-buffered.cache", Durability::Buffered));

// ---- ours -------------------------------------------------------------------

#[ttl_cache(ttl = 3600, backend = DISK.clone())]
fn ours_hit(k: u64) -> Item {
    body(k)
}

#[ttl_cache(ttl = 3600, backend = DISK.clone())]
fn ours_miss(k: u64) -> Item {
    body(k)
}

#[ttl_cache(ttl = 3600, backend = DISK_BUFFERED.clone())]
fn ours_miss_buffered(k: u64) -> Item {
    body(k)
}

// ---- cached (RedbCache through #[concurrent_cached] with ty + create) ----------

fn cached_store(name: &str, durable: bool) -> cached::RedbCache<u64, Item> {
    cached::RedbCache::builder(name)
        .disk_dir(dir())
        .ttl(Duration::from_secs(TTL_SECS))
        .durable(durable)
        .build()
        .expect("cached RedbCache")
}

#[concurrent_cached(
    ty = "cached::RedbCache<u64, Item>",
    create = r##"{ cached_store("cached_hit", true) }"##,
    map_error = r##"|e| format!("{e:?}")"##
)]
fn cached_hit(k: u64) -> Result<Item, String> {
    Ok(body(k))
}

#[concurrent_cached(
    ty = "cached::RedbCache<u64, Item>",
    create = r##"{ cached_store("cached_miss", true) }"##,
    map_error = r##"|e| format!("{e:?}")"##
)]
fn cached_miss(k: u64) -> Result<Item, String> {
    Ok(body(k))
}

#[concurrent_cached(
    ty = "cached::RedbCache<u64, Item>",
    create = r##"{ cached_store("cached_miss_buffered", false) }"##,
    map_error = r##"|e| format!("{e:?}")"##
)]
fn cached_miss_buffered(k: u64) -> Result<Item, String> {
    Ok(body(k))
}

// ---- plain redb ------------------------------------------------------------------

const RAW: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("raw");

static RAW_DB: LazyLock<redb::Database> =
    LazyLock::new(|| redb::Database::create(dir().join("raw.redb")).expect("raw redb file"));

fn raw_get(k: u64) -> Option<Item> {
    let txn = RAW_DB.begin_read().expect("read transaction");
    let table = txn.open_table(RAW).expect("table");
    table.get(k).expect("get").map(|g| decode(g.value()))
}

fn raw_insert(k: u64, item: &Item, durability: redb::Durability) {
    let mut txn = RAW_DB.begin_write().expect("write transaction");
    txn.set_durability(durability).expect("durability");
    txn.open_table(RAW)
        .expect("table")
        .insert(k, encode(item).as_slice())
        .expect("insert");
    txn.commit().expect("commit");
}

/// A plain memoized call: get, else body + insert.
fn raw_memo(k: u64, durability: redb::Durability) -> Item {
    raw_get(k).unwrap_or_else(|| {
        let item = body(k);
        raw_insert(k, &item, durability);
        item
    })
}

/// Keys no one has written: every lookup of them misses.
static FRESH: AtomicU64 = AtomicU64::new(1 << 40);

fn fresh() -> u64 {
    FRESH.fetch_add(1, Ordering::Relaxed)
}

// ---- harness glue ---------------------------------------------------------------

/// Stores every hit key for every candidate.
fn warm() {
    for k in 0..KEYS {
        raw_insert(k, &body(k), redb::Durability::None);
        ours_hit(k);
        cached_hit(k).unwrap();
    }
    let mut txn = RAW_DB.begin_write().unwrap();
    txn.set_durability(redb::Durability::Immediate).unwrap();
    txn.commit().unwrap();
}

const D1: [&str; 5] = [
    "plain redb get + decode",
    "ours #[ttl_cache] fn on DiskBackend",
    "cached RedbCache (#[concurrent_cached])",
    "ours DiskCache::get (typed, standalone)",
    "ours DiskBackend::get (bytes, key given)",
];

const D2: [&str; 3] = [
    "plain redb get + insert, fsync",
    "ours #[ttl_cache] miss, fsync",
    "cached RedbCache miss, durable",
];

const D3: [&str; 3] = [
    "plain redb get + insert, no fsync",
    "ours #[ttl_cache] miss, Buffered",
    "cached RedbCache miss, durable(false)",
];

fn group(m: &Measured, heading: &str, names: &[&str; 3]) -> String {
    report_group(heading, m, names, &[names[0], names[2]], Unit::NsPerOp, &[])
}

fn d1(rounds: usize, ops: usize) -> (String, Record) {
    let plan = Plan {
        threads: 1,
        rounds,
        ops,
        keys: KEYS,
    };
    // The standalone typed cache and the bare backend, on the file of ours.
    let typed: DiskCache<u64, Item> = DiskCache::new(&DISK, "typed");
    let keys: Vec<StorageKey<'_>> = (0..KEYS)
        .map(|k| StorageKey {
            namespace: "typed",
            version: 0,
            digest: typed.digest(&k),
        })
        .collect();
    for k in 0..KEYS {
        typed.insert(&k, &body(k)).expect("insert");
    }
    let c = vec![
        Candidate::per_key(D1[0], |k| fold(&raw_get(k).expect("stored"))),
        Candidate::per_key(D1[1], |k| fold(&ours_hit(k))),
        Candidate::per_key(D1[2], |k| fold(&cached_hit(k).unwrap())),
        Candidate::per_key(D1[3], |k| {
            fold(&typed.get(&k).expect("read").expect("stored"))
        }),
        Candidate::per_key(D1[4], |k| {
            let bytes = DISK.get(&keys[k as usize]).expect("read").expect("stored");
            bytes.len() as u64
        }),
    ];
    let m = measure(&plan, &c);
    assert_eq!(typed.info().decode_errors + typed.info().backend_errors, 0);
    let title = "disk hit, sequential";
    let mut r = Record::new("D1", title, "disk", Unit::NsPerOp, &plan);
    r.group(None, &m, &D1, &[D1[0], D1[2]]);
    let heading = format!(
        "### D1: {title}\n\n{rounds} rounds × {ops} hits per candidate over \
         {KEYS} stored keys; medians; interleaved. The last two rows show where the time \
         goes: the typed standalone cache (digest, backend, envelope and decode, no \
         single-flight), and the backend's read alone (read transaction, lookup, record \
         check, copy)"
    );
    (
        report_group(&heading, &m, &D1, &[D1[0], D1[2]], Unit::NsPerOp, &[]),
        r,
    )
}

fn misses(rounds: usize, ops: usize, names: &[&'static str; 3], durable: bool) -> (String, Record) {
    let plan = Plan {
        threads: 1,
        rounds,
        ops,
        keys: KEYS,
    };
    let durability = if durable {
        redb::Durability::Immediate
    } else {
        redb::Durability::None
    };
    let c = vec![
        Candidate::per_key(names[0], move |_| fold(&raw_memo(fresh(), durability))),
        Candidate::per_key(names[1], move |_| {
            fold(&if durable {
                ours_miss(fresh())
            } else {
                ours_miss_buffered(fresh())
            })
        }),
        Candidate::per_key(names[2], move |_| {
            fold(&if durable {
                cached_miss(fresh()).unwrap()
            } else {
                cached_miss_buffered(fresh()).unwrap()
            })
        }),
    ];
    let m = measure(&plan, &c);
    let (id, what) = if durable {
        ("D2", "fsync per commit (every candidate's default)")
    } else {
        ("D3", "buffered (no fsync per commit)")
    };
    let title = format!("disk miss, {what}");
    let mut r = Record::new(id, &title, "disk", Unit::NsPerOp, &plan)
        .op("one call on a new key: lookup, body, one write transaction");
    r.group(None, &m, names, &[names[0], names[2]]);
    let heading = format!(
        "### {id}: {title}\n\n{rounds} rounds × {ops} misses per candidate, each a \
         new key (lookup, body, one write transaction); medians; interleaved"
    );
    (group(&m, &heading, names), r)
}

/// `hits_ran`: D1 ran, so the hit function must have hits.
fn sanity(before: (u64, u64), hits_ran: bool) -> (String, bool) {
    let hit = ours_hit::cache_info();
    let misses = [
        ("ours_miss", ours_miss::cache_info()),
        ("ours_miss_buffered", ours_miss_buffered::cache_info()),
    ];
    let mut ok = hit.computations == before.1 && (hit.hits > 0 || !hits_ran);
    ok &= hit.backend_errors == 0 && hit.decode_errors == 0;
    let mut out = format!(
        "\n### Sanity (ours)\n\n\
         | function | hits | misses | computations | backend errors | decode errors |\n\
         |---|---:|---:|---:|---:|---:|\n\
         | ours_hit | {} | {} (warming: {}) | {} (warming: {}) | {} | {} |\n",
        hit.hits,
        hit.misses,
        before.0,
        hit.computations,
        before.1,
        hit.backend_errors,
        hit.decode_errors
    );
    for (name, info) in &misses {
        ok &= info.hits == 0 && info.misses == info.computations;
        ok &= info.backend_errors == 0 && info.decode_errors == 0;
        out.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {} |\n",
            info.hits, info.misses, info.computations, info.backend_errors, info.decode_errors
        ));
    }
    out.push_str(if ok {
        "\nthe hit scenario ran no body, every miss call was a miss, no backend or decode errors\n"
    } else {
        "\nSANITY CHECK FAILED: the numbers above are not what they claim\n"
    });
    (out, ok)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: run tiny.
    let size = Size::from_env();
    let rounds = env_usize("BENCH_ROUNDS", size.pick(15, 5, 3));
    let ops = env_usize("BENCH_OPS", size.pick(20_000, 5_000, 200));
    let tmp = TempDir::new("bench-disk");
    DIR.set(tmp.path().to_path_buf()).expect("set once");
    warm();
    let info = ours_hit::cache_info();
    let before = (info.misses, info.computations);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "# Disk benchmarks ({cores} cores; files in {})",
        tmp.path().display()
    );
    let mut records = Vec::new();
    let mut run = |(text, record): (String, Record)| {
        print!("{text}");
        records.push(record);
    };
    if selected("D1") {
        run(d1(rounds, ops));
    }
    if selected("D2") {
        run(misses(rounds, (ops / 100).max(2), &D2, true));
    }
    if selected("D3") {
        run(misses(rounds, (ops / 10).max(2), &D3, false));
    }
    let (report, ok) = sanity(before, selected("D1"));
    print!("{report}");
    for mut r in records {
        r.fact(
            "sanity check (ours: hits were hits, misses misses, no backend error)",
            ok,
        );
        r.write().expect("write the record");
    }
    DISK.close().expect("close");
    DISK_BUFFERED.close().expect("close");
    black_box(&tmp);
    assert!(ok, "sanity check failed");
}
