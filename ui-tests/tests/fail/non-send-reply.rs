// A reply travels back to the caller's thread.
use std::rc::Rc;

use beam_runtime::prelude::*;

struct Maker;

#[actor]
impl Maker {
    #[call]
    fn make(&self) -> Rc<u8> {
        Rc::new(1)
    }
}

fn main() {}
