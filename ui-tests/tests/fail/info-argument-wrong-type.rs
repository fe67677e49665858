// `#[info]` receives the runtime's `Info`.
use beam_runtime::prelude::*;

struct Watcher;

#[actor]
impl Watcher {
    #[info]
    fn on_info(&mut self, info: u32) {
        let _ = info;
    }
}

fn main() {}
