//! Call and cast semantics: timeouts, dead and self targets, crashes mid-call, late and
//! deferred replies, per-sender ordering and bounded mailboxes.

use std::future::{Future, IntoFuture};
use std::time::Duration;

use beam_runtime::DEFAULT_CALL_TIMEOUT;
use beam_runtime::prelude::*;
use tokio::sync::oneshot;
use tokio::time::Instant;

struct Svc {
    log: Vec<(u32, u32)>,
    pending: Option<Reply<u32>>,
}

#[actor]
impl Svc {
    #[init]
    fn init() -> Self {
        Svc {
            log: Vec::new(),
            pending: None,
        }
    }

    #[call]
    fn get(&self) -> usize {
        self.log.len()
    }

    #[call]
    async fn nap(&self, ms: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    }

    #[call]
    fn explode(&self) -> u32 {
        panic!("boom")
    }

    #[call]
    async fn call_myself(&self, ctx: &mut Ctx<Self>) -> Result<usize, CallError> {
        ctx.me().get().await
    }

    #[call]
    fn forget_reply(&self, reply: Reply<u32>) {
        drop(reply);
    }

    #[call]
    fn later(&mut self, reply: Reply<u32>) {
        self.pending = Some(reply);
    }

    #[cast]
    fn release(&mut self, value: u32) {
        if let Some(reply) = self.pending.take() {
            let _ = reply.send(value);
        }
    }

    #[cast]
    fn record(&mut self, sender: u32, seq: u32) {
        self.log.push((sender, seq));
    }

    #[call]
    fn log(&self) -> Vec<(u32, u32)> {
        self.log.clone()
    }
}

async fn svc(system: &ActorSystem) -> ActorRef<Svc> {
    system.spawn::<Svc>(()).await.expect("spawn")
}

