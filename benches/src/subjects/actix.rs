//! actix 0.13 on actix-rt 2. Calls are `Addr::send(..).await`, casts are `Addr::do_send`,
//! actors are started with `Actor::start` (or `Actor::start_in_arbiter`) and stop the
//! idiomatic actix way: when their last `Addr` is dropped and nothing is left to do; their
//! `Actor::stopped` hook reports it, which is what the caller waits on.
//!
//! An actix actor runs as a local (not `Send`) task on the thread of the `Arbiter` that
//! started it and never moves. So the cases do not run on [`on_tokio`](crate::on_tokio)'s
//! runtime but on an actix `System` (a `current_thread` tokio runtime with a `LocalSet`),
//! with the caller as a task spawned on it (`actix_rt::spawn`), not the `block_on` future:
//!
//! - [`Flavor::CurrentThread`]: one thread. The caller, the producers it spawns and every
//!   actor share the System's thread.
//! - [`Flavor::MultiThread`]: two threads. The caller and the producer tasks it spawns run
//!   on the System's thread; every actor is started on one second `Arbiter` (its own thread
//!   and `current_thread` runtime) with `Actor::start_in_arbiter`, and actors started by
//!   actors (skynet's children) land there too, since `Actor::start` uses the current
//!   arbiter. So every message between the caller and an actor crosses threads, and a call
//!   is two cross-thread wake-ups, where tokio's scheduler often runs a woken task on the
//!   worker that woke it. And the actors never run in parallel with each other: unlike
//!   tokio's two work-stealing workers, the second thread cannot help with ping-pong or
//!   skynet, and the producers of the contention cases share one thread instead of
//!   spreading over two.
//!
//! Replies that wait (the first actor of the 2-hop chain, skynet's inner nodes) are
//! `ActorResponse::r#async`: a future run in the actor's own context that replies when it
//! completes. Unlike `AtomicResponse`, it would let the actor handle other messages in the
//! meantime; none arrive in these cases (the caller waits for each reply, and a node gets
//! one message), so it does what the baseline's inline `await` does. Immediate replies are
//! `ActorResponse::reply`, which neither allocates nor spawns.
//!
//! Supervision: a worker is started under an `actix::Supervisor`, and fails the actix way,
//! by stopping itself (`ctx.stop()`) from a handler. actix does not catch a panic in a
//! handler: it unwinds out of the actor's task, `Supervisor` included, so the actor is gone
//! for good, not restarted. While its address is held, the `Supervisor` restarts it in place:
//! the same actor value, told by `Supervised::restarting` to reset its state, in a fresh
//! context on the same mailbox. So the address stays valid, and messages queued behind the
//! failing one (the mailbox stops being read once the actor stops) are handled by the
//! restarted incarnation: a call sent right after the fail message is answered by the new
//! worker. Each worker counts its incarnations in `restarting` and answers calls with the
//! count, so the caller checks it got an answer from the incarnation it waited for.
//! actix has no one_for_all strategy; a `Group` actor plays that supervisor (see there).
//!
//! Mailboxes: actix gives every actor a mailbox with a capacity (16 by default), but only
//! `send` and `try_send` respect it; `do_send` queues regardless of it and never waits. Every
//! cast here is a `do_send` (the fire-and-forget send of actix), so casts are unbounded and
//! actix is compared with the unbounded tokio baseline.

use std::future::Future;
use std::hint::black_box;
use std::time::Instant;

use ::actix::WeakAddr;
use ::actix::prelude::*;
use tokio::sync::{mpsc, oneshot};

use crate::{Case, Flavor, Meter, Outcome, Subject, idle_outcome, rss_bytes};

/// actix 0.13 with its default mailboxes, cast to with `do_send`.
#[derive(Debug)]
pub struct Actix;

impl Subject for Actix {
    const NAME: &'static str = "actix";
    /// The mailbox capacity (16) binds `send`/`try_send` only; casts use `do_send`, which
    /// ignores it, so no cast ever waits for room.
    const BOUNDED: bool = false;

    fn run(flavor: Flavor, case: Case) -> Outcome {
        on_actix(flavor, move |home| run_case(case, home))
    }
}

