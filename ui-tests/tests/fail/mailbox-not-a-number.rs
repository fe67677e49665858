use beam_runtime::prelude::*;

struct Counter;

#[actor(mailbox = "big")]
impl Counter {
    #[cast]
    fn poke(&mut self) {}
}

fn main() {}
