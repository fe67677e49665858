// The actor itself moves between worker threads.
use std::rc::Rc;

use beam_runtime::prelude::*;

struct Local {
    shared: Rc<u8>,
}

#[actor]
impl Local {
    #[call]
    fn get(&self) -> u8 {
        *self.shared
    }
}

fn main() {}