/// Where the case starts its actors.
enum Home {
    /// The System's own thread, shared with the caller ([`Flavor::CurrentThread`]).
    Caller,
    /// A second arbiter's thread ([`Flavor::MultiThread`]).
    Worker(ArbiterHandle),
}

impl Home {
    /// Starts `actor` here and returns its address.
    fn start<A>(&self, actor: A) -> Addr<A>
    where
        A: Actor<Context = Context<A>> + Send,
    {
        match self {
            Home::Caller => actor.start(),
            Home::Worker(arbiter) => A::start_in_arbiter(arbiter, move |_| actor),
        }
    }

    /// Starts `actor` here under an `actix::Supervisor`, which restarts it whenever it
    /// stops while its address is held, and returns its address.
    fn supervise<A>(&self, actor: A) -> Addr<A>
    where
        A: Supervised + Actor<Context = Context<A>> + Send,
    {
        match self {
            Home::Caller => Supervisor::start(move |_| actor),
            Home::Worker(arbiter) => Supervisor::start_in_arbiter(arbiter, move |_| actor),
        }
    }

    /// Waits until every actor started so far is spawned, so that setup stays out of the
    /// timed section. On the caller's thread, `start` spawns the actor before returning; on
    /// a worker arbiter it only sends the arbiter a task that spawns it, and the arbiter runs
    /// the tasks it is sent in order, so a marker task sent after them answers once they all
    /// have run.
    async fn settle(&self) {
        if let Home::Worker(arbiter) = self {
            let (tx, rx) = oneshot::channel();
            arbiter.spawn(async move {
                let _ = tx.send(());
            });
            rx.await.expect("the worker arbiter runs");
        }
    }
}

/// Runs `make(home)` as a task on a fresh actix System, with a second arbiter for the actors
/// on [`Flavor::MultiThread`] (see the module docs).
fn on_actix<F, Fut>(flavor: Flavor, make: F) -> Outcome
where
    F: FnOnce(Home) -> Fut,
    Fut: Future<Output = Outcome> + 'static,
{
    let system = System::new();
    let worker = match flavor {
        Flavor::MultiThread => Some(Arbiter::new()),
        Flavor::CurrentThread => None,
    };
    let home = match &worker {
        Some(worker) => Home::Worker(worker.handle()),
        None => Home::Caller,
    };
    let outcome = system.block_on(async move {
        ::actix_rt::spawn(make(home))
            .await
            .expect("the case's task")
    });
    if let Some(worker) = worker {
        worker.stop();
        worker.join().expect("the worker arbiter's thread");
    }
    outcome
}

/// A counter; with `next`, it asks `next` before answering [`Get`] (the 2-hop chain) and
/// bounces [`Ball`]s to it (ping-pong, `done` fires at zero). `stopped` hears when it stops.
struct Counter {
    sum: u64,
    next: Option<Addr<Counter>>,
    done: Option<oneshot::Sender<()>>,
    stopped: Option<mpsc::UnboundedSender<()>>,
}

fn counter() -> Counter {
    Counter {
        sum: 0,
        next: None,
        done: None,
        stopped: None,
    }
}

impl Actor for Counter {
    type Context = Context<Self>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.send(());
        }
    }
}

/// A cast: adds to the counter.
#[derive(Message)]
#[rtype(result = "()")]
struct Add(u64);

/// A call: the counter's sum, or with `next`, `next`'s answer.
#[derive(Message)]
#[rtype(result = "u64")]
struct Get;

/// A cast: the ping-pong partner and the signal for the end of the rally.
#[derive(Message)]
#[rtype(result = "()")]
struct Partner(Addr<Counter>, oneshot::Sender<()>);

/// A cast: the ping-pong ball with the bounces left.
#[derive(Message)]
#[rtype(result = "()")]
struct Ball(u64);

impl Handler<Add> for Counter {
    type Result = ();

    fn handle(&mut self, Add(n): Add, _: &mut Context<Self>) {
        self.sum = self.sum.wrapping_add(n);
    }
}

