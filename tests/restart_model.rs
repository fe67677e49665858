//! A property test: random crash schedules against a small reference model of restart
//! types, strategies and restart intensity. After every crash the supervisor must have
//! restarted exactly the children the model restarted, removed the ones it removed, and
//! be alive exactly when the model is.

use std::time::Duration;

use beam_runtime::prelude::*;
use beam_runtime::supervisor::{
    ChildHandle, ChildSpec, Restart, Strategy, Supervisor, SupervisorSpec,
};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;

mod common;

use common::{ENDS, End};

struct Worker;

#[actor]
impl Worker {
    #[cast(crash_on_err)]
    fn end(&mut self, how: End, ctx: &mut Ctx<Self>) -> Result<(), String> {
        common::end_with(how, ctx, "worker")
    }
}

/// A child as the model sees it.
#[derive(Debug, Clone)]
struct Modeled {
    /// Its index in the original spec list (its id is `w<index>`).
    index: usize,
    restart: Restart,
    /// Bumped at every restart.
    incarnation: u32,
    running: bool,
}

/// The reference model: what OTP's rules say the supervisor does.
#[derive(Debug, Clone)]
struct Model {
    strategy: Strategy,
    max_restarts: u32,
    period_ms: u64,
    /// Child specs in start order.
    children: Vec<Modeled>,
    restarts: Vec<u64>,
    alive: bool,
}

impl Model {
    fn new(strategy: Strategy, max_restarts: u32, period_ms: u64, types: &[Restart]) -> Self {
        Self {
            strategy,
            max_restarts,
            period_ms,
            children: types
                .iter()
                .enumerate()
                .map(|(index, &restart)| Modeled {
                    index,
                    restart,
                    incarnation: 0,
                    running: true,
                })
                .collect(),
            restarts: Vec::new(),
            alive: true,
        }
    }

    fn child(&self, index: usize) -> Option<&Modeled> {
        self.children.iter().find(|c| c.index == index)
    }

    /// Child `index` ends with `how` at `now_ms`.
    fn exit(&mut self, index: usize, how: End, now_ms: u64) {
        let Some(pos) = self
            .children
            .iter()
            .position(|c| c.index == index && c.running)
        else {
            return;
        };
        self.children[pos].running = false;
        let restart = match self.children[pos].restart {
            Restart::Permanent => true,
            Restart::Transient => !matches!(how, End::Normal | End::Shutdown),
            Restart::Temporary => false,
        };
        if !restart {
            if self.children[pos].restart == Restart::Temporary {
                self.children.remove(pos);
            }
            return;
        }
        // OTP keeps a restart while it is at most a period old.
        self.restarts.retain(|&at| now_ms - at <= self.period_ms);
        self.restarts.push(now_ms);
        if self.restarts.len() > self.max_restarts as usize {
            self.alive = false;
            for child in &mut self.children {
                child.running = false;
            }
            return;
        }
        let group: Vec<usize> = match self.strategy {
            Strategy::OneForOne => vec![pos],
            Strategy::OneForAll => (0..self.children.len()).collect(),
            Strategy::RestForOne => (pos..self.children.len()).collect(),
        };
        let group: Vec<usize> = group.iter().map(|&i| self.children[i].index).collect();
        // Temporary children of the group are stopped and not restarted.
        self.children
            .retain(|c| !(c.restart == Restart::Temporary && group.contains(&c.index)));
        for child in &mut self.children {
            if group.contains(&child.index) {
                child.incarnation += 1;
                child.running = true;
            }
        }
    }
}

fn restart_type() -> impl proptest::strategy::Strategy<Value = Restart> {
    prop_oneof![
        Just(Restart::Permanent),
        Just(Restart::Transient),
        Just(Restart::Temporary)
    ]
}

fn strategy() -> impl proptest::strategy::Strategy<Value = Strategy> {
    prop_oneof![
        Just(Strategy::OneForOne),
        Just(Strategy::OneForAll),
        Just(Strategy::RestForOne)
    ]
}

fn end() -> impl proptest::strategy::Strategy<Value = End> {
    proptest::sample::select(ENDS.to_vec())
}

