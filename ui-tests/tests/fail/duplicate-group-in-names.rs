// Two groups of one type with the same text would be one group under two names.
use beam_runtime::prelude::*;

struct Worker;

#[actor]
impl Worker {}

beam_runtime::names! {
    WORKERS: Group<Worker> = "workers";
    ALL_WORKERS: Group<Worker> = "workers";
}

fn main() {}
