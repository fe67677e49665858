// A failing init says why: `Result<Self, E>`, not `Option<Self>`.
use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[init]
    fn init(start: i64) -> Option<Self> {
        (start >= 0).then_some(Counter)
    }
}

fn main() {}
