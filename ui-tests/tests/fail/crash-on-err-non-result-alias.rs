// An alias is judged by what it stands for: `Count` is `u32`, not a `Result`.
use beam_runtime::prelude::*;

type Count = u32;
type Flag = bool;

struct Counter;

#[actor]
impl Counter {
    #[call(crash_on_err)]
    fn get(&self) -> Count {
        0
    }

    #[cast(crash_on_err)]
    fn set(&mut self, value: u32) -> Flag {
        value > 0
    }
}

fn main() {}
