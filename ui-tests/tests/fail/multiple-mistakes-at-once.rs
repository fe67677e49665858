// Every mistake is reported in one go, and the impl block is kept: `double` still works.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor(mailbox = 0)]
impl Counter {
    #[cast]
    fn set(self, value: i64) -> i64 {
        value
    }

    #[call]
    fn greet(&self, name: &str) -> usize {
        name.len()
    }

    #[call]
    #[call]
    fn id(&self) -> i64 {
        self.count
    }

    fn double(&self) -> i64 {
        self.count * 2
    }
}

fn main() {
    let counter = Counter { count: 2 };
    let _: i64 = counter.double();
}
