use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[call(timeout = 5)]
    fn get(&self) -> i64 {
        0
    }
}

fn main() {}
