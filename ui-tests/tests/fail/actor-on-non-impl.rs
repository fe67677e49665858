// `#[actor]` goes on the impl block, not the type.
use beam_runtime::prelude::*;

#[actor]
struct Counter {
    count: i64,
}

fn main() {
    let _ = Counter { count: 0 }.count;
}
