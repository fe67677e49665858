//! `#[actor(crate = ..)]` and `names! { crate = ..; }` reach the runtime only through the path
//! they are given.
//!
//! Cargo refuses a second dependency on one package under another name, so the runtime gets
//! its second name from `extern crate`, and the name `beam_runtime` is then taken over by
//! `core`, in the extern prelude (`::beam_runtime`) and for plain paths (`beam_runtime::..`)
//! alike. Any generated path still naming `beam_runtime` would fail to resolve here.

extern crate beam_runtime as renamed;
extern crate core as beam_runtime;

use renamed::prelude::*;

// `beam_runtime` is `core` now.
const _: beam_runtime::primitive::u8 = 0;

struct Counter {
    count: i64,
}

#[actor(crate = renamed)]
impl Counter {
    #[init]
    fn init(start: i64) -> Self {
        Counter { count: start }
    }

    #[call]
    fn get(&self) -> i64 {
        self.count
    }

    #[cast]
    fn add(&mut self, n: i64) {
        self.count += n;
    }
}

renamed::names! {
    crate = renamed;
    COUNTER: Counter = "counter";
}

#[tokio::main]
async fn main() {
    let system = ActorSystem::new();
    let counter = system.spawn::<Counter>(1).name(COUNTER).await.unwrap();
    counter.add(2).unwrap();
    assert_eq!(counter.get().await.unwrap(), 3);
    let found: Option<ActorRef<Counter>> = system.whereis(COUNTER);
    assert_eq!(found, Some(counter));
    system.shutdown().await;
}
