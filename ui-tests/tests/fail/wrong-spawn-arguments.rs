// The spawn arguments are the `#[init]` parameters.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[init]
    fn init(start: i64, step: i64) -> Self {
        Counter {
            count: start * step,
        }
    }
}

async fn start(system: &ActorSystem) {
    let _ = system.spawn::<Counter>(10).await;
}

fn main() {}
