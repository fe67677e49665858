//! beam's own hot paths under criterion, so a regression shows against a saved baseline:
//!
//! ```text
//! cargo bench -p beam-bench --bench micro -- --save-baseline main
//! cargo bench -p beam-bench --bench micro -- --baseline main
//! ```
//!
//! The telemetry cases show that telemetry costs nothing while no handler is attached to
//! the events a path emits: `telemetry/execute/none_attached` against
//! `other_event_attached`, and in `telemetry/call` and `telemetry/cast x1000 + call`,
//! `nothing attached` against `unrelated handler` (then `observed`, its price when used).

use std::hint::black_box;

use std::future::IntoFuture;
use std::time::Duration;

use beam_runtime::prelude::*;
use beam_runtime::telemetry::{self, EventName, Value};
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

    // The same hot paths with nothing attached, with a telemetry handler on an event
    // they do not emit (spawns: the actor's check stays one load, so they should
    // cost the same), and observed (handlers on the call and cast events), side by side
    // so that the machine's drift touches them alike.
    let unrelated: &[EventName] = &[telemetry::events::ACTOR_SPAWN];
    let observed: &[EventName] = &[
        telemetry::events::ACTOR_CALL_STOP,
        telemetry::events::ACTOR_CAST_STOP,
    ];
    let cases = [
        ("nothing attached", None),
        ("unrelated handler", Some(unrelated)),
        ("observed", Some(observed)),
    ];
    let mut group = c.benchmark_group("telemetry/call");
    group.throughput(Throughput::Elements(1));
    for (label, events) in cases {
        let _handler = events.map(Attached::new);
        group.bench_function(label, |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(counter.get().await.expect("get")) });
        });
    }
    group.finish();
    let mut group = c.benchmark_group("telemetry/cast x1000 + call");
    group.throughput(Throughput::Elements(BATCH));
    for (label, events) in cases {
        let _handler = events.map(Attached::new);
        group.bench_function(label, |b| {
            b.to_async(&rt).iter(|| async {
                for n in 0..BATCH {
                    counter.add(n).expect("cast");
                }
                black_box(counter.get().await.expect("get"))
            });
        });
    }
    group.finish();
}

/// A trivial telemetry handler, attached to `events` until dropped.
struct Attached;

impl Attached {
    fn new(events: &[EventName]) -> Self {
        telemetry::attach("micro", events, |event| {
            black_box(event);
        })
        .expect("attach");
        Attached
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        telemetry::detach("micro");
    }
}

/// `telemetry::execute` of an event: with nothing attached, with a handler on another
/// event only (both should be a load or two), and with a handler on it.
fn telemetry_execute(c: &mut Criterion) {
    const MINE: EventName = &["bench", "request", "stop"];
    const OTHER: EventName = &["bench", "other", "event"];
    let execute = || {
        telemetry::execute(
            black_box(MINE),
            &[("duration", Value::Duration(Duration::from_micros(3)))],
            &[("route", Value::Str("/users"))],
        );
    };
    let mut group = c.benchmark_group("telemetry/execute");
    telemetry::detach_all();
    group.bench_function("none_attached", |b| b.iter(execute));
    telemetry::attach("other", &[OTHER], |event| {
        black_box(event);
    })
    .expect("attach");
    group.bench_function("other_event_attached", |b| b.iter(execute));
    telemetry::attach("mine", &[MINE], |event| {
        black_box(event);
    })
    .expect("attach");
    group.bench_function("attached", |b| b.iter(execute));
    group.finish();
    telemetry::detach_all();

    let mut group = c.benchmark_group("telemetry/span");
    group.bench_function("none_attached", |b| {
        b.iter(|| telemetry::span(black_box(MINE), &[], || black_box(1)));
    });
    group.finish();
}

criterion_group!(benches, hot_paths, telemetry_execute);
criterion_main!(benches);
