// A handler either replies or it does not.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[call]
    #[cast]
    fn reset(&mut self) {
        self.count = 0;
    }
}

fn main() {}
