use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[cast(crash_on_err = true)]
    fn set(&mut self) -> Result<(), String> {
        Ok(())
    }

    #[call = "crash_on_err"]
    fn get(&self) -> Result<u32, String> {
        Ok(0)
    }
}

fn main() {}
