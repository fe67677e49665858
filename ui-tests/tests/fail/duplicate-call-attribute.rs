use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[call]
    #[call]
    fn get(&self) -> i64 {
        self.count
    }
}

fn main() {}
