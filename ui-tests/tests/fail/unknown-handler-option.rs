use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {
    #[call(crash_on_eror)]
    fn get(&self) -> Result<u32, String> {
        Ok(0)
    }
}

fn main() {}
