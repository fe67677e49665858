// `#[actor]` declares `CounterMsg`; use `#[actor(msg = ..)]` to pick another name.
use beam_runtime::prelude::*;

struct CounterMsg;

struct Counter;

#[actor]
impl Counter {
    #[cast]
    fn poke(&mut self) {}
}

fn main() {
    let _ = CounterMsg;
}
