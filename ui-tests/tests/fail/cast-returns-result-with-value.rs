// A cast may crash on `Err`, but it has nobody to give a value to: `Ok` must be `()`.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[cast(crash_on_err)]
    fn set(&mut self, value: i64) -> Result<i64, String> {
        self.count = value;
        Ok(self.count)
    }
}

fn main() {}
