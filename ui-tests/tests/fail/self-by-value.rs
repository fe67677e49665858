// A handler cannot consume the actor's state.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[call]
    fn take(self) -> i64 {
        self.count
    }
}

fn main() {}
