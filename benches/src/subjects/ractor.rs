//! ractor 0.16: actors implementing its `Actor` trait (`pre_start` builds the state,
//! `handle` takes one message at a time), a message enum with an `RpcReplyPort` for calls,
//! `ActorRef::cast`/`call!`, unnamed actors from `Actor::spawn`, and `stop` followed by
//! awaiting the actor's join handle to stop one. The crate is used with its default features
//! (tokio runtime and `message_span_propogation`, which checks for a tracing span to carry
//! with every message; no tracing subscriber is installed here).

use std::time::Instant;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, call, cast};
use tokio::sync::oneshot;

use crate::{Case, Flavor, Meter, Outcome, Subject, idle_outcome, on_tokio, rss_bytes};

/// ractor with its default features. Its mailboxes are unbounded (a ractor actor's message
/// port is an unbounded tokio channel and a cast never waits), so it is compared with the
/// unbounded raw-tokio baseline.
#[derive(Debug)]
pub struct Ractor;

impl Subject for Ractor {
    const NAME: &'static str = "ractor";
    /// ractor has no bounded mailbox: every actor's message port is unbounded.
    const BOUNDED: bool = false;

    fn run(flavor: Flavor, case: Case) -> Outcome {
        on_tokio(flavor, move || run_case(case))
    }
}

/// The counter's messages.
enum CounterMsg {
    /// A cast: add to the sum.
    Add(u64),
    /// A call: the sum, or with a next actor, the next actor's answer.
    Get(RpcReplyPort<u64>),
    /// Sets the partner balls are bounced to, and who to tell when the rally ends.
    Partner(ActorRef<CounterMsg>, Option<oneshot::Sender<()>>),
    /// Ping-pong: bounce `k - 1` to the partner, or at zero report the end.
    Ball(u64),
}

/// A counter; with a next actor it asks the next one before answering `Get` (the 2-hop
/// chain), and bounces `Ball`s to it (ping-pong).
struct Counter;

struct CounterState {
    sum: u64,
    next: Option<ActorRef<CounterMsg>>,
    done: Option<oneshot::Sender<()>>,
}

impl Actor for Counter {
    type Msg = CounterMsg;
    type State = CounterState;
    /// The next actor, if any.
    type Arguments = Option<ActorRef<CounterMsg>>;

    async fn pre_start(
        &self,
        _myself: ActorRef<CounterMsg>,
        next: Self::Arguments,
    ) -> Result<CounterState, ActorProcessingErr> {
        Ok(CounterState {
            sum: 0,
            next,
            done: None,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<CounterMsg>,
        message: CounterMsg,
        state: &mut CounterState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            CounterMsg::Add(n) => state.sum = state.sum.wrapping_add(n),
            CounterMsg::Get(reply) => {
                let value = match &state.next {
                    Some(next) => call!(next, CounterMsg::Get)?,
                    None => state.sum,
                };
                let _ = reply.send(value);
            }
            CounterMsg::Partner(next, done) => {
                state.next = Some(next);
                state.done = done;
            }
            CounterMsg::Ball(0) => {
                if let Some(done) = state.done.take() {
                    let _ = done.send(());
                }
            }
            CounterMsg::Ball(k) => {
                let next = state.next.as_ref().expect("a partner");
                cast!(next, CounterMsg::Ball(k - 1))?;
            }
        }
        Ok(())
    }
}

/// A skynet node's only message: the sum of the leaves under `(num, size)`.
enum NodeMsg {
    Sum(u64, u64, RpcReplyPort<u64>),
}

/// A skynet node: spawns ten children linked to it (it supervises them), sends each its
/// `Sum` with a reply port at once, awaits the ten replies, answers and stops itself.
struct Node;

impl Actor for Node {
    type Msg = NodeMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<NodeMsg>,
        (): (),
    ) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<NodeMsg>,
        message: NodeMsg,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        let NodeMsg::Sum(num, size, reply) = message;
        let total = if size == 1 {
            num
        } else {
            // `call!` awaits one reply at a time, so the ten calls are made by hand the way
            // ractor's own `call` makes one: a oneshot turned into an `RpcReplyPort`.
            let mut replies = Vec::with_capacity(10);
            for i in 0..10 {
                let (child, _) = Actor::spawn_linked(None, Node, (), myself.get_cell()).await?;
                let (tx, rx) = oneshot::channel();
                cast!(child, NodeMsg::Sum(num * 10 + i, size / 10, tx.into()))?;
                replies.push(rx);
            }
            let mut total = 0;
            for rx in replies {
                total += rx.await?;
            }
            total
        };
        let _ = reply.send(total);
        myself.stop(None);
        Ok(())
    }
}

