use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[cast(crash_on_err, crash_on_err)]
    fn set(&mut self) -> Result<(), String> {
        Ok(())
    }
}

fn main() {}
