//! The baseline: a task owning a `tokio::sync::mpsc` receiver (bounded to 64 or unbounded)
//! and a `tokio::sync::oneshot` per call. What an actor framework adds is measured against
//! this.

use std::time::Instant;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::{Case, Flavor, Meter, Outcome, Subject, idle_outcome, on_tokio, rss_bytes};

/// Raw tokio with `mpsc::channel(64)`.
#[derive(Debug)]
pub struct RawBounded;

/// Raw tokio with `mpsc::unbounded_channel()`.
#[derive(Debug)]
pub struct RawUnbounded;

impl Subject for RawBounded {
    const NAME: &'static str = "tokio mpsc(64)";
    const BOUNDED: bool = true;

    fn run(flavor: Flavor, case: Case) -> Outcome {
        on_tokio(flavor, move || run_case(case, true))
    }
}

impl Subject for RawUnbounded {
    const NAME: &'static str = "tokio unbounded";
    const BOUNDED: bool = false;

    fn run(flavor: Flavor, case: Case) -> Outcome {
        on_tokio(flavor, move || run_case(case, false))
    }
}

enum Msg {
    Add(u64),
    Get(oneshot::Sender<u64>),
    Ball(u64),
    Sum(u64, u64, oneshot::Sender<u64>),
}

#[derive(Clone)]
enum Tx {
    Bounded(mpsc::Sender<Msg>),
    Unbounded(mpsc::UnboundedSender<Msg>),
}

enum Rx {
    Bounded(mpsc::Receiver<Msg>),
    Unbounded(mpsc::UnboundedReceiver<Msg>),
}

fn channel(bounded: bool) -> (Tx, Rx) {
    if bounded {
        let (tx, rx) = mpsc::channel(64);
        (Tx::Bounded(tx), Rx::Bounded(rx))
    } else {
        let (tx, rx) = mpsc::unbounded_channel();
        (Tx::Unbounded(tx), Rx::Unbounded(rx))
    }
}

impl Tx {
    async fn send(&self, msg: Msg) {
        let sent = match self {
            Tx::Bounded(tx) => tx.send(msg).await.is_ok(),
            Tx::Unbounded(tx) => tx.send(msg).is_ok(),
        };
        assert!(sent, "the receiving task is alive");
    }

    async fn get(&self) -> u64 {
        let (tx, rx) = oneshot::channel();
        self.send(Msg::Get(tx)).await;
        rx.await.expect("a reply")
    }
}

impl Rx {
    async fn recv(&mut self) -> Option<Msg> {
        match self {
            Rx::Bounded(rx) => rx.recv().await,
            Rx::Unbounded(rx) => rx.recv().await,
        }
    }
}

/// A counter task; with `next`, it asks `next` before answering `Get` (the 2-hop chain),
/// and bounces `Ball`s to it (ping-pong, `done` fires at zero).
fn counter(
    bounded: bool,
    next: Option<Tx>,
    done: Option<oneshot::Sender<()>>,
) -> (Tx, JoinHandle<()>) {
    let (tx, rx) = channel(bounded);
    (tx, counter_on(rx, next, done))
}

/// [`counter`] on a receiver made beforehand (so two tasks can know each other).
fn counter_on(
    mut rx: Rx,
    next: Option<Tx>,
    mut done: Option<oneshot::Sender<()>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut sum = 0u64;
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Add(n) => sum = sum.wrapping_add(n),
                Msg::Get(reply) => {
                    let value = match &next {
                        Some(next) => next.get().await,
                        None => sum,
                    };
                    let _ = reply.send(value);
                }
                Msg::Ball(0) => {
                    if let Some(done) = done.take() {
                        let _ = done.send(());
                    }
                }
                Msg::Ball(k) => {
                    next.as_ref()
                        .expect("a partner")
                        .send(Msg::Ball(k - 1))
                        .await
                }
                Msg::Sum(..) => unreachable!("counters do not sum"),
            }
        }
    })
}

