use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {}

beam_runtime::names! {
    COUNTER: Counter = "";
}

fn main() {}
