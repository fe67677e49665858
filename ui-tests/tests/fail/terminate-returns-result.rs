// `#[terminate]` runs as the actor exits: there is no later crash for an `Err` to cause.
use beam_runtime::prelude::*;

struct Worker;

#[actor]
impl Worker {
    #[terminate]
    fn terminate(&mut self) -> Result<(), String> {
        Ok(())
    }
}

fn main() {}
