//! The quick start of the design document, unchanged: the API contract compiles and runs.
#![allow(missing_docs, missing_debug_implementations)]

use beam_runtime::prelude::*;
use std::time::Duration;

pub struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    /// Runs inside the new actor before any message; its parameters are the spawn arguments.
    #[init]
    fn init(start: i64) -> Self {
        Counter { count: start }
    }

    /// Request/reply, like GenServer.call.
    #[call]
    fn get(&self) -> i64 {
        self.count
    }

    /// Handlers may be async and may take `&mut self`; they run one at a time.
    #[call]
    async fn add(&mut self, n: i64) -> i64 {
        self.count += n;
        self.count
    }

    /// Fire-and-forget, like GenServer.cast.
    #[cast]
    fn set(&mut self, value: i64) {
        self.count = value;
    }
}

beam_runtime::names! {
    /// The one shared counter.
    pub COUNTER: Counter = "counter";
}

async fn main() -> Result<(), beam_runtime::Error> {
    let system = ActorSystem::new();
    let counter: ActorRef<Counter> = system.spawn::<Counter>(10).name(COUNTER).await?;

    assert_eq!(counter.get().await?, 10);
    assert_eq!(counter.add(5).await?, 15);
    counter.set(0)?;
    let n = counter.get().timeout(Duration::from_millis(100)).await?;
    assert_eq!(n, 0);

    let same: Option<ActorRef<Counter>> = system.whereis(COUNTER);
    assert!(same.is_some());
    system.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn quick_start_runs_on_current_thread() {
    main().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_start_runs_on_multi_thread() {
    main().await.unwrap();
}
