// `a_b` and `a__b` both become the variant `AB`.
use beam_runtime::prelude::*;

struct Twins;

#[actor]
impl Twins {
    #[cast]
    fn a_b(&mut self) {}

    #[cast]
    fn a__b(&mut self) {}
}

fn main() {}
