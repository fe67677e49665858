//! beam, with unbounded mailboxes and with mailboxes bounded to 64 (where a cast to a full
//! mailbox yields and retries, like a send on a full tokio channel waits).

use std::future::poll_fn;
use std::task::Poll;
use std::time::{Duration, Instant};

use beam_runtime::prelude::*;
use beam_runtime::supervisor::{ChildHandle, Strategy};
use tokio::sync::oneshot;

use crate::{Case, Flavor, Meter, Outcome, Subject, idle_outcome, on_tokio, rss_bytes};

/// beam with its default, unbounded mailboxes.
#[derive(Debug)]
pub struct BeamUnbounded;

/// beam with mailboxes bounded to 64 messages.
#[derive(Debug)]
pub struct BeamBounded;

impl Subject for BeamUnbounded {
    const NAME: &'static str = "beam";
    const BOUNDED: bool = false;

    fn run(flavor: Flavor, case: Case) -> Outcome {
        on_tokio(flavor, move || run_case(case, None))
    }
}

impl Subject for BeamBounded {
    const NAME: &'static str = "beam(64)";
    const BOUNDED: bool = true;

    fn run(flavor: Flavor, case: Case) -> Outcome {
        on_tokio(flavor, move || run_case(case, Some(64)))
    }
}

struct Counter {
    sum: u64,
    next: Option<ActorRef<Counter>>,
    done: Option<oneshot::Sender<()>>,
}

#[actor]
impl Counter {
    #[cast]
    fn add(&mut self, n: u64) {
        self.sum = self.sum.wrapping_add(n);
    }

    #[call]
    async fn get(&self) -> u64 {
        match &self.next {
            Some(next) => next.get().await.expect("the next actor answers"),
            None => self.sum,
        }
    }

    #[cast]
    fn partner(&mut self, next: ActorRef<Counter>, done: Option<oneshot::Sender<()>>) {
        self.next = Some(next);
        self.done = done;
    }

    #[cast]
    async fn ball(&mut self, k: u64) {
        if k == 0 {
            if let Some(done) = self.done.take() {
                let _ = done.send(());
            }
            return;
        }
        let next = self.next.as_ref().expect("a partner");
        send(|| next.ball(k - 1)).await;
    }
}

/// Retries a cast while the mailbox is full.
async fn send(mut cast: impl FnMut() -> Result<(), SendError>) {
    loop {
        match cast() {
            Ok(()) => return,
            Err(SendError::Full) => tokio::task::yield_now().await,
            Err(err) => panic!("cast failed: {err}"),
        }
    }
}

fn state() -> Counter {
    Counter {
        sum: 0,
        next: None,
        done: None,
    }
}

async fn spawn(
    system: &ActorSystem,
    capacity: Option<usize>,
    counter: Counter,
) -> ActorRef<Counter> {
    let builder = system.spawn::<Counter>(counter);
    let builder = match capacity {
        Some(n) => builder.bounded(n),
        None => builder.unbounded(),
    };
    builder.await.expect("spawn")
}

/// A skynet node: sums its subtree by spawning ten children, asking them all (a call is
/// sent when first polled), then awaiting the ten answers in turn, as the other subjects do.
/// It stops once it has answered (as the raw tasks end after their reply, and kameo's and
/// actix's nodes when their parent drops them), so its children have stopped by then.
struct Node;

#[actor]
impl Node {
    #[call]
    async fn sum(&mut self, num: u64, size: u64, ctx: &mut Ctx<Self>) -> u64 {
        ctx.stop();
        if size == 1 {
            return num;
        }
        let mut children = Vec::with_capacity(10);
        for _ in 0..10 {
            children.push(ctx.spawn::<Node>(Node).await.expect("spawn a child"));
        }
        let mut calls = Vec::with_capacity(10);
        for (i, child) in (0..).zip(&children) {
            let mut call = Box::pin(child.sum(num * 10 + i, size / 10).timeout(Duration::MAX));
            // Sent now; a child run at once may have answered already.
            let answered = poll_fn(|cx| {
                Poll::Ready(
                    call.as_mut()
                        .poll(cx)
                        .map(|sum| sum.expect("a child's sum")),
                )
            })
            .await;
            calls.push((call, answered));
        }
        let mut total = 0;
        for (call, answered) in calls {
            total += match answered {
                Poll::Ready(sum) => sum,
                Poll::Pending => call.await.expect("a child's sum"),
            };
        }
        total
    }
}

/// A supervised worker: fails on request, answers calls.
#[derive(Clone)]
struct Worker;

#[actor]
impl Worker {
    #[cast(crash_on_err)]
    fn fail(&mut self) -> Result<(), &'static str> {
        Err("asked to fail")
    }

    #[call]
    fn ping(&self) -> u64 {
        1
    }
}

/// A supervisor of `children` workers with `strategy` that never gives up, and a handle
/// on each worker.
async fn supervised(
    system: &ActorSystem,
    children: u64,
    strategy: Strategy,
    capacity: Option<usize>,
) -> (ActorRef<Supervisor>, Vec<ChildHandle<Worker>>) {
    let mut spec = SupervisorSpec::new()
        .strategy(strategy)
        .intensity(u32::MAX, Duration::from_millis(1));
    let mut handles = Vec::with_capacity(children as usize);
    for i in 0..children {
        let mut child = ChildSpec::<Worker>::new(format!("w{i}"), Worker);
        if let Some(n) = capacity {
            child = child.bounded(n);
        }
        handles.push(child.handle());
        spec = spec.child(child);
    }
    let sup = spec.start(system).await.expect("the supervisor starts");
    (sup, handles)
}

