//! Links, monitors, trapping exits and exit signals: the matrix of exit reasons against
//! trapping, and the rules around it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use beam_runtime::prelude::*;

mod common;

use common::{ENDS, End};

/// The reason each end gives a probe.
fn reason(how: End) -> ExitReason {
    match how {
        End::Normal => ExitReason::Normal,
        End::Shutdown => ExitReason::Shutdown,
        End::Killed => ExitReason::Killed,
        End::Panic => ExitReason::Panic("probe panicked".into()),
        End::Error => ExitReason::Error("probe failed".into()),
    }
}

type Log = Arc<Mutex<Vec<String>>>;

/// An actor that links, monitors, traps, records what it is told and ends on request.
struct Probe {
    infos: Vec<Info>,
    log: Log,
}

#[actor]
impl Probe {
    #[init]
    fn init(trap: bool, log: Log, ctx: &mut Ctx<Self>) -> Self {
        ctx.trap_exit(trap);
        Probe {
            infos: Vec::new(),
            log,
        }
    }

    #[cast(crash_on_err)]
    fn end(&mut self, how: End, ctx: &mut Ctx<Self>) -> Result<(), String> {
        common::end_with(how, ctx, "probe")
    }

    #[call]
    fn link_to(&mut self, other: ActorRef<Probe>, ctx: &mut Ctx<Self>) {
        ctx.link(&other);
    }

    #[call]
    fn unlink_from(&mut self, other: ActorRef<Probe>, ctx: &mut Ctx<Self>) {
        ctx.unlink(&other);
    }

    #[call]
    fn watch(&mut self, other: ActorRef<Probe>, ctx: &mut Ctx<Self>) -> MonitorRef {
        ctx.monitor(&other)
    }

    #[call]
    fn unwatch(&mut self, monitor: MonitorRef, ctx: &mut Ctx<Self>) -> bool {
        ctx.demonitor(monitor)
    }

    /// Monitors `other` and removes the monitor in the same handler.
    #[call]
    fn watch_and_unwatch(&mut self, other: ActorRef<Probe>, ctx: &mut Ctx<Self>) -> bool {
        let monitor = ctx.monitor(&other);
        ctx.demonitor(monitor)
    }

    #[call]
    fn traps(&self, ctx: &mut Ctx<Self>) -> bool {
        ctx.traps_exits()
    }

    #[call]
    fn set_trap(&mut self, trap: bool, ctx: &mut Ctx<Self>) {
        ctx.trap_exit(trap);
    }

    #[call]
    async fn spawn_linked(&mut self, trap: bool, ctx: &mut Ctx<Self>) -> ActorRef<Probe> {
        let log = self.log.clone();
        ctx.spawn_link::<Probe>((trap, log))
            .await
            .expect("the probe starts")
    }

    /// Sends `reason` as an exit signal to `other`, from this actor.
    #[call]
    fn signal(&mut self, other: ActorRef<Probe>, reason: ExitReason, ctx: &mut Ctx<Self>) {
        ctx.system().exit(&other, reason);
    }

    #[call]
    async fn hang(&self) {
        std::future::pending::<()>().await;
    }

    #[call]
    fn infos(&mut self) -> Vec<Info> {
        std::mem::take(&mut self.infos)
    }

    #[info]
    fn info(&mut self, info: Info) {
        self.infos.push(info);
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason, ctx: &mut Ctx<Self>) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{} terminate {reason}", ctx.id()));
    }
}

struct Fixture {
    system: ActorSystem,
    log: Log,
}

impl Fixture {
    fn new() -> Self {
        Self {
            system: ActorSystem::new(),
            log: Log::default(),
        }
    }

