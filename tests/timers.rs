//! Timers, the idle timeout and the stash, on tokio's paused clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use beam_runtime::prelude::*;
use tokio::time::{Instant, advance, sleep};

struct Clock {
    started: Instant,
    ticks: Vec<Duration>,
    infos: Vec<(Duration, Info)>,
    timer: Option<TimerRef>,
}

#[actor]
impl Clock {
    #[init]
    fn init() -> Self {
        Clock {
            started: Instant::now(),
            ticks: Vec::new(),
            infos: Vec::new(),
            timer: None,
        }
    }

    #[cast]
    fn tick(&mut self) {
        self.ticks.push(self.started.elapsed());
    }

    #[call]
    fn after(&mut self, ms: u64, ctx: &mut Ctx<Self>) {
        self.timer = Some(ctx.send_after(Duration::from_millis(ms), ClockMsg::Tick));
    }

    #[call]
    fn every(&mut self, ms: u64, made: Arc<AtomicU32>, ctx: &mut Ctx<Self>) {
        let timer = ctx.send_interval(Duration::from_millis(ms), move || {
            made.fetch_add(1, Ordering::SeqCst);
            ClockMsg::Tick
        });
        self.timer = Some(timer);
    }

    #[call]
    fn cancel(&mut self, ctx: &mut Ctx<Self>) -> bool {
        let timer = self.timer.take().expect("a timer was started");
        ctx.cancel_timer(timer)
    }

    /// Starts a timer, lets it fire into the mailbox while this handler still runs, then
    /// cancels it: the queued message must not be handled.
    #[call]
    async fn cancel_after_it_fired(&mut self, ctx: &mut Ctx<Self>) -> bool {
        let timer = ctx.send_after(Duration::from_millis(1), ClockMsg::Tick);
        sleep(Duration::from_millis(5)).await;
        ctx.cancel_timer(timer)
    }

    #[call]
    fn idle_after(&mut self, ms: Option<u64>, ctx: &mut Ctx<Self>) {
        ctx.set_idle_timeout(ms.map(Duration::from_millis));
    }

    #[info]
    fn on_info(&mut self, info: Info) {
        self.infos.push((self.started.elapsed(), info));
    }

    #[call]
    fn ticks(&self) -> Vec<Duration> {
        self.ticks.clone()
    }

