// A bounded mailbox must hold at least one message.
use beam_runtime::prelude::*;

struct Counter;

#[actor(mailbox = 0)]
impl Counter {
    #[cast]
    fn poke(&mut self) {}
}

fn main() {}
