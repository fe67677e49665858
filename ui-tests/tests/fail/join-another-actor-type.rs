// A group holds actors of its own type only.
use beam_runtime::prelude::*;

struct Worker;

#[actor]
impl Worker {}

struct Auditor;

#[actor]
impl Auditor {}

beam_runtime::names! {
    WORKERS: Group<Worker> = "workers";
}

async fn join(system: &ActorSystem, auditor: &ActorRef<Auditor>) {
    system.join(&WORKERS, auditor).unwrap();
}

fn main() {}
