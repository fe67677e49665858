//! How actors are scheduled: a spawn leaves a new actor idle, a call to or a stop of an
//! idle actor runs it in place, actors on two
//! runtimes live and die with their own runtime, a chain of calls cannot overflow the
//! stack, and a busy actor does not starve the runtime's other tasks.

use std::future::{Future, IntoFuture};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use beam_runtime::prelude::*;

struct Echo;

#[actor]
impl Echo {
    #[call]
    fn echo(&self, n: u64) -> u64 {
        n
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_call_to_an_idle_actor_is_answered_in_its_first_poll() {
    let system = ActorSystem::new();
    // A new actor with nothing to do is idle once its spawn returns.
    let echo = system.spawn::<Echo>(Echo).await.unwrap();
    let mut call = pin!(echo.echo(7).into_future());
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(call.as_mut().poll(&mut cx), Poll::Ready(Ok(7)));
    system.shutdown().await;
}

/// Defers its start to `#[handle_continue]`, which records that it ran.
struct Deferred {
    ran: Arc<AtomicBool>,
}

#[actor]
impl Deferred {
    #[init]
    fn init(ran: Arc<AtomicBool>, ctx: &mut Ctx<Self>) -> Self {
        ctx.continue_with(());
        Deferred { ran }
    }

    #[handle_continue]
    fn resume(&mut self, _step: ()) {
        self.ran.store(true, Ordering::SeqCst);
    }

    #[call]
    fn resumed(&self) -> bool {
        self.ran.load(Ordering::SeqCst)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_spawn_returns_before_the_deferred_start_runs() {
    let system = ActorSystem::new();
    let ran = Arc::new(AtomicBool::new(false));
    let deferred = system.spawn::<Deferred>(ran.clone()).await.unwrap();
    // `#[handle_continue]` is left to the scheduler, not run by the spawner.
    assert!(!ran.load(Ordering::SeqCst));
    assert_eq!(deferred.resumed().await, Ok(true));
    system.shutdown().await;
}

/// Records its `#[terminate]`.
struct Quitter {
    terminated: Arc<AtomicBool>,
}

#[actor]
impl Quitter {
    #[call]
    async fn nap(&self) {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    #[terminate]
    fn terminate(&mut self, _reason: &ExitReason) {
        self.terminated.store(true, Ordering::SeqCst);
    }
}

/// A new [`Quitter`], and the flag its `#[terminate]` sets.
async fn quitter(system: &ActorSystem) -> (ActorRef<Quitter>, Arc<AtomicBool>) {
    let terminated = Arc::new(AtomicBool::new(false));
    let quitter = Quitter {
        terminated: terminated.clone(),
    };
    (system.spawn::<Quitter>(quitter).await.unwrap(), terminated)
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_idle_actor_stops_in_place_and_a_busy_one_after_its_handler() {
    let system = ActorSystem::new();
    let (idle, terminated) = quitter(&system).await;
    let stopping = system.stop(&idle);
    // Stopped before the stop is awaited: its exit ran on this thread.
    assert!(terminated.load(Ordering::SeqCst));
    assert_eq!(idle.exit_reason(), Some(ExitReason::Normal));
    assert_eq!(stopping.await, ExitReason::Normal);

    let (busy, busy_done) = quitter(&system).await;
    let mut napping = pin!(busy.nap().into_future());
    let mut cx = Context::from_waker(Waker::noop());
    assert!(napping.as_mut().poll(&mut cx).is_pending());
    // In a handler: the stop waits behind it.
    let stopping = system.stop(&busy);
    assert!(!busy_done.load(Ordering::SeqCst));
    assert_eq!(busy.exit_reason(), None);
    assert_eq!(napping.await, Ok(()));
    assert_eq!(stopping.await, ExitReason::Normal);
    assert!(busy_done.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_from_many_tasks_on_two_workers_all_get_their_answer() {
    let system = ActorSystem::new();
    let echo = system.spawn::<Echo>(Echo).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let echo = echo.clone();
        tasks.push(tokio::spawn(async move {
            let mut sum = 0;
            for i in 0..1000 {
                sum += echo.echo(t * 1000 + i).await.unwrap();
            }
            sum
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, (0..8000).sum::<u64>());
    system.shutdown().await;
}

/// Calls the next link of the chain, and adds one.
struct Link {
    next: Option<ActorRef<Link>>,
}

#[actor]
impl Link {
    #[call]
    async fn depth(&self) -> u64 {
        match &self.next {
            Some(next) => next.depth().await.unwrap() + 1,
            None => 1,
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_long_chain_of_calls_is_answered() {
    let system = ActorSystem::new();
    let mut next = None;
    for _ in 0..200 {
        next = Some(system.spawn::<Link>(Link { next }).await.unwrap());
    }
    assert_eq!(next.unwrap().depth().await, Ok(200));
    system.shutdown().await;
}

/// Casts to itself forever once started.
struct Spinner {
    spins: Arc<AtomicU64>,
}

#[actor]
impl Spinner {
    #[cast]
    fn spin(&mut self, ctx: &mut Ctx<Self>) {
        self.spins.fetch_add(1, Ordering::Relaxed);
        let _ = ctx.me().spin();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_busy_actor_leaves_the_runtime_to_other_tasks() {
    let system = ActorSystem::new();
    let spins = Arc::new(AtomicU64::new(0));
    let spinner = system
        .spawn::<Spinner>(Spinner {
            spins: spins.clone(),
        })
        .await
        .unwrap();
    spinner.spin().unwrap();
    // A task of the same thread still gets its turns while the actor spins.
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    tokio::spawn(async move {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        flag.store(true, Ordering::Relaxed);
    })
    .await
    .unwrap();
    assert!(ran.load(Ordering::Relaxed));
    assert!(
        spins.load(Ordering::Relaxed) > 0,
        "the actor spun meanwhile"
    );
    spinner.kill();
    spinner.wait_for_exit().await;
}

#[test]
fn actors_of_one_system_live_and_die_with_the_runtime_they_were_spawned_on() {
    let system = ActorSystem::new();
    // Multi-thread runtimes: all the drivers of a runtime go with it.
    let first = tokio::runtime::Runtime::new().unwrap();
    let second = tokio::runtime::Runtime::new().unwrap();
    let a = first
        .block_on(system.spawn::<Echo>(Echo).into_future())
        .unwrap();
    let b = second
        .block_on(system.spawn::<Echo>(Echo).into_future())
        .unwrap();
    assert_eq!(second.block_on(b.echo(2).into_future()), Ok(2));
    assert_eq!(first.block_on(a.echo(1).into_future()), Ok(1));
    // The first runtime takes its actor with it; the second one's lives on.
    drop(first);
    assert_eq!(a.exit_reason(), Some(ExitReason::Killed));
    assert_eq!(second.block_on(b.echo(3).into_future()), Ok(3));
    // Actors spawned later on the second runtime run there too.
    let c = second
        .block_on(system.spawn::<Echo>(Echo).into_future())
        .unwrap();
    assert_eq!(second.block_on(c.echo(4).into_future()), Ok(4));
    second.block_on(system.shutdown());
}

/// Answers with the runtime its handler runs on.
struct Where;

#[actor]
impl Where {
    #[call]
    fn runtime(&self) -> tokio::runtime::Id {
        tokio::runtime::Handle::current().id()
    }
}

#[test]
fn a_call_from_a_task_of_another_runtime_runs_the_actor_on_its_own() {
    let system = ActorSystem::new();
    let home = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let away = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let actor = home
        .block_on(system.spawn::<Where>(Where).into_future())
        .unwrap();
    let home_id = home.handle().id();
    // Calls from tasks of both runtimes, alternating on the same thread, each task
    // calling more than once: each is answered from the actor's own runtime.
    for _ in 0..3 {
        let from_away = actor.clone();
        let answers = away.block_on(async move {
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for _ in 0..3 {
                    answers.push(from_away.runtime().await.unwrap());
                }
                answers
            })
            .await
            .unwrap()
        });
        assert_eq!(answers, [home_id; 3], "a task of the other runtime");
        let from_home = actor.clone();
        let answer = home
            .block_on(async move { tokio::spawn(async move { from_home.runtime().await }).await })
            .unwrap();
        assert_eq!(answer, Ok(home_id), "a task of its own runtime");
    }
    home.block_on(system.shutdown());
}

/// Links itself to another actor on request.
struct Linker;

#[actor]
impl Linker {
    #[call]
    fn link_to(&mut self, other: ActorRef<Linker>, ctx: &mut Ctx<Self>) {
        ctx.link(&other);
    }
}

#[test]
fn a_runtime_takes_a_long_chain_of_linked_actors_down_without_deep_recursion() {
    let system = ActorSystem::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let chain: Vec<ActorRef<Linker>> = rt.block_on(async {
        let mut chain = Vec::new();
        for _ in 0..5000 {
            chain.push(system.spawn::<Linker>(Linker).await.unwrap());
        }
        for pair in chain.windows(2) {
            pair[0].link_to(pair[1].clone()).await.unwrap();
        }
        chain
    });
    // Each actor dropped with the runtime kills the next through their link: 5000 deep.
    drop(rt);
    assert!(chain.iter().all(|actor| !actor.is_alive()));
    assert_eq!(chain[0].exit_reason(), Some(ExitReason::Killed));
}
