// A message outlives the caller's borrow.
use beam_runtime::prelude::*;

struct Greeter;

#[actor]
impl Greeter {
    #[cast]
    fn greet(&mut self, name: &str) {
        let _ = name;
    }
}

fn main() {}
