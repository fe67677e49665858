// `#[init]` fails the spawn on `Err` already, and `#[terminate]` runs when the actor is
// stopping: neither takes `crash_on_err`.
use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[init(crash_on_err)]
    fn init() -> Result<Self, String> {
        Ok(Counter)
    }

    #[terminate(crash_on_err)]
    fn terminate(&mut self) {}
}

fn main() {}
