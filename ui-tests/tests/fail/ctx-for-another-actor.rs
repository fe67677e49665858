// A handler's context is the context of its own actor.
use beam_runtime::prelude::*;

struct Parent;

#[actor]
impl Parent {}

struct Child;

#[actor]
impl Child {
    #[cast]
    fn poke(&mut self, ctx: &mut Ctx<Parent>) {
        let _ = ctx;
    }
}

fn main() {}
