// `reset` is not a handler of `Counter`, so its ref has no such method.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[call]
    fn get(&self) -> i64 {
        self.count
    }
}

fn poke(counter: &ActorRef<Counter>) {
    let _ = counter.reset();
}

fn main() {}