#[tokio::test(start_paused = true)]
async fn default_timeout_is_five_seconds() {
    let system = ActorSystem::new();
    let s = svc(&system).await;
    let start = Instant::now();
    assert_eq!(s.nap(60_000).await, Err(CallError::Timeout));
    assert_eq!(start.elapsed(), DEFAULT_CALL_TIMEOUT);
    assert_eq!(DEFAULT_CALL_TIMEOUT, Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn custom_timeout_and_late_reply_is_dropped() {
    let system = ActorSystem::new();
    let s = svc(&system).await;
    let start = Instant::now();
    let late = s.nap(1_000).timeout(Duration::from_millis(100)).await;
    assert_eq!(late, Err(CallError::Timeout));
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    // The actor is still busy with the first nap; the next call gets its own reply, not the
    // late one.
    assert_eq!(s.nap(7).await, Ok(7));
    assert_eq!(start.elapsed(), Duration::from_millis(1_007));
}

#[tokio::test(start_paused = true)]
async fn call_to_a_dead_actor_fails_at_once_with_noproc() {
    let system = ActorSystem::new();
    let s = svc(&system).await;
    assert_eq!(system.stop(&s).await, ExitReason::Normal);
    assert!(!s.is_alive());
    let start = Instant::now();
    assert_eq!(s.get().await, Err(CallError::NoProc));
    assert_eq!(s.record(1, 1), Err(SendError::NoProc));
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(system.stop(&s).await, ExitReason::NoProc);
}

#[tokio::test(start_paused = true)]
async fn calling_self_fails_at_once() {
    let system = ActorSystem::new();
    let s = svc(&system).await;
    let start = Instant::now();
    assert_eq!(s.call_myself().await, Ok(Err(CallError::CallingSelf)));
    assert_eq!(start.elapsed(), Duration::ZERO);
    // The handler replied with that `Err`, an ordinary answer: the actor goes on.
    assert_eq!(s.get().await, Ok(0));
    assert!(s.is_alive());
}

#[tokio::test(start_paused = true)]
async fn a_crash_mid_call_is_exited_with_the_reason() {
    let system = ActorSystem::new();
    let s = svc(&system).await;
    // Both are queued while the actor naps (an idle actor would run the crash in place,
    // before the second call is sent).
    let (napped, crashed, queued) = tokio::join!(s.nap(10), s.explode(), s.get());
    assert_eq!(napped, Ok(10));
    let reason = ExitReason::Panic("boom".into());
    assert_eq!(crashed, Err(CallError::Exited(reason.clone())));
    // A call still in the mailbox when the actor died gets the same reason.
    assert_eq!(queued, Err(CallError::Exited(reason.clone())));
    assert_eq!(s.exit_reason(), Some(reason));
    assert_eq!(s.get().await, Err(CallError::NoProc));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_reply_handle_is_noreply() {
    let system = ActorSystem::new();
    let s = svc(&system).await;
    let start = Instant::now();
    assert_eq!(s.forget_reply().await, Err(CallError::NoReply));
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(s.is_alive());
}

#[tokio::test(start_paused = true)]
async fn a_deferred_reply_answers_later() {
    let system = ActorSystem::new();
    let s = svc(&system).await;
    let waiting = tokio::spawn({
        let s = s.clone();
        async move { s.later().await }
    });
    // The other task sends its call first.
    tokio::task::yield_now().await;
    // The actor is free meanwhile: other calls are served.
    assert_eq!(s.get().await, Ok(0));
    s.release(42).unwrap();
    assert_eq!(waiting.await.unwrap(), Ok(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_from_one_sender_arrive_in_order() {
    let system = ActorSystem::new();
    let s = svc(&system).await;
    let senders: Vec<_> = (0..4)
        .map(|sender| {
            let s = s.clone();
            tokio::spawn(async move {
                for seq in 0..500 {
                    s.record(sender, seq).unwrap();
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    let log = s.log().await.unwrap();
    assert_eq!(log.len(), 2_000);
    for sender in 0..4 {
        let seqs: Vec<u32> = log
            .iter()
            .filter(|(from, _)| *from == sender)
            .map(|(_, seq)| *seq)
            .collect();
        assert_eq!(seqs, (0..500).collect::<Vec<_>>());
    }
}

struct Gate {
    seen: Vec<u32>,
}

#[actor(mailbox = 2)]
impl Gate {
    #[cast]
    async fn hold(&mut self, started: oneshot::Sender<()>, open: oneshot::Receiver<()>) {
        let _ = started.send(());
        open.await.expect("the gate was dropped");
    }

    #[cast]
    fn put(&mut self, n: u32) {
        self.seen.push(n);
    }

    #[call]
    fn seen(&self) -> Vec<u32> {
        self.seen.clone()
    }
}

/// A gate actor busy in `hold`, its mailbox empty, and the sender that lets it go on.
async fn held_gate(system: &ActorSystem) -> (ActorRef<Gate>, oneshot::Sender<()>) {
    let gate = system
        .spawn::<Gate>(Gate { seen: Vec::new() })
        .await
        .unwrap();
    let (started_tx, started_rx) = oneshot::channel();
    let (open_tx, open_rx) = oneshot::channel();
    gate.hold(started_tx, open_rx).unwrap();
    started_rx.await.unwrap();
    (gate, open_tx)
}

#[tokio::test(start_paused = true)]
async fn a_cast_to_a_full_bounded_mailbox_is_full() {
    let system = ActorSystem::new();
    let (gate, open) = held_gate(&system).await;
    assert_eq!(gate.put(1), Ok(()));
    assert_eq!(gate.put(2), Ok(()));
    assert_eq!(gate.put(3), Err(SendError::Full));
    open.send(()).unwrap();
    assert_eq!(gate.seen().await.unwrap(), [1, 2]);
    // Room again once the actor has taken messages out.
    assert_eq!(gate.put(4), Ok(()));
    assert_eq!(gate.seen().await.unwrap(), [1, 2, 4]);
}

#[tokio::test(start_paused = true)]
async fn a_call_waits_for_room_within_its_timeout() {
    let system = ActorSystem::new();
    let (gate, open) = held_gate(&system).await;
    gate.put(1).unwrap();
    gate.put(2).unwrap();

    let start = Instant::now();
    let timed_out = gate.seen().timeout(Duration::from_millis(50)).await;
    assert_eq!(timed_out, Err(CallError::Timeout));
    assert_eq!(start.elapsed(), Duration::from_millis(50));

    let waiting = tokio::spawn({
        let gate = gate.clone();
        async move { gate.seen().await }
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(!waiting.is_finished());
    open.send(()).unwrap();
    assert_eq!(waiting.await.unwrap(), Ok(vec![1, 2]));
}

#[tokio::test(start_paused = true)]
async fn the_builder_overrides_the_mailbox_and_rejects_zero() {
    let system = ActorSystem::new();
    let err = system
        .spawn::<Gate>(Gate { seen: Vec::new() })
        .bounded(0)
        .await
        .unwrap_err();
    assert_eq!(err, SpawnError::Capacity(0));

    let gate = system
        .spawn::<Gate>(Gate { seen: Vec::new() })
        .unbounded()
        .await
        .unwrap();
    let (started_tx, started_rx) = oneshot::channel();
    let (open_tx, open_rx) = oneshot::channel();
    gate.hold(started_tx, open_rx).unwrap();
    started_rx.await.unwrap();
    for n in 0..100 {
        gate.put(n).unwrap();
    }
    open_tx.send(()).unwrap();
    assert_eq!(gate.seen().await.unwrap().len(), 100);
}

struct SlowExit;

#[actor]
impl SlowExit {
    #[call]
    fn divide(&self, a: i64, b: i64) -> i64 {
        a / b
    }

    #[terminate]
    async fn terminate(&mut self) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_crashed_call_waits_for_the_final_reason() {
    let system = ActorSystem::new();
    let calc = system.spawn::<SlowExit>(SlowExit).await.unwrap();
    let start = Instant::now();
    let crashed = calc.divide(1, 0).await;
    let reason = ExitReason::Panic("attempt to divide by zero".into());
    assert_eq!(crashed, Err(CallError::Exited(reason.clone())));
    // The reason is final once `#[terminate]` has run; the actor is gone by then.
    assert_eq!(start.elapsed(), Duration::from_millis(10));
    assert_eq!(calc.exit_reason(), Some(reason));
    assert_eq!(calc.divide(4, 2).await, Err(CallError::NoProc));
}

struct Divider;

#[actor]
impl Divider {
    #[call]
    fn divide(&self, a: i64, b: i64) -> i64 {
        a / b
    }
}

// The caller runs on another worker while the actor unwinds: it must still see the crash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_call_is_exited_on_every_runtime() {
    let system = ActorSystem::new();
    for _ in 0..200 {
        let calc = system.spawn::<Divider>(Divider).await.unwrap();
        assert!(matches!(
            calc.divide(1, 0).await,
            Err(CallError::Exited(ExitReason::Panic(_)))
        ));
        assert_eq!(calc.divide(4, 2).await, Err(CallError::NoProc));
    }
}

struct Forwarder;

#[actor]
impl Forwarder {
    /// Hands the reply to a task that panics before answering.
    #[call]
    fn hand_off(&mut self, reply: Reply<u32>) {
        tokio::spawn(async move {
            let _reply = reply;
            panic!("helper task failed");
        });
    }

    #[call]
    fn alive(&self) -> bool {
        true
    }
}

#[tokio::test(start_paused = true)]
async fn a_reply_lost_elsewhere_is_noreply_not_a_timeout() {
    let system = ActorSystem::new();
    let fwd = system.spawn::<Forwarder>(Forwarder).await.unwrap();
    let start = Instant::now();
    assert_eq!(fwd.hand_off().await, Err(CallError::NoReply));
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(fwd.alive().await, Ok(true));
}

#[tokio::test(start_paused = true)]
async fn a_call_waiting_for_room_sees_the_crash() {
    let system = ActorSystem::new();
    let (gate, open) = held_gate(&system).await;
    gate.put(1).unwrap();
    gate.put(2).unwrap();
    let waiting = tokio::spawn({
        let gate = gate.clone();
        async move { gate.seen().await }
    });
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    // The held handler panics, so the actor dies with its mailbox still full.
    drop(open);
    assert!(matches!(
        waiting.await.unwrap(),
        Err(CallError::Exited(ExitReason::Panic(_)))
    ));
}

#[tokio::test(start_paused = true)]
async fn an_unbounded_timeout_does_not_overflow() {
    let system = ActorSystem::new();
    let s = svc(&system).await;
    assert_eq!(s.nap(10).timeout(Duration::MAX).await, Ok(10));
    assert_eq!(system.shutdown_with(Duration::MAX).await, Ok(()));
}

fn runtime(paused: bool) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(paused)
        .build()
        .expect("a runtime")
}

#[test]
fn calls_time_themselves_when_the_deadline_task_is_gone() {
    // Call deadlines are served by a task on the runtime of the system's first spawn.
    let first = runtime(false);
    let system = ActorSystem::new();
    first.block_on(svc(&system));
    let second = runtime(true);
    let s = second.block_on(svc(&system));
    // One call is already waiting when the deadline task's runtime goes away...
    let mut waiting = Box::pin(s.nap(60_000).timeout(Duration::from_millis(100)));
    second.block_on(std::future::poll_fn(|cx| {
        assert!(waiting.as_mut().poll(cx).is_pending());
        std::task::Poll::Ready(())
    }));
    drop(first);
    second.block_on(async {
        let start = Instant::now();
        assert_eq!(waiting.await, Err(CallError::Timeout));
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        // ...and new calls time themselves too.
        let start = Instant::now();
        let late = s.nap(60_000).timeout(Duration::from_millis(50)).await;
        assert_eq!(late, Err(CallError::Timeout));
        assert_eq!(start.elapsed(), Duration::from_millis(50));
        // The next spawn starts a deadline task on this runtime.
        let other = svc(&system).await;
        let start = Instant::now();
        let late = other.nap(60_000).timeout(Duration::from_millis(20)).await;
        assert_eq!(late, Err(CallError::Timeout));
        assert_eq!(start.elapsed(), Duration::from_millis(20));
        system.shutdown_with(Duration::from_secs(1)).await.ok();
    });
}

#[tokio::test(start_paused = true)]
async fn many_waiting_calls_each_time_out_at_their_own_deadline() {
    let system = ActorSystem::new();
    let s = svc(&system).await;
    let start = Instant::now();
    // More than one batch of wake-ups, with deadlines out of order.
    let calls: Vec<_> = (0..100u64)
        .map(|i| {
            let s = s.clone();
            let ms = 10 + (i * 37) % 100;
            tokio::spawn(async move {
                let out = s.nap(60_000).timeout(Duration::from_millis(ms)).await;
                (ms, out, start.elapsed())
            })
        })
        .collect();
    for call in calls {
        let (ms, out, elapsed) = call.await.unwrap();
        assert_eq!(out, Err(CallError::Timeout));
        assert_eq!(elapsed, Duration::from_millis(ms));
    }
}

#[tokio::test(start_paused = true)]
async fn the_deadline_task_ends_with_its_system() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let system = ActorSystem::new();
    let s = svc(&system).await;
    let late = s.nap(60_000).timeout(Duration::from_millis(10)).await;
    assert_eq!(late, Err(CallError::Timeout));
    // The actor and the system's deadline task.
    assert_eq!(metrics.num_alive_tasks(), 2);
    system.shutdown().await;
    drop((s, system));
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    assert_eq!(metrics.num_alive_tasks(), 0);
}

/// Works for a while before it answers, blocking its thread (a synchronous handler that
/// computes, or calls blocking code).
struct Slow {
    handled: u32,
}

#[actor]
impl Slow {
    /// Blocks its thread for `ms` of real time.
    #[call]
    fn block(&mut self, ms: u64) -> u32 {
        std::thread::sleep(Duration::from_millis(ms));
        self.handled += 1;
        self.handled
    }

    /// Blocks its thread for `ms`, then yields once before it answers.
    #[call]
    async fn block_then_yield(&mut self, ms: u64) -> u32 {
        std::thread::sleep(Duration::from_millis(ms));
        tokio::task::yield_now().await;
        self.handled += 1;
        self.handled
    }

    /// Blocks its thread for `ms`, then waits an hour before it answers.
    #[call]
    async fn block_then_sleep(&mut self, ms: u64) -> u32 {
        std::thread::sleep(Duration::from_millis(ms));
        tokio::time::sleep(Duration::from_secs(3600)).await;
        self.handled += 1;
        self.handled
    }

    #[call]
    fn handled(&self) -> u32 {
        self.handled
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_call_already_late_in_place_gives_up_without_waiting_for_the_reply() {
    let system = ActorSystem::new();
    let slow = system.spawn::<Slow>(Slow { handled: 0 }).await.unwrap();
    // The handler blocks past the timeout in place, then goes on waiting: the call knows
    // it is late when the run in place ends, and does not wait a second timeout.
    let start = Instant::now();
    let late = slow
        .block_then_sleep(100)
        .timeout(Duration::from_millis(10))
        .await;
    assert_eq!(late, Err(CallError::Timeout));
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "waited on the paused clock"
    );
    system.shutdown_with(Duration::from_millis(1)).await.ok();
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_reply_after_the_deadline_is_a_timeout_even_when_answered_in_place() {
    let system = ActorSystem::new();
    let slow = system.spawn::<Slow>(Slow { handled: 0 }).await.unwrap();
    // Run in place (nothing says it is slow yet): the reply is there when the call
    // returns, 100 ms after it was sent, and dropped. (The paused clock does not move
    // while a thread blocks; the call's own timing still sees it.)
    let start = std::time::Instant::now();
    let late = slow.block(100).timeout(Duration::from_millis(10)).await;
    assert_eq!(late, Err(CallError::Timeout));
    assert!(start.elapsed() >= Duration::from_millis(100));
    // The handler ran: only its reply was dropped.
    assert_eq!(slow.handled().await, Ok(1));
    // The same with a handler that yields after blocking: its reply comes in a later
    // round, still late.
    let late = slow
        .block_then_yield(100)
        .timeout(Duration::from_millis(10))
        .await;
    assert_eq!(late, Err(CallError::Timeout));
    assert_eq!(slow.handled().await, Ok(2));
    // Within a budget that allows it, the same handler answers.
    assert_eq!(slow.block(100).timeout(Duration::from_secs(5)).await, Ok(3));
    system.shutdown().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_handler_known_to_overrun_the_timeout_is_not_run_in_place() {
    let system = ActorSystem::new();
    let slow = system.spawn::<Slow>(Slow { handled: 0 }).await.unwrap();
    let first = slow.block(100).timeout(Duration::from_millis(10)).await;
    assert_eq!(first, Err(CallError::Timeout));
    // It took 100 ms last time: a call that allows 10 ms leaves it to the scheduler.
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut call = std::pin::pin!(
        slow.block(100)
            .timeout(Duration::from_millis(10))
            .into_future()
    );
    assert!(call.as_mut().poll(&mut cx).is_pending());
    assert_eq!(
        slow.handled().timeout(Duration::MAX).into_future().await,
        Ok(2)
    );
    // Its reply is there, but late.
    assert_eq!(call.await, Err(CallError::Timeout));
    // One that allows fifty times as long runs it in place, answered in its first poll.
    let mut call = std::pin::pin!(
        slow.block(100)
            .timeout(Duration::from_secs(5))
            .into_future()
    );
    assert_eq!(call.as_mut().poll(&mut cx), std::task::Poll::Ready(Ok(3)));
    system.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_handler_is_a_timeout_on_two_workers() {
    let system = ActorSystem::new();
    let slow = system.spawn::<Slow>(Slow { handled: 0 }).await.unwrap();
    // The first call cannot know: it runs the handler in place, and its reply is late.
    let start = std::time::Instant::now();
    let first = slow.block(200).timeout(Duration::from_millis(20)).await;
    assert_eq!(first, Err(CallError::Timeout));
    assert!(start.elapsed() >= Duration::from_millis(200));
    // The actor is known to take 200 ms: the next call leaves it to the scheduler with its
    // deadline armed, and gives up (at its deadline when another worker runs the handler,
    // or when the reply comes, late, if the scheduler ran it on the caller's thread).
    let second = slow.block(200).timeout(Duration::from_millis(20)).await;
    assert_eq!(second, Err(CallError::Timeout));
    // A timeout around the call ends it as well (or the call's own, first).
    let outer = tokio::time::timeout(
        Duration::from_millis(20),
        slow.block(200).timeout(Duration::from_millis(50)),
    )
    .await;
    assert!(
        matches!(outer, Err(_) | Ok(Err(CallError::Timeout))),
        "{outer:?}"
    );
    // Both handlers ran; once they are done, the actor answers again.
    assert_eq!(slow.handled().timeout(Duration::from_secs(5)).await, Ok(3));
    system.shutdown().await;
}