/// One crash: after `delay_ms`, child `child` (modulo the count) ends by `how`. Half the
/// delays are whole multiples of 500 ms, as half the periods are, so that restarts
/// exactly one period old come up.
fn schedule() -> impl proptest::strategy::Strategy<Value = Vec<(u64, usize, End)>> {
    let delay = prop_oneof![0u64..3_000, (0u64..7).prop_map(|k| k * 500)];
    proptest::collection::vec((delay, 0usize..5, end()), 1..12)
}

/// A period in milliseconds, a whole multiple of 500 half the time.
fn period() -> impl proptest::strategy::Strategy<Value = u64> {
    prop_oneof![1u64..10_000, (1u64..7).prop_map(|k| k * 500)]
}

/// Runs the real supervisor through `crashes` and checks it against the model after each.
async fn run(
    strategy: Strategy,
    max_restarts: u32,
    period_ms: u64,
    types: Vec<Restart>,
    crashes: Vec<(u64, usize, End)>,
) -> Result<(), TestCaseError> {
    let system = ActorSystem::new();
    let mut spec = SupervisorSpec::new()
        .strategy(strategy)
        .intensity(max_restarts, Duration::from_millis(period_ms));
    let mut handles: Vec<ChildHandle<Worker>> = Vec::new();
    for (i, &restart) in types.iter().enumerate() {
        let child = ChildSpec::<Worker>::from_fn(format!("w{i}"), || Worker).restart(restart);
        handles.push(child.handle());
        spec = spec.child(child);
    }
    let sup: ActorRef<Supervisor> = spec.start(&system).await.expect("starts");
    let mut model = Model::new(strategy, max_restarts, period_ms, &types);
    let mut now_ms = 0;
    for (step, (delay, child, how)) in crashes.into_iter().enumerate() {
        let child = child % types.len();
        tokio::time::advance(Duration::from_millis(delay)).await;
        now_ms += delay;
        let Some(target) = handles[child].current() else {
            continue;
        };
        let before_ids: Vec<Option<ActorId>> = handles
            .iter()
            .map(|h| h.current().map(|r| r.id()))
            .collect();
        let before = model.clone();
        match how {
            End::Killed => target.kill(),
            how => target.end(how).expect("alive"),
        }
        target.wait_for_exit().await;
        model.exit(child, how, now_ms);
        let context = format!("step {step}: w{child} {how:?} at {now_ms} ms; model {model:?}");

        if !model.alive {
            // On the paused clock, a supervisor still alive makes this time out at once.
            let exit = tokio::time::timeout(Duration::from_secs(3600), sup.wait_for_exit()).await;
            prop_assert_eq!(exit, Ok(ExitReason::Shutdown), "{}", context);
            for handle in &handles {
                prop_assert!(handle.current().is_none(), "{}", context);
            }
            return Ok(());
        }
        let listed = sup.which_children().await.expect("alive");
        let listed_ids: Vec<&str> = listed.iter().map(|c| c.id.as_str()).collect();
        let model_ids: Vec<String> = model
            .children
            .iter()
            .map(|c| format!("w{}", c.index))
            .collect();
        prop_assert_eq!(listed_ids, model_ids, "{}", context);
        for (i, handle) in handles.iter().enumerate() {
            let now = handle.current().map(|r| r.id());
            match (before.child(i), model.child(i)) {
                (_, None) => prop_assert!(now.is_none(), "w{} runs; {}", i, context),
                (_, Some(m)) if !m.running => {
                    prop_assert!(now.is_none(), "w{} runs; {}", i, context);
                }
                (Some(b), Some(m)) if b.incarnation == m.incarnation && b.running => {
                    prop_assert_eq!(now, before_ids[i], "w{} was restarted; {}", i, context);
                }
                (_, Some(_)) => {
                    prop_assert!(now.is_some(), "w{} is not running; {}", i, context);
                    prop_assert_ne!(now, before_ids[i], "w{} was not restarted; {}", i, context);
                }
            }
            if let Some(info) = listed.iter().find(|c| c.id == format!("w{i}")) {
                prop_assert_eq!(info.actor, now, "{}", context);
            }
        }
    }
    system.shutdown().await;
    Ok(())
}

proptest! {
    // No regression files: a failure prints its minimal schedule, to paste into a test.
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_crashes_match_the_model(
        strategy in strategy(),
        max_restarts in 0u32..4,
        period_ms in period(),
        types in proptest::collection::vec(restart_type(), 1..5),
        crashes in schedule(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a runtime");
        runtime.block_on(run(strategy, max_restarts, period_ms, types, crashes))?;
    }
}
