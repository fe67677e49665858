use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[cast]
    unsafe fn poke(&mut self) {}
}

fn main() {}
