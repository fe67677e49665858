// `ctx.continue_with` takes the `#[handle_continue]` argument's type.
use beam_runtime::prelude::*;

struct Loader;

#[actor]
impl Loader {
    #[init]
    fn init(ctx: &mut Ctx<Self>) -> Self {
        ctx.continue_with("load");
        Loader
    }

    #[handle_continue]
    fn step(&mut self, step: u8) {
        let _ = step;
    }
}

fn main() {}
