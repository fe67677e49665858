use beam_runtime::prelude::*;

struct Worker;

#[actor]
impl Worker {
    #[terminate]
    fn terminate(&mut self, code: i32) {
        let _ = code;
    }
}

fn main() {}
