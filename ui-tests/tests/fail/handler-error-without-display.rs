// An `Err` from a handler becomes the exit reason's text, so the error must be `Display`.
use beam_runtime::prelude::*;

#[derive(Debug)]
struct Opaque;

struct Worker;

#[actor]
impl Worker {
    #[cast(crash_on_err)]
    fn work(&mut self) -> Result<(), Opaque> {
        Err(Opaque)
    }

    #[call(crash_on_err)]
    fn ask(&mut self) -> Result<u32, Opaque> {
        Ok(1)
    }
}

fn main() {}
