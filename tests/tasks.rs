//! Tasks: awaited results, results delivered as messages, crashes reported, and tasks
//! stopped with their owner.

use std::time::Duration;

use beam_runtime::prelude::*;
use beam_runtime::supervisor::DynamicSupervisorSpec;

async fn slow(secs: u64, value: u32) -> u32 {
    tokio::time::sleep(Duration::from_secs(secs)).await;
    value
}

#[tokio::test(start_paused = true)]
async fn an_awaited_task_gives_its_value_or_its_panic() {
    let system = ActorSystem::new();
    let task = system.spawn_task(slow(3, 7)).unwrap();
    assert!(!task.is_finished());
    assert_eq!(task.await, Ok(7));

    let task = system
        .spawn_task(async {
            if true {
                panic!("task blew up");
            }
        })
        .unwrap();
    assert_eq!(task.await, Err(TaskError::Panic("task blew up".into())));
}

#[tokio::test(start_paused = true)]
async fn an_aborted_task_reports_that_it_was_killed() {
    let system = ActorSystem::new();
    let task = system.spawn_task(slow(3600, 1)).unwrap();
    task.abort();
    assert_eq!(task.await, Err(TaskError::Exited(ExitReason::Killed)));
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_a_running_task() {
    let system = ActorSystem::new();
    let task = system.spawn_task(slow(3600, 1)).unwrap();
    let start = tokio::time::Instant::now();
    system.shutdown().await;
    assert_eq!(start.elapsed(), Duration::ZERO, "the task stops at once");
    assert_eq!(task.await, Err(TaskError::Exited(ExitReason::Shutdown)));
    assert_eq!(
        system.spawn_task(async {}).unwrap_err(),
        SpawnError::ShuttingDown
    );
}

/// An actor that farms slow work out to tasks and keeps answering meanwhile.
struct Farmer {
    results: Vec<Result<u32, TaskError>>,
}

#[actor(mailbox = 1)]
impl Farmer {
    #[cast]
    fn farm(&mut self, secs: u64, value: u32, ctx: &mut Ctx<Self>) {
        ctx.run_task(slow(secs, value), |result| FarmerMsg::Done { result })
            .expect("the task starts");
    }

    #[cast]
    fn farm_panic(&mut self, ctx: &mut Ctx<Self>) {
        ctx.run_task(
            async {
                tokio::task::yield_now().await;
                panic!("harvest failed");
            },
            |result: Result<(), TaskError>| FarmerMsg::Done {
                result: result.map(|()| 0),
            },
        )
        .expect("the task starts");
    }

    #[call]
    fn watched_task(&mut self, secs: u64, ctx: &mut Ctx<Self>) -> Task<u32> {
        ctx.spawn_task(slow(secs, 1)).expect("the task starts")
    }

    #[cast]
    async fn nap(&mut self, secs: u64) {
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }

    #[cast]
    fn done(&mut self, result: Result<u32, TaskError>) {
        self.results.push(result);
    }

    #[call]
    fn results(&mut self) -> Vec<Result<u32, TaskError>> {
        std::mem::take(&mut self.results)
    }
}

async fn farmer(system: &ActorSystem) -> ActorRef<Farmer> {
    system
        .spawn::<Farmer>(Farmer {
            results: Vec::new(),
        })
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_task_result_arrives_as_a_message_while_the_actor_keeps_working() {
    let system = ActorSystem::new();
    let farmer = farmer(&system).await;
    farmer.farm(10, 42).unwrap();
    // The actor answers at once, long before the task is done.
    tokio::task::yield_now().await;
    assert_eq!(farmer.results().await.unwrap(), []);
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(farmer.results().await.unwrap(), [Ok(42)]);
}

#[tokio::test(start_paused = true)]
async fn a_task_panic_arrives_as_an_error_message() {
    let system = ActorSystem::new();
    let farmer = farmer(&system).await;
    farmer.farm_panic().unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(
        farmer.results().await.unwrap(),
        [Err(TaskError::Panic("harvest failed".into()))]
    );
    assert!(farmer.is_alive(), "the task crashed, not the actor");
}

#[tokio::test(start_paused = true)]
async fn a_task_result_gets_into_a_full_mailbox() {
    let system = ActorSystem::new();
    let farmer = farmer(&system).await;
    farmer.farm(1, 5).unwrap();
    tokio::task::yield_now().await;
    // Busy for 5 s, with its one mailbox slot taken.
    farmer.nap(5).unwrap();
    tokio::task::yield_now().await;
    farmer.farm(0, 6).unwrap();
    assert_eq!(farmer.farm(0, 7), Err(SendError::Full));
    // The first task finishes at 1 s, into the full mailbox.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(farmer.results().await.unwrap(), [Ok(5), Ok(6)]);
}

#[tokio::test(start_paused = true)]
async fn an_actors_tasks_stop_with_it() {
    let system = ActorSystem::new();
    let farmer = farmer(&system).await;
    let task = farmer.watched_task(3600).await.unwrap();
    assert_eq!(farmer.stop().await, ExitReason::Normal);
    assert_eq!(task.await, Err(TaskError::Exited(ExitReason::Shutdown)));
}

#[tokio::test(start_paused = true)]
async fn tasks_under_a_dynamic_supervisor() {
    let system = ActorSystem::new();
    let tasks = DynamicSupervisorSpec::new().start(&system).await.unwrap();
    let ok = tasks.spawn_task(slow(1, 3)).await.unwrap();
    let crash = tasks
        .spawn_task(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            panic!("bad input")
        })
        .await
        .unwrap();
    let endless = tasks.spawn_task(slow(3600, 0)).await.unwrap();
    assert_eq!(tasks.count_children().await.unwrap().active, 3);
    assert_eq!(ok.await, Ok(3));
    assert_eq!(
        crash.await,
        Err::<(), _>(TaskError::Panic("bad input".into()))
    );
    // Finished or crashed tasks are temporary children: removed, never restarted.
    assert_eq!(tasks.count_children().await.unwrap().active, 1);
    assert!(tasks.is_alive());
    // Stopping the supervisor kills what still runs.
    tasks.stop().await;
    assert_eq!(endless.await, Err(TaskError::Exited(ExitReason::Killed)));
}

#[tokio::test(start_paused = true)]
async fn a_task_timeout_gives_up_waiting_but_leaves_the_task_running() {
    let system = ActorSystem::new();
    let start = tokio::time::Instant::now();
    let mut task = system.spawn_task(slow(10, 7)).unwrap();
    assert_eq!(
        task.timeout(Duration::from_secs(2)).await,
        Err(TaskError::Timeout)
    );
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert!(!task.is_finished(), "a timeout does not stop the task");
    // The same task can be waited for again, and gives its value when it is done.
    assert_eq!(task.timeout(Duration::from_secs(60)).await, Ok(7));
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    assert_eq!(
        task.await,
        Err(TaskError::Taken),
        "the value was given once"
    );
}

#[tokio::test(start_paused = true)]
async fn a_task_timeout_reports_a_panic_or_a_kill_within_the_limit() {
    let system = ActorSystem::new();
    let mut crash = system
        .spawn_task(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            panic!("too early")
        })
        .unwrap();
    assert_eq!(
        crash.timeout(Duration::from_secs(5)).await,
        Err::<(), _>(TaskError::Panic("too early".into()))
    );

    let mut endless = system.spawn_task(slow(3600, 1)).unwrap();
    assert_eq!(
        endless.timeout(Duration::from_secs(1)).await,
        Err(TaskError::Timeout)
    );
    endless.abort();
    assert_eq!(
        endless.timeout(Duration::from_secs(1)).await,
        Err(TaskError::Exited(ExitReason::Killed))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_timeout_on_many_threads() {
    let system = ActorSystem::new();
    let mut endless = system.spawn_task(std::future::pending::<u32>()).unwrap();
    assert_eq!(
        endless.timeout(Duration::from_millis(10)).await,
        Err(TaskError::Timeout)
    );
    assert!(!endless.is_finished());
    let mut quick = system.spawn_task(async { 5 }).unwrap();
    assert_eq!(quick.timeout(Duration::from_secs(60)).await, Ok(5));
    endless.abort();
    assert_eq!(endless.await, Err(TaskError::Exited(ExitReason::Killed)));
}

#[tokio::test(start_paused = true)]
async fn a_task_can_be_polled_in_a_select_loop() {
    let system = ActorSystem::new();
    let mut task = system.spawn_task(slow(3, 9)).unwrap();
    let mut ticks = 0;
    let value = loop {
        tokio::select! {
            out = &mut task => break out,
            () = tokio::time::sleep(Duration::from_millis(700)) => ticks += 1,
        }
    };
    assert_eq!(value, Ok(9));
    assert_eq!(ticks, 4, "at 0.7, 1.4, 2.1 and 2.8 s");
}
