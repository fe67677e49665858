// With the runtime under another name, `#[actor]` and `names!` need `crate = ..` to find it
// (here `beam_runtime` is taken over by `core`, as in `tests/pass/renamed-crate.rs`).
extern crate beam_runtime as renamed;
extern crate core as beam_runtime;

use renamed::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[cast]
    fn add(&mut self) {}
}

renamed::names! {
    COUNTER: Counter = "counter";
}

fn main() {}