impl Handler<Get> for Counter {
    /// An immediate reply, or with `next`, a future run in the actor's context that awaits
    /// `next`'s answer before replying.
    type Result = ActorResponse<Self, u64>;

    fn handle(&mut self, _: Get, _: &mut Context<Self>) -> Self::Result {
        match &self.next {
            None => ActorResponse::reply(self.sum),
            Some(next) => {
                let answer = next.send(Get);
                ActorResponse::r#async(
                    async move { answer.await.expect("the next actor answers") }.into_actor(self),
                )
            }
        }
    }
}

impl Handler<Partner> for Counter {
    type Result = ();

    fn handle(&mut self, Partner(next, done): Partner, _: &mut Context<Self>) {
        self.next = Some(next);
        self.done = Some(done);
    }
}

impl Handler<Ball> for Counter {
    type Result = ();

    fn handle(&mut self, Ball(k): Ball, _: &mut Context<Self>) {
        if k == 0 {
            if let Some(done) = self.done.take() {
                let _ = done.send(());
            }
            return;
        }
        self.next.as_ref().expect("a partner").do_send(Ball(k - 1));
    }
}

/// A skynet node: answers [`Sum`] with the sum of its subtree's leaves.
struct Node;

impl Actor for Node {
    type Context = Context<Self>;
}

/// A call: the sum of the leaves under the node numbered `num`, `size` leaves wide.
#[derive(Message)]
#[rtype(result = "u64")]
struct Sum {
    num: u64,
    size: u64,
}

impl Handler<Sum> for Node {
    /// A leaf replies at once; an inner node starts ten children on its own arbiter, sends
    /// each its part at once, and replies from a future that awaits all ten answers.
    type Result = ActorResponse<Self, u64>;

    fn handle(&mut self, Sum { num, size }: Sum, _: &mut Context<Self>) -> Self::Result {
        if size == 1 {
            return ActorResponse::reply(num);
        }
        let answers: Vec<_> = (0..10)
            .map(|i| {
                Node.start().send(Sum {
                    num: num * 10 + i,
                    size: size / 10,
                })
            })
            .collect();
        ActorResponse::r#async(
            async move {
                let mut total = 0;
                for answer in answers {
                    total += answer.await.expect("a child's sum");
                }
                total
            }
            .into_actor(self),
        )
    }
}

/// A supervised worker: answers [`Get`] with its incarnation (0 for the first), fails on
/// [`Fail`], and stops on [`Restart`] when its [`Group`] restarts every worker.
struct Worker {
    /// How many times it was restarted: the one field a restart keeps, as it numbers them.
    incarnation: u64,
    /// Its place in its group, and the group, if any (weak, so that the group stops once
    /// the caller drops it, and its workers with it).
    group: Option<(usize, WeakAddr<Group>)>,
    /// Whether the group ordered the current stop; any other stop is a failure.
    ordered: bool,
}

fn worker(group: Option<(usize, WeakAddr<Group>)>) -> Worker {
    Worker {
        incarnation: 0,
        group,
        ordered: false,
    }
}

impl Actor for Worker {
    type Context = Context<Self>;
}

impl Supervised for Worker {
    /// Numbers the new incarnation (the actor value is reused, so this is where a worker
    /// with state would reset it) and, if the stop was a failure, reports it to the group.
    fn restarting(&mut self, _: &mut Context<Self>) {
        self.incarnation += 1;
        if std::mem::take(&mut self.ordered) {
            return;
        }
        if let Some((index, group)) = &self.group
            && let Some(group) = group.upgrade()
        {
            group.do_send(Crashed(*index));
        }
    }
}

/// A cast: the worker fails (stops itself, and its `Supervisor` restarts it).
#[derive(Message)]
#[rtype(result = "()")]
struct Fail;

/// A cast from the worker's [`Group`]: stop, to be restarted with the others.
#[derive(Message)]
#[rtype(result = "()")]
struct Restart;

impl Handler<Get> for Worker {
    type Result = u64;

    fn handle(&mut self, _: Get, _: &mut Context<Self>) -> u64 {
        self.incarnation
    }
}

impl Handler<Fail> for Worker {
    type Result = ();

