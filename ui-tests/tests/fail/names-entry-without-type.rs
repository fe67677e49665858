// Each `names!` entry says which actor the name is for.
use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {}

beam_runtime::names! {
    COUNTER = "counter";
}

fn main() {}