    #[call]
    fn infos(&self) -> Vec<(Duration, Info)> {
        self.infos.clone()
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test(start_paused = true)]
async fn send_after_delivers_once_after_the_delay() {
    let system = ActorSystem::new();
    let clock = system.spawn::<Clock>(()).await.unwrap();
    clock.after(30).await.unwrap();
    sleep(ms(100)).await;
    assert_eq!(clock.ticks().await.unwrap(), [ms(30)]);
}

#[tokio::test(start_paused = true)]
async fn send_interval_repeats_until_cancelled() {
    let system = ActorSystem::new();
    let clock = system.spawn::<Clock>(()).await.unwrap();
    let made = Arc::new(AtomicU32::new(0));
    clock.every(10, made.clone()).await.unwrap();
    sleep(ms(35)).await;
    assert_eq!(clock.ticks().await.unwrap(), [ms(10), ms(20), ms(30)]);
    assert!(clock.cancel().await.unwrap());
    sleep(ms(100)).await;
    assert_eq!(clock.ticks().await.unwrap().len(), 3);
    assert_eq!(made.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_timer_is_never_handled() {
    let system = ActorSystem::new();
    let clock = system.spawn::<Clock>(()).await.unwrap();
    clock.after(50).await.unwrap();
    assert!(clock.cancel().await.unwrap());
    // Even a message already in the mailbox is dropped once its timer is cancelled.
    assert!(clock.cancel_after_it_fired().await.unwrap());
    sleep(ms(100)).await;
    assert!(clock.ticks().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn timers_die_with_their_actor() {
    let system = ActorSystem::new();
    let clock = system.spawn::<Clock>(()).await.unwrap();
    let made = Arc::new(AtomicU32::new(0));
    clock.every(10, made.clone()).await.unwrap();
    sleep(ms(25)).await;
    system.stop(&clock).await;
    let before = made.load(Ordering::SeqCst);
    assert_eq!(before, 2);
    advance(ms(1_000)).await;
    tokio::task::yield_now().await;
    assert_eq!(made.load(Ordering::SeqCst), before);
}

#[tokio::test(start_paused = true)]
async fn the_idle_timeout_fires_once_per_idle_period() {
    let system = ActorSystem::new();
    let clock = system.spawn::<Clock>(()).await.unwrap();
    clock.idle_after(Some(100)).await.unwrap();
    sleep(ms(1_000)).await;
    assert_eq!(clock.infos().await.unwrap(), [(ms(100), Info::Timeout)]);
    // The call above ended the idle period; the next one starts after it.
    sleep(ms(150)).await;
    clock.idle_after(None).await.unwrap();
    sleep(ms(1_000)).await;
    assert_eq!(
        clock.infos().await.unwrap(),
        [(ms(100), Info::Timeout), (ms(1_100), Info::Timeout)]
    );
}

/// Work arrives before the actor is ready; it is stashed and replayed in order.
struct Gatekeeper {
    open: bool,
    done: Vec<u32>,
}

#[actor]
impl Gatekeeper {
    #[cast]
    fn work(&mut self, n: u32, ctx: &mut Ctx<Self>) {
        if self.open {
            self.done.push(n);
        } else {
            ctx.stash(GatekeeperMsg::Work { n });
        }
    }

    #[call]
    fn total(&mut self, reply: Reply<usize>, ctx: &mut Ctx<Self>) {
        if self.open {
            let _ = reply.send(self.done.len());
        } else {
            ctx.stash(GatekeeperMsg::Total { reply });
        }
    }

    #[cast]
    fn open(&mut self, ctx: &mut Ctx<Self>) {
        self.open = true;
        ctx.unstash_all();
    }

    #[call]
    fn stashed(&self, ctx: &mut Ctx<Self>) -> usize {
        ctx.stash_len()
    }

    #[call]
    fn done(&self) -> Vec<u32> {
        self.done.clone()
    }
}

#[tokio::test(start_paused = true)]
async fn stashed_messages_replay_in_order_before_newer_ones() {
    let system = ActorSystem::new();
    let gk = system
        .spawn::<Gatekeeper>(Gatekeeper {
            open: false,
            done: Vec::new(),
        })
        .await
        .unwrap();
    gk.work(1).unwrap();
    gk.work(2).unwrap();
    let total = tokio::spawn({
        let gk = gk.clone();
        async move { gk.total().await }
    });
    tokio::task::yield_now().await;
    assert_eq!(gk.stashed().await.unwrap(), 3);
    gk.work(3).unwrap();
    gk.open().unwrap();
    gk.work(4).unwrap();
    assert_eq!(gk.done().await.unwrap(), [1, 2, 3, 4]);
    // The stashed call was answered when replayed, after work 1 and 2 and before 3 and 4.
    assert_eq!(total.await.unwrap(), Ok(2));
    assert_eq!(gk.stashed().await.unwrap(), 0);
}

/// Panics when dropped unhandled.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("bomb dropped");
        }
    }
}

struct Fuse {
    ended: Arc<std::sync::Mutex<Option<ExitReason>>>,
}

#[actor]
impl Fuse {
    #[cast]
    fn carry(&mut self, bomb: Bomb) {
        std::mem::forget(bomb);
    }

    /// Arms a timer carrying a bomb, lets it fire into the mailbox, then cancels it: the
    /// bomb is dropped unhandled.
    #[call]
    async fn arm_and_cancel(&mut self, ctx: &mut Ctx<Self>) -> bool {
        let timer = ctx.send_after(ms(1), FuseMsg::Carry { bomb: Bomb });
        sleep(ms(5)).await;
        ctx.cancel_timer(timer)
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        *self.ended.lock().unwrap() = Some(reason.clone());
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_dropping_a_cancelled_timer_message_is_a_crash() {
    let system = ActorSystem::new();
    let ended = Arc::default();
    let fuse = system
        .spawn::<Fuse>(Fuse {
            ended: Arc::clone(&ended),
        })
        .await
        .unwrap();
    assert_eq!(fuse.arm_and_cancel().await, Ok(true));
    let reason = ExitReason::Panic("bomb dropped".into());
    assert_eq!(fuse.wait_for_exit().await, reason);
    assert_eq!(*ended.lock().unwrap(), Some(reason));
    // The thread is left clean: calls to a dead actor are `NoProc`, not `CallingSelf`.
    assert_eq!(fuse.arm_and_cancel().await, Err(CallError::NoProc));
}

#[tokio::test(start_paused = true)]
async fn timers_belong_to_their_actor() {
    let system = ActorSystem::new();
    let a = system.spawn::<Clock>(()).await.unwrap();
    let b = system.spawn::<Clock>(()).await.unwrap();
    a.after(50).await.unwrap();
    b.after(50).await.unwrap();
    assert!(b.cancel().await.unwrap());
    sleep(ms(100)).await;
    assert_eq!(a.ticks().await.unwrap(), [ms(50)]);
    assert!(b.ticks().await.unwrap().is_empty());
}

/// Re-arms its idle timeout from its `#[info]` handler, a given number of times.
struct Heartbeat {
    started: tokio::time::Instant,
    beats: Vec<Duration>,
    left: u32,
}

#[actor]
impl Heartbeat {
    #[init]
    fn init(ctx: &mut Ctx<Self>) -> Self {
        ctx.set_idle_timeout(Some(ms(100)));
        Heartbeat {
            started: tokio::time::Instant::now(),
            beats: Vec::new(),
            left: 3,
        }
    }

    #[info]
    fn beat(&mut self, _info: Info, ctx: &mut Ctx<Self>) {
        self.beats.push(self.started.elapsed());
        self.left -= 1;
        if self.left > 0 {
            ctx.set_idle_timeout(Some(ms(100)));
        }
    }

    #[call]
    fn beats(&self) -> Vec<Duration> {
        self.beats.clone()
    }
}

#[tokio::test(start_paused = true)]
async fn setting_the_idle_timeout_in_its_handler_rearms_it() {
    let system = ActorSystem::new();
    let heart = system.spawn::<Heartbeat>(()).await.unwrap();
    sleep(ms(1_000)).await;
    assert_eq!(heart.beats().await.unwrap(), [ms(100), ms(200), ms(300)]);
}