/// A skynet node: answers `Sum(num, size)` with the sum of its subtree's leaves.
fn skynet_node(bounded: bool) -> Tx {
    let (tx, mut rx) = channel(bounded);
    tokio::spawn(async move {
        if let Some(Msg::Sum(num, size, reply)) = rx.recv().await {
            let total = if size == 1 {
                num
            } else {
                let child_size = size / 10;
                let mut replies = Vec::with_capacity(10);
                for i in 0..10 {
                    let child = skynet_node(bounded);
                    let (tx, rx) = oneshot::channel();
                    child.send(Msg::Sum(num * 10 + i, child_size, tx)).await;
                    replies.push(rx);
                }
                let mut total = 0;
                for rx in replies {
                    total += rx.await.expect("a child's sum");
                }
                total
            };
            let _ = reply.send(total);
        }
    });
    tx
}

/// A worker for the supervision cases: answers `Get`, and fails (its task ends with an
/// error) on `Ball`.
async fn worker(mut rx: Rx) -> Result<(), ()> {
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Get(reply) => {
                let _ = reply.send(1);
            }
            Msg::Ball(_) => return Err(()),
            Msg::Add(_) | Msg::Sum(..) => {}
        }
    }
    Ok(())
}

/// The least a supervisor must do, written by hand: `children` worker tasks in a
/// `JoinSet`; when one fails, it (or, `one_for_all`, every worker) is replaced by a new
/// task with a new channel, published on the worker's `watch`.
fn supervise(bounded: bool, children: usize, one_for_all: bool) -> Vec<watch::Receiver<Tx>> {
    let mut set: JoinSet<(usize, u64, Result<(), ()>)> = JoinSet::new();
    let mut senders = Vec::with_capacity(children);
    let mut receivers = Vec::with_capacity(children);
    let mut aborts = Vec::with_capacity(children);
    let mut generations = vec![0u64; children];
    let start = move |set: &mut JoinSet<_>, i: usize, generation: u64| {
        let (tx, rx) = channel(bounded);
        let abort = set.spawn(async move { (i, generation, worker(rx).await) });
        (tx, abort)
    };
    for i in 0..children {
        let (tx, abort) = start(&mut set, i, 0);
        let (publish, subscribe) = watch::channel(tx);
        senders.push(publish);
        receivers.push(subscribe);
        aborts.push(abort);
    }
    tokio::spawn(async move {
        while let Some(joined) = set.join_next().await {
            // Aborted (replaced) workers end with a `JoinError`: nothing to do.
            let Ok((i, generation, result)) = joined else {
                continue;
            };
            if result.is_ok() || generation != generations[i] {
                continue;
            }
            let group: Vec<usize> = if one_for_all {
                (0..children).collect()
            } else {
                vec![i]
            };
            for &j in &group {
                aborts[j].abort();
                generations[j] += 1;
                let (tx, abort) = start(&mut set, j, generations[j]);
                aborts[j] = abort;
                senders[j].send_replace(tx);
            }
        }
    });
    receivers
}

/// Makes the worker behind `current` fail, then waits for its successor's answer.
async fn fail_and_wait(current: &mut watch::Receiver<Tx>) {
    let worker = current.borrow_and_update().clone();
    worker.send(Msg::Ball(0)).await;
    restarted(current).await;
}

/// Waits for a new worker behind `current` and for its answer to a call.
async fn restarted(current: &mut watch::Receiver<Tx>) {
    current.changed().await.expect("the supervisor runs");
    let worker = current.borrow_and_update().clone();
    std::hint::black_box(worker.get().await);
}

