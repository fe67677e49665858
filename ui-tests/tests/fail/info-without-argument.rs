use beam_runtime::prelude::*;

struct Watcher;

#[actor]
impl Watcher {
    #[info]
    fn on_info(&mut self) {}
}

fn main() {}
