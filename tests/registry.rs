//! Typed names: static names from `names!`, dynamic names checked at lookup.

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

beam_runtime::names! {
    /// The lobby.
    LOBBY: Lobby = "lobby";
    MAIN_ROOM: Room = "room:main";
}

fn room(topic: &str) -> Room {
    Room {
        topic: topic.to_owned(),
    }
}

#[tokio::test]
async fn static_names_register_and_resolve_typed_refs() {
    let system = ActorSystem::new();
    assert!(system.whereis(LOBBY).is_none());
    let lobby = system.spawn::<Lobby>(Lobby).name(LOBBY).await.unwrap();
    let main = system
        .spawn::<Room>(room("main"))
        .name(MAIN_ROOM)
        .await
        .unwrap();
    assert_eq!(system.whereis(LOBBY), Some(lobby));
    let found: ActorRef<Room> = system.lookup(MAIN_ROOM).unwrap();
    assert_eq!(found, main);
    assert_eq!(found.topic().await.unwrap(), "main");
    let mut names = system.registered();
    names.sort();
    assert_eq!(names, ["lobby", "room:main"]);
    assert_eq!(LOBBY.as_str(), "lobby");
    assert_eq!(format!("{MAIN_ROOM:?}"), "Name<Room>(\"room:main\")");
}

#[tokio::test]
async fn dynamic_names_are_checked_at_lookup() {
    let system = ActorSystem::new();
    for id in 0..3 {
        let name = Name::<Room>::new(format!("room:{id}"));
        system
            .spawn::<Room>(room(&format!("topic {id}")))
            .name(&name)
            .await
            .unwrap();
    }
    let two = system.lookup(&Name::<Room>::new("room:2")).unwrap();
    assert_eq!(two.topic().await.unwrap(), "topic 2");

    let wrong = system.lookup(&Name::<Lobby>::new("room:1")).unwrap_err();
    assert_eq!(
        wrong,
        LookupError::WrongType {
            name: "room:1".into(),
            expected: std::any::type_name::<Lobby>(),
            found: std::any::type_name::<Room>(),
        }
    );
    assert!(system.whereis(&Name::<Lobby>::new("room:1")).is_none());
    assert_eq!(
        system.lookup(&Name::<Room>::new("room:9")).unwrap_err(),
        LookupError::NotFound("room:9".into())
    );
}

#[tokio::test]
async fn a_name_is_released_when_its_actor_exits() {
    let system = ActorSystem::new();
    let first = system
        .spawn::<Room>(room("a"))
        .name(MAIN_ROOM)
        .await
        .unwrap();
    system.stop(&first).await;
    assert!(system.whereis(MAIN_ROOM).is_none());
    assert!(system.registered().is_empty());
    let second = system
        .spawn::<Room>(room("b"))
        .name(MAIN_ROOM)
        .await
        .unwrap();
    assert_eq!(system.whereis(MAIN_ROOM), Some(second));
}
