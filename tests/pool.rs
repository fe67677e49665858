//! Worker pools: routing over live workers, restarts, and calls sent again only when no
//! worker received them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use beam_runtime::prelude::*;
use beam_runtime::supervisor::{SpecError, SupervisorError};
use tokio::sync::mpsc;

/// What every worker shares with the test.
#[derive(Clone)]
struct Shared {
    /// How many times each handler of `work` ran.
    runs: Arc<AtomicU32>,
    /// How many incarnations have started, over all workers.
    starts: Arc<AtomicU32>,
    /// Told when a `hold` handler starts.
    holding: mpsc::UnboundedSender<usize>,
}

struct Worker {
    index: usize,
    shared: Shared,
}

#[actor]
impl Worker {
    /// A restarted worker (any start after the first `size`) takes a second to start.
    #[init]
    async fn init(index: usize, size: u32, shared: Shared) -> Self {
        if shared.starts.fetch_add(1, Ordering::SeqCst) >= size {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Worker { index, shared }
    }

    #[call]
    fn index(&self) -> usize {
        self.index
    }

    /// Holds the worker for `secs`, then panics if told to.
    #[call]
    async fn hold(&self, secs: u64, crash: bool) -> usize {
        self.shared.runs.fetch_add(1, Ordering::SeqCst);
        let _ = self.shared.holding.send(self.index);
        tokio::time::sleep(Duration::from_secs(secs)).await;
        if crash {
            panic!("worker {} crashed", self.index);
        }
        self.index
    }

    #[cast]
    fn crash(&mut self) {
        panic!("worker {} crashed", self.index);
    }
}

fn shared() -> (Shared, mpsc::UnboundedReceiver<usize>) {
    let (holding, rx) = mpsc::unbounded_channel();
    let shared = Shared {
        runs: Arc::new(AtomicU32::new(0)),
        starts: Arc::new(AtomicU32::new(0)),
        holding,
    };
    (shared, rx)
}

async fn pool(
    system: &ActorSystem,
    size: usize,
    routing: Routing,
) -> (Pool<Worker>, Shared, mpsc::UnboundedReceiver<usize>) {
    let (shared, rx) = shared();
    let args = shared.clone();
    let n = u32::try_from(size).unwrap();
    let pool = Pool::<Worker>::builder(size, move |i| (i, n, args.clone()))
        .routing(routing)
        .start(system)
        .await
        .unwrap();
    (pool, shared, rx)
}

#[tokio::test(start_paused = true)]
async fn round_robin_takes_the_workers_in_turn() {
    let system = ActorSystem::new();
    let (pool, _, _) = pool(&system, 3, Routing::RoundRobin).await;
    let mut order = Vec::new();
    for _ in 0..7 {
        order.push(pool.call(|w| w.index()).await.unwrap());
    }
    assert_eq!(order, [0, 1, 2, 0, 1, 2, 0]);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn least_busy_picks_the_idle_worker() {
    let system = ActorSystem::new();
    let (pool, _, mut holding) = pool(&system, 2, Routing::LeastBusy).await;
    let busy = pool.clone();
    let held = tokio::spawn(async move {
        busy.call(|w| w.hold(10, false))
            .timeout(Duration::from_secs(60))
            .await
    });
    let busy_one = holding.recv().await.unwrap();
    for _ in 0..4 {
        assert_eq!(pool.call(|w| w.index()).await, Ok(1 - busy_one));
    }
    assert_eq!(held.await.unwrap(), Ok(busy_one));
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn round_robin_goes_on_without_a_worker_that_crashed_until_it_is_back() {
    let system = ActorSystem::new();
    let (pool, _, _) = pool(&system, 3, Routing::RoundRobin).await;
    let second = pool.workers()[1].clone();
    second.crash().unwrap();
    second.wait_for_exit().await;
    // Restarting (its init takes a second): skipped.
    assert_eq!(pool.workers().len(), 2);
    let mut order = Vec::new();
    for _ in 0..4 {
        order.push(pool.call(|w| w.index()).await.unwrap());
    }
    assert!(!order.contains(&1), "{order:?}");

    tokio::time::sleep(Duration::from_secs(2)).await;
    let workers = pool.workers();
    assert_eq!(workers.len(), 3);
    assert_ne!(workers[1].id(), second.id());
    let mut order = Vec::new();
    for _ in 0..3 {
        order.push(pool.call(|w| w.index()).await.unwrap());
    }
    order.sort_unstable();
    assert_eq!(order, [0, 1, 2]);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_call_queued_at_a_crash_goes_to_another_worker_and_a_started_one_is_not_retried() {
    let system = ActorSystem::new();
    let (pool, shared, mut holding) = pool(&system, 2, Routing::RoundRobin).await;
    // Worker 0 starts a call that crashes it in 5 s.
    let p = pool.clone();
    let started = tokio::spawn(async move { p.call(|w| w.hold(5, true)).await });
    assert_eq!(holding.recv().await, Some(0));
    // Worker 1 answers, then a call is queued behind the crashing one on worker 0.
    assert_eq!(pool.call(|w| w.index()).await, Ok(1));
    let p = pool.clone();
    let queued = tokio::spawn(async move { p.call(|w| w.index()).await });
    tokio::task::yield_now().await;

    assert_eq!(
        started.await.unwrap(),
        Err(CallError::Exited(ExitReason::Panic(
            "worker 0 crashed".into()
        )))
    );
    // The queued call went to worker 1 at the crash, without waiting for the restart.
    assert_eq!(queued.await.unwrap(), Ok(1));
    assert_eq!(shared.runs.load(Ordering::SeqCst), 1);
    assert_eq!(pool.workers().len(), 1);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_call_waiting_for_room_at_a_crash_goes_to_another_worker() {
    let system = ActorSystem::new();
    let (shared, mut holding) = shared();
    let args = shared.clone();
    let pool = Pool::<Worker>::builder(2, move |i| (i, 2, args.clone()))
        .bounded(1)
        .start(&system)
        .await
        .unwrap();
    let p = pool.clone();
    let started = tokio::spawn(async move { p.call(|w| w.hold(5, true)).await });
    assert_eq!(holding.recv().await, Some(0));
    assert_eq!(pool.call(|w| w.index()).await, Ok(1));
    // Worker 0's one slot is taken by the call it handles: this one waits for room.
    let p = pool.clone();
    let waiting = tokio::spawn(async move { p.call(|w| w.index()).await });
    tokio::task::yield_now().await;

    assert!(matches!(
        started.await.unwrap(),
        Err(CallError::Exited(ExitReason::Panic(_)))
    ));
    assert_eq!(waiting.await.unwrap(), Ok(1));
    system.shutdown().await;
}

async fn a_crash_with_calls_queued_loses_none(pool: Pool<Worker>, shared: Shared) {
    let mut calls = Vec::new();
    for _ in 0..20 {
        let p = pool.clone();
        calls.push(tokio::spawn(async move { p.call(|w| w.index()).await }));
    }
    pool.workers()[0].crash().unwrap();
    for call in calls {
        assert!(call.await.unwrap().is_ok());
    }
    assert_eq!(shared.runs.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_with_calls_queued_loses_none_multi_thread() {
    let system = ActorSystem::new();
    let (shared, _holding) = shared();
    let args = shared.clone();
    // Restarts take no time here: no clock to pause on this runtime.
    let pool = Pool::<Worker>::builder(3, move |i| (i, u32::MAX, args.clone()))
        .start(&system)
        .await
        .unwrap();
    a_crash_with_calls_queued_loses_none(pool, shared).await;
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_crash_with_calls_queued_loses_none_current_thread() {
    let system = ActorSystem::new();
    let (pool, shared, _holding) = pool(&system, 3, Routing::LeastBusy).await;
    a_crash_with_calls_queued_loses_none(pool, shared).await;
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn casts_go_to_live_workers_and_no_live_worker_is_no_proc() {
    let system = ActorSystem::new();
    let (pool, _, _) = pool(&system, 1, Routing::RoundRobin).await;
    let only = pool.workers()[0].clone();
    pool.cast(|w| w.crash()).unwrap();
    only.wait_for_exit().await;
    assert_eq!(pool.cast(|w| w.crash()), Err(SendError::NoProc));
    assert_eq!(pool.call(|w| w.index()).await, Err(CallError::NoProc));
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn stopping_the_pool_stops_its_workers() {
    let system = ActorSystem::new();
    let (pool, _, _) = pool(&system, 3, Routing::RoundRobin).await;
    let workers = pool.workers();
    assert_eq!(pool.stop().await, ExitReason::Normal);
    assert!(workers.iter().all(|w| !w.is_alive()));
    assert!(pool.supervisor().is_none());
    assert_eq!(pool.call(|w| w.index()).await, Err(CallError::NoProc));
}

#[tokio::test(start_paused = true)]
async fn a_pool_is_a_child_of_a_supervisor_and_follows_its_restarts() {
    let system = ActorSystem::new();
    let (shared, _holding) = shared();
    let args = shared.clone();
    let (spec, pool) = Pool::<Worker>::builder(2, move |i| (i, u32::MAX, args.clone()))
        .intensity(0, Duration::from_secs(5))
        .child_spec("workers");
    let root = SupervisorSpec::new()
        .intensity(3, Duration::from_secs(5))
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    assert_eq!(pool.call(|w| w.index()).await, Ok(0));
    // One crash exceeds the pool's intensity: the root restarts the whole pool.
    let first = pool.supervisor().unwrap();
    pool.workers()[1].crash().unwrap();
    first.wait_for_exit().await;
    let again = loop {
        if let Some(sup) = pool.supervisor() {
            break sup;
        }
        tokio::task::yield_now().await;
    };
    assert_ne!(again.id(), first.id());
    assert_eq!(pool.workers().len(), 2);
    assert!(pool.call(|w| w.index()).await.is_ok());
    assert_eq!(root.count_children().await.unwrap().active, 1);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_pool_of_no_workers_is_refused() {
    let system = ActorSystem::new();
    let (shared, _holding) = shared();
    let refused = Pool::<Worker>::builder(0, move |i| (i, 0, shared.clone()))
        .start(&system)
        .await;
    assert_eq!(
        refused.unwrap_err(),
        SupervisorError::InvalidSpec(SpecError::EmptyPool)
    );
}
