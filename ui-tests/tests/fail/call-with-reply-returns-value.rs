// A call that takes a `Reply` answers through it, not by returning.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[call]
    fn get(&self, reply: Reply<i64>) -> i64 {
        let _ = reply.send(self.count);
        self.count
    }
}

fn main() {}
