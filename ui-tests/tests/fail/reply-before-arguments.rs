use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[call]
    fn add(&mut self, reply: Reply<i64>, n: i64) {
        let _ = reply.send(n);
    }
}

fn main() {}
