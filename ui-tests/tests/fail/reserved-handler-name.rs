// `ActorRef` has `id`, `clone`, `stop_with` and `waiting` itself, so these handlers could
// never be reached.
use beam_runtime::prelude::*;

struct Account;

#[actor]
impl Account {
    #[call]
    fn id(&self) -> u64 {
        7
    }

    #[cast]
    fn clone(&mut self) {}

    #[cast]
    fn stop_with(&mut self) {}

    #[cast]
    fn waiting(&mut self) {}
}

fn main() {}
