// A failed init becomes an exit reason, which needs the error as text.
use beam_runtime::prelude::*;

struct Counter;

#[derive(Debug)]
struct Failed;

#[actor]
impl Counter {
    #[init]
    fn init(start: i64) -> Result<Self, Failed> {
        if start < 0 { Err(Failed) } else { Ok(Counter) }
    }
}

fn main() {}
