// An actor type must be concrete.
use beam_runtime::prelude::*;

struct Holder<T> {
    value: T,
}

#[actor]
impl<T: Clone + Send + 'static> Holder<T> {
    #[call]
    fn get(&self) -> T {
        self.value.clone()
    }
}

fn main() {}
