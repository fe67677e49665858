// Only a call has someone waiting for a reply.
use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[cast]
    fn get(&self, reply: Reply<i64>) {
        let _ = reply.send(0);
    }
}

fn main() {}