    async fn probe(&self, trap: bool) -> ActorRef<Probe> {
        self.system
            .spawn::<Probe>((trap, self.log.clone()))
            .await
            .expect("the probe starts")
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// Ends `probe` the way `how` says and waits for it.
async fn end(probe: &ActorRef<Probe>, how: &End) -> ExitReason {
    match how {
        End::Killed => probe.kill(),
        other => probe.end(*other).expect("the probe is alive"),
    }
    probe.wait_for_exit().await
}

#[tokio::test(start_paused = true)]
async fn each_end_gives_its_reason() {
    let f = Fixture::new();
    for how in ENDS {
        let p = f.probe(false).await;
        assert_eq!(end(&p, &how).await, reason(how), "{how:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_link_carries_every_reason_to_an_actor_that_traps() {
    let f = Fixture::new();
    for how in ENDS {
        let (a, b) = (f.probe(true).await, f.probe(false).await);
        a.link_to(b.clone()).await.unwrap();
        end(&b, &how).await;
        let expected = Info::Exit {
            from: b.id(),
            reason: reason(how),
        };
        assert_eq!(a.infos().await.unwrap(), [expected], "{how:?}");
        assert!(a.is_alive(), "{how:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_link_kills_an_actor_that_does_not_trap_unless_the_reason_is_normal() {
    let f = Fixture::new();
    for how in ENDS {
        let (a, b) = (f.probe(false).await, f.probe(false).await);
        a.link_to(b.clone()).await.unwrap();
        end(&b, &how).await;
        if matches!(how, End::Normal) {
            assert_eq!(a.infos().await.unwrap(), [], "{how:?}");
            assert!(a.is_alive());
        } else {
            // Killed propagates as the reason `Killed`, the same as the others.
            assert_eq!(a.wait_for_exit().await, reason(how), "{how:?}");
        }
    }
    // A probe killed by an exit signal does not run `#[terminate]`: only `b` ran it, in
    // every end but the kill.
    let terminated = f.log().len();
    assert_eq!(terminated, 4, "{:?}", f.log());
}

#[tokio::test(start_paused = true)]
async fn links_are_bidirectional() {
    let f = Fixture::new();
    let (a, b) = (f.probe(false).await, f.probe(true).await);
    a.link_to(b.clone()).await.unwrap();
    end(&a, &End::Error).await;
    assert_eq!(
        b.infos().await.unwrap(),
        [Info::Exit {
            from: a.id(),
            reason: ExitReason::Error("probe failed".into())
        }]
    );
}

#[tokio::test(start_paused = true)]
async fn a_monitor_delivers_exactly_one_down_whatever_the_trap() {
    let f = Fixture::new();
    for trap in [false, true] {
        for how in ENDS {
            let (a, b) = (f.probe(trap).await, f.probe(false).await);
            let monitor = a.watch(b.clone()).await.unwrap();
            end(&b, &how).await;
            let expected = Info::Down {
                monitor,
                id: b.id(),
                reason: reason(how),
            };
            assert_eq!(a.infos().await.unwrap(), [expected], "{how:?}");
            assert!(a.is_alive());
            assert!(!a.unwatch(monitor).await.unwrap(), "the Down ended it");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn monitors_are_one_way_and_each_call_makes_one() {
    let f = Fixture::new();
    let (a, b) = (f.probe(false).await, f.probe(true).await);
    let first = a.watch(b.clone()).await.unwrap();
    let second = a.watch(b.clone()).await.unwrap();
    assert_ne!(first, second);
    end(&a, &End::Panic).await;
    assert_eq!(
        b.infos().await.unwrap(),
        [],
        "the watched side hears nothing"
    );
    end(&b, &End::Normal).await;
}

#[tokio::test(start_paused = true)]
async fn monitoring_a_dead_actor_delivers_noproc_at_once() {
    let f = Fixture::new();
    let (a, b) = (f.probe(false).await, f.probe(false).await);
    end(&b, &End::Panic).await;
    let monitor = a.watch(b.clone()).await.unwrap();
    assert_eq!(
        a.infos().await.unwrap(),
        [Info::Down {
            monitor,
            id: b.id(),
            reason: ExitReason::NoProc
        }]
    );
}

#[tokio::test(start_paused = true)]
async fn a_demonitored_down_is_not_handled_even_if_queued() {
    let f = Fixture::new();
    let (a, b) = (f.probe(false).await, f.probe(false).await);
    end(&b, &End::Normal).await;
    // The Down (NoProc) is queued by `monitor` and dropped by `demonitor`.
    assert!(a.watch_and_unwatch(b.clone()).await.unwrap());
    assert_eq!(a.infos().await.unwrap(), []);

    let c = f.probe(false).await;
    let monitor = a.watch(c.clone()).await.unwrap();
    assert!(a.unwatch(monitor).await.unwrap());
    end(&c, &End::Error).await;
    assert_eq!(a.infos().await.unwrap(), []);
}

#[tokio::test(start_paused = true)]
async fn an_unlinked_actor_is_not_affected() {
    let f = Fixture::new();
    let (a, b) = (f.probe(false).await, f.probe(false).await);
    a.link_to(b.clone()).await.unwrap();
    a.unlink_from(b.clone()).await.unwrap();
    end(&b, &End::Panic).await;
    assert_eq!(a.infos().await.unwrap(), []);
    assert!(a.is_alive());
    // And the other way round.
    let c = f.probe(true).await;
    c.link_to(a.clone()).await.unwrap();
    c.unlink_from(a.clone()).await.unwrap();
    end(&a, &End::Panic).await;
    assert_eq!(c.infos().await.unwrap(), []);
}

#[tokio::test(start_paused = true)]
async fn linking_twice_or_to_oneself_changes_nothing() {
    let f = Fixture::new();
    let (a, b) = (f.probe(true).await, f.probe(false).await);
    a.link_to(b.clone()).await.unwrap();
    a.link_to(b.clone()).await.unwrap();
    a.link_to(a.clone()).await.unwrap();
    end(&b, &End::Error).await;
    assert_eq!(a.infos().await.unwrap().len(), 1, "one link, one signal");
    // One unlink removes it.
    let c = f.probe(false).await;
    a.link_to(c.clone()).await.unwrap();
    a.link_to(c.clone()).await.unwrap();
    a.unlink_from(c.clone()).await.unwrap();
    end(&c, &End::Error).await;
    assert_eq!(a.infos().await.unwrap(), []);
}

#[tokio::test(start_paused = true)]
async fn linking_to_a_dead_actor_is_an_exit_with_noproc() {
    let f = Fixture::new();
    let dead = f.probe(false).await;
    end(&dead, &End::Normal).await;

    let trapping = f.probe(true).await;
    trapping.link_to(dead.clone()).await.unwrap();
    assert_eq!(
        trapping.infos().await.unwrap(),
        [Info::Exit {
            from: dead.id(),
            reason: ExitReason::NoProc
        }]
    );

    let plain = f.probe(false).await;
    // The handler still replies; the actor dies once it yields.
    plain.link_to(dead.clone()).await.unwrap();
    assert_eq!(plain.wait_for_exit().await, ExitReason::NoProc);
}

#[tokio::test(start_paused = true)]
async fn kill_cannot_be_trapped() {
    let f = Fixture::new();
    let a = f.probe(true).await;
    a.kill();
    assert_eq!(a.wait_for_exit().await, ExitReason::Killed);
    assert_eq!(f.log(), Vec::<String>::new(), "no terminate on a kill");
    // Killing a dead actor does nothing.
    a.kill();
    assert_eq!(a.exit_reason(), Some(ExitReason::Killed));
}

#[tokio::test(start_paused = true)]
async fn a_kill_reaches_an_actor_stuck_in_a_handler() {
    let f = Fixture::new();
    let a = f.probe(false).await;
    let stuck = {
        let a = a.clone();
        tokio::spawn(async move { a.hang().timeout(Duration::MAX).await })
    };
    tokio::task::yield_now().await;
    a.kill();
    assert_eq!(a.wait_for_exit().await, ExitReason::Killed);
    assert_eq!(
        stuck.await.unwrap(),
        Err(CallError::Exited(ExitReason::Killed))
    );
}

#[tokio::test(start_paused = true)]
async fn exit_signals_follow_otp() {
    let f = Fixture::new();

    // Normal is ignored by an actor that does not trap.
    let a = f.probe(false).await;
    f.system.exit(&a, ExitReason::Normal);
    assert!(a.infos().await.is_ok());
    assert!(a.is_alive());

    // Any other reason kills it with that reason, at once and without `#[terminate]`.
    let stuck = {
        let a = a.clone();
        tokio::spawn(async move { a.hang().timeout(Duration::MAX).await })
    };
    tokio::task::yield_now().await;
    f.system.exit(&a, ExitReason::Error("go away".into()));
    let reason = ExitReason::Error("go away".into());
    assert_eq!(a.wait_for_exit().await, reason);
    assert_eq!(stuck.await.unwrap(), Err(CallError::Exited(reason)));
    assert_eq!(f.log(), Vec::<String>::new());

    // A trapping actor receives it, even `Normal`, from `<0.0>` outside any actor.
    let t = f.probe(true).await;
    f.system.exit(&t, ExitReason::Normal);
    f.system.exit(&t, ExitReason::Shutdown);
    let infos = t.infos().await.unwrap();
    assert_eq!(infos.len(), 2);
    for (info, reason) in infos.iter().zip([ExitReason::Normal, ExitReason::Shutdown]) {
        let Info::Exit { from, reason: got } = info else {
            panic!("expected an exit, got {info:?}");
        };
        assert_eq!(from.as_u64(), 0);
        assert_eq!(from.to_string(), "<0.0>");
        assert_eq!(*got, reason);
    }

    // From inside an actor, the sender is that actor.
    let sender = f.probe(false).await;
    sender
        .signal(t.clone(), ExitReason::Error("x".into()))
        .await
        .unwrap();
    assert_eq!(
        t.infos().await.unwrap(),
        [Info::Exit {
            from: sender.id(),
            reason: ExitReason::Error("x".into())
        }]
    );

    // `Killed` is the untrappable kill.
    f.system.exit(&t, ExitReason::Killed);
    assert_eq!(t.wait_for_exit().await, ExitReason::Killed);
}

#[tokio::test(start_paused = true)]
async fn trap_exit_can_be_turned_off() {
    let f = Fixture::new();
    let a = f.probe(true).await;
    assert!(a.traps().await.unwrap());
    a.set_trap(false).await.unwrap();
    assert!(!a.traps().await.unwrap());
    f.system.exit(&a, ExitReason::Shutdown);
    assert_eq!(a.wait_for_exit().await, ExitReason::Shutdown);
}

#[tokio::test(start_paused = true)]
async fn spawn_link_links_parent_and_child() {
    let f = Fixture::new();
    // A child's crash reaches a trapping parent.
    let parent = f.probe(true).await;
    let child = parent.spawn_linked(false).await.unwrap();
    end(&child, &End::Panic).await;
    assert_eq!(
        parent.infos().await.unwrap(),
        [Info::Exit {
            from: child.id(),
            reason: ExitReason::Panic("probe panicked".into())
        }]
    );

    // A parent killed by a signal takes its linked child with it.
    let child = parent.spawn_linked(false).await.unwrap();
    f.system.exit(&parent, ExitReason::Killed);
    assert_eq!(parent.wait_for_exit().await, ExitReason::Killed);
    assert_eq!(child.wait_for_exit().await, ExitReason::Killed);
}

#[tokio::test(start_paused = true)]
async fn a_crashing_parent_keeps_its_reason_while_linked_children_stop() {
    let f = Fixture::new();
    let parent = f.probe(false).await;
    let child = parent.spawn_linked(false).await.unwrap();
    end(&parent, &End::Panic).await;
    // The child was stopped first (with `Shutdown`, through its `#[terminate]`); its exit
    // signal did not replace the parent's reason.
    assert_eq!(
        parent.exit_reason(),
        Some(ExitReason::Panic("probe panicked".into()))
    );
    assert_eq!(child.exit_reason(), Some(ExitReason::Shutdown));
}

struct Doomed;

#[actor]
impl Doomed {
    #[init]
    fn init() -> Result<Self, String> {
        Err("no".into())
    }
}

struct Spawner;

#[actor]
impl Spawner {
    #[call]
    async fn start(&mut self, ctx: &mut Ctx<Self>) -> String {
        match ctx.spawn_link::<Doomed>(()).await {
            Ok(_) => "started".into(),
            Err(err) => err.to_string(),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_linked_child_whose_init_fails_takes_the_parent_down() {
    let system = ActorSystem::new();
    let spawner = system.spawn::<Spawner>(Spawner).await.unwrap();
    assert_eq!(spawner.start().await.unwrap(), "init failed: no");
    assert_eq!(
        spawner.wait_for_exit().await,
        ExitReason::Error("no".into())
    );
}

#[tokio::test(start_paused = true)]
async fn stop_on_a_ref_waits_for_the_exit() {
    let f = Fixture::new();
    let a = f.probe(false).await;
    assert_eq!(a.stop().await, ExitReason::Normal);
    assert_eq!(f.log(), [format!("{} terminate normal", a.id())]);
    assert_eq!(a.stop().await, ExitReason::NoProc);
}

#[tokio::test(start_paused = true)]
async fn stop_is_queued_at_once_so_many_actors_stop_together() {
    let f = Fixture::new();
    let (a, b) = (f.probe(false).await, f.probe(false).await);
    // Dropped unpolled: the stop is queued anyway.
    drop(a.stop());
    let exit = tokio::time::timeout(Duration::from_secs(1), a.wait_for_exit()).await;
    assert_eq!(exit, Ok(ExitReason::Normal));
    let (c, d) = (f.probe(false).await, f.probe(false).await);
    let exits = [b.stop(), c.stop(), d.stop()];
    for exit in exits {
        assert_eq!(exit.await, ExitReason::Normal);
    }
    assert_eq!(f.log().len(), 4, "{:?}", f.log());
}

#[tokio::test(start_paused = true)]
async fn links_and_monitors_can_be_listed_and_are_cleaned_up() {
    let f = Fixture::new();
    let (a, b) = (f.probe(true).await, f.probe(false).await);
    a.link_to(b.clone()).await.unwrap();
    assert_eq!(a.links(), [b.id()]);
    assert_eq!(b.links(), [a.id()]);
    a.unlink_from(b.clone()).await.unwrap();
    assert_eq!((a.links(), b.links()), (vec![], vec![]));

    let first = a.watch(b.clone()).await.unwrap();
    a.watch(b.clone()).await.unwrap();
    assert_eq!(b.monitored_by(), [a.id(), a.id()]);
    a.unwatch(first).await.unwrap();
    assert_eq!(b.monitored_by(), [a.id()]);

    // The watcher exits: its monitor goes from the watched actor's table.
    a.link_to(b.clone()).await.unwrap();
    end(&a, &End::Normal).await;
    assert_eq!(b.monitored_by(), []);
    assert_eq!(b.links(), [], "the exit signal removed the link");
    assert_eq!(a.links(), []);
}

#[tokio::test(start_paused = true)]
async fn an_outside_monitor_gives_each_exit_reason_once() {
    let f = Fixture::new();
    for how in ENDS {
        let b = f.probe(false).await;
        let mut down = b.monitor();
        assert_eq!(down.actor(), b.id());
        let by: Vec<u64> = b.monitored_by().iter().map(|id| id.as_u64()).collect();
        assert_eq!(by, [0], "{how:?}: held from outside, as <0.0>");
        assert_eq!(down.try_down(), None, "{how:?}: alive");
        end(&b, &how).await;
        assert_eq!((&mut down).await, reason(how), "{how:?}");
        assert_eq!(down.try_down(), None, "{how:?}: given once");
    }
}

#[tokio::test(start_paused = true)]
async fn an_outside_monitor_of_a_dead_actor_gives_noproc_at_once() {
    let f = Fixture::new();
    let b = f.probe(false).await;
    end(&b, &End::Error).await;
    let mut down = b.monitor();
    assert_eq!(down.try_down(), Some(ExitReason::NoProc));
    assert_eq!(down.try_down(), None);
    assert_eq!(f.system.monitor(&b).await, ExitReason::NoProc);
}

#[tokio::test(start_paused = true)]
async fn dropping_an_outside_monitor_removes_it() {
    let f = Fixture::new();
    let b = f.probe(false).await;
    let kept = f.system.monitor(&b);
    let dropped = b.monitor();
    assert_ne!(kept.id(), dropped.id());
    assert_eq!(b.monitored_by().len(), 2);
    drop(dropped);
    assert_eq!(b.monitored_by().len(), 1);
    kept.demonitor();
    assert_eq!(b.monitored_by(), []);
    // Monitors made and dropped from inside an actor are unaffected.
    let a = f.probe(false).await;
    let monitor = a.watch(b.clone()).await.unwrap();
    assert_eq!(b.monitored_by(), [a.id()]);
    end(&b, &End::Panic).await;
    assert_eq!(
        a.infos().await.unwrap(),
        [Info::Down {
            monitor,
            id: b.id(),
            reason: reason(End::Panic)
        }]
    );
}

#[tokio::test(start_paused = true)]
async fn an_outside_monitor_fires_once_in_a_select_loop() {
    let f = Fixture::new();
    let b = f.probe(false).await;
    let mut down = b.monitor();
    let killer = b.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        killer.kill();
    });
    let (mut downs, mut ticks) = (Vec::new(), 0);
    while ticks < 4 {
        tokio::select! {
            reason = &mut down => downs.push(reason),
            () = tokio::time::sleep(Duration::from_secs(1)) => ticks += 1,
        }
    }
    assert_eq!(downs, [ExitReason::Killed]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_monitor_on_many_threads() {
    let f = Fixture::new();
    for how in ENDS {
        let b = f.probe(false).await;
        let down = b.monitor();
        let ender = b.clone();
        let ended = tokio::spawn(async move { end(&ender, &how).await });
        assert_eq!(down.await, reason(how), "{how:?}");
        assert_eq!(ended.await.unwrap(), reason(how));
    }
}
