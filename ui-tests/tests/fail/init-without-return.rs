use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[init]
    fn init(start: i64) {
        let _ = start;
    }
}

fn main() {}
