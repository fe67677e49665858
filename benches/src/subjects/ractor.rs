//! ractor 0.16: actors implementing its `Actor` trait (`pre_start` builds the state,
//! `handle` takes one message at a time), a message enum with an `RpcReplyPort` for calls,
//! `ActorRef::cast`/`call!`, unnamed actors from `Actor::spawn`, and `stop` followed by
//! awaiting the actor's join handle to stop one. The crate is used with its default features
//! (tokio runtime and `message_span_propogation`, which checks for a tracing span to carry
//! with every message; no tracing subscriber is installed here).
//!
//! ractor's core crate links actors (`spawn_linked`) and tells a supervisor when a child
//! fails, but has no restart strategies: the supervision cases use a supervisor actor whose
//! `handle_supervisor_evt` respawns the failed child (one-for-one) or stops the others and
//! respawns them all (one-for-all), publishing each new incarnation on a `watch` per child.

use std::collections::HashMap;
use std::time::Instant;

use ractor::{
    Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent, call, cast,
};
use tokio::sync::{oneshot, watch};

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

/// A supervised worker's messages.
enum WorkerMsg {
    /// Fail: the handler returns an error, so the worker exits abnormally (`ActorFailed`).
    Fail,
    /// A call: answers 1.
    Ping(RpcReplyPort<u64>),
}

/// A supervised worker: fails on request, answers calls.
struct Worker;

impl Actor for Worker {
    type Msg = WorkerMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<WorkerMsg>,
        (): (),
    ) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<WorkerMsg>,
        message: WorkerMsg,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match message {
            WorkerMsg::Fail => Err("asked to fail".into()),
            WorkerMsg::Ping(reply) => {
                let _ = reply.send(1);
                Ok(())
            }
        }
    }
}

/// Which workers a supervisor restarts when one exits.
#[derive(Clone, Copy)]
enum Strategy {
    /// Only the one that exited.
    OneForOne,
    /// All of them: the others are stopped first, then all are started again in order.
    OneForAll,
}

/// The supervisor's only message: a subscription to every worker's current incarnation.
enum SupervisorMsg {
    /// A call: one `watch` receiver per worker, in start order.
    Workers(RpcReplyPort<Vec<watch::Receiver<ActorRef<WorkerMsg>>>>),
}

/// A supervisor of a fixed number of workers, linked to it with `spawn_linked`, that
/// restarts them by its [`Strategy`] whenever one exits, however often (it never gives up).
struct WorkerSupervisor(Strategy);

/// The supervisor's bookkeeping.
struct SupervisorState {
    /// Each worker's current incarnation, published to the subscribers.
    current: Vec<watch::Sender<ActorRef<WorkerMsg>>>,
    /// The worker each running incarnation is. An incarnation the supervisor stopped or
    /// replaced is not here, so its exit restarts nothing.
    workers: HashMap<ActorId, usize>,
}

/// Spawns a new incarnation of a worker, linked to `supervisor`.
async fn spawn_worker(
    supervisor: &ActorRef<SupervisorMsg>,
) -> Result<ActorRef<WorkerMsg>, ActorProcessingErr> {
    let (worker, _) = Actor::spawn_linked(None, Worker, (), supervisor.get_cell()).await?;
    Ok(worker)
}

