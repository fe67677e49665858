// `crash_on_err` needs a `Result` to look into: `u32` is not one.
use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[call(crash_on_err)]
    fn get(&self) -> u32 {
        0
    }

    #[cast(crash_on_err)]
    fn set(&mut self, value: u32) -> bool {
        value > 0
    }
}

fn main() {}
