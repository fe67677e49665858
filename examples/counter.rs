//! The smallest complete beam program: a counter that lives in its own actor. It shows an
//! `#[actor]` with an `#[init]`, two `#[call]`s and a `#[cast]`, a typed name declared
//! with `names!`, a call with a timeout, and a shutdown.
//!
//! ```text
//! cargo run --example counter
//! ```

use std::time::Duration;

use beam_runtime::prelude::*;

/// The actor's state; `#[actor]` turns the handlers below into messages.
struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    /// Runs inside the new actor; its parameters are what `spawn` takes.
    #[init]
    fn init(start: i64) -> Self {
        Counter { count: start }
    }

    /// A call: the caller waits for the reply.
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

    /// A cast: fire and forget.
    #[cast]
    fn set(&mut self, value: i64) {
        self.count = value;
    }
}

beam_runtime::names! {
    /// The one shared counter.
    COUNTER: Counter = "counter";
}

#[tokio::main]
async fn main() -> Result<(), beam_runtime::Error> {
    let system = ActorSystem::new();

    // Awaiting the spawn runs `init(10)` inside the new actor.
    let counter: ActorRef<Counter> = system.spawn::<Counter>(10).name(COUNTER).await?;
    println!("spawned {counter:?} as {COUNTER:?}");

    println!("counter.get()  -> {}", counter.get().await?);
    println!("counter.add(5) -> {}", counter.add(5).await?);

    // A cast returns at once; the call after it is handled after it.
    counter.set(0)?;
    println!("counter.set(0)    (a cast: returned at once)");
    let n = counter.get().timeout(Duration::from_millis(100)).await?;
    println!("counter.get()  -> {n}   (with a 100 ms timeout)");

    // The name finds the same actor, with its type known to the compiler.
    let same: Option<ActorRef<Counter>> = system.whereis(COUNTER);
    println!("system.whereis(COUNTER) -> {same:?}");

    system.shutdown().await;
    println!("after shutdown, counter.get() -> {:?}", counter.get().await);
    Ok(())
}
