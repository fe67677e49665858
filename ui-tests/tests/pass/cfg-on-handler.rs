//! `#[cfg]` on a `#[call]`/`#[cast]` handler applies to everything generated for it.

use beam_runtime::prelude::*;

struct Flags;

#[actor]
impl Flags {
    #[call]
    #[cfg(all())]
    fn present(&self) -> u8 {
        1
    }

    // Compiled out, with a type that does not exist: nothing generated may mention it.
    #[cast]
    #[cfg(any())]
    fn absent(&mut self, value: DoesNotExist) {}
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let system = ActorSystem::new();
    let flags = system.spawn::<Flags>(Flags).await.unwrap();
    assert_eq!(flags.present().await.unwrap(), 1);
    system.shutdown().await;
}
