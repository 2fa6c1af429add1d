//! Scenario K1 of `shared/perf.md`: the cost of a persistent key. Ours is
//! `cache_core::persistent_digest` of a `#[derive(PersistentHash)]` struct (the
//! key of every Redis and disk entry: the canonical encoding streamed into blake3
//! in derive-key mode); the anchor is raw `blake3::hash` of the same payload
//! bytes. Three payloads: two `u64`s (16 bytes), a 26-byte `String`, 1 KiB of
//! bytes (`Vec<u8>`, which cache-core encodes as one tagged, length-prefixed
//! piece, not item by item).
//!
//! Rows per payload: the anchor; ours on the derived struct (the target row);
//! ours on the bare value (`(u64, u64)`, `String`, `Vec<u8>`); and, to show where
//! the time goes, blake3's derive-key mode over the raw bytes (what the context
//! costs without the encoding). All twelve run interleaved, one thread.
//!
//! Run: `cargo bench -p cache-bench --bench key` (env `BENCH_ROUNDS`, default 15;
//! `BENCH_OPS`, default 200,000 digests per candidate per round; `BENCH_QUICK=1`
//! shrinks). Without `--bench`: 3 rounds of 500.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cache_bench::{
    Candidate, Plan, Record, Size, Target, Unit, env_usize, measure, report_group, selected,
};
use cache_core::hash::KEY_CONTEXT;
use cache_core::{PersistentHash, persistent_digest};

#[derive(PersistentHash)]
struct PairKey {
    a: u64,
    b: u64,
}

#[derive(PersistentHash)]
struct NameKey {
    name: String,
}

#[derive(PersistentHash)]
struct BlobKey {
    bytes: Vec<u8>,
}

const STRINGS: usize = 1024;
const BLOBS: usize = 64;

fn fold(bytes: &[u8; 32]) -> u64 {
    u64::from_le_bytes(bytes[..8].try_into().unwrap())
}

fn pair_bytes(k: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&k.to_le_bytes());
    b[8..].copy_from_slice(&(k ^ 0xA5A5_A5A5_A5A5_A5A5).to_le_bytes());
    b
}

fn derive_key(bytes: &[u8]) -> u64 {
    let mut h = blake3::Hasher::new_derive_key(KEY_CONTEXT);
    h.update(bytes);
    fold(h.finalize().as_bytes())
}

const GROUPS: [(&str, [&str; 4]); 3] = [
    (
        "(u64, u64): 16 bytes",
        [
            "raw blake3::hash of 16 bytes",
            "ours persistent_digest(derived {a: u64, b: u64})",
            "ours persistent_digest(&(u64, u64))",
            "blake3 derive-key mode of 16 bytes",
        ],
    ),
    (
        "26-byte String",
        [
            "raw blake3::hash of 26 bytes",
            "ours persistent_digest(derived {name: String})",
            "ours persistent_digest(&String)",
            "blake3 derive-key mode of 26 bytes",
        ],
    ),
    (
        "1 KiB bytes",
        [
            "raw blake3::hash of 1 KiB",
            "ours persistent_digest(derived {bytes: Vec<u8>})",
            "ours persistent_digest(&Vec<u8>)",
            "blake3 derive-key mode of 1 KiB",
        ],
    ),
];

fn k1(size: Size) -> String {
    let plan = Plan {
        threads: 1,
        rounds: env_usize("BENCH_ROUNDS", size.pick(15, 5, 3)),
        ops: env_usize("BENCH_OPS", size.pick(200_000, 50_000, 500)),
        keys: 1 << 20,
    };
    let strings: Vec<String> = (0..STRINGS).map(|i| format!("user-{i:021}")).collect();
    assert!(strings.iter().all(|s| s.len() == 26));
    let names: Vec<NameKey> = strings
        .iter()
        .map(|s| NameKey { name: s.clone() })
        .collect();
    let blobs: Vec<Vec<u8>> = (0..BLOBS)
        .map(|i| (0..1024).map(|j| (i * 31 + j * 7) as u8).collect())
        .collect();
    let blob_keys: Vec<BlobKey> = blobs.iter().map(|b| BlobKey { bytes: b.clone() }).collect();
    let s = |k: u64| k as usize % STRINGS;
    let b = |k: u64| k as usize % BLOBS;
    let [pair, name, blob] = GROUPS.map(|g| g.1);
    let c = vec![
        Candidate::per_key(pair[0], |k| fold(blake3::hash(&pair_bytes(k)).as_bytes())),
        Candidate::per_key(pair[1], |k| {
            fold(
                persistent_digest(&PairKey {
                    a: k,
                    b: k ^ 0xA5A5_A5A5_A5A5_A5A5,
                })
                .as_bytes(),
            )
        }),
        Candidate::per_key(pair[2], |k| {
            fold(persistent_digest(&(k, k ^ 0xA5A5_A5A5_A5A5_A5A5)).as_bytes())
        }),
        Candidate::per_key(pair[3], |k| derive_key(&pair_bytes(k))),
        Candidate::per_key(name[0], |k| {
            fold(blake3::hash(strings[s(k)].as_bytes()).as_bytes())
        }),
        Candidate::per_key(name[1], |k| {
            fold(persistent_digest(&names[s(k)]).as_bytes())
        }),
        Candidate::per_key(name[2], |k| {
            fold(persistent_digest(&strings[s(k)]).as_bytes())
        }),
        Candidate::per_key(name[3], |k| derive_key(strings[s(k)].as_bytes())),
        Candidate::per_key(blob[0], |k| fold(blake3::hash(&blobs[b(k)]).as_bytes())),
        Candidate::per_key(blob[1], |k| {
            fold(persistent_digest(&blob_keys[b(k)]).as_bytes())
        }),
        Candidate::per_key(blob[2], |k| {
            fold(persistent_digest(&blobs[b(k)]).as_bytes())
        }),
        Candidate::per_key(blob[3], |k| derive_key(&blobs[b(k)])),
    ];
    let m = measure(&plan, &c);
    let title = "key cost: derive PersistentHash → blake3, against raw blake3";
    let mut r = Record::new("K1", title, "key", Unit::NsPerOp, &plan).op("one digest of one key");
    let mut out = format!(
        "\n### K1: {title}\n\n1 thread, {} rounds × {} digests per candidate, all interleaved; \
         medians\n",
        plan.rounds, plan.ops
    );
    let mut targets = Vec::new();
    for (group, names) in GROUPS {
        let t = vec![Target::at_most(&m, names[1], names[0], 1.2)];
        r.group(Some(group), &m, &names, &[names[0]]);
        out.push_str(&report_group(
            &format!("#### {group}"),
            &m,
            &names,
            &[names[0]],
            Unit::NsPerOp,
            &t,
        ));
        targets.extend(t);
    }
    r.fact("blake3 context", KEY_CONTEXT);
    r.targets(&targets);
    r.write().expect("write the record");
    out
}

fn main() {
    let size = Size::from_env();
    println!(
        "# Key-cost benchmarks ({} cores)",
        cache_bench::record::cores()
    );
    if selected("K1") {
        print!("{}", k1(size));
    }
}
