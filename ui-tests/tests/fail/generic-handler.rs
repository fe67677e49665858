// A message variant needs concrete types.
use beam_runtime::prelude::*;

struct Sink;

#[actor]
impl Sink {
    #[cast]
    fn put<T: Send + 'static>(&mut self, value: T) {
        let _ = value;
    }
}

fn main() {}
