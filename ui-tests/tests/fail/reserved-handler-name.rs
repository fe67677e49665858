// `ActorRef` has `id`, `clone` and `waiting` itself, so these handlers could never be
// reached.
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
    fn waiting(&mut self) {}
}

fn main() {}
