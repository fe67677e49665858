//! kameo 0.22 with its default mailbox: `Spawn::spawn` gives every actor a bounded mailbox of
//! 64 messages (a `tokio::sync::mpsc::channel(64)`), where a `tell` to a full mailbox waits
//! for room like a send on a full tokio channel. Calls are `ask`, casts are `tell`, actors are
//! spawned with `Spawn::spawn` (or `Spawn::prepare` when two must know each other), stopped with
//! `stop_gracefully` and awaited with `wait_for_shutdown_result`; skynet's nodes stop when the
//! last reference to them is dropped, as the raw tasks end when their last sender is. The crate
//! is built with its default features (`macros`, `tracing`).
//!
//! The supervision cases use kameo's built-in supervision: a supervisor actor whose
//! `Actor::supervision_strategy` is one-for-one or one-for-all, with its workers spawned
//! through `Spawn::supervise` (permanent restart policy, `u32::MAX` restarts a millisecond).
//! A restarted worker keeps its `ActorRef`: the new incarnation takes over the same mailbox,
//! so the caller keeps calling the same reference and tells incarnations apart by the number
//! each worker answers with.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kameo::Actor;
use kameo::actor::{ActorRef, Spawn};
use kameo::error::{Infallible, SendError};
use kameo::message::{Context, Message};
use kameo::supervision::{RestartPolicy, SupervisionStrategy};
use tokio::sync::oneshot;

use crate::{Case, Flavor, Meter, Outcome, Subject, idle_outcome, on_tokio, rss_bytes};

/// kameo with its default mailbox, bounded to 64 messages.
#[derive(Debug)]
pub struct Kameo;

impl Subject for Kameo {
    const NAME: &'static str = "kameo";
    /// kameo's `Spawn::spawn` uses `mailbox::bounded(64)` unless told otherwise.
    const BOUNDED: bool = true;

    fn run(flavor: Flavor, case: Case) -> Outcome {
        on_tokio(flavor, move || run_case(case))
    }
}

/// A counter; with `next`, it asks `next` before answering [`Get`] (the 2-hop chain) and
/// bounces [`Ball`]s to it (ping-pong, `done` fires at zero).
#[derive(Actor)]
struct Counter {
    sum: u64,
    next: Option<ActorRef<Counter>>,
    done: Option<oneshot::Sender<()>>,
}

/// Cast: adds to the counter.
struct Add(u64);

/// Call: the counter's value (or, with a `next`, the value `next` answers).
struct Get;

/// Cast: a ping-pong ball with the bounces left.
struct Ball(u64);

impl Message<Add> for Counter {
    type Reply = ();

    async fn handle(&mut self, Add(n): Add, _ctx: &mut Context<Self, Self::Reply>) {
        self.sum = self.sum.wrapping_add(n);
    }
}

impl Message<Get> for Counter {
    type Reply = u64;

    async fn handle(&mut self, _: Get, _ctx: &mut Context<Self, Self::Reply>) -> u64 {
        match &self.next {
            Some(next) => next.ask(Get).await.expect("the next actor answers"),
            None => self.sum,
        }
    }
}

impl Message<Ball> for Counter {
    type Reply = ();

    async fn handle(&mut self, Ball(k): Ball, _ctx: &mut Context<Self, Self::Reply>) {
        if k == 0 {
            if let Some(done) = self.done.take() {
                let _ = done.send(());
            }
            return;
        }
        let next = self.next.as_ref().expect("a partner");
        next.tell(Ball(k - 1)).await.expect("the partner is alive");
    }
}

fn state() -> Counter {
    Counter {
        sum: 0,
        next: None,
        done: None,
    }
}

/// A skynet node: answers [`Sum`] with the sum of its subtree's leaves.
#[derive(Actor)]
struct Node;

/// Call: the sum of the leaves under the node numbered `num` with `size` leaves.
struct Sum {
    num: u64,
    size: u64,
}

impl Message<Sum> for Node {
    type Reply = u64;

    async fn handle(&mut self, Sum { num, size }: Sum, _ctx: &mut Context<Self, u64>) -> u64 {
        if size == 1 {
            return num;
        }
        // Ten children, all asked before any answer is awaited; dropping the last reference
        // to a child afterwards stops it.
        let children: Vec<ActorRef<Node>> = (0..10).map(|_| Node::spawn(Node)).collect();
        let mut replies = Vec::with_capacity(10);
        for (i, child) in (0..).zip(&children) {
            let sum = Sum {
                num: num * 10 + i,
                size: size / 10,
            };
            replies.push(child.ask(sum).enqueue().await.expect("a child's mailbox"));
        }
        let mut total = 0;
        for reply in replies {
            total += reply.await.expect("a child's sum");
        }
        total
    }
}

