// A cast may fail, but it has nobody to give a value to: `Ok` must be `()`.
use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[cast]
    fn set(&mut self, value: i64) -> Result<i64, String> {
        self.count = value;
        Ok(self.count)
    }
}

fn main() {}
