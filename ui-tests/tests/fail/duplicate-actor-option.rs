// Each `#[actor]` option may be given once.
use beam_runtime::prelude::*;

struct Counter;

#[actor(mailbox = 16, mailbox = 32)]
impl Counter {
    #[cast]
    fn poke(&mut self) {}
}

fn main() {}
