// `#[actor]` knows `crate`, `mailbox` and `msg`.
use beam_runtime::prelude::*;

struct Counter;

#[actor(capacity = 16)]
impl Counter {
    #[cast]
    fn poke(&mut self) {}
}

fn main() {}