impl Actor for WorkerSupervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    /// How many workers.
    type Arguments = usize;

    async fn pre_start(
        &self,
        myself: ActorRef<SupervisorMsg>,
        children: usize,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        let mut state = SupervisorState {
            current: Vec::with_capacity(children),
            workers: HashMap::with_capacity(children),
        };
        for i in 0..children {
            let worker = spawn_worker(&myself).await?;
            state.workers.insert(worker.get_id(), i);
            state.current.push(watch::channel(worker).0);
        }
        Ok(state)
    }

    async fn handle(
        &self,
        _myself: ActorRef<SupervisorMsg>,
        message: SupervisorMsg,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        let SupervisorMsg::Workers(reply) = message;
        let _ = reply.send(state.current.iter().map(watch::Sender::subscribe).collect());
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupervisorMsg>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        // Workers are permanent: a failure and a stop of a running incarnation both restart.
        let exited = match &event {
            SupervisionEvent::ActorFailed(cell, _)
            | SupervisionEvent::ActorTerminated(cell, ..) => cell.get_id(),
            _ => return Ok(()),
        };
        // Otherwise an incarnation this supervisor stopped or already replaced.
        let Some(i) = state.workers.remove(&exited) else {
            return Ok(());
        };
        let group: Vec<usize> = match self.0 {
            Strategy::OneForOne => vec![i],
            Strategy::OneForAll => (0..state.current.len()).collect(),
        };
        // Forget the others in the group (so their exits restart nothing), tell them all to
        // stop (in reverse start order), and wait until every one is gone before any restart.
        let mut stopping = Vec::with_capacity(group.len());
        for &j in group.iter().rev().filter(|&&j| j != i) {
            let sibling = state.current[j].borrow().clone();
            state.workers.remove(&sibling.get_id());
            sibling.stop(None);
            stopping.push(sibling);
        }
        for sibling in stopping {
            let _ = sibling.wait(None).await;
        }
        for j in group {
            let worker = spawn_worker(&myself).await?;
            state.workers.insert(worker.get_id(), j);
            state.current[j].send_replace(worker);
        }
        Ok(())
    }
}

/// Spawns a supervisor of `children` workers and subscribes to their incarnations.
async fn supervised(
    children: u64,
    strategy: Strategy,
) -> (
    ActorRef<SupervisorMsg>,
    ractor::concurrency::JoinHandle<()>,
    Vec<watch::Receiver<ActorRef<WorkerMsg>>>,
) {
    let (sup, handle) = Actor::spawn(None, WorkerSupervisor(strategy), children as usize)
        .await
        .expect("spawn the supervisor");
    let workers = call!(sup, SupervisorMsg::Workers).expect("the workers");
    (sup, handle, workers)
}

/// Makes the worker behind `current` fail, without waiting.
fn fail(current: &mut watch::Receiver<ActorRef<WorkerMsg>>) {
    let worker = current.borrow_and_update().clone();
    cast!(worker, WorkerMsg::Fail).expect("fail");
}

/// Waits for a new worker behind `current` and for its answer to a call.
async fn restarted(current: &mut watch::Receiver<ActorRef<WorkerMsg>>) {
    current.changed().await.expect("the supervisor runs");
    let worker = current.borrow_and_update().clone();
    std::hint::black_box(call!(worker, WorkerMsg::Ping).expect("the new worker answers"));
}

/// Stops the supervisor (which kills its workers as it goes) and waits for it.
async fn stop_supervisor(
    sup: ActorRef<SupervisorMsg>,
    handle: ractor::concurrency::JoinHandle<()>,
) {
    sup.stop(None);
    handle.await.expect("the supervisor stops");
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
        Case::Restart { n } => {
            let (sup, handle, mut current) = supervised(1, Strategy::OneForOne).await;
            let meter = Meter::start();
            for _ in 0..n {
                fail(&mut current[0]);
                restarted(&mut current[0]).await;
            }
            let outcome = meter.stop(n);
            stop_supervisor(sup, handle).await;
            outcome
        }
        Case::CrashBurst { children } => {
            let (sup, handle, mut current) = supervised(children, Strategy::OneForOne).await;
            let meter = Meter::start();
            for worker in &mut current {
                fail(worker);
            }
            for worker in &mut current {
                restarted(worker).await;
            }
            let outcome = meter.stop(children);
            stop_supervisor(sup, handle).await;
            outcome
        }
        Case::OneForAll { children, rounds } => {
            let (sup, handle, mut current) = supervised(children, Strategy::OneForAll).await;
            let meter = Meter::start();
            for _ in 0..rounds {
                fail(&mut current[0]);
                for worker in &mut current {
                    restarted(worker).await;
                }
            }
            let outcome = meter.stop(rounds);
            stop_supervisor(sup, handle).await;
            outcome
        }
    }
}
