// `_` cannot name a message field; use `_value` to ignore it.
use beam_runtime::prelude::*;

struct Sink;

#[actor]
impl Sink {
    #[cast]
    fn put(&mut self, _: u8) {}
}

fn main() {}