/// A supervised worker: fails on [`Fail`], answers [`Ping`] with its incarnation (1 for
/// the first start, 2 after the first restart, ...).
struct Worker {
    incarnation: u64,
}

impl Actor for Worker {
    /// The worker's start counter, shared by all its incarnations (the supervisor clones
    /// the arguments for every restart).
    type Args = Arc<AtomicU64>;
    type Error = Infallible;

    async fn on_start(starts: Self::Args, _: ActorRef<Self>) -> Result<Self, Self::Error> {
        Ok(Worker {
            incarnation: starts.fetch_add(1, Ordering::Relaxed) + 1,
        })
    }
}

/// Cast: makes the worker fail (its handler returns an error, an abnormal exit).
struct Fail;

/// Call: the worker's incarnation.
struct Ping;

impl Message<Fail> for Worker {
    type Reply = Result<(), &'static str>;

    async fn handle(&mut self, _: Fail, _ctx: &mut Context<Self, Self::Reply>) -> Self::Reply {
        Err("asked to fail")
    }
}

impl Message<Ping> for Worker {
    type Reply = u64;

    async fn handle(&mut self, _: Ping, _ctx: &mut Context<Self, u64>) -> u64 {
        self.incarnation
    }
}

/// A supervisor that restarts only the worker that failed (`ALL = false`) or all its
/// workers when one fails (`ALL = true`).
struct Sup<const ALL: bool>;

impl<const ALL: bool> Actor for Sup<ALL> {
    type Args = Self;
    type Error = Infallible;

    fn supervision_strategy() -> SupervisionStrategy {
        if ALL {
            SupervisionStrategy::OneForAll
        } else {
            SupervisionStrategy::OneForOne
        }
    }

    async fn on_start(state: Self::Args, _: ActorRef<Self>) -> Result<Self, Self::Error> {
        Ok(state)
    }
}

/// `children` workers supervised by `supervisor`, restarted whatever their exit and never
/// given up on, each with the incarnation it answered a first call with.
async fn supervised<S: Actor>(
    supervisor: &ActorRef<S>,
    children: u64,
) -> (Vec<ActorRef<Worker>>, Vec<u64>) {
    let mut workers = Vec::with_capacity(children as usize);
    for _ in 0..children {
        let worker = Worker::supervise(supervisor, Arc::new(AtomicU64::new(0)))
            .restart_policy(RestartPolicy::Permanent)
            .restart_limit(u32::MAX, Duration::from_millis(1))
            .spawn()
            .await;
        workers.push(worker);
    }
    let mut seen = Vec::with_capacity(children as usize);
    for worker in &workers {
        seen.push(worker.ask(Ping).await.expect("the worker answers"));
    }
    (workers, seen)
}

/// Waits until an incarnation of `worker` newer than `seen` answers a call; returns it.
///
/// The reference stays valid across restarts and calls queue in the mailbox the new
/// incarnation takes over, so a call made after the failing message is answered by the
/// next incarnation. A call caught in the old incarnation's teardown comes back as
/// `ActorRestarting`, and an answer from an incarnation that has not yet been replaced
/// (a one-for-all sibling not stopped yet) is not the restart: both are asked again.
async fn restarted(worker: &ActorRef<Worker>, seen: u64) -> u64 {
    loop {
        match worker.ask(Ping).await {
            Ok(incarnation) if incarnation > seen => return incarnation,
            Ok(_) | Err(SendError::ActorRestarting(_)) => {}
            Err(err) => panic!("the restarted worker answers: {err}"),
        }
    }
}

/// Makes `worker` fail.
async fn fail(worker: &ActorRef<Worker>) {
    worker.tell(Fail).await.expect("fail");
}

/// Stops an actor and waits until it has fully shut down (its `on_stop` has run).
async fn stop(actor: &ActorRef<Counter>) {
    actor.stop_gracefully().await.expect("a running actor");
    wait_stopped(actor).await;
}

async fn wait_stopped(actor: &ActorRef<Counter>) {
    actor
        .wait_for_shutdown_result()
        .await
        .expect("a clean shutdown");
}

async fn get(actor: &ActorRef<Counter>) -> u64 {
    actor.ask(Get).await.expect("get")
}

async fn add(actor: &ActorRef<Counter>, n: u64) {
    actor.tell(Add(n)).await.expect("add");
}

