// Two constants for one name would register over each other.
use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {}

beam_runtime::names! {
    COUNTER: Counter = "counter";
    OTHER_COUNTER: Counter = "counter";
}

fn main() {}
