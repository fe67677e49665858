// `COUNTER` names a `Counter`, so it cannot register or find a `Worker`.
use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {}

struct Worker;

#[actor]
impl Worker {}

beam_runtime::names! {
    COUNTER: Counter = "counter";
}

async fn start(system: &ActorSystem) {
    let _ = system.spawn::<Worker>(Worker).name(COUNTER).await;
    let _w: Option<ActorRef<Worker>> = system.whereis(COUNTER);
}

fn main() {}