async fn run_case(case: Case) -> Outcome {
    match case {
        Case::Call { n } => {
            let actor = Counter::spawn(state());
            get(&actor).await;
            let meter = Meter::start();
            for _ in 0..n {
                std::hint::black_box(get(&actor).await);
            }
            meter.stop(n)
        }
        Case::Chain2 { n } => {
            let second = Counter::spawn(state());
            let first = Counter::spawn(Counter {
                next: Some(second),
                ..state()
            });
            get(&first).await;
            let meter = Meter::start();
            for _ in 0..n {
                std::hint::black_box(get(&first).await);
            }
            meter.stop(n)
        }
        Case::Cast { n } => {
            let actor = Counter::spawn(state());
            get(&actor).await;
            let meter = Meter::start();
            for i in 0..n {
                add(&actor, i).await;
            }
            std::hint::black_box(get(&actor).await);
            meter.stop(n)
        }
        Case::Contention {
            producers,
            per_producer,
        } => {
            let actor = Counter::spawn(state());
            get(&actor).await;
            let meter = Meter::start();
            let tasks: Vec<_> = (0..producers)
                .map(|_| {
                    let actor = actor.clone();
                    tokio::spawn(async move {
                        for i in 0..per_producer {
                            add(&actor, i).await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a producer");
            }
            std::hint::black_box(get(&actor).await);
            meter.stop(producers * per_producer)
        }
        Case::RoundRobin { actors, n } => {
            let refs: Vec<ActorRef<Counter>> =
                (0..actors).map(|_| Counter::spawn(state())).collect();
            let meter = Meter::start();
            for i in 0..n {
                add(&refs[(i % actors) as usize], i).await;
            }
            for actor in &refs {
                std::hint::black_box(get(actor).await);
            }
            meter.stop(n)
        }
        Case::PingPong { pairs, rounds } => {
            let mut starts = Vec::new();
            let mut dones = Vec::new();
            for _ in 0..pairs {
                // `b` bounces to `a`; `a` bounces to `b` and reports the end. `a` is prepared
                // first so that `b` can be spawned knowing it.
                let a = Counter::prepare();
                let a_ref = a.actor_ref().clone();
                let b = Counter::spawn(Counter {
                    next: Some(a_ref.clone()),
                    ..state()
                });
                let (done_tx, done_rx) = oneshot::channel();
                // The join handle is not needed: the rally's end is reported through `done`.
                drop(a.spawn(Counter {
                    next: Some(b),
                    done: Some(done_tx),
                    ..state()
                }));
                starts.push(a_ref);
                dones.push(done_rx);
            }
            let meter = Meter::start();
            for a in &starts {
                a.tell(Ball(2 * rounds)).await.expect("a ball");
            }
            for done in dones {
                done.await.expect("the rally ends");
            }
            meter.stop(pairs * rounds)
        }
        Case::Idle { n } => {
            let before = rss_bytes();
            let start = Instant::now();
            let mut refs = Vec::with_capacity(n as usize);
            for _ in 0..n {
                refs.push(Counter::spawn(state()));
            }
            let spawn = start.elapsed();
            let bytes = rss_bytes().saturating_sub(before);
            let start = Instant::now();
            for actor in &refs {
                actor.stop_gracefully().await.expect("a running actor");
            }
            for actor in &refs {
                wait_stopped(actor).await;
            }
            idle_outcome(n, spawn, bytes, start.elapsed())
        }
        Case::Churn { n } => {
            let meter = Meter::start();
            for _ in 0..n {
                let actor = Counter::spawn(state());
                std::hint::black_box(get(&actor).await);
                stop(&actor).await;
            }
            meter.stop(n)
        }
        Case::Skynet { leaves } => {
            let meter = Meter::start();
            let root = Node::spawn(Node);
            let total = root
                .ask(Sum {
                    num: 0,
                    size: leaves,
                })
                .await
                .expect("the sum");
            assert_eq!(total, leaves * (leaves - 1) / 2);
            meter.stop(leaves)
        }
        Case::Restart { n } => {
            let supervisor = Sup::<false>::spawn(Sup);
            let (workers, mut seen) = supervised(&supervisor, 1).await;
            let meter = Meter::start();
            for _ in 0..n {
                fail(&workers[0]).await;
                seen[0] = restarted(&workers[0], seen[0]).await;
            }
            meter.stop(n)
        }
        Case::CrashBurst { children } => {
            let supervisor = Sup::<false>::spawn(Sup);
            let (workers, mut seen) = supervised(&supervisor, children).await;
            let meter = Meter::start();
            for worker in &workers {
                fail(worker).await;
            }
            for (worker, seen) in workers.iter().zip(&mut seen) {
                *seen = restarted(worker, *seen).await;
            }
            meter.stop(children)
        }
        Case::OneForAll { children, rounds } => {
            let supervisor = Sup::<true>::spawn(Sup);
            let (workers, mut seen) = supervised(&supervisor, children).await;
            let meter = Meter::start();
            for _ in 0..rounds {
                fail(&workers[0]).await;
                for (worker, seen) in workers.iter().zip(&mut seen) {
                    *seen = restarted(worker, *seen).await;
                }
            }
            meter.stop(rounds)
        }
    }
}
