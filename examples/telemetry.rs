//! Telemetry and tracing: handlers attached to beam's events count spawns, exits, crashes
//! and restarts and collect call durations, while a `tracing` subscriber prints the
//! lifecycle events (a crash, the supervisor's restart, the shutdown) with no extra code.
//! A supervised key-value store serves some calls, crashes once, is restarted, and serves
//! more; then the metrics are printed.
//!
//! ```text
//! cargo run --example telemetry
//! RUST_LOG_LEVEL=trace cargo run --example telemetry    # also every handler's span
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beam_runtime::prelude::*;
use beam_runtime::supervisor::{ChildSpec, SupervisorSpec};
use beam_runtime::telemetry::{self, Event, Value, events};

/// A small key-value store, supervised.
#[derive(Clone, Default)]
struct Store {
    entries: HashMap<String, u64>,
}

#[actor]
impl Store {
    #[call]
    fn get(&self, key: String) -> Option<u64> {
        self.entries.get(&key).copied()
    }

    #[call]
    async fn put(&mut self, key: String, value: u64) -> Option<u64> {
        // Pretend to write it somewhere slow.
        tokio::time::sleep(Duration::from_millis(2)).await;
        self.entries.insert(key, value)
    }

    /// Crashes on a corrupt value, as real code sometimes does.
    #[cast]
    fn load(&mut self, raw: String) {
        let value: u64 = raw.parse().expect("a number");
        self.entries.insert("loaded".into(), value);
    }
}

/// What the telemetry handlers gather.
#[derive(Default)]
struct Metrics {
    spawned: u64,
    stopped: BTreeMap<String, u64>,
    crashes: u64,
    restarts: u64,
    calls: BTreeMap<&'static str, Vec<Duration>>,
}

impl Metrics {
    fn record(&mut self, event: &Event<'_>) {
        if event.is(events::ACTOR_SPAWN) {
            self.spawned += 1;
        } else if event.is(events::ACTOR_STOP) {
            let reason = event.metadata("reason").map(|r| r.to_string());
            *self.stopped.entry(reason.unwrap_or_default()).or_default() += 1;
        } else if event.is(events::SUPERVISOR_CRASH) {
            self.crashes += 1;
        } else if event.is(events::SUPERVISOR_RESTART) {
            self.restarts += 1;
        }
    }

    fn print(&self) {
        println!("--- metrics from telemetry handlers ---");
        println!("actors spawned: {}", self.spawned);
        for (reason, n) in &self.stopped {
            println!("actors stopped ({reason}): {n}");
        }
        println!("supervised crashes: {}", self.crashes);
        println!("supervisor restarts: {}", self.restarts);
        for (handler, durations) in &self.calls {
            let total: Duration = durations.iter().sum();
            let max = durations.iter().max().copied().unwrap_or_default();
            println!(
                "call {handler}: {} calls, mean {:?}, max {:?}",
                durations.len(),
                total / durations.len().max(1) as u32,
                max
            );
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), beam_runtime::Error> {
    // beam's events reach `tracing` on their own: INFO shows crashes, restarts and the
    // shutdown; TRACE adds a span per handler.
    let level = match std::env::var("RUST_LOG_LEVEL").as_deref() {
        Ok("trace") => tracing::Level::TRACE,
        Ok("debug") => tracing::Level::DEBUG,
        _ => tracing::Level::INFO,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .without_time()
        .init();
    // The crash below is reported by beam's `actor crashed` event, with its reason: no
    // need for the default panic report as well.
    std::panic::set_hook(Box::new(|_| {}));

    let metrics = Arc::new(Mutex::new(Metrics::default()));
    let lifecycle = metrics.clone();
    telemetry::attach(
        "example-lifecycle",
        &[
            events::ACTOR_SPAWN,
            events::ACTOR_STOP,
            events::SUPERVISOR_CRASH,
            events::SUPERVISOR_RESTART,
        ],
        move |event| lifecycle.lock().unwrap().record(event),
    )?;
    let calls = metrics.clone();
    telemetry::attach(
        "example-call-durations",
        &[events::ACTOR_CALL_STOP],
        move |event| {
            if let (Some(Value::Str(handler)), Some(Value::Duration(d))) =
                (event.metadata("handler"), event.measurement("duration"))
            {
                // Handler names are `&'static str` in beam; keep only the known ones.
                let handler = match handler {
                    "get" => "get",
                    "put" => "put",
                    _ => return,
                };
                calls
                    .lock()
                    .unwrap()
                    .calls
                    .entry(handler)
                    .or_default()
                    .push(d);
            }
        },
    )?;
    // Your own events go through the same handlers.
    telemetry::attach("example-app", &[&["example", "batch", "stop"]], |event| {
        println!("app event: {event}");
    })?;

    let system = ActorSystem::new();
    let store = ChildSpec::<Store>::new("store", Store::default());
    let handle = store.handle();
    let supervisor = SupervisorSpec::new().child(store).start(&system).await?;

    let first = handle.current().expect("started");
    telemetry::span_async(&["example", "batch"], &[("size", Value::U64(10))], async {
        for i in 0..10 {
            first.put(format!("k{i}"), i).await?;
            first.get(format!("k{i}")).await?;
        }
        Ok::<_, beam_runtime::Error>(())
    })
    .await?;

    // A corrupt value crashes the store; its supervisor restarts it.
    first.load("not a number".into())?;
    first.wait_for_exit().await;
    let second = handle.running().await.expect("restarted");
    second.put("after".into(), 1).await?;
    assert_eq!(second.get("after".into()).await?, Some(1));
    assert_eq!(supervisor.count_children().await?.active, 1);

    system.shutdown().await;
    metrics.lock().unwrap().print();
    telemetry::detach_all();
    Ok(())
}
