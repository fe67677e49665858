// `#[cfg]` is carried onto generated code only for `#[call]` and `#[cast]` handlers.
use beam_runtime::prelude::*;

struct Boot;

#[actor]
impl Boot {
    #[init]
    #[cfg(all())]
    fn init() -> Self {
        Boot
    }
}

fn main() {}
