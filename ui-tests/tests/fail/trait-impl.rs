// `#[actor]` goes on the type's own impl block.
use beam_runtime::prelude::*;

#[derive(Default)]
struct Counter {
    count: i64,
}

trait Get {
    fn get(&self) -> i64;
}

#[actor]
impl Get for Counter {
    #[call]
    fn get(&self) -> i64 {
        self.count
    }
}

fn main() {
    let _ = Counter::default().get();
}
