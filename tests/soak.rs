//! A soak test: 100 000 panic -> restart cycles, after which no task is left behind and
//! the registry, link and monitor tables are back to empty.

use std::time::Duration;

use beam_runtime::prelude::*;
use beam_runtime::supervisor::{ChildSpec, SupervisorSpec};

const CYCLES: u32 = 100_000;

beam_runtime::names! {
    /// The worker, whichever incarnation runs.
    WORKER: Worker = "soak:worker";
}

struct Worker;

#[actor]
impl Worker {
    #[cast]
    fn crash(&mut self) {
        panic!("soak");
    }

    #[call]
    fn ping(&self) -> u8 {
        1
    }
}

/// Monitors each incarnation it is shown, and counts the `Down`s.
struct Watcher {
    downs: u32,
}

#[actor]
impl Watcher {
    #[call]
    fn watch(&mut self, worker: ActorRef<Worker>, ctx: &mut Ctx<Self>) {
        ctx.monitor(&worker);
    }

    #[call]
    fn downs(&self) -> u32 {
        self.downs
    }

    #[info]
    fn info(&mut self, info: Info) {
        if let Info::Down { .. } = info {
            self.downs += 1;
        }
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_hundred_thousand_crashes_leave_nothing_behind() {
    // The workers' panics are the point: keep them off the test's output.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"soak") {
            report(info);
        }
    }));
    let metrics = tokio::runtime::Handle::current().metrics();
    let system = ActorSystem::new();
    let tasks_before = metrics.num_alive_tasks();

    let spec = ChildSpec::<Worker>::from_fn("worker", || Worker).name(WORKER);
    let handle = spec.handle();
    let sup = SupervisorSpec::new()
        .intensity(2, Duration::from_millis(1))
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    let watcher = system.spawn::<Watcher>(Watcher { downs: 0 }).await.unwrap();
    // The system's deadline timer and the driver that runs its actors: actors are not tokio
    // tasks of their own.
    assert_eq!(metrics.num_alive_tasks(), tasks_before + 2);
    let tasks_running = metrics.num_alive_tasks();

    for cycle in 0..CYCLES {
        let worker = handle.running().await.expect("the worker runs");
        watcher.watch(worker.clone()).await.unwrap();
        worker.crash().unwrap();
        worker.wait_for_exit().await;
        // One restart per millisecond stays within the intensity: two within any period
        // of 1 ms, both ends included.
        tokio::time::advance(Duration::from_millis(1)).await;
        if cycle % 10_000 == 0 {
            assert_eq!(metrics.num_alive_tasks(), tasks_running, "cycle {cycle}");
        }
    }
    let worker = handle.running().await.unwrap();
    assert_eq!(worker.ping().await, Ok(1));
    assert_eq!(watcher.downs().await, Ok(CYCLES));
    assert_eq!(metrics.num_alive_tasks(), tasks_running);
    assert_eq!(
        sup.links(),
        [worker.id()],
        "one link: the current incarnation"
    );
    assert_eq!(worker.monitored_by(), []);
    assert_eq!(system.registered(), ["soak:worker"]);

    system.shutdown().await;
    assert_eq!(system.registered(), Vec::<String>::new());
    assert_eq!((sup.links(), worker.links()), (vec![], vec![]));
    // Only the deadline timer and the driver outlive the actors (they end with the system).
    assert!(metrics.num_alive_tasks() <= tasks_before + 2);
    // Refs keep their system (and so its timer and driver) alive; without them they end.
    drop((system, sup, watcher, worker, handle));
    tokio::task::yield_now().await;
    assert_eq!(metrics.num_alive_tasks(), tasks_before);
}
