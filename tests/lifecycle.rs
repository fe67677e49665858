//! The life of an actor: spawn errors, crashes, `#[terminate]`, deferred work, children,
//! stop and shutdown.

use std::future::{Future, IntoFuture};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beam_runtime::ShutdownError;
use beam_runtime::prelude::*;

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::default()
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// Records its life in a shared log under its label.
struct Probe {
    label: String,
    log: Log,
    handled: u32,
}

#[actor]
impl Probe {
    #[init]
    fn init(label: &'static str, log: Log) -> Self {
        log.lock().unwrap().push(format!("{label}: init"));
        Probe {
            label: label.to_owned(),
            log,
            handled: 0,
        }
    }

    #[cast]
    fn work(&mut self) {
        self.handled += 1;
    }

    #[call]
    fn handled(&self) -> u32 {
        self.handled
    }

    #[cast]
    fn crash(&mut self) {
        panic!("{} crashed", self.label);
    }

    #[cast]
    fn finish(&mut self, ctx: &mut Ctx<Self>) {
        ctx.stop();
    }

    #[cast]
    fn fail(&mut self, why: String, ctx: &mut Ctx<Self>) {
        ctx.stop_with(ExitReason::Error(why));
    }

    #[cast]
    fn stop_twice(&mut self, first: ExitReason, then: ExitReason, ctx: &mut Ctx<Self>) {
        ctx.stop_with(first);
        ctx.stop_with(then);
    }

    #[call]
    async fn adopt(&mut self, label: &'static str, ctx: &mut Ctx<Self>) -> ActorRef<Probe> {
        let log = self.log.clone();
        ctx.spawn::<Probe>((label, log)).await.expect("child spawn")
    }

    #[call]
    async fn stop_via_system(&mut self, ctx: &mut Ctx<Self>) -> ExitReason {
        let system = ctx.system().clone();
        system.stop(ctx.me()).await
    }

    #[call]
    async fn hang(&self) {
        std::future::pending::<()>().await;
    }

    /// Like `hang`, queued at once: a cast is sent when made.
    #[cast]
    async fn stall(&self) {
        std::future::pending::<()>().await;
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        self.log.lock().unwrap().push(format!(
            "{}: terminate {reason} after {}",
            self.label, self.handled
        ));
    }
}

async fn probe(system: &ActorSystem, label: &'static str, log: &Log) -> ActorRef<Probe> {
    system
        .spawn::<Probe>((label, log.clone()))
        .await
        .expect("spawn")
}

/// Keeps `probe` stuck in a handler that never returns (and never yields to a stop); the
/// task ends with the call's result once the actor is gone.
fn hang(probe: &ActorRef<Probe>) -> tokio::task::JoinHandle<Result<(), CallError>> {
    let probe = probe.clone();
    tokio::spawn(async move { probe.hang().timeout(Duration::MAX).await })
}

struct Fallible;

#[actor]
impl Fallible {
    #[init]
    async fn init(mode: u8) -> Result<Self, String> {
        match mode {
            0 => Ok(Fallible),
            1 => Err("not today".to_owned()),
            _ => panic!("init blew up"),
        }
    }
}

beam_runtime::names! {
    FALLIBLE: Fallible = "fallible";
}

#[tokio::test]
async fn init_failure_and_init_panic_are_typed_errors() {
    let system = ActorSystem::new();
    let failed = system.spawn::<Fallible>(1).name(FALLIBLE).await;
    assert_eq!(failed.unwrap_err(), SpawnError::Init("not today".into()));
    let panicked = system.spawn::<Fallible>(2).name(FALLIBLE).await;
    assert_eq!(
        panicked.unwrap_err(),
        SpawnError::InitPanic("init blew up".into())
    );
    // Neither kept the name.
    assert!(system.whereis(FALLIBLE).is_none());
    let ok = system.spawn::<Fallible>(0).name(FALLIBLE).await.unwrap();
    assert_eq!(system.whereis(FALLIBLE), Some(ok));
}