/// Waits for `old` to be gone and its successor to answer a call.
async fn restarted(old: &ActorRef<Worker>, handle: &ChildHandle<Worker>) {
    old.wait_for_exit().await;
    let new = handle.running().await.expect("restarted");
    std::hint::black_box(new.ping().await.expect("the new worker answers"));
}

fn current(handles: &[ChildHandle<Worker>]) -> Vec<ActorRef<Worker>> {
    handles
        .iter()
        .map(|h| h.current().expect("running"))
        .collect()
}

async fn run_case(case: Case, capacity: Option<usize>) -> Outcome {
    let system = ActorSystem::new();
    let outcome = match case {
        Case::Call { n } => {
            let actor = spawn(&system, capacity, state()).await;
            actor.get().await.expect("get");
            let meter = Meter::start();
            for _ in 0..n {
                std::hint::black_box(actor.get().await.expect("get"));
            }
            meter.stop(n)
        }
        Case::Chain2 { n } => {
            let second = spawn(&system, capacity, state()).await;
            let first = spawn(
                &system,
                capacity,
                Counter {
                    next: Some(second),
                    ..state()
                },
            )
            .await;
            first.get().await.expect("get");
            let meter = Meter::start();
            for _ in 0..n {
                std::hint::black_box(first.get().await.expect("get"));
            }
            meter.stop(n)
        }
        Case::Cast { n } => {
            let actor = spawn(&system, capacity, state()).await;
            actor.get().await.expect("get");
            let meter = Meter::start();
            for i in 0..n {
                send(|| actor.add(i)).await;
            }
            std::hint::black_box(actor.get().timeout(Duration::MAX).await.expect("get"));
            meter.stop(n)
        }
        Case::Contention {
            producers,
            per_producer,
        } => {
            let actor = spawn(&system, capacity, state()).await;
            actor.get().await.expect("get");
            let meter = Meter::start();
            let tasks: Vec<_> = (0..producers)
                .map(|_| {
                    let actor = actor.clone();
                    tokio::spawn(async move {
                        for i in 0..per_producer {
                            send(|| actor.add(i)).await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a producer");
            }
            std::hint::black_box(actor.get().timeout(Duration::MAX).await.expect("get"));
            meter.stop(producers * per_producer)
        }
        Case::RoundRobin { actors, n } => {
            let mut refs = Vec::with_capacity(actors as usize);
            for _ in 0..actors {
                refs.push(spawn(&system, capacity, state()).await);
            }
            let meter = Meter::start();
            for i in 0..n {
                let actor = &refs[(i % actors) as usize];
                send(|| actor.add(i)).await;
            }
            for actor in &refs {
                std::hint::black_box(actor.get().timeout(Duration::MAX).await.expect("get"));
            }
            meter.stop(n)
        }
        Case::PingPong { pairs, rounds } => {
            let mut starts = Vec::new();
            let mut dones = Vec::new();
            for _ in 0..pairs {
                let a = spawn(&system, capacity, state()).await;
                let b = spawn(
                    &system,
                    capacity,
                    Counter {
                        next: Some(a.clone()),
                        ..state()
                    },
                )
                .await;
                let (done_tx, done_rx) = oneshot::channel();
                a.partner(b, Some(done_tx)).expect("partner");
                starts.push(a);
                dones.push(done_rx);
            }
            let meter = Meter::start();
            for a in &starts {
                send(|| a.ball(2 * rounds)).await;
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
                refs.push(spawn(&system, capacity, state()).await);
            }
            let spawn_time = start.elapsed();
            let bytes = rss_bytes().saturating_sub(before);
            // Every stop is queued first, then each exit awaited, as kameo's idle actors are
            // stopped (`system.shutdown` would stop them one after the other, last first).
            let start = Instant::now();
            let exits: Vec<_> = refs.iter().map(ActorRef::stop).collect();
            for exit in exits {
                assert_eq!(exit.await, ExitReason::Normal);
            }
            return idle_outcome(n, spawn_time, bytes, start.elapsed());
        }
        Case::Churn { n } => {
            let meter = Meter::start();
            for _ in 0..n {
                let actor = spawn(&system, capacity, state()).await;
                std::hint::black_box(actor.get().await.expect("get"));
                system.stop(&actor).await;
            }
            meter.stop(n)
        }
        Case::Skynet { leaves } => {
            let meter = Meter::start();
            let root = system.spawn::<Node>(Node).await.expect("spawn");
            let total = root
                .sum(0, leaves)
                .timeout(Duration::MAX)
                .await
                .expect("the sum");
            assert_eq!(total, leaves * (leaves - 1) / 2);
            system.stop(&root).await;
            meter.stop(leaves)
        }
        Case::Restart { n } => {
            let (_sup, handles) = supervised(&system, 1, Strategy::OneForOne, capacity).await;
            let meter = Meter::start();
            for _ in 0..n {
                let old = handles[0].current().expect("running");
                old.fail().expect("fail");
                restarted(&old, &handles[0]).await;
            }
            meter.stop(n)
        }
        Case::CrashBurst { children } => {
            let (_sup, handles) =
                supervised(&system, children, Strategy::OneForOne, capacity).await;
            let old = current(&handles);
            let meter = Meter::start();
            for worker in &old {
                worker.fail().expect("fail");
            }
            for (worker, handle) in old.iter().zip(&handles) {
                restarted(worker, handle).await;
            }
            meter.stop(children)
        }
        Case::OneForAll { children, rounds } => {
            let (_sup, handles) =
                supervised(&system, children, Strategy::OneForAll, capacity).await;
            let meter = Meter::start();
            for _ in 0..rounds {
                let old = current(&handles);
                old[0].fail().expect("fail");
                for (worker, handle) in old.iter().zip(&handles) {
                    restarted(worker, handle).await;
                }
            }
            meter.stop(rounds)
        }
    };
    system.shutdown_with(Duration::MAX).await.ok();
    outcome
}
