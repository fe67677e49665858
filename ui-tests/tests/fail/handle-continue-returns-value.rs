use beam_runtime::prelude::*;

struct Loader;

#[actor]
impl Loader {
    #[handle_continue]
    fn load(&mut self, step: u8) -> u8 {
        step
    }
}

fn main() {}
