//! The public types can cross threads where a user needs them to.

use beam_runtime::prelude::*;
use beam_runtime::{Call, Error, ShutdownError, SpawnBuilder, Spawning};

struct Unit;

#[actor]
impl Unit {
    #[call]
    fn ping(&self) -> u8 {
        1
    }
}

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn send_sync<T: Send + Sync>() {}
fn send_future<F: std::future::IntoFuture<IntoFuture: Send>>(_: F) {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<ActorRef<Unit>>();
    send_sync::<ActorSystem>();
    send_sync::<Name<Unit>>();
    send_sync::<ActorId>();
    send_sync::<ExitReason>();
    send_sync::<Info>();
    send_sync::<TimerRef>();
    send_sync::<CallError>();
    send_sync::<SendError>();
    send_sync::<SpawnError>();
    send_sync::<LookupError>();
    send_sync::<ShutdownError>();
    send_sync::<Error>();
    send_sync::<Reply<u8>>();
    send_sync::<Ctx<Unit>>();
    send_sync::<Monitor>();
    send_sync::<Task<u8>>();
    send_sync::<StopError>();
    send::<Call<'static, Unit, u8>>();
    send_sync::<Pool<Unit>>();
    send_sync::<beam_runtime::pool::PoolBuilder<Unit>>();
    send::<SpawnBuilder<'static, Unit>>();
    send::<Spawning<'static, Unit>>();
    sync::<UnitMsg>();
}

#[tokio::test]
async fn calls_and_spawns_are_send_futures() {
    let system = ActorSystem::new();
    send_future(system.spawn::<Unit>(Unit));
    send_future(std::future::IntoFuture::into_future(
        system.spawn::<Unit>(Unit),
    ));
    let unit = system.spawn::<Unit>(Unit).await.unwrap();
    send_future(unit.ping());
    let pool = Pool::<Unit>::builder(1, |_| Unit)
        .start(&system)
        .await
        .unwrap();
    send_future(pool.call(|w| w.ping()));
    send_future(pool.stop());
    send_future(system.stop(&unit));
    send_future(unit.stop_with(ExitReason::Normal, std::time::Duration::from_secs(1)));
    send_future(unit.monitor());
    let mut task = system.spawn_task(async { 1 }).unwrap();
    send_future(task.timeout(std::time::Duration::from_secs(1)));
    send_future(system.shutdown());
}
