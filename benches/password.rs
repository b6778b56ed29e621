//! Password hashing cost and login throughput with the production argon2id parameters.
//!
//! `cargo bench --bench password`. Criterion times one hash and one verification through the
//! bounded pool; then a burst of concurrent verifications on a multi-thread runtime shows what the
//! pool sustains (verifications per second against the theoretical cores / single-hash time) and
//! how late a 5 ms timer on the same runtime fires meanwhile: the pages that are not logins.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use portal::security::password::{PasswordHasher, default_permits};

const PASSWORD: &str = "một mật khẩu khá dài";
const BURST: usize = 40;

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio runtime: {e}"),
    }
}

/// CPU time this process has used (user + system), from `/proc/self/stat`, to tell a pool that
/// wastes cores from a machine that other processes keep busy. None off Linux.
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields,
    // in USER_HZ ticks, which Linux fixes at 100 per second for /proc.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn production_hasher() -> PasswordHasher {
    match PasswordHasher::new() {
        Ok(h) => h,
        Err(e) => panic!("password hasher: {e:#}"),
    }
}

fn single_hash(c: &mut Criterion) {
    let rt = runtime(default_permits());
    let hasher = production_hasher();
    let phc = match rt.block_on(hasher.hash(PASSWORD.into())) {
        Ok(phc) => phc,
        Err(e) => panic!("hash: {e:#}"),
    };
    let mut group = c.benchmark_group("argon2id m=19MiB t=2 p=1");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("hash", |b| {
        b.iter(|| rt.block_on(hasher.hash(black_box(PASSWORD.into()))))
    });
    group.bench_function("verify", |b| {
        b.iter(|| rt.block_on(hasher.verify(black_box(PASSWORD.into()), Some(phc.clone()))))
    });
    group.bench_function("verify unknown account", |b| {
        b.iter(|| rt.block_on(hasher.verify(black_box(PASSWORD.into()), None)))
    });
    group.finish();
}

/// Not a criterion measurement: criterion reports the time of one call, not what a pool sustains
/// under a burst, nor how the rest of the runtime fares meanwhile.
fn burst_throughput(_: &mut Criterion) {
    let cores = default_permits();
    let rt = runtime(cores);
    let hasher = production_hasher();
    let phc = match rt.block_on(hasher.hash(PASSWORD.into())) {
        Ok(phc) => phc,
        Err(e) => panic!("hash: {e:#}"),
    };

    // Single-hash time: the median of a few sequential verifications.
    let mut singles: Vec<Duration> = (0..9)
        .map(|_| {
            let start = Instant::now();
            let _ = rt.block_on(hasher.verify(PASSWORD.into(), Some(phc.clone())));
            start.elapsed()
        })
        .collect();
    singles.sort();
    let single = singles[singles.len() / 2];
    let theoretical = cores as f64 / single.as_secs_f64();

    for round in 0..3 {
        let cpu_before = process_cpu_time();
        let (elapsed, worst_tick, ok) = rt.block_on(async {
            // A stand-in for the other pages: a 5 ms timer whose lateness is recorded.
            let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
            let ticker = tokio::spawn(async move {
                let mut worst = Duration::ZERO;
                loop {
                    let asked = Instant::now();
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(5)) => {}
                        _ = &mut stop_rx => break worst,
                    }
                    worst = worst.max(asked.elapsed().saturating_sub(Duration::from_millis(5)));
                }
            });
            let start = Instant::now();
            let tasks: Vec<_> = (0..BURST)
                .map(|_| {
                    let (hasher, phc) = (hasher.clone(), phc.clone());
                    tokio::spawn(async move { hasher.verify(PASSWORD.into(), Some(phc)).await })
                })
                .collect();
            let mut ok = 0;
            for task in tasks {
                if matches!(task.await, Ok(Ok(true))) {
                    ok += 1;
                }
            }
            let elapsed = start.elapsed();
            let _ = stop_tx.send(());
            let worst = ticker.await.unwrap_or_default();
            (elapsed, worst, ok)
        });
        let cpu_share = match (cpu_before, process_cpu_time()) {
            (Some(before), Some(after)) => format!(
                "; this process got {:.0}% of the {cores} cores (the rest went to other processes)",
                100.0 * (after - before).as_secs_f64() / (elapsed.as_secs_f64() * cores as f64)
            ),
            _ => String::new(),
        };
        let rate = BURST as f64 / elapsed.as_secs_f64();
        println!(
            "burst {round}: {BURST} concurrent verifications ({ok} ok) in {:.0} ms = {rate:.1} verifications/s \
             with {cores} permits; theoretical {theoretical:.1}/s ({cores} cores / {:.1} ms per hash) = {:.0}%; \
             a 5 ms timer on the same runtime was at worst {:.1} ms late{cpu_share}",
            elapsed.as_secs_f64() * 1e3,
            single.as_secs_f64() * 1e3,
            100.0 * rate / theoretical,
            worst_tick.as_secs_f64() * 1e3,
        );
    }
}

criterion_group!(benches, single_hash, burst_throughput);
criterion_main!(benches);
