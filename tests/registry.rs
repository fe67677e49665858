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

#[tokio::test]
async fn a_running_actor_can_be_registered_and_unregistered() {
    let system = ActorSystem::new();
    let room_a = system.spawn::<Room>(room("a")).await.unwrap();
    let room_b = system.spawn::<Room>(room("b")).await.unwrap();
    system.register(MAIN_ROOM, &room_a).unwrap();
    // Again: nothing changes.
    system.register(MAIN_ROOM, &room_a).unwrap();
    assert_eq!(
        system.register(MAIN_ROOM, &room_b),
        Err(RegistryError::NameTaken("room:main".into()))
    );
    // Several names for one actor.
    let alias = Name::<Room>::new("room:alias");
    system.register(&alias, &room_a).unwrap();
    assert_eq!(system.whereis(&alias), Some(room_a.clone()));

    // Unregistering needs the name's type to match.
    assert!(!system.unregister(Name::<Lobby>::new("room:main")));
    assert!(system.unregister(MAIN_ROOM));
    assert!(!system.unregister(MAIN_ROOM));
    assert!(room_a.is_alive());
    system.register(MAIN_ROOM, &room_b).unwrap();
    assert_eq!(system.whereis(MAIN_ROOM), Some(room_b.clone()));

    // Exits purge names registered after the spawn too.
    system.stop(&room_a).await;
    assert_eq!(system.whereis(&alias), None);
    assert_eq!(system.register(&alias, &room_a), Err(RegistryError::NoProc));
    system.stop(&room_b).await;
    assert!(system.registered().is_empty());
}

#[tokio::test]
async fn registering_and_leaving_many_times_keeps_no_stale_records() {
    let system = ActorSystem::new();
    let room_a = system.spawn::<Room>(room("a")).await.unwrap();
    let rooms = Group::<Room>::new("rooms");
    for _ in 0..1000 {
        system.register(MAIN_ROOM, &room_a).unwrap();
        assert!(system.unregister(MAIN_ROOM));
        system.join(&rooms, &room_a).unwrap();
        assert!(system.leave(&rooms, &room_a));
    }
    // Nothing is left on the actor: a fresh registration is purged by its exit.
    system.join(&rooms, &room_a).unwrap();
    system.stop(&room_a).await;
    assert!(system.members(&rooms).is_empty());
    assert!(format!("{system:?}").contains("groups_and_topics: 0"));
}
