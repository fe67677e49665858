// A message field needs a type that can be named.
use beam_runtime::prelude::*;

struct Greeter;

#[actor]
impl Greeter {
    #[cast]
    fn greet(&mut self, name: impl Into<String>) {
        let _ = name.into();
    }
}

fn main() {}
