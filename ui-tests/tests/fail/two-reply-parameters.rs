// A call has one caller to answer.
use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[call]
    fn get(&self, first: Reply<u8>, second: Reply<u8>) {
        let _ = (first.send(1), second.send(2));
    }
}

fn main() {}