    fn handle(&mut self, _: Fail, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl Handler<Restart> for Worker {
    type Result = ();

    fn handle(&mut self, _: Restart, ctx: &mut Context<Self>) {
        self.ordered = true;
        ctx.stop();
    }
}

/// The one_for_all supervisor actix lacks: when a member reports a failure ([`Crashed`],
/// sent once its own `Supervisor` has restarted it), the group makes every other member
/// stop with [`Restart`], so their `Supervisor`s restart them too, then tells its
/// watcher. A call sent to a member after that is queued behind the `Restart`, so it is
/// answered by the member's next incarnation.
struct Group {
    members: Vec<Addr<Worker>>,
    watcher: Option<oneshot::Sender<()>>,
}

impl Actor for Group {
    type Context = Context<Self>;
}

/// A cast: the group's members, in order of their index.
#[derive(Message)]
#[rtype(result = "()")]
struct Members(Vec<Addr<Worker>>);

/// A cast: tell this sender once the group has ordered the next restart of all members.
#[derive(Message)]
#[rtype(result = "()")]
struct Watch(oneshot::Sender<()>);

/// A cast from a member: it failed and was restarted.
#[derive(Message)]
#[rtype(result = "()")]
struct Crashed(usize);

impl Handler<Members> for Group {
    type Result = ();

    fn handle(&mut self, Members(members): Members, _: &mut Context<Self>) {
        self.members = members;
    }
}

impl Handler<Watch> for Group {
    type Result = ();

    fn handle(&mut self, Watch(watcher): Watch, _: &mut Context<Self>) {
        self.watcher = Some(watcher);
    }
}

impl Handler<Crashed> for Group {
    type Result = ();

    fn handle(&mut self, Crashed(failed): Crashed, _: &mut Context<Self>) {
        for (index, member) in self.members.iter().enumerate() {
            if index != failed {
                member.do_send(Restart);
            }
        }
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.send(());
        }
    }
}

/// Waits for `worker`'s answer to a call and checks it comes from `incarnation`.
async fn answers_as(worker: &Addr<Worker>, incarnation: u64) {
    let answer = worker.send(Get).await.expect("the worker answers");
    assert_eq!(
        black_box(answer),
        incarnation,
        "the restarted worker answers"
    );
}

async fn get(actor: &Addr<Counter>) -> u64 {
    actor.send(Get).await.expect("get")
}

/// The sum of `0..n`, what the counters must hold after the casts.
fn sum_below(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

async fn run_case(case: Case, home: Home) -> Outcome {
    match case {
        Case::Call { n } => {
            let actor = home.start(counter());
            get(&actor).await;
            let meter = Meter::start();
            for _ in 0..n {
                black_box(get(&actor).await);
            }
            meter.stop(n)
        }
        Case::Chain2 { n } => {
            let second = home.start(counter());
            let first = home.start(Counter {
                next: Some(second),
                ..counter()
            });
            get(&first).await;
            let meter = Meter::start();
            for _ in 0..n {
                black_box(get(&first).await);
            }
            meter.stop(n)
        }
        Case::Cast { n } => {
            let actor = home.start(counter());
            get(&actor).await;
            let meter = Meter::start();
            for i in 0..n {
                actor.do_send(Add(i));
            }
            let sum = black_box(get(&actor).await);
            let outcome = meter.stop(n);
            assert_eq!(sum, sum_below(n), "every cast was handled");
            outcome
        }
        Case::Contention {
            producers,
            per_producer,
        } => {
            let actor = home.start(counter());
            get(&actor).await;
            let meter = Meter::start();
            let tasks: Vec<_> = (0..producers)
                .map(|_| {
                    let actor = actor.clone();
                    ::actix_rt::spawn(async move {
                        for i in 0..per_producer {
                            actor.do_send(Add(i));
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a producer");
            }
            let sum = black_box(get(&actor).await);
            let outcome = meter.stop(producers * per_producer);
            assert_eq!(
                sum,
                producers * sum_below(per_producer),
                "every cast was handled"
            );
            outcome
        }
        Case::RoundRobin { actors, n } => {
            let refs: Vec<Addr<Counter>> = (0..actors).map(|_| home.start(counter())).collect();
            home.settle().await;
            let meter = Meter::start();
            for i in 0..n {
                refs[(i % actors) as usize].do_send(Add(i));
            }
            let mut sum = 0;
            for actor in &refs {
                sum += black_box(get(actor).await);
            }
            let outcome = meter.stop(n);
            assert_eq!(sum, sum_below(n), "every cast was handled");
            outcome
        }
        Case::PingPong { pairs, rounds } => {
            let mut starts = Vec::new();
            let mut dones = Vec::new();
            for _ in 0..pairs {
                // `b` bounces to `a`; `a` bounces to `b` and reports the end.
                let a = home.start(counter());
                let b = home.start(Counter {
                    next: Some(a.clone()),
                    ..counter()
                });
                let (done_tx, done_rx) = oneshot::channel();
                a.do_send(Partner(b, done_tx));
                starts.push(a);
                dones.push(done_rx);
            }
            home.settle().await;
            let meter = Meter::start();
            for a in &starts {
                a.do_send(Ball(2 * rounds));
            }
            for done in dones {
                done.await.expect("the rally ends");
            }
            meter.stop(pairs * rounds)
        }
        Case::Idle { n } => {
            let (stopped_tx, mut stopped_rx) = mpsc::unbounded_channel();
            let before = rss_bytes();
            let start = Instant::now();
            let mut refs = Vec::with_capacity(n as usize);
            for _ in 0..n {
                refs.push(home.start(Counter {
                    stopped: Some(stopped_tx.clone()),
                    ..counter()
                }));
            }
            home.settle().await;
            let spawn = start.elapsed();
            let bytes = rss_bytes().saturating_sub(before);
            let start = Instant::now();
            drop(refs);
            for _ in 0..n {
                stopped_rx.recv().await.expect("an actor stops");
            }
            idle_outcome(n, spawn, bytes, start.elapsed())
        }
        Case::Churn { n } => {
            let (stopped_tx, mut stopped_rx) = mpsc::unbounded_channel();
            let meter = Meter::start();
            for _ in 0..n {
                let actor = home.start(Counter {
                    stopped: Some(stopped_tx.clone()),
                    ..counter()
                });
                black_box(get(&actor).await);
                drop(actor);
                stopped_rx.recv().await.expect("the actor stops");
            }
            meter.stop(n)
        }
        Case::Skynet { leaves } => {
            let meter = Meter::start();
            let root = home.start(Node);
            let total = root
                .send(Sum {
                    num: 0,
                    size: leaves,
                })
                .await
                .expect("the sum");
            assert_eq!(total, leaves * (leaves - 1) / 2);
            drop(root);
            meter.stop(leaves)
        }
        Case::Restart { n } => {
            let actor = home.supervise(worker(None));
            answers_as(&actor, 0).await;
            let meter = Meter::start();
            for i in 1..=n {
                actor.do_send(Fail);
                answers_as(&actor, i).await;
            }
            meter.stop(n)
        }
        Case::CrashBurst { children } => {
            let refs: Vec<Addr<Worker>> = (0..children)
                .map(|_| home.supervise(worker(None)))
                .collect();
            home.settle().await;
            let meter = Meter::start();
            for actor in &refs {
                actor.do_send(Fail);
            }
            for actor in &refs {
                answers_as(actor, 1).await;
            }
            meter.stop(children)
        }
        Case::OneForAll { children, rounds } => {
            let group = home.start(Group {
                members: Vec::new(),
                watcher: None,
            });
            let refs: Vec<Addr<Worker>> = (0..children as usize)
                .map(|i| home.supervise(worker(Some((i, group.downgrade())))))
                .collect();
            group.do_send(Members(refs.clone()));
            home.settle().await;
            let meter = Meter::start();
            for round in 1..=rounds {
                // The watch is queued at the group before the failure can be reported.
                let (watch_tx, watch_rx) = oneshot::channel();
                group.do_send(Watch(watch_tx));
                refs[0].do_send(Fail);
                watch_rx.await.expect("the group restarts its members");
                for actor in &refs {
                    answers_as(actor, round).await;
                }
            }
            meter.stop(rounds)
        }
    }
}
