//! Names built at run time: typed like `names!` constants, checked at lookup.

use beam_runtime::prelude::*;

struct Room {
    topic: String,
}

#[actor]
impl Room {
    #[call]
    fn topic(&self) -> String {
        self.topic.clone()
    }
}

struct Lobby;

#[actor]
impl Lobby {}

#[tokio::main]
async fn main() {
    let system = ActorSystem::new();
    for id in 0..3 {
        let name = Name::<Room>::new(format!("room:{id}"));
        let topic = format!("topic {id}");
        system
            .spawn::<Room>(Room { topic })
            .name(&name)
            .await
            .unwrap();
    }

    let name = Name::<Room>::new(format!("room:{}", 1));
    assert_eq!(name.as_str(), "room:1");
    let room: ActorRef<Room> = system.lookup(&name).unwrap();
    assert_eq!(room.topic().await.unwrap(), "topic 1");
    assert!(system.whereis(name).is_some());

    let static_name = Name::<Room>::new("room:2");
    assert_eq!(
        system.lookup(static_name).unwrap().topic().await.unwrap(),
        "topic 2"
    );

    let wrong = system.lookup(&Name::<Lobby>::new("room:0"));
    assert!(matches!(wrong, Err(LookupError::WrongType { .. })));
    let missing = system.lookup(&Name::<Room>::new("room:9"));
    assert!(matches!(missing, Err(LookupError::NotFound(_))));
    assert!(system.whereis(Name::<Room>::new("room:9")).is_none());

    let mut registered = system.registered();
    registered.sort();
    assert_eq!(registered, ["room:0", "room:1", "room:2"]);
    system.shutdown().await;
}
