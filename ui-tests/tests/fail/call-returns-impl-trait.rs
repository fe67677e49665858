// A reply type must be nameable.
use beam_runtime::prelude::*;

struct Room;

#[actor]
impl Room {
    #[call]
    fn topic(&self) -> impl std::fmt::Display {
        "rust"
    }
}

fn main() {}
