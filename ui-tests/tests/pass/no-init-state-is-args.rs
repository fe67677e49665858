//! Without `#[init]`, the spawn argument is the actor's state itself.

use beam_runtime::prelude::*;

struct Counter {
    count: i64,
    label: String,
}

#[actor]
impl Counter {
    #[call]
    fn get(&self) -> (i64, String) {
        (self.count, self.label.clone())
    }

    #[cast]
    fn add(&mut self, n: i64) {
        self.count += n;
    }
}

/// An actor with no handlers at all.
struct Idle;

#[actor]
impl Idle {}

#[tokio::main]
async fn main() {
    let system = ActorSystem::new();
    let state = Counter {
        count: 5,
        label: "c".to_owned(),
    };
    let counter = system.spawn::<Counter>(state).await.unwrap();
    counter.add(2).unwrap();
    assert_eq!(counter.get().await.unwrap(), (7, "c".to_owned()));

    let idle: ActorRef<Idle> = system.spawn::<Idle>(Idle).await.unwrap();
    assert!(idle.is_alive());
    system.shutdown().await;
}