async fn run_case(case: Case, bounded: bool) -> Outcome {
    match case {
        Case::Call { n } => {
            let (actor, _task) = counter(bounded, None, None);
            actor.get().await;
            let meter = Meter::start();
            for _ in 0..n {
                std::hint::black_box(actor.get().await);
            }
            meter.stop(n)
        }
        Case::Chain2 { n } => {
            let (second, _t2) = counter(bounded, None, None);
            let (first, _t1) = counter(bounded, Some(second), None);
            first.get().await;
            let meter = Meter::start();
            for _ in 0..n {
                std::hint::black_box(first.get().await);
            }
            meter.stop(n)
        }
        Case::Cast { n } => {
            let (actor, _task) = counter(bounded, None, None);
            actor.get().await;
            let meter = Meter::start();
            for i in 0..n {
                actor.send(Msg::Add(i)).await;
            }
            std::hint::black_box(actor.get().await);
            meter.stop(n)
        }
        Case::Contention {
            producers,
            per_producer,
        } => {
            let (actor, _task) = counter(bounded, None, None);
            actor.get().await;
            let meter = Meter::start();
            let tasks: Vec<_> = (0..producers)
                .map(|_| {
                    let actor = actor.clone();
                    tokio::spawn(async move {
                        for i in 0..per_producer {
                            actor.send(Msg::Add(i)).await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a producer");
            }
            std::hint::black_box(actor.get().await);
            meter.stop(producers * per_producer)
        }
        Case::RoundRobin { actors, n } => {
            let actors: Vec<Tx> = (0..actors)
                .map(|_| counter(bounded, None, None).0)
                .collect();
            let meter = Meter::start();
            for i in 0..n {
                actors[(i % actors.len() as u64) as usize]
                    .send(Msg::Add(i))
                    .await;
            }
            for actor in &actors {
                std::hint::black_box(actor.get().await);
            }
            meter.stop(n)
        }
        Case::PingPong { pairs, rounds } => {
            let mut starts = Vec::new();
            let mut dones = Vec::new();
            for _ in 0..pairs {
                // `b` bounces to `a`; `a` bounces to `b` and reports the end.
                let (a_tx, a_rx) = channel(bounded);
                let (done_tx, done_rx) = oneshot::channel();
                let (b, _tb) = counter(bounded, Some(a_tx.clone()), None);
                counter_on(a_rx, Some(b), Some(done_tx));
                starts.push(a_tx);
                dones.push(done_rx);
            }
            let meter = Meter::start();
            for a in &starts {
                a.send(Msg::Ball(2 * rounds)).await;
            }
            for done in dones {
                done.await.expect("the rally ends");
            }
            meter.stop(pairs * rounds)
        }
        Case::Idle { n } => {
            let before = rss_bytes();
            let start = Instant::now();
            let mut actors = Vec::with_capacity(n as usize);
            for _ in 0..n {
                actors.push(counter(bounded, None, None));
            }
            let spawn = start.elapsed();
            let bytes = rss_bytes().saturating_sub(before);
            let start = Instant::now();
            let tasks: Vec<JoinHandle<()>> = actors.into_iter().map(|(_, task)| task).collect();
            for task in tasks {
                task.await.expect("an idle task");
            }
            idle_outcome(n, spawn, bytes, start.elapsed())
        }
        Case::Churn { n } => {
            let meter = Meter::start();
            for _ in 0..n {
                let (actor, task) = counter(bounded, None, None);
                std::hint::black_box(actor.get().await);
                drop(actor);
                task.await.expect("a stopped task");
            }
            meter.stop(n)
        }
        Case::Skynet { leaves } => {
            let meter = Meter::start();
            let root = skynet_node(bounded);
            let (tx, rx) = oneshot::channel();
            root.send(Msg::Sum(0, leaves, tx)).await;
            let total = rx.await.expect("the sum");
            assert_eq!(total, leaves * (leaves - 1) / 2);
            meter.stop(leaves)
        }
        Case::Restart { n } => {
            let mut current = supervise(bounded, 1, false);
            let meter = Meter::start();
            for _ in 0..n {
                fail_and_wait(&mut current[0]).await;
            }
            meter.stop(n)
        }
        Case::CrashBurst { children } => {
            let mut current = supervise(bounded, children as usize, false);
            let meter = Meter::start();
            for worker in &mut current {
                let tx = worker.borrow_and_update().clone();
                tx.send(Msg::Ball(0)).await;
            }
            for worker in &mut current {
                restarted(worker).await;
            }
            meter.stop(children)
        }
        Case::OneForAll { children, rounds } => {
            let mut current = supervise(bounded, children as usize, true);
            let meter = Meter::start();
            for _ in 0..rounds {
                let first = current[0].borrow_and_update().clone();
                first.send(Msg::Ball(0)).await;
                for worker in &mut current {
                    restarted(worker).await;
                }
            }
            meter.stop(rounds)
        }
    }
}
