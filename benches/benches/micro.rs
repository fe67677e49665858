//! beam's own hot paths under criterion, so a regression shows against a saved baseline:
//!
//! ```text
//! cargo bench -p beam-bench --bench micro -- --save-baseline main
//! cargo bench -p beam-bench --bench micro -- --baseline main
//! ```

use std::hint::black_box;

use std::future::IntoFuture;

use beam_runtime::prelude::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

struct Counter {
    sum: u64,
}

#[actor]
impl Counter {
    #[cast]
    fn add(&mut self, n: u64) {
        self.sum = self.sum.wrapping_add(n);
    }

    #[call]
    fn get(&self) -> u64 {
        self.sum
    }
}

const BATCH: u64 = 1_000;

fn hot_paths(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let system = ActorSystem::new();
    let counter = rt
        .block_on(system.spawn::<Counter>(Counter { sum: 0 }).into_future())
        .expect("spawn");

    let mut group = c.benchmark_group("current_thread");
    group.throughput(Throughput::Elements(1));
    group.bench_function("call", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(counter.get().await.expect("get")) });
    });
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("cast x1000 + call", |b| {
        b.to_async(&rt).iter(|| async {
            for n in 0..BATCH {
                counter.add(n).expect("cast");
            }
            black_box(counter.get().await.expect("get"))
        });
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("spawn + stop", |b| {
        b.to_async(&rt).iter(|| async {
            let actor = system
                .spawn::<Counter>(Counter { sum: 0 })
                .await
                .expect("spawn");
            black_box(system.stop(&actor).await)
        });
    });
    group.finish();
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
