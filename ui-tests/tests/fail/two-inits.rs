// An actor has one constructor.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[init]
    fn zero() -> Self {
        Counter { count: 0 }
    }

    #[init]
    fn from(count: i64) -> Self {
        Counter { count }
    }
}

fn main() {}
