//! Search latency and index memory: the real 2,625-procedure seed and a synthetic 100,000-document
//! catalogue recombined from it.
//!
//! `cargo bench --bench search`. Besides criterion's mean times, prints the index memory and the
//! p50 / p99 / max latency of a mixed query workload (criterion does not report tail latency).
//! Targets: p99 < 2 ms at 2,625 documents and < 10 ms at 100,000, in release.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use portal::search::{SearchDoc, SearchIndex, Synonym, read_synonyms_csv};

/// A mix of what citizens type: accentless names, typos, colloquial names, questions, codes, broad
/// words, a long list of words, and a 10 KB hostile paste (script, SQL, emoji, control characters).
fn workload() -> Vec<String> {
    let mut q: Vec<String> = [
        "dang ky khai sinh",
        "cấp lại bằng lái bị mất",
        "làm sổ đỏ",
        "tôi cần làm giấy khai sinh cho con thì phải làm sao",
        "1.001193",
        "giay phep lai xw",
        "MST cá nhân",
        "thủ tục đăng ký thường trú như thế nào",
        "cap giay phep",
        "xac nhan tinh trang hon nhna",
        "đăng ký kinh doanh thuế thu nhập cá nhân hộ gia đình đất đai xây dựng nhà ở giấy chứng nhận",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let hostile =
        "<script>alert('đăng ký')</script> ' OR 1=1; DROP TABLE x; -- 😀\u{0}\u{1b}[2J sổ đỏ ";
    q.push(hostile.repeat(10_240 / hostile.len() + 1));
    q
}

fn data_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn real_docs() -> Vec<SearchDoc> {
    let procs =
        portal::seed::read_procedures(&data_dir().join("procedures.jsonl.gz")).expect("seed data");
    // The same documents production builds.
    portal::catalogue::summaries_of_procedures(&procs)
        .iter()
        .map(portal::catalogue::search_doc)
        .collect()
}

/// Knuth's MMIX linear congruential generator: deterministic, no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

/// The real documents followed by synthetic ones up to `n`: each synthetic name is the first half
/// of a real name plus the second half of another, with the other fields drawn from other real
/// documents, so the vocabulary, word frequencies and name lengths stay realistic.
fn synthetic_docs(real: &[SearchDoc], n: usize) -> Vec<SearchDoc> {
    let mut rng = Lcg(0x5eed);
    let mut out = real.to_vec();
    let mut i = 0u64;
    while out.len() < n {
        i += 1;
        let a: Vec<&str> = rng.pick(real).name.split_whitespace().collect();
        let b: Vec<&str> = rng.pick(real).name.split_whitespace().collect();
        let name = [&a[..a.len().div_ceil(2)], &b[b.len() / 2..]]
            .concat()
            .join(" ");
        // Some local variants of national codes, as provinces publish them.
        let code = if i.is_multiple_of(10) {
            format!("{}.{:06}.H{:02}", 4 + i % 5, i, i % 63)
        } else {
            format!("{}.{:06}", 4 + i % 5, i)
        };
        out.push(SearchDoc {
            code,
            name,
            field: rng.pick(real).field.clone(),
            ministry: rng.pick(real).ministry.clone(),
            agency: rng.pick(real).agency.clone(),
            result: rng.pick(real).result.clone(),
            target_groups: rng.pick(real).target_groups.clone(),
            implementing_levels: rng.pick(real).implementing_levels.clone(),
            online_level: 1 + (rng.next() % 4) as i32,
        });
    }
    out
}

struct Setup {
    label: &'static str,
    index: SearchIndex,
}

fn setups() -> Vec<Setup> {
    let synonyms: Vec<Synonym> =
        read_synonyms_csv(&data_dir().join("synonyms.csv")).expect("synonyms");
    let real = real_docs();
    let big = synthetic_docs(&real, 100_000);
    let mut out = Vec::new();
    for (label, docs) in [("real_2625", real), ("synthetic_100k", big)] {
        let started = Instant::now();
        let index = SearchIndex::build(&docs, &synonyms);
        println!(
            "[search] {label}: {} docs, build {:.0} ms, index memory {:.1} MiB",
            docs.len(),
            started.elapsed().as_secs_f64() * 1e3,
            index.memory_bytes() as f64 / (1024.0 * 1024.0)
        );
        out.push(Setup { label, index });
    }
    out
}

/// Per-query latencies over the mixed workload, with percentiles.
fn latency_report(s: &Setup, queries: &[String], rounds: usize) {
    let mut lat: Vec<Duration> = Vec::with_capacity(rounds);
    let mut hits = 0usize;
    // Warm-up: first-touch of the scoring buffers and caches.
    for q in queries {
        hits += black_box(s.index.search(q)).hits.len();
    }
    for i in 0..rounds {
        let q = queries[i % queries.len()].as_str();
        let t = Instant::now();
        let r = s.index.search(black_box(q));
        lat.push(t.elapsed());
        hits += black_box(r).hits.len();
    }
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "[search] {}: {} queries, p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs (avg hits {})",
        s.label,
        lat.len(),
        us(pct(0.50)),
        us(pct(0.99)),
        us(*lat.last().unwrap_or(&Duration::ZERO)),
        hits / (rounds + queries.len()).max(1)
    );
}

fn bench(c: &mut Criterion) {
    // `cargo bench` passes --bench; `cargo test --benches` runs this in a quick smoke mode.
    let full = std::env::args().any(|a| a == "--bench");
    let queries = workload();
    for s in setups() {
        latency_report(&s, &queries, if full { 2_000 } else { 50 });
        let mut g = c.benchmark_group(s.label);
        g.sample_size(20).measurement_time(Duration::from_secs(3));
        g.bench_function("mixed_queries", |b| {
            b.iter(|| {
                for q in &queries {
                    black_box(s.index.search(black_box(q)));
                }
            })
        });
        g.bench_function("accentless_name", |b| {
            b.iter(|| black_box(s.index.search(black_box("dang ky khai sinh"))))
        });
        g.bench_function("broad_word", |b| {
            b.iter(|| black_box(s.index.search(black_box("cap giay phep"))))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
