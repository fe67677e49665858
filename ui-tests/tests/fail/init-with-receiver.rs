// `#[init]` builds the state, so there is no `self` yet.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[init]
    fn init(&self, start: i64) -> Self {
        Counter {
            count: start + self.count,
        }
    }
}

fn main() {}
