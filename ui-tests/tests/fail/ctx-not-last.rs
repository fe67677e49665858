use beam_runtime::prelude::*;

struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[cast]
    fn set(&mut self, ctx: &mut Ctx<Self>, value: i64) {
        let _ = ctx;
        self.count = value;
    }
}

fn main() {}
