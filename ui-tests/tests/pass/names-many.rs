//! `names!` with many entries, visibilities, docs and actor types; the names are constants.

use beam_runtime::prelude::*;

struct Counter;

#[actor]
impl Counter {}

struct Logger;

#[actor]
impl Logger {}

mod registry {
    use super::{Counter, Logger};

    beam_runtime::names! {
        /// The main counter.
        pub(crate) MAIN: Counter = "counter:main";
        pub(crate) BACKUP: Counter = "counter:backup";
        pub(super) LOG: Logger = "logger";
        #[allow(dead_code)]
        UNUSED: Logger = "logger:unused";
        pub(crate) SPARE: super::Counter = "counter:spare";
    }
}

beam_runtime::names! {}

use registry::{BACKUP, LOG, MAIN, SPARE};

const ALIAS: Name<Counter> = MAIN;

#[tokio::main]
async fn main() {
    assert_eq!(MAIN.as_str(), "counter:main");
    assert_eq!(ALIAS, MAIN);
    assert_ne!(MAIN, BACKUP);
    assert_eq!(format!("{LOG}"), "logger");

    let system = ActorSystem::new();
    let main = system.spawn::<Counter>(Counter).name(MAIN).await.unwrap();
    let backup = system
        .spawn::<Counter>(Counter)
        .name(&BACKUP)
        .await
        .unwrap();
    system.spawn::<Logger>(Logger).name(LOG).await.unwrap();
    assert_eq!(system.whereis(ALIAS), Some(main));
    assert_eq!(system.whereis(BACKUP), Some(backup));
    assert!(system.whereis(LOG).is_some());
    assert!(system.whereis(SPARE).is_none());

    let taken = system.spawn::<Counter>(Counter).name(MAIN).await;
    assert!(matches!(taken, Err(SpawnError::NameTaken(_))));
    system.shutdown().await;
}
