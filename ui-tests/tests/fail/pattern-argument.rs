// Arguments become message fields, so they need names.
use beam_runtime::prelude::*;

struct Plotter;

#[actor]
impl Plotter {
    #[cast]
    fn plot(&mut self, (x, y): (u8, u8)) {
        let _ = (x, y);
    }
}

fn main() {}
