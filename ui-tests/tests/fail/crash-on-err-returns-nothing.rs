// `crash_on_err` on a handler that returns nothing has no `Err` to crash on.
use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[call(crash_on_err)]
    fn ping(&self) {}

    #[cast(crash_on_err)]
    fn set(&mut self, value: u32) -> () {
        let _ = value;
    }
}

fn main() {}
