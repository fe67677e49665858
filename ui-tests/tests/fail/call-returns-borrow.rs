// The reply outlives the handler's borrow of the state.
use beam_runtime::prelude::*;

struct Room {
    topic: String,
}

#[actor]
impl Room {
    #[call]
    fn topic(&self) -> &str {
        &self.topic
    }
}

fn main() {}
