// Messages cross threads, so their arguments must be `Send`.
use std::rc::Rc;

use beam_runtime::prelude::*;

struct Holder;

#[actor]
impl Holder {
    #[cast]
    fn hold(&mut self, value: Rc<u8>) {
        let _ = value;
    }
}

fn main() {}
