// A cast has nobody to answer to.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[cast]
    fn set(&mut self, value: i64) -> i64 {
        self.count = value;
        self.count
    }
}

fn main() {}
