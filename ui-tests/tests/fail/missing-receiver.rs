// A handler works on the actor's state.
use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[call]
    fn version() -> u32 {
        1
    }
}

fn main() {}
