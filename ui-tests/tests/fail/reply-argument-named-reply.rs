// A `#[call]` message already has a `reply` field for its reply port.
use beam_runtime::prelude::*;

struct Mailer;

#[actor]
impl Mailer {
    #[call]
    fn answer(&mut self, reply: String) -> bool {
        !reply.is_empty()
    }
}

fn main() {}
