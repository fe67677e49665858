//! Casts that wait for room in a bounded mailbox: `r.waiting().name(args).await`.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use beam_runtime::prelude::*;
use tokio::sync::watch;
use tokio::time::Instant;

/// Handles `put` only while its gate is open, so a test decides when room appears.
struct Gated {
    got: Vec<(u32, u32)>,
    gate: watch::Receiver<bool>,
}

#[actor(mailbox = 2)]
impl Gated {
    #[cast]
    async fn put(&mut self, from: u32, n: u32) {
        let _ = self.gate.wait_for(|open| *open).await;
        self.got.push((from, n));
    }

    /// Casts to itself, waiting, with its own mailbox full: never any room.
    #[call]
    async fn put_to_self(&mut self, ctx: &mut Ctx<Self>) -> Result<(), SendError> {
        let me = ctx.me().clone();
        me.put(0, 1)?;
        me.put(0, 2)?;
        me.waiting().put(0, 3).timeout(Duration::MAX).await
    }

    #[call]
    fn got(&self) -> Vec<(u32, u32)> {
        self.got.clone()
    }
}

async fn gated(system: &ActorSystem, open: bool) -> (ActorRef<Gated>, watch::Sender<bool>) {
    let (gate, rx) = watch::channel(open);
    let actor = Gated {
        got: Vec::new(),
        gate: rx,
    };
    (system.spawn::<Gated>(actor).await.unwrap(), gate)
}

/// A closed-gate actor whose mailbox (of 2) is full: one message stuck at the gate in its
/// handler, two queued (`(1, 1)` to `(1, 3)`).
async fn full(system: &ActorSystem) -> (ActorRef<Gated>, watch::Sender<bool>) {
    let (g, gate) = gated(system, false).await;
    g.put(1, 1).unwrap();
    tokio::task::yield_now().await;
    g.put(1, 2).unwrap();
    g.put(1, 3).unwrap();
    (g, gate)
}

/// Polls `fut` once.
fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    pin!(fut).poll(&mut Context::from_waker(Waker::noop()))
}

struct Plain;

#[actor]
impl Plain {
    #[cast]
    fn put(&mut self, n: u32) {
        let _ = n;
    }
}

#[tokio::test]
async fn to_an_unbounded_mailbox_it_is_sent_on_the_first_poll() {
    let system = ActorSystem::new();
    let plain = system.spawn::<Plain>(Plain).await.unwrap();
    for n in 0..100 {
        assert_eq!(poll_once(plain.waiting().put(n)), Poll::Ready(Ok(())));
    }
    // So is one to a bounded mailbox with room.
    let (g, _gate) = gated(&system, true).await;
    assert_eq!(poll_once(g.waiting().put(1, 1)), Poll::Ready(Ok(())));
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn it_waits_for_room_then_delivers() {
    let system = ActorSystem::new();
    let (g, gate) = full(&system).await;
    assert_eq!(g.put(1, 4), Err(SendError::Full));

    let start = Instant::now();
    let opener = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        gate.send(true).unwrap();
    });
    g.waiting().put(1, 4).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    opener.await.unwrap();
    assert_eq!(g.got().await.unwrap(), [(1, 1), (1, 2), (1, 3), (1, 4)]);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn it_times_out_after_five_seconds_or_its_own_timeout() {
    let system = ActorSystem::new();
    let (g, gate) = full(&system).await;

    let start = Instant::now();
    assert_eq!(g.waiting().put(1, 4).await, Err(SendError::Timeout));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_millis(5_100),
        "{waited:?}"
    );

    let start = Instant::now();
    let late = g
        .waiting()
        .put(1, 5)
        .timeout(Duration::from_millis(50))
        .await;
    assert_eq!(late, Err(SendError::Timeout));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(50) && waited < Duration::from_millis(100),
        "{waited:?}"
    );

    // The messages that timed out were never sent.
    gate.send(true).unwrap();
    assert_eq!(g.got().await.unwrap(), [(1, 1), (1, 2), (1, 3)]);
    assert_eq!(
        beam_runtime::Error::from(SendError::Timeout).to_string(),
        "the actor's mailbox stayed full until the timeout"
    );
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn it_fails_with_no_proc_when_the_actor_is_or_goes_away() {
    let system = ActorSystem::new();
    let (g, _gate) = full(&system).await;

    let start = Instant::now();
    let killer = {
        let g = g.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            g.kill();
        })
    };
    assert_eq!(
        g.waiting().put(1, 4).timeout(Duration::MAX).await,
        Err(SendError::NoProc)
    );
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    killer.await.unwrap();
    assert_eq!(
        poll_once(g.waiting().put(1, 5)),
        Poll::Ready(Err(SendError::NoProc))
    );
    system.shutdown().await;
}

#[tokio::test]
async fn to_its_own_full_mailbox_it_fails_at_once() {
    let system = ActorSystem::new();
    let (g, gate) = gated(&system, false).await;
    let answer = g
        .put_to_self()
        .timeout(Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(answer, Err(SendError::Full));
    // Let its two queued messages through, so the shutdown need not wait for a kill.
    gate.send(true).unwrap();
    assert_eq!(g.got().await.unwrap(), [(0, 1), (0, 2)]);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_dropped_cast_sends_nothing_and_frees_its_place() {
    let system = ActorSystem::new();
    let (g, gate) = full(&system).await;
    {
        let mut first = pin!(g.waiting().put(1, 4));
        assert!(poll_once(first.as_mut()).is_pending());
    }
    gate.send(true).unwrap();
    // The room goes to the next waiter, not to the dropped one.
    g.waiting().put(1, 5).await.unwrap();
    assert_eq!(g.got().await.unwrap(), [(1, 1), (1, 2), (1, 3), (1, 5)]);
    system.shutdown().await;
}

/// Many senders each wait for room in a small mailbox: every message arrives, each
/// sender's in the order sent.
async fn many_senders_through_a_small_mailbox() {
    let system = ActorSystem::new();
    let (g, _gate) = gated(&system, true).await;
    let senders: Vec<_> = (0..8)
        .map(|from| {
            let g = g.clone();
            tokio::spawn(async move {
                for n in 0..200 {
                    g.waiting().put(from, n).await.unwrap();
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    let got = g.got().await.unwrap();
    assert_eq!(got.len(), 8 * 200);
    for from in 0..8 {
        let mine: Vec<u32> = got
            .iter()
            .filter(|(f, _)| *f == from)
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(mine, (0..200).collect::<Vec<_>>());
    }
    system.shutdown().await;
}

#[tokio::test]
async fn many_senders_current_thread() {
    many_senders_through_a_small_mailbox().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_senders_multi_thread() {
    many_senders_through_a_small_mailbox().await;
}
