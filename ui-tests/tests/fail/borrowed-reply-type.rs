// A deferred reply outlives the handler, so it cannot borrow.
use beam_runtime::prelude::*;

struct Room;

#[actor]
impl Room {
    #[call]
    fn topic(&self, reply: Reply<&str>) {
        let _ = reply.send("rust");
    }
}

fn main() {}
