// Helper attributes only mean something inside an `#[actor]` impl block.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

impl Counter {
    #[call]
    fn get(&self) -> i64 {
        self.count
    }
}

#[cast]
fn free(_value: i64) {}

fn main() {}
