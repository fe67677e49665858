// Only methods can be handlers.
use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[cast]
    const LIMIT: u32 = 3;
}

fn main() {}
