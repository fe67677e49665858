// `add` takes an `i64`; the ref's method has the handler's argument types.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[call]
    fn add(&mut self, n: i64) -> i64 {
        self.count += n;
        self.count
    }
}

fn poke(counter: &ActorRef<Counter>) {
    let _ = counter.add("five");
}

fn main() {}