#[tokio::test]
async fn a_taken_name_is_an_error_and_is_freed_on_exit() {
    let system = ActorSystem::new();
    let first = system.spawn::<Fallible>(0).name(FALLIBLE).await.unwrap();
    let second = system.spawn::<Fallible>(0).name(FALLIBLE).await;
    assert_eq!(
        second.unwrap_err(),
        SpawnError::NameTaken("fallible".into())
    );
    system.stop(&first).await;
    assert!(system.whereis(FALLIBLE).is_none());
    let third = system.spawn::<Fallible>(0).name(FALLIBLE).await.unwrap();
    assert_ne!(third, first);
}

#[tokio::test]
async fn a_panicking_handler_stops_only_its_actor() {
    let system = ActorSystem::new();
    let log = log();
    let a = probe(&system, "a", &log).await;
    let b = probe(&system, "b", &log).await;
    a.crash().unwrap();
    let reason = ExitReason::Panic("a crashed".into());
    assert_eq!(a.handled().await, Err(CallError::Exited(reason.clone())));
    assert_eq!(a.exit_reason(), Some(reason));
    b.work().unwrap();
    assert_eq!(b.handled().await, Ok(1));
    assert!(entries(&log).contains(&"a: terminate panic: a crashed after 0".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_never_take_down_workers_or_the_system() {
    let system = ActorSystem::new();
    let log = log();
    let mut crashed = Vec::new();
    for _ in 0..50 {
        let p = probe(&system, "p", &log).await;
        p.crash().unwrap();
        crashed.push(p);
    }
    for p in &crashed {
        assert!(matches!(
            p.handled().await,
            Err(CallError::Exited(_)) | Err(CallError::NoProc)
        ));
    }
    let survivor = probe(&system, "survivor", &log).await;
    survivor.work().unwrap();
    assert_eq!(survivor.handled().await, Ok(1));
}

#[tokio::test]
async fn stopping_itself_gives_normal_or_the_chosen_reason() {
    let system = ActorSystem::new();
    let log = log();
    let a = probe(&system, "a", &log).await;
    a.work().unwrap();
    a.finish().unwrap();
    a.work().unwrap_or(());
    assert_eq!(
        a.handled().await.unwrap_err(),
        CallError::Exited(ExitReason::Normal)
    );

    let b = probe(&system, "b", &log).await;
    b.fail("bad input".into()).unwrap();
    let reason = ExitReason::Error("bad input".into());
    assert_eq!(b.handled().await, Err(CallError::Exited(reason)));
    // The last stop asked for wins, whichever way round.
    let error = ExitReason::Error("changed its mind".into());
    let c = probe(&system, "c", &log).await;
    c.stop_twice(error.clone(), ExitReason::Normal).unwrap();
    assert_eq!(
        c.handled().await,
        Err(CallError::Exited(ExitReason::Normal))
    );
    let d = probe(&system, "d", &log).await;
    d.stop_twice(ExitReason::Normal, error.clone()).unwrap();
    assert_eq!(d.handled().await, Err(CallError::Exited(error)));

    let log = entries(&log);
    assert!(log.contains(&"a: terminate normal after 1".to_owned()));
    assert!(log.contains(&"b: terminate error: bad input after 0".to_owned()));
    assert!(log.contains(&"c: terminate normal after 0".to_owned()));
    assert!(log.contains(&"d: terminate error: changed its mind after 0".to_owned()));
}

struct BadExit;

#[actor]
impl BadExit {
    #[terminate]
    fn terminate(&mut self) {
        panic!("terminate failed");
    }
}

#[tokio::test]
async fn a_panic_in_terminate_becomes_the_exit_reason() {
    let system = ActorSystem::new();
    let bad = system.spawn::<BadExit>(BadExit).await.unwrap();
    assert_eq!(
        system.stop(&bad).await,
        ExitReason::Panic("terminate failed".into())
    );
}

#[tokio::test]
async fn children_stop_first_in_reverse_start_order() {
    let system = ActorSystem::new();
    let log = log();
    let parent = probe(&system, "parent", &log).await;
    let a = parent.adopt("a").await.unwrap();
    let b = parent.adopt("b").await.unwrap();
    let grandchild = a.adopt("a1").await.unwrap();
    assert_eq!(system.stop(&parent).await, ExitReason::Normal);
    assert!(!a.is_alive() && !b.is_alive() && !grandchild.is_alive());
    let terminations: Vec<String> = entries(&log)
        .into_iter()
        .filter(|l| l.contains("terminate"))
        .collect();
    assert_eq!(
        terminations,
        [
            "b: terminate shutdown after 0",
            "a1: terminate shutdown after 0",
            "a: terminate shutdown after 0",
            "parent: terminate normal after 0",
        ]
    );
}

#[tokio::test]
async fn children_stop_when_their_parent_crashes() {
    let system = ActorSystem::new();
    let log = log();
    let parent = probe(&system, "parent", &log).await;
    let child = parent.adopt("child").await.unwrap();
    parent.crash().unwrap();
    assert!(parent.handled().await.is_err());
    assert_eq!(child.exit_reason(), Some(ExitReason::Shutdown));
}

#[tokio::test]
async fn shutdown_drains_mailboxes_then_runs_terminate() {
    let system = ActorSystem::new();
    let log = log();
    let first = probe(&system, "first", &log).await;
    let second = probe(&system, "second", &log).await;
    for _ in 0..1_000 {
        first.work().unwrap();
        second.work().unwrap();
    }
    system.shutdown().await;
    let terminations: Vec<String> = entries(&log)
        .into_iter()
        .filter(|l| l.contains("terminate"))
        .collect();
    // Every message sent before the shutdown was handled; last started stops first.
    assert_eq!(
        terminations,
        [
            "second: terminate shutdown after 1000",
            "first: terminate shutdown after 1000",
        ]
    );
    assert_eq!(
        system.spawn::<Fallible>(0).await.unwrap_err(),
        SpawnError::ShuttingDown
    );
    assert!(system.is_shutting_down());
}

#[tokio::test(start_paused = true)]
async fn shutdown_kills_what_overruns_its_timeout() {
    let system = ActorSystem::new();
    let log = log();
    let stuck = probe(&system, "stuck", &log).await;
    let fine = probe(&system, "fine", &log).await;
    let hung = hang(&stuck);
    tokio::task::yield_now().await;
    let result = system.shutdown_with(Duration::from_secs(1)).await;
    assert_eq!(result, Err(ShutdownError { killed: 1 }));
    assert_eq!(fine.exit_reason(), Some(ExitReason::Shutdown));
    // Killing takes effect at the task's next poll.
    tokio::task::yield_now().await;
    assert_eq!(stuck.exit_reason(), Some(ExitReason::Killed));
    assert_eq!(
        hung.await.unwrap(),
        Err(CallError::Exited(ExitReason::Killed))
    );
    // A killed actor does not run its terminate hook.
    assert!(
        !entries(&log)
            .iter()
            .any(|l| l.starts_with("stuck: terminate"))
    );
}

struct Loader {
    steps: Vec<String>,
}

enum Stage {
    Connect,
    Warm(u32),
}

#[actor]
impl Loader {
    #[init]
    fn init(ctx: &mut Ctx<Self>) -> Self {
        ctx.continue_with(Stage::Connect);
        Loader {
            steps: vec!["init".into()],
        }
    }

    #[handle_continue]
    async fn resume(&mut self, stage: Stage, ctx: &mut Ctx<Self>) {
        match stage {
            Stage::Connect => {
                tokio::task::yield_now().await;
                self.steps.push("connect".into());
                ctx.continue_with(Stage::Warm(2));
            }
            Stage::Warm(n) => self.steps.push(format!("warm {n}")),
        }
    }

    #[cast]
    fn note(&mut self, text: &'static str) {
        self.steps.push(text.into());
    }

    #[call]
    fn refresh(&mut self, ctx: &mut Ctx<Self>) {
        ctx.continue_with(Stage::Warm(9));
    }

    #[call]
    fn steps(&self) -> Vec<String> {
        self.steps.clone()
    }
}

#[tokio::test]
async fn deferred_work_runs_before_any_message() {
    let system = ActorSystem::new();
    let loader = system.spawn::<Loader>(()).await.unwrap();
    loader.note("first message").unwrap();
    loader.refresh().await.unwrap();
    loader.note("after refresh").unwrap();
    assert_eq!(
        loader.steps().await.unwrap(),
        [
            "init",
            "connect",
            "warm 2",
            "first message",
            "warm 9",
            "after refresh"
        ]
    );
}

#[tokio::test]
async fn refs_compare_hash_and_print_by_id() {
    use std::collections::HashSet;
    let system = ActorSystem::new();
    let log = log();
    let a = probe(&system, "a", &log).await;
    let b = probe(&system, "b", &log).await;
    let set: HashSet<ActorRef<Probe>> = [a.clone(), a.clone(), b.clone()].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert_ne!(a, b);
    assert!(a.id() < b.id());
    assert_eq!(format!("{a:?}"), format!("ActorRef<Probe>{}", a.id()));
    assert_eq!(a.id().to_string(), format!("<0.{}>", a.id().as_u64()));
}

#[tokio::test(start_paused = true)]
async fn an_actor_stopping_itself_through_the_system_does_not_wait_for_itself() {
    let system = ActorSystem::new();
    let log = log();
    let p = probe(&system, "p", &log).await;
    assert_eq!(p.stop_via_system().await, Ok(ExitReason::Normal));
    assert!(matches!(
        p.handled().await,
        Err(CallError::Exited(ExitReason::Normal)) | Err(CallError::NoProc)
    ));
    assert_eq!(p.exit_reason(), Some(ExitReason::Normal));
}

#[tokio::test]
async fn waiting_for_an_exit_from_outside() {
    let system = ActorSystem::new();
    let log = log();
    let p = probe(&system, "p", &log).await;
    let waiter = tokio::spawn(p.wait_for_exit());
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished());
    p.crash().unwrap();
    let reason = ExitReason::Panic("p crashed".into());
    assert_eq!(waiter.await.unwrap(), reason);
    // Already exited: at once.
    assert_eq!(p.wait_for_exit().await, reason);
}

beam_runtime::names! {
    UNPOLLED: Probe = "unpolled";
    UNPOLLED_ASYNC: Fallible = "unpolled-async";
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn an_actor_dropped_before_it_ran_releases_its_name() {
    let system = ActorSystem::new();
    let log = log();
    let first = runtime();
    // A sync `#[init]` runs in the spawner, so the spawn completes at once; the actor's task
    // has not run yet when the runtime goes away.
    let probe = first.block_on(
        system
            .spawn::<Probe>(("p", log.clone()))
            .name(UNPOLLED)
            .into_future(),
    );
    let probe = probe.unwrap();
    // An async `#[init]`: poll the spawn once (registering the name and spawning the task),
    // then drop the runtime before the task ever runs.
    let polled = first.block_on(async {
        let spawn = system.spawn::<Fallible>(0).name(UNPOLLED_ASYNC);
        let mut spawn = std::pin::pin!(spawn.into_future());
        std::future::poll_fn(|cx| std::task::Poll::Ready(spawn.as_mut().poll(cx).is_pending()))
            .await
    });
    assert!(polled, "the spawn waits for the async init");
    assert!(system.whereis(UNPOLLED).is_some() && system.whereis(UNPOLLED_ASYNC).is_some());
    drop(first);

    assert_eq!(probe.exit_reason(), Some(ExitReason::Killed));
    runtime().block_on(async {
        assert!(system.whereis(UNPOLLED).is_none());
        assert!(system.whereis(UNPOLLED_ASYNC).is_none());
        let named = system
            .spawn::<Probe>(("named", log.clone()))
            .name(UNPOLLED)
            .await
            .unwrap();
        assert_eq!(system.whereis(UNPOLLED), Some(named));
        assert_eq!(system.shutdown_with(Duration::from_secs(1)).await, Ok(()));
    });
}

#[tokio::test(start_paused = true)]
async fn a_killed_parent_takes_its_stuck_child_down() {
    let system = ActorSystem::new();
    let log = log();
    let parent = probe(&system, "parent", &log).await;
    let child = parent.adopt("child").await.unwrap();
    hang(&child);
    tokio::task::yield_now().await;
    // The parent waits up to 5 s for the child; the shutdown gives it 1 s.
    let result = system.shutdown_with(Duration::from_secs(1)).await;
    assert_eq!(result, Err(ShutdownError { killed: 1 }));
    assert_eq!(parent.exit_reason(), Some(ExitReason::Killed));
    assert_eq!(child.wait_for_exit().await, ExitReason::Killed);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_shutdown_leaves_every_actor_tracked() {
    let system = ActorSystem::new();
    let log = log();
    let stuck = probe(&system, "stuck", &log).await;
    let other = probe(&system, "other", &log).await;
    hang(&stuck);
    tokio::task::yield_now().await;
    // `stuck` started first, so it is stopped last: cancel the shutdown while it waits.
    let cancelled = tokio::time::timeout(Duration::from_millis(100), system.shutdown()).await;
    assert!(cancelled.is_err());
    assert_eq!(other.exit_reason(), Some(ExitReason::Shutdown));
    assert!(stuck.is_alive());
    let again = system.shutdown_with(Duration::from_secs(1)).await;
    assert_eq!(again, Err(ShutdownError { killed: 1 }));
    assert_eq!(stuck.exit_reason(), Some(ExitReason::Killed));
}

struct Busy {
    handled: Arc<std::sync::atomic::AtomicUsize>,
}

#[actor]
impl Busy {
    #[cast]
    fn work(&mut self) {
        self.handled
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    #[call]
    fn done(&self) -> usize {
        self.handled.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_flooded_actor_still_lets_other_tasks_run() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let system = ActorSystem::new();
    let handled = Arc::new(AtomicUsize::new(0));
    let busy = system
        .spawn::<Busy>(Busy {
            handled: handled.clone(),
        })
        .await
        .unwrap();
    for _ in 0..10_000 {
        busy.work().unwrap();
    }
    // On this single-threaded runtime the witness runs only if the actor yields midway.
    let witness = tokio::spawn({
        let handled = handled.clone();
        async move { handled.load(Ordering::SeqCst) }
    });
    assert_eq!(busy.done().await.unwrap(), 10_000);
    let seen = witness.await.unwrap();
    assert!(
        seen < 10_000,
        "the witness ran only after all {seen} messages"
    );
}

#[tokio::test]
async fn a_stop_request_keeps_its_place_among_casts() {
    let system = ActorSystem::new();
    let log = log();
    let actor = probe(&system, "actor", &log).await;
    for _ in 0..3 {
        actor.work().unwrap();
    }
    // Queue the stop request behind the three casts without letting the actor run yet.
    let mut stop = Box::pin(actor.stop());
    std::future::poll_fn(|cx| {
        assert!(stop.as_mut().poll(cx).is_pending());
        std::task::Poll::Ready(())
    })
    .await;
    for _ in 0..2 {
        actor.work().unwrap();
    }
    assert_eq!(stop.await, ExitReason::Normal);
    assert_eq!(
        entries(&log),
        ["actor: init", "actor: terminate normal after 3"]
    );
}

#[tokio::test(start_paused = true)]
async fn each_stuck_child_gets_its_own_five_seconds() {
    let system = ActorSystem::new();
    let log = log();
    let parent = probe(&system, "parent", &log).await;
    let first = parent.adopt("first").await.unwrap();
    let second = parent.adopt("second").await.unwrap();
    hang(&first);
    hang(&second);
    tokio::task::yield_now().await;
    let start = tokio::time::Instant::now();
    assert_eq!(system.stop(&parent).await, ExitReason::Normal);
    // Last started first: `second` is killed after 5 s, then `first` after 5 s more.
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    assert_eq!(first.exit_reason(), Some(ExitReason::Killed));
    assert_eq!(second.exit_reason(), Some(ExitReason::Killed));
    assert!(entries(&log).contains(&"parent: terminate normal after 0".to_owned()));
}

#[tokio::test(start_paused = true)]
async fn one_shutdown_timeout_covers_every_actor() {
    let system = ActorSystem::new();
    let log = log();
    let mut stuck = Vec::new();
    for label in ["a", "b", "c"] {
        let actor = probe(&system, label, &log).await;
        hang(&actor);
        stuck.push(actor);
    }
    tokio::task::yield_now().await;
    let start = tokio::time::Instant::now();
    let result = system.shutdown_with(Duration::from_secs(2)).await;
    assert_eq!(result, Err(ShutdownError { killed: 3 }));
    // The first actor used up the 2 s; the others are killed at once.
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    for actor in &stuck {
        assert_eq!(actor.wait_for_exit().await, ExitReason::Killed);
    }
}

/// Handlers marked `crash_on_err`: an `Err` is a crash with `ExitReason::Error`.
struct Strict {
    log: Log,
}

#[derive(Debug)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused: {}", self.0)
    }
}

/// An alias hides the `Result` from the macro; `crash_on_err` works through it all the same.
type Checked<T> = Result<T, String>;

#[actor]
impl Strict {
    #[cast(crash_on_err)]
    fn apply(&mut self, ok: bool) -> Result<(), Refused> {
        if ok { Ok(()) } else { Err(Refused("cast")) }
    }

    #[cast(crash_on_err)]
    async fn apply_later(&mut self, ok: bool) -> std::io::Result<()> {
        tokio::task::yield_now().await;
        if ok {
            Ok(())
        } else {
            Err(std::io::Error::other("async cast"))
        }
    }

    /// Replies, then crashes on `Err`.
    #[call(crash_on_err)]
    fn check(&mut self, n: i32) -> Result<i32, String> {
        if n >= 0 {
            Ok(n)
        } else {
            Err(format!("{n} is negative"))
        }
    }

    #[call(crash_on_err)]
    fn check_later(&mut self, n: i32, reply: Reply<i32>) -> Result<(), String> {
        let _ = reply.send(n);
        if n >= 0 { Ok(()) } else { Err("later".into()) }
    }

    #[call(crash_on_err)]
    fn check_aliased(&mut self, n: i32) -> Checked<i32> {
        if n >= 0 { Ok(n) } else { Err("aliased".into()) }
    }

    #[cast(crash_on_err)]
    fn apply_aliased(&mut self, ok: bool) -> Checked<()> {
        if ok {
            Ok(())
        } else {
            Err("aliased cast".into())
        }
    }

    #[cast]
    fn defer(&mut self, ok: bool, ctx: &mut Ctx<Self>) {
        ctx.continue_with(ok);
    }

    #[handle_continue(crash_on_err)]
    fn deferred(&mut self, ok: bool) -> Result<(), String> {
        if ok { Ok(()) } else { Err("continue".into()) }
    }

    #[cast]
    fn go_idle(&mut self, ctx: &mut Ctx<Self>) {
        ctx.set_idle_timeout(Some(Duration::from_secs(1)));
    }

    #[info(crash_on_err)]
    fn info(&mut self, info: Info) -> Result<(), String> {
        Err(format!("info {info:?}"))
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        self.log.lock().unwrap().push(format!("terminate {reason}"));
    }
}

#[tokio::test(start_paused = true)]
async fn an_err_from_a_handler_is_a_crash_with_its_text() {
    let log = log();
    let system = ActorSystem::new();
    let spawn = || async {
        system
            .spawn::<Strict>(Strict { log: log.clone() })
            .await
            .expect("starts")
    };

    let s = spawn().await;
    s.apply(true).unwrap();
    assert_eq!(s.check(1).await, Ok(Ok(1)));
    s.apply(false).unwrap();
    assert_eq!(
        s.wait_for_exit().await,
        ExitReason::Error("refused: cast".into())
    );
    assert_eq!(entries(&log), ["terminate error: refused: cast"]);

    let s = spawn().await;
    s.apply_later(false).unwrap();
    assert_eq!(
        s.wait_for_exit().await,
        ExitReason::Error("async cast".into())
    );

    // A call's `Err` is replied first, then the actor crashes with it.
    let s = spawn().await;
    let queued = s.check(5);
    assert_eq!(s.check(-2).await, Ok(Err("-2 is negative".into())));
    assert_eq!(
        s.wait_for_exit().await,
        ExitReason::Error("-2 is negative".into())
    );
    assert_eq!(queued.await, Err(CallError::NoProc), "sent after the crash");

    let s = spawn().await;
    assert_eq!(s.check_later(-1).await, Ok(-1));
    assert_eq!(s.wait_for_exit().await, ExitReason::Error("later".into()));

    // Through an alias, the same: replied, then a crash.
    let s = spawn().await;
    assert_eq!(s.check_aliased(3).await, Ok(Ok(3)));
    assert_eq!(s.check_aliased(-3).await, Ok(Err("aliased".into())));
    assert_eq!(s.wait_for_exit().await, ExitReason::Error("aliased".into()));

    let s = spawn().await;
    s.apply_aliased(true).unwrap();
    s.apply_aliased(false).unwrap();
    assert_eq!(
        s.wait_for_exit().await,
        ExitReason::Error("aliased cast".into())
    );

    let s = spawn().await;
    s.defer(true).unwrap();
    s.defer(false).unwrap();
    assert_eq!(
        s.wait_for_exit().await,
        ExitReason::Error("continue".into())
    );

    let s = spawn().await;
    s.go_idle().unwrap();
    assert_eq!(
        s.wait_for_exit().await,
        ExitReason::Error("info Timeout".into())
    );
}

/// A `#[call]` returning `Result` without `crash_on_err`: the `Err` is an ordinary answer.
struct Lenient {
    calls: u32,
}

type Answer<T> = Result<T, String>;

#[actor]
impl Lenient {
    #[call]
    fn parse(&mut self, text: String) -> Result<u32, String> {
        self.calls += 1;
        text.parse().map_err(|_| format!("not a number: {text}"))
    }

    #[call]
    async fn parse_later(&mut self, text: String) -> Answer<u32> {
        tokio::task::yield_now().await;
        self.calls += 1;
        text.parse().map_err(|_| format!("not a number: {text}"))
    }

    #[call]
    fn calls(&self) -> u32 {
        self.calls
    }
}

async fn an_err_reply_keeps_the_actor_running() {
    let system = ActorSystem::new();
    let lenient = system.spawn::<Lenient>(Lenient { calls: 0 }).await.unwrap();
    assert_eq!(
        lenient.parse("x".into()).await,
        Ok(Err("not a number: x".into()))
    );
    assert_eq!(lenient.parse("7".into()).await, Ok(Ok(7)));
    assert_eq!(
        lenient.parse_later("y".into()).await,
        Ok(Err("not a number: y".into()))
    );
    assert_eq!(lenient.parse_later("8".into()).await, Ok(Ok(8)));
    assert_eq!(lenient.calls().await, Ok(4));
    assert!(lenient.is_alive());
    assert_eq!(system.stop(&lenient).await, ExitReason::Normal);
}

#[tokio::test(start_paused = true)]
async fn a_call_returning_err_replies_it_and_keeps_running() {
    an_err_reply_keeps_the_actor_running().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_returning_err_replies_it_and_keeps_running_multi_thread() {
    an_err_reply_keeps_the_actor_running().await;
}

/// Takes a second to clean up.
struct SlowExit {
    log: Log,
}

#[actor]
impl SlowExit {
    #[terminate]
    async fn terminate(&mut self, reason: &ExitReason) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.log
            .lock()
            .unwrap()
            .push(format!("cleaned up ({reason})"));
    }
}

#[tokio::test(start_paused = true)]
async fn an_exit_signal_during_terminate_does_not_change_the_reason() {
    let log = log();
    let system = ActorSystem::new();
    let actor = system
        .spawn::<SlowExit>(SlowExit { log: log.clone() })
        .await
        .unwrap();
    let stopping = {
        let actor = actor.clone();
        tokio::spawn(async move { actor.stop().await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    // Mid-`#[terminate]`: neither an exit signal nor a link changes how it ends.
    system.exit(&actor, ExitReason::Error("too late".into()));
    assert_eq!(stopping.await.unwrap(), ExitReason::Normal);
    assert_eq!(entries(&log), ["cleaned up (normal)"]);
}

#[tokio::test(start_paused = true)]
async fn stop_with_stops_gracefully_with_the_reason_given() {
    let system = ActorSystem::new();
    let log = log();
    let a = probe(&system, "a", &log).await;
    a.work().unwrap();
    a.work().unwrap();
    let why = ExitReason::Error("maintenance".into());
    let start = tokio::time::Instant::now();
    assert_eq!(
        a.stop_with(why.clone(), Duration::from_secs(5)).await,
        Ok(why.clone())
    );
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(a.exit_reason(), Some(why));
    assert_eq!(
        entries(&log),
        ["a: init", "a: terminate error: maintenance after 2"],
        "after the queued messages, with `#[terminate]`"
    );
    assert_eq!(
        system
            .stop_with(&a, ExitReason::Shutdown, Duration::from_secs(5))
            .await,
        Err(StopError::NoProc)
    );
}

#[tokio::test(start_paused = true)]
async fn stop_with_kills_an_actor_that_overruns_the_timeout() {
    let system = ActorSystem::new();
    let log = log();
    let a = probe(&system, "a", &log).await;
    let call = hang(&a);
    tokio::task::yield_now().await;
    let start = tokio::time::Instant::now();
    let limit = Duration::from_secs(3);
    let stop = system.stop_with(&a, ExitReason::Shutdown, limit);
    assert_eq!(stop.await, Err(StopError::Timeout(limit)));
    assert_eq!(start.elapsed(), limit);
    assert_eq!(a.exit_reason(), Some(ExitReason::Killed));
    assert_eq!(entries(&log), ["a: init"], "killed: no `#[terminate]`");
    assert_eq!(
        call.await.unwrap(),
        Err(CallError::Exited(ExitReason::Killed))
    );
}

#[tokio::test(start_paused = true)]
async fn stop_with_the_reason_killed_is_a_stop_in_time() {
    let system = ActorSystem::new();
    let log = log();
    let a = probe(&system, "a", &log).await;
    let start = tokio::time::Instant::now();
    let stop = a.stop_with(ExitReason::Killed, Duration::from_secs(5));
    assert_eq!(stop.await, Ok(ExitReason::Killed), "the reason asked for");
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(a.exit_reason(), Some(ExitReason::Killed));
}

#[tokio::test(start_paused = true)]
async fn stop_with_reports_a_kill_by_someone_else_within_the_timeout() {
    let system = ActorSystem::new();
    let log = log();
    let a = probe(&system, "a", &log).await;
    let call = hang(&a);
    tokio::task::yield_now().await;
    let start = tokio::time::Instant::now();
    let stop = tokio::spawn(a.stop_with(ExitReason::Shutdown, Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_secs(1)).await;
    a.kill();
    assert_eq!(stop.await.unwrap(), Ok(ExitReason::Killed), "not a timeout");
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    assert_eq!(
        call.await.unwrap(),
        Err(CallError::Exited(ExitReason::Killed))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_with_on_many_threads() {
    let system = ActorSystem::new();
    let log = log();
    let quick = probe(&system, "quick", &log).await;
    let stuck = probe(&system, "stuck", &log).await;
    stuck.stall().unwrap();
    // Both stops are queued before either is awaited.
    let limit = Duration::from_millis(20);
    let stuck_stop = stuck.stop_with(ExitReason::Normal, limit);
    let quick_stop = quick.stop_with(ExitReason::Normal, Duration::from_secs(60));
    assert_eq!(quick_stop.await, Ok(ExitReason::Normal));
    assert_eq!(stuck_stop.await, Err(StopError::Timeout(limit)));
    assert_eq!(stuck.exit_reason(), Some(ExitReason::Killed));
}

/// Stops itself through its own ref, from a handler.
struct Quitter;

#[actor]
impl Quitter {
    #[call]
    async fn quit(&mut self, ctx: &mut Ctx<Self>) -> Result<ExitReason, StopError> {
        let me = ctx.me().clone();
        me.stop_with(ExitReason::Shutdown, Duration::from_secs(60))
            .await
    }
}

#[tokio::test(start_paused = true)]
async fn stop_with_from_the_actor_itself_does_not_wait_for_its_own_exit() {
    let system = ActorSystem::new();
    let q = system.spawn::<Quitter>(Quitter).await.unwrap();
    let start = tokio::time::Instant::now();
    assert_eq!(q.quit().await, Ok(Ok(ExitReason::Shutdown)));
    assert_eq!(q.wait_for_exit().await, ExitReason::Shutdown);
    assert_eq!(start.elapsed(), Duration::ZERO);
}