async fn spawn(next: Option<ActorRef<CounterMsg>>) -> ActorRef<CounterMsg> {
    Actor::spawn(None, Counter, next).await.expect("spawn").0
}

async fn get(actor: &ActorRef<CounterMsg>) -> u64 {
    call!(actor, CounterMsg::Get).expect("get")
}

fn add(actor: &ActorRef<CounterMsg>, n: u64) {
    cast!(actor, CounterMsg::Add(n)).expect("cast");
}

async fn run_case(case: Case) -> Outcome {
    match case {
        Case::Call { n } => {
            let actor = spawn(None).await;
            get(&actor).await;
            let meter = Meter::start();
            for _ in 0..n {
                std::hint::black_box(get(&actor).await);
            }
            let outcome = meter.stop(n);
            actor.stop(None);
            outcome
        }
        Case::Chain2 { n } => {
            let second = spawn(None).await;
            let first = spawn(Some(second.clone())).await;
            get(&first).await;
            let meter = Meter::start();
            for _ in 0..n {
                std::hint::black_box(get(&first).await);
            }
            let outcome = meter.stop(n);
            first.stop(None);
            second.stop(None);
            outcome
        }
        Case::Cast { n } => {
            let actor = spawn(None).await;
            get(&actor).await;
            let meter = Meter::start();
            for i in 0..n {
                add(&actor, i);
            }
            std::hint::black_box(get(&actor).await);
            let outcome = meter.stop(n);
            actor.stop(None);
            outcome
        }
        Case::Contention {
            producers,
            per_producer,
        } => {
            let actor = spawn(None).await;
            get(&actor).await;
            let meter = Meter::start();
            let tasks: Vec<_> = (0..producers)
                .map(|_| {
                    let actor = actor.clone();
                    tokio::spawn(async move {
                        for i in 0..per_producer {
                            add(&actor, i);
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a producer");
            }
            std::hint::black_box(get(&actor).await);
            let outcome = meter.stop(producers * per_producer);
            actor.stop(None);
            outcome
        }
        Case::RoundRobin { actors, n } => {
            let mut refs = Vec::with_capacity(actors as usize);
            for _ in 0..actors {
                refs.push(spawn(None).await);
            }
            let meter = Meter::start();
            for i in 0..n {
                add(&refs[(i % actors) as usize], i);
            }
            for actor in &refs {
                std::hint::black_box(get(actor).await);
            }
            let outcome = meter.stop(n);
            for actor in &refs {
                actor.stop(None);
            }
            outcome
        }
        Case::PingPong { pairs, rounds } => {
            let mut starts = Vec::new();
            let mut dones = Vec::new();
            let mut all = Vec::new();
            for _ in 0..pairs {
                // `b` bounces to `a`; `a` bounces to `b` and reports the end.
                let a = spawn(None).await;
                let b = spawn(Some(a.clone())).await;
                let (done_tx, done_rx) = oneshot::channel();
                cast!(a, CounterMsg::Partner(b.clone(), Some(done_tx))).expect("partner");
                starts.push(a.clone());
                dones.push(done_rx);
                all.extend([a, b]);
            }
            let meter = Meter::start();
            for a in &starts {
                cast!(a, CounterMsg::Ball(2 * rounds)).expect("serve");
            }
            for done in dones {
                done.await.expect("the rally ends");
            }
            let outcome = meter.stop(pairs * rounds);
            for actor in &all {
                actor.stop(None);
            }
            outcome
        }
        Case::Idle { n } => {
            let before = rss_bytes();
            let start = Instant::now();
            let mut actors = Vec::with_capacity(n as usize);
            for _ in 0..n {
                actors.push(Actor::spawn(None, Counter, None).await.expect("spawn"));
            }
            let spawn_time = start.elapsed();
            let bytes = rss_bytes().saturating_sub(before);
            let start = Instant::now();
            for (actor, _) in &actors {
                actor.stop(None);
            }
            for (_, handle) in actors {
                handle.await.expect("an idle actor stops");
            }
            idle_outcome(n, spawn_time, bytes, start.elapsed())
        }
        Case::Churn { n } => {
            let meter = Meter::start();
            for _ in 0..n {
                let (actor, handle) = Actor::spawn(None, Counter, None).await.expect("spawn");
                std::hint::black_box(get(&actor).await);
                actor.stop(None);
                handle.await.expect("a stopped actor");
            }
            meter.stop(n)
        }
        Case::Skynet { leaves } => {
            let meter = Meter::start();
            let (root, handle) = Actor::spawn(None, Node, ()).await.expect("spawn");
            let total = call!(root, NodeMsg::Sum, 0, leaves).expect("the sum");
            assert_eq!(total, leaves * (leaves - 1) / 2);
            handle.await.expect("the root stops");
            meter.stop(leaves)
        }
    }
}
