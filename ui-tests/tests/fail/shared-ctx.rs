// The context is borrowed mutably.
use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[cast]
    fn poke(&mut self, ctx: &Ctx<Self>) {
        let _ = ctx.id();
    }
}

fn main() {}
