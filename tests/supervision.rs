//! Supervisors: restart types against exit reasons, strategies, intensity and escalation,
//! start and stop order, shutdown policies, run-time child management, handles and the
//! messages of a crashed child.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beam_runtime::prelude::*;
use beam_runtime::supervisor::{
    Backoff, ChildError, ChildHandle, ChildInfo, ChildKind, ChildSpec, DynamicSupervisor,
    DynamicSupervisorSpec, Restart, Shutdown, SpecError, Strategy, Supervisor, SupervisorError,
    SupervisorSpec,
};

type Log = Arc<Mutex<Vec<String>>>;

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

mod common;

use common::{ENDS, End};

/// A worker that logs its start and stop under its label.
struct Worker {
    label: &'static str,
    log: Log,
    handled: u32,
}

#[actor]
impl Worker {
    #[init]
    fn init(label: &'static str, log: Log, fail: bool) -> Result<Self, String> {
        if fail {
            return Err(format!("{label} cannot start"));
        }
        log.lock().unwrap().push(format!("start {label}"));
        Ok(Worker {
            label,
            log,
            handled: 0,
        })
    }

    #[cast(crash_on_err)]
    fn end(&mut self, how: End, ctx: &mut Ctx<Self>) -> Result<(), String> {
        common::end_with(how, ctx, self.label)
    }

    /// Which incarnation answers.
    #[call]
    fn whoami(&self, ctx: &mut Ctx<Self>) -> ActorId {
        ctx.id()
    }

    /// Counts the messages this incarnation handled, this one included.
    #[call]
    fn handled(&mut self) -> u32 {
        self.handled += 1;
        self.handled
    }

    #[call]
    async fn hang(&self) {
        std::future::pending::<()>().await;
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        self.log
            .lock()
            .unwrap()
            .push(format!("stop {} {reason}", self.label));
    }
}

fn worker(label: &'static str, log: &Log) -> ChildSpec<Worker> {
    ChildSpec::new(label, (label, log.clone(), false))
}

async fn end(child: &ActorRef<Worker>, how: End) -> ExitReason {
    match how {
        End::Killed => child.kill(),
        how => child.end(how).expect("the child is alive"),
    }
    child.wait_for_exit().await
}

/// The running incarnation of each child, by id.
async fn running(sup: &ActorRef<Supervisor>) -> Vec<(String, Option<ActorId>)> {
    sup.which_children()
        .await
        .expect("the supervisor is alive")
        .into_iter()
        .map(|c| (c.id, c.actor))
        .collect()
}

fn ids(children: &[(String, Option<ActorId>)]) -> Vec<Option<ActorId>> {
    children.iter().map(|(_, a)| *a).collect()
}

#[tokio::test(start_paused = true)]
async fn children_start_in_order_and_stop_in_reverse() {
    let system = ActorSystem::new();
    let log = Log::default();
    let sup = SupervisorSpec::new()
        .child(worker("a", &log))
        .child(worker("b", &log))
        .child(worker("c", &log))
        .start(&system)
        .await
        .unwrap();
    assert_eq!(take(&log), ["start a", "start b", "start c"]);
    assert_eq!(sup.stop().await, ExitReason::Normal);
    assert_eq!(
        take(&log),
        ["stop c shutdown", "stop b shutdown", "stop a shutdown"]
    );
}

#[tokio::test(start_paused = true)]
async fn each_restart_type_against_each_exit_reason() {
    for restart in [Restart::Permanent, Restart::Transient, Restart::Temporary] {
        for how in ENDS {
            let system = ActorSystem::new();
            let log = Log::default();
            let spec = worker("w", &log).restart(restart);
            let handle = spec.handle();
            let sup = SupervisorSpec::new()
                .child(spec)
                .start(&system)
                .await
                .unwrap();
            let first = handle.current().unwrap();
            end(&first, how).await;
            let children = sup.which_children().await.unwrap();
            let restarted = match restart {
                Restart::Permanent => true,
                Restart::Transient => !matches!(how, End::Normal | End::Shutdown),
                Restart::Temporary => false,
            };
            let case = format!("{restart:?} after {how:?}");
            if restarted {
                let again = handle.current().expect(&case);
                assert_ne!(again.id(), first.id(), "{case}");
                assert_eq!(children[0].actor, Some(again.id()), "{case}");
            } else {
                assert!(handle.current().is_none(), "{case}");
                if restart == Restart::Temporary {
                    assert!(children.is_empty(), "{case}: the spec is removed");
                } else {
                    assert_eq!(children[0].actor, None, "{case}: the spec stays");
                }
            }
            assert!(sup.is_alive(), "{case}");
            system.shutdown().await;
        }
    }
}

/// Runs workers `a` to `d` under `strategy` and ends `b` with `how`: which children got a
/// new incarnation, and the stops and starts that followed.
async fn fail_b(strategy: Strategy, how: End) -> (Vec<bool>, Vec<String>) {
    let system = ActorSystem::new();
    let log = Log::default();
    let b = worker("b", &log);
    let handle = b.handle();
    let sup = SupervisorSpec::new()
        .strategy(strategy)
        .child(worker("a", &log))
        .child(b)
        .child(worker("c", &log))
        .child(worker("d", &log))
        .start(&system)
        .await
        .unwrap();
    let before = ids(&running(&sup).await);
    take(&log);
    end(&handle.current().unwrap(), how).await;
    let after = ids(&running(&sup).await);
    assert!(after.iter().all(Option::is_some), "all running again");
    let restarted = before.iter().zip(&after).map(|(b, a)| b != a).collect();
    system.shutdown().await;
    (restarted, take(&log))
}

#[tokio::test(start_paused = true)]
async fn one_for_one_restarts_only_the_child_that_failed() {
    let (restarted, log) = fail_b(Strategy::OneForOne, End::Panic).await;
    assert_eq!(restarted, [false, true, false, false]);
    assert_eq!(log[..2], ["stop b panic: b panicked", "start b"]);
}

#[tokio::test(start_paused = true)]
async fn one_for_all_restarts_every_child_in_order() {
    let (restarted, log) = fail_b(Strategy::OneForAll, End::Error).await;
    assert_eq!(restarted, [true; 4]);
    assert_eq!(
        log[..8],
        [
            "stop b error: b failed",
            "stop d shutdown",
            "stop c shutdown",
            "stop a shutdown",
            "start a",
            "start b",
            "start c",
            "start d"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn rest_for_one_restarts_the_child_and_those_after_it() {
    // Killed: `b` runs no `#[terminate]`.
    let (restarted, log) = fail_b(Strategy::RestForOne, End::Killed).await;
    assert_eq!(restarted, [false, true, true, true]);
    assert_eq!(
        log[..5],
        [
            "stop d shutdown",
            "stop c shutdown",
            "start b",
            "start c",
            "start d"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_temporary_sibling_is_not_restarted_by_a_group_restart() {
    let system = ActorSystem::new();
    let log = Log::default();
    let a = worker("a", &log);
    let handle = a.handle();
    let sup = SupervisorSpec::new()
        .strategy(Strategy::OneForAll)
        .child(a)
        .child(worker("temp", &log).restart(Restart::Temporary))
        .child(worker("c", &log))
        .start(&system)
        .await
        .unwrap();
    take(&log);
    end(&handle.current().unwrap(), End::Panic).await;
    let children = running(&sup).await;
    let names: Vec<&str> = children.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(names, ["a", "c"]);
    assert!(ids(&children).iter().all(Option::is_some));
    assert_eq!(
        take(&log),
        [
            "stop a panic: a panicked",
            "stop c shutdown",
            "stop temp shutdown",
            "start a",
            "start c"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn exceeding_the_intensity_stops_everything_with_shutdown() {
    let system = ActorSystem::new();
    let log = Log::default();
    let a = worker("a", &log);
    let a_handle = a.handle();
    let b = worker("b", &log);
    let handle = b.handle();
    // OTP's default: 1 restart in 5 s.
    let sup = SupervisorSpec::new()
        .child(a)
        .child(b)
        .start(&system)
        .await
        .unwrap();
    end(&handle.current().unwrap(), End::Panic).await;
    assert!(sup.is_alive(), "one restart is allowed");
    // Once the restart is more than a period old, the count starts again.
    tokio::time::advance(Duration::from_secs(5) + Duration::from_millis(1)).await;
    end(&handle.running().await.unwrap(), End::Panic).await;
    assert!(sup.count_children().await.is_ok());
    take(&log);
    // A second one within 5 s is too many.
    tokio::time::advance(Duration::from_secs(4)).await;
    end(&handle.running().await.unwrap(), End::Panic).await;
    assert_eq!(sup.wait_for_exit().await, ExitReason::Shutdown);
    assert_eq!(take(&log), ["stop b panic: b panicked", "stop a shutdown"]);
    assert!(handle.current().is_none());
    assert!(
        a_handle.current().is_none(),
        "a stopped child's handle shows none"
    );
}

#[tokio::test(start_paused = true)]
async fn a_restart_exactly_one_period_old_still_counts() {
    let system = ActorSystem::new();
    let log = Log::default();
    let w = worker("w", &log);
    let handle = w.handle();
    let sup = SupervisorSpec::new()
        .intensity(1, Duration::from_secs(5))
        .child(w)
        .start(&system)
        .await
        .unwrap();
    end(&handle.current().unwrap(), End::Panic).await;
    let restarted = handle.running().await.unwrap();
    assert!(sup.is_alive(), "one restart is allowed");
    tokio::time::advance(Duration::from_secs(5)).await;
    end(&restarted, End::Panic).await;
    // On the paused clock, a supervisor still alive makes this time out at once.
    let exit = tokio::time::timeout(Duration::from_secs(3600), sup.wait_for_exit()).await;
    assert_eq!(exit, Ok(ExitReason::Shutdown), "two restarts within 5 s");
}

#[tokio::test(start_paused = true)]
async fn zero_restarts_means_the_first_failure_ends_the_supervisor() {
    let system = ActorSystem::new();
    let log = Log::default();
    let w = worker("w", &log);
    let handle = w.handle();
    let sup = SupervisorSpec::new()
        .intensity(0, Duration::from_secs(1))
        .child(w)
        .start(&system)
        .await
        .unwrap();
    end(&handle.current().unwrap(), End::Error).await;
    assert_eq!(sup.wait_for_exit().await, ExitReason::Shutdown);
}

#[tokio::test(start_paused = true)]
async fn a_failure_escalates_to_the_parent_supervisor() {
    let system = ActorSystem::new();
    let log = Log::default();
    let w = worker("w", &log);
    let handle = w.handle();
    let inner = SupervisorSpec::new()
        .intensity(0, Duration::from_secs(1))
        .child(w);
    let inner = ChildSpec::<Supervisor>::new("inner", inner);
    let inner_handle = inner.handle();
    let top = SupervisorSpec::new()
        .child(worker("sibling", &log))
        .child(inner)
        .start(&system)
        .await
        .unwrap();
    let first_inner = inner_handle.current().unwrap();
    take(&log);
    end(&handle.current().unwrap(), End::Panic).await;
    // The inner supervisor gave up; the top one restarted it, and with it its worker.
    assert_eq!(first_inner.wait_for_exit().await, ExitReason::Shutdown);
    let second_inner = inner_handle.running().await.unwrap();
    assert_ne!(second_inner.id(), first_inner.id());
    assert_eq!(take(&log), ["stop w panic: w panicked", "start w"]);
    let info = top.which_children().await.unwrap();
    assert_eq!(info[1].kind, ChildKind::Supervisor);
    assert_eq!(info[1].actor, Some(second_inner.id()));
    let counts = top.count_children().await.unwrap();
    assert_eq!(
        (
            counts.specs,
            counts.active,
            counts.supervisors,
            counts.workers
        ),
        (2, 2, 1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn a_child_that_fails_to_start_fails_the_supervisor_and_names_the_child() {
    let system = ActorSystem::new();
    let log = Log::default();
    let err = SupervisorSpec::new()
        .child(worker("a", &log))
        .child(worker("b", &log))
        .child(ChildSpec::<Worker>::new(
            "broken",
            ("broken", log.clone(), true),
        ))
        .child(worker("never", &log))
        .start(&system)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        SupervisorError::ChildStart {
            id: "broken".into(),
            error: SpawnError::Init("broken cannot start".into()),
        }
    );
    assert_eq!(
        take(&log),
        ["start a", "start b", "stop b shutdown", "stop a shutdown"]
    );
}

#[tokio::test(start_paused = true)]
async fn invalid_specs_are_refused() {
    let system = ActorSystem::new();
    let log = Log::default();
    let dup = SupervisorSpec::new()
        .child(worker("a", &log))
        .child(worker("a", &log))
        .start(&system)
        .await;
    assert_eq!(
        dup.unwrap_err(),
        SupervisorError::InvalidSpec(SpecError::DuplicateId("a".into()))
    );
    let empty = SupervisorSpec::new()
        .child(worker("", &log))
        .start(&system)
        .await;
    assert_eq!(
        empty.unwrap_err(),
        SupervisorError::InvalidSpec(SpecError::EmptyId)
    );
    let zero = SupervisorSpec::new()
        .intensity(1, Duration::ZERO)
        .start(&system)
        .await;
    assert_eq!(
        zero.unwrap_err(),
        SupervisorError::InvalidSpec(SpecError::ZeroPeriod)
    );
    assert_eq!(entries(&log), Vec::<String>::new(), "nothing started");
}

#[tokio::test(start_paused = true)]
async fn a_child_that_ignores_shutdown_is_killed_at_its_timeout() {
    let system = ActorSystem::new();
    let log = Log::default();
    let stuck = worker("stuck", &log).shutdown(Shutdown::Timeout(Duration::from_secs(2)));
    let handle = stuck.handle();
    let sup = SupervisorSpec::new()
        .child(worker("a", &log))
        .child(stuck)
        .start(&system)
        .await
        .unwrap();
    let child = handle.current().unwrap();
    let hung = {
        let child = child.clone();
        tokio::spawn(async move { child.hang().timeout(Duration::MAX).await })
    };
    tokio::task::yield_now().await;
    take(&log);
    let start = tokio::time::Instant::now();
    assert_eq!(sup.stop().await, ExitReason::Normal);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(child.exit_reason(), Some(ExitReason::Killed));
    assert!(hung.await.unwrap().is_err());
    assert_eq!(
        take(&log),
        ["stop a shutdown"],
        "no terminate for the killed"
    );
}

#[tokio::test(start_paused = true)]
async fn brutal_kill_skips_terminate_and_infinity_waits() {
    let system = ActorSystem::new();
    let log = Log::default();
    let patient = worker("patient", &log).shutdown(Shutdown::Infinity);
    let patient_handle = patient.handle();
    let sup = SupervisorSpec::new()
        .child(patient)
        .child(worker("brutal", &log).shutdown(Shutdown::BrutalKill))
        .start(&system)
        .await
        .unwrap();
    take(&log);
    // The patient child is busy for a minute; the supervisor waits it out.
    let busy = patient_handle.current().unwrap();
    let hung = {
        let busy = busy.clone();
        tokio::spawn(async move { busy.hang().timeout(Duration::from_secs(60)).await })
    };
    tokio::task::yield_now().await;
    let stopping = tokio::spawn(async move { sup.stop().await });
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(!stopping.is_finished(), "infinity waits");
    assert_eq!(
        take(&log),
        Vec::<String>::new(),
        "brutal kill runs no terminate"
    );
    busy.kill();
    assert_eq!(stopping.await.unwrap(), ExitReason::Normal);
    assert!(hung.await.unwrap().is_err());
}

#[tokio::test(start_paused = true)]
async fn children_are_managed_at_run_time() {
    let system = ActorSystem::new();
    let log = Log::default();
    let sup = SupervisorSpec::new()
        .child(worker("a", &log))
        .start(&system)
        .await
        .unwrap();

    // start_child gives a typed ref; ids must be unique.
    let b = sup.start_child(worker("b", &log)).await.unwrap();
    assert_eq!(b.handled().await.unwrap(), 1);
    assert_eq!(
        sup.start_child(worker("b", &log)).await.unwrap_err(),
        ChildError::AlreadyPresent("b".into())
    );
    assert_eq!(
        sup.start_child(ChildSpec::<Worker>::new("x", ("x", log.clone(), true)))
            .await
            .unwrap_err(),
        ChildError::Start {
            id: "x".into(),
            error: SpawnError::Init("x cannot start".into())
        }
    );
    assert_eq!(sup.count_children().await.unwrap().specs, 2);

    // terminate keeps the spec; restart starts it again; delete needs it stopped.
    assert_eq!(
        sup.delete_child("b").await.unwrap_err(),
        ChildError::Running("b".into())
    );
    sup.terminate_child("b").await.unwrap();
    assert_eq!(b.exit_reason(), Some(ExitReason::Shutdown));
    let info: ChildInfo = sup.which_children().await.unwrap().remove(1);
    assert_eq!(
        (info.id.as_str(), info.actor, info.kind, info.restart),
        ("b", None, ChildKind::Worker, Restart::Permanent)
    );
    let again = sup.restart_child("b").await.unwrap();
    assert_ne!(again, b.id());
    assert_eq!(
        sup.restart_child("b").await.unwrap_err(),
        ChildError::Running("b".into())
    );
    sup.terminate_child("b").await.unwrap();
    sup.delete_child("b").await.unwrap();
    for missing in [
        sup.terminate_child("b").await,
        sup.delete_child("b").await,
        sup.restart_child("b").await.map(|_| ()),
    ] {
        assert_eq!(missing.unwrap_err(), ChildError::NotFound("b".into()));
    }
    assert_eq!(sup.count_children().await.unwrap().specs, 1);

    // A dead supervisor answers with the call's error.
    sup.stop().await;
    assert_eq!(
        sup.terminate_child("a").await.unwrap_err(),
        ChildError::Call(CallError::NoProc)
    );
}

#[tokio::test(start_paused = true)]
async fn a_handle_and_a_name_follow_the_restarted_child() {
    beam_runtime::names! {
        /// The supervised worker.
        WORKER: Worker = "worker";
    }
    let system = ActorSystem::new();
    let log = Log::default();
    let spec = worker("w", &log).name(WORKER);
    let handle: ChildHandle<Worker> = spec.handle();
    let _sup = SupervisorSpec::new()
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    let first = system.whereis(WORKER).unwrap();
    assert_eq!(Some(first.clone()), handle.current());
    end(&first, End::Panic).await;
    let second = handle.running().await.unwrap();
    assert_eq!(system.whereis(WORKER), Some(second.clone()));
    assert_ne!(first, second);
    assert_eq!(
        first.handled().await,
        Err(CallError::NoProc),
        "old refs stay dead"
    );
    assert_eq!(second.handled().await, Ok(1));
}

#[tokio::test(start_paused = true)]
async fn messages_queued_at_a_crash_go_to_the_next_incarnation() {
    let system = ActorSystem::new();
    let log = Log::default();
    let spec = worker("w", &log);
    let handle = spec.handle();
    let _sup = SupervisorSpec::new()
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    let first = handle.current().unwrap();
    // The crash, then three calls queued behind it (`join!` sends all three before the
    // child runs).
    first.end(End::Panic).unwrap();
    let answers = tokio::join!(first.handled(), first.handled(), first.handled());
    // The new incarnation answered them, in order, with a fresh count.
    assert_eq!(answers, (Ok(1), Ok(2), Ok(3)));
    assert_eq!(
        first.exit_reason(),
        Some(ExitReason::Panic("w panicked".into()))
    );
}

#[tokio::test(start_paused = true)]
async fn messages_of_a_child_that_is_not_restarted_fail_with_its_reason() {
    let system = ActorSystem::new();
    let log = Log::default();
    let spec = worker("w", &log).restart(Restart::Temporary);
    let handle = spec.handle();
    let _sup = SupervisorSpec::new()
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    let first = handle.current().unwrap();
    first.end(End::Error).unwrap();
    assert_eq!(
        first.handled().await,
        Err(CallError::Exited(ExitReason::Error("w failed".into())))
    );
}

#[tokio::test(start_paused = true)]
async fn killing_a_supervisor_takes_its_children_down() {
    let system = ActorSystem::new();
    let log = Log::default();
    let w = worker("w", &log);
    let handle = w.handle();
    let inner = ChildSpec::<Supervisor>::new("inner", SupervisorSpec::new().child(w));
    let inner_handle = inner.handle();
    let top = SupervisorSpec::new()
        .child(inner)
        .start(&system)
        .await
        .unwrap();
    let child = handle.current().unwrap();
    let inner_sup = inner_handle.current().unwrap();
    take(&log);
    // The top supervisor is killed: the inner one (trapping exits) stops because its
    // parent exited, and stops its worker in order.
    top.kill();
    assert_eq!(top.wait_for_exit().await, ExitReason::Killed);
    assert_eq!(inner_sup.wait_for_exit().await, ExitReason::Killed);
    assert_eq!(child.wait_for_exit().await, ExitReason::Shutdown);
    assert_eq!(take(&log), ["stop w shutdown"]);
}

#[tokio::test(start_paused = true)]
async fn shutting_the_system_down_stops_the_tree_in_order() {
    let system = ActorSystem::new();
    let log = Log::default();
    let inner = SupervisorSpec::new()
        .child(worker("x", &log))
        .child(worker("y", &log));
    SupervisorSpec::new()
        .child(worker("a", &log))
        .child(ChildSpec::<Supervisor>::new("inner", inner))
        .child(worker("b", &log))
        .start(&system)
        .await
        .unwrap();
    assert_eq!(take(&log), ["start a", "start x", "start y", "start b"]);
    system.shutdown().await;
    assert_eq!(
        take(&log),
        [
            "stop b shutdown",
            "stop y shutdown",
            "stop x shutdown",
            "stop a shutdown"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_dynamic_supervisor_starts_empty_and_takes_children_up_to_its_limit() {
    let system = ActorSystem::new();
    let log = Log::default();
    let dynamic = DynamicSupervisorSpec::new()
        .max_children(2)
        .start(&system)
        .await
        .unwrap();
    assert_eq!(dynamic.count_children().await.unwrap().specs, 0);
    let a = dynamic
        .start_child::<Worker>(("a", log.clone(), false))
        .await
        .unwrap();
    let b = dynamic.start_child_spec(worker("b", &log)).await.unwrap();
    assert_eq!(a.handled().await, Ok(1));
    assert_eq!(
        dynamic
            .start_child::<Worker>(("c", log.clone(), false))
            .await
            .unwrap_err(),
        ChildError::MaxChildren(2)
    );
    let children = dynamic.which_children().await.unwrap();
    assert_eq!(children.len(), 2);
    assert_eq!(children[0].id, "Worker");
    assert_eq!(children[1].actor, Some(b.id()));

    // A failed start is a typed error and takes no room.
    dynamic.terminate_child(b.id()).await.unwrap();
    assert_eq!(b.exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(
        dynamic.terminate_child(b.id()).await.unwrap_err(),
        ChildError::NotFound(b.id().to_string())
    );
    let failed = dynamic
        .start_child::<Worker>(("x", log.clone(), true))
        .await
        .unwrap_err();
    assert_eq!(
        failed,
        ChildError::Start {
            id: "Worker".into(),
            error: SpawnError::Init("x cannot start".into())
        }
    );
    assert_eq!(dynamic.count_children().await.unwrap().active, 1);

    take(&log);
    dynamic
        .start_child::<Worker>(("c", log.clone(), false))
        .await
        .unwrap();
    assert_eq!(dynamic.stop().await, ExitReason::Normal);
    assert_eq!(
        take(&log),
        ["start c", "stop c shutdown", "stop a shutdown"],
        "children stop in reverse start order"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dynamic_supervisor_restarts_by_restart_type_and_removes_the_rest() {
    let system = ActorSystem::new();
    let log = Log::default();
    let dynamic = DynamicSupervisorSpec::new()
        .intensity(10, Duration::from_secs(1))
        .start(&system)
        .await
        .unwrap();
    for restart in [Restart::Permanent, Restart::Transient, Restart::Temporary] {
        for how in ENDS {
            let spec = worker("w", &log).restart(restart);
            let handle = spec.handle();
            let first = dynamic.start_child_spec(spec).await.unwrap();
            end(&first, how).await;
            let children = dynamic.which_children().await.unwrap();
            let case = format!("{restart:?} after {how:?}");
            let restarted = match restart {
                Restart::Permanent => true,
                Restart::Transient => !matches!(how, End::Normal | End::Shutdown),
                Restart::Temporary => false,
            };
            if restarted {
                let again = handle.current().expect(&case);
                assert_eq!(children.len(), 1, "{case}");
                assert_eq!(children[0].actor, Some(again.id()), "{case}");
                dynamic.terminate_child(again.id()).await.unwrap();
            } else {
                assert!(children.is_empty(), "{case}: removed");
            }
            tokio::time::advance(Duration::from_secs(1)).await;
        }
    }
    assert!(dynamic.is_alive());
}

#[tokio::test(start_paused = true)]
async fn a_dynamic_supervisor_gives_up_past_its_intensity() {
    let system = ActorSystem::new();
    let log = Log::default();
    let dynamic = DynamicSupervisorSpec::new().start(&system).await.unwrap();
    let spec = worker("w", &log);
    let handle = spec.handle();
    dynamic.start_child_spec(spec).await.unwrap();
    dynamic
        .start_child_spec(worker("other", &log))
        .await
        .unwrap();
    end(&handle.current().unwrap(), End::Panic).await;
    end(&handle.running().await.unwrap(), End::Panic).await;
    assert_eq!(dynamic.wait_for_exit().await, ExitReason::Shutdown);
    assert!(entries(&log).contains(&"stop other shutdown".to_string()));

    let zero = DynamicSupervisorSpec::new()
        .intensity(1, Duration::ZERO)
        .start(&system)
        .await;
    assert_eq!(
        zero.unwrap_err(),
        SupervisorError::InvalidSpec(SpecError::ZeroPeriod)
    );
}

#[tokio::test(start_paused = true)]
async fn a_dynamic_supervisor_is_a_supervisor_child_like_any_other() {
    let system = ActorSystem::new();
    let log = Log::default();
    let pool = ChildSpec::<DynamicSupervisor>::new("pool", DynamicSupervisorSpec::new());
    let pool_handle = pool.handle();
    let top = SupervisorSpec::new()
        .child(pool)
        .start(&system)
        .await
        .unwrap();
    let info = top.which_children().await.unwrap();
    assert_eq!(info[0].kind, ChildKind::Supervisor);
    let pool = pool_handle.current().unwrap();
    pool.start_child::<Worker>(("job", log.clone(), false))
        .await
        .unwrap();
    system.shutdown().await;
    assert_eq!(take(&log), ["start job", "stop job shutdown"]);
}

#[tokio::test(start_paused = true)]
async fn supervisors_started_from_copies_of_a_spec_keep_their_messages_apart() {
    let system = ActorSystem::new();
    let log = Log::default();
    let w = worker("w", &log);
    let handle = w.handle();
    let spec = SupervisorSpec::new().child(w);
    let first = spec.clone().start(&system).await.unwrap();
    let w1 = handle.current().unwrap();
    let second = spec.start(&system).await.unwrap();
    let w2 = handle.current().unwrap();
    assert_ne!(w1, w2);
    // Both crash; the second's supervisor restarts first, and must not take the calls
    // queued for the first.
    w2.end(End::Panic).unwrap();
    w1.end(End::Panic).unwrap();
    let answers = tokio::join!(w1.whoami(), w1.whoami());
    let restarted = first.which_children().await.unwrap()[0].actor.unwrap();
    assert_eq!(answers, (Ok(restarted), Ok(restarted)));
    assert_ne!(
        Some(restarted),
        second.which_children().await.unwrap()[0].actor
    );
}

/// A worker that cannot start while its flag is set, and crashes on demand.
struct Fragile;

#[actor]
impl Fragile {
    #[init]
    fn init(broken: Arc<AtomicBool>) -> Result<Self, &'static str> {
        if broken.load(Ordering::SeqCst) {
            Err("broken")
        } else {
            Ok(Fragile)
        }
    }

    #[cast(crash_on_err)]
    fn crash(&mut self) -> Result<(), &'static str> {
        Err("crash")
    }
}

#[tokio::test(start_paused = true)]
async fn a_restart_that_keeps_failing_is_retried_from_the_mailbox() {
    let broken = Arc::new(AtomicBool::new(false));
    let system = ActorSystem::new();
    let spec = ChildSpec::<Fragile>::from_fn("fragile", {
        let broken = broken.clone();
        move || broken.clone()
    });
    let handle = spec.handle();
    let sup = SupervisorSpec::new()
        .intensity(u32::MAX, Duration::from_secs(1))
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    broken.store(true, Ordering::SeqCst);
    let first = handle.current().unwrap();
    first.crash().unwrap();
    first.wait_for_exit().await;
    // The restart fails again and again, yet the supervisor answers between attempts.
    let children = sup.which_children().await.unwrap();
    assert_eq!(children[0].actor, None);
    broken.store(false, Ordering::SeqCst);
    let again = handle.running().await.unwrap();
    assert_ne!(again.id(), first.id());
    assert_eq!(
        sup.which_children().await.unwrap()[0].actor,
        Some(again.id())
    );
}

/// A supervisor of `spec` alone, and a handle on its child.
async fn supervise(
    system: &ActorSystem,
    spec: ChildSpec<Worker>,
) -> (ActorRef<Supervisor>, ChildHandle<Worker>) {
    let handle = spec.handle();
    let sup = SupervisorSpec::new()
        .child(spec)
        .start(system)
        .await
        .unwrap();
    (sup, handle)
}

#[tokio::test(start_paused = true)]
async fn a_handle_stops_waiting_once_no_supervisor_can_start_its_child() {
    let system = ActorSystem::new();
    let log = Log::default();
    // A spec dropped unstarted: nothing will ever run.
    let unstarted = worker("u", &log);
    let orphan = unstarted.handle();
    drop(unstarted);
    assert_eq!(orphan.running().await, None);

    // A temporary child that ended is forgotten by its supervisor: nothing to wait for.
    let (_sup, handle) = supervise(&system, worker("t", &log).restart(Restart::Temporary)).await;
    end(&handle.running().await.unwrap(), End::Panic).await;
    assert_eq!(handle.running().await, None);

    // A transient child that ended normally is kept, not restarted: its handle waits
    // until the supervisor is gone.
    let (sup, handle) = supervise(&system, worker("n", &log).restart(Restart::Transient)).await;
    end(&handle.running().await.unwrap(), End::Normal).await;
    assert_eq!(handle.current(), None);
    let waiting = tokio::spawn({
        let handle = handle.clone();
        async move { handle.running().await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !waiting.is_finished(),
        "no restart comes after a normal exit"
    );
    assert_eq!(sup.stop().await, ExitReason::Normal);
    assert_eq!(waiting.await.unwrap(), None);
}

/// A worker whose `#[terminate]` takes a minute.
#[derive(Clone)]
struct Slow;

#[actor]
impl Slow {
    #[terminate]
    async fn terminate(&mut self) {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

/// A supervisor of one [`Slow`] worker with a 10 s shutdown, and that worker.
async fn slow_tree(system: &ActorSystem) -> (ActorRef<Supervisor>, ActorRef<Slow>) {
    let spec =
        ChildSpec::<Slow>::new("slow", Slow).shutdown(Shutdown::Timeout(Duration::from_secs(10)));
    let handle = spec.handle();
    let sup = SupervisorSpec::new()
        .child(spec)
        .start(system)
        .await
        .unwrap();
    (sup, handle.current().unwrap())
}

/// The system's shutdown kills, at its timeout, a supervised child its supervisor was still
/// stopping, as it kills the supervisor.
async fn shutdown_kills_a_child_still_stopping(timeout: Duration) {
    let system = ActorSystem::new();
    let (sup, child) = slow_tree(&system).await;
    let started = tokio::time::Instant::now();
    assert_eq!(
        system.shutdown_with(timeout).await.unwrap_err().killed,
        1,
        "the supervisor is killed"
    );
    assert_eq!(sup.wait_for_exit().await, ExitReason::Killed);
    let reason = tokio::time::timeout(Duration::from_secs(5), child.wait_for_exit()).await;
    assert_eq!(reason, Ok(ExitReason::Killed), "killed, not left to stop");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(system.actors().is_empty());
}

#[tokio::test(start_paused = true)]
async fn shutdown_with_a_timeout_kills_children_still_stopping() {
    shutdown_kills_a_child_still_stopping(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_a_timeout_kills_children_still_stopping_multi_thread() {
    shutdown_kills_a_child_still_stopping(Duration::from_millis(20)).await;
}

#[tokio::test(start_paused = true)]
async fn killing_a_supervisor_kills_the_child_it_is_stopping() {
    let system = ActorSystem::new();
    let (sup, child) = slow_tree(&system).await;
    let stopping = tokio::spawn({
        let sup = sup.clone();
        async move { sup.terminate_child("slow").await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(child.is_alive(), "still in its `#[terminate]`");
    let started = tokio::time::Instant::now();
    sup.kill();
    assert_eq!(sup.wait_for_exit().await, ExitReason::Killed);
    assert_eq!(child.wait_for_exit().await, ExitReason::Killed);
    assert!(started.elapsed() < Duration::from_secs(1), "killed at once");
    assert!(stopping.await.unwrap().is_err());
}

/// Whether child `id` of `sup` runs, and whether it waits for a restart.
async fn state_of(sup: &ActorRef<Supervisor>, id: &str) -> (Option<ActorId>, bool) {
    let children = sup.which_children().await.unwrap();
    let child = children.iter().find(|c| c.id == id).expect("listed");
    (child.actor, child.restarting)
}

#[tokio::test(start_paused = true)]
async fn a_fixed_backoff_delays_each_restart() {
    let system = ActorSystem::new();
    let log = Log::default();
    let w = worker("w", &log);
    let handle = w.handle();
    let sup = SupervisorSpec::new()
        .intensity(10, Duration::from_secs(60))
        .backoff(Backoff::fixed(Duration::from_secs(1)))
        .child(w)
        .start(&system)
        .await
        .unwrap();
    for _ in 0..3 {
        let crashed = tokio::time::Instant::now();
        end(&handle.current().unwrap(), End::Panic).await;
        assert_eq!(state_of(&sup, "w").await, (None, true), "waits");
        assert!(handle.current().is_none());
        let next = handle.running().await.unwrap();
        assert_eq!(crashed.elapsed(), Duration::from_secs(1));
        assert_eq!(state_of(&sup, "w").await, (Some(next.id()), false));
    }
}

#[tokio::test(start_paused = true)]
async fn an_exponential_backoff_doubles_to_its_cap_and_counts_at_the_crash() {
    let system = ActorSystem::new();
    let log = Log::default();
    let ms = Duration::from_millis;
    let w = worker("w", &log).backoff(Backoff::exponential(ms(100), ms(300)));
    let handle = w.handle();
    let sup = SupervisorSpec::new()
        .intensity(3, Duration::from_secs(60))
        .child(w)
        .start(&system)
        .await
        .unwrap();
    for expected in [100, 200, 300] {
        let crashed = tokio::time::Instant::now();
        end(&handle.current().unwrap(), End::Panic).await;
        handle.running().await.unwrap();
        assert_eq!(crashed.elapsed(), ms(expected));
    }
    // The fourth restart is one too many: the supervisor gives up at the crash, without
    // waiting for a backoff.
    let crashed = tokio::time::Instant::now();
    end(&handle.current().unwrap(), End::Panic).await;
    assert_eq!(sup.wait_for_exit().await, ExitReason::Shutdown);
    assert_eq!(crashed.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_backoff_streak_starts_again_after_a_quiet_period() {
    let system = ActorSystem::new();
    let log = Log::default();
    let ms = Duration::from_millis;
    let w = worker("w", &log);
    let handle = w.handle();
    let _sup = SupervisorSpec::new()
        .intensity(5, Duration::from_secs(1))
        .backoff(Backoff::exponential(ms(100), Duration::from_secs(10)))
        .child(w)
        .start(&system)
        .await
        .unwrap();
    for expected in [100, 200, 100] {
        let crashed = tokio::time::Instant::now();
        end(&handle.current().unwrap(), End::Panic).await;
        handle.running().await.unwrap();
        assert_eq!(crashed.elapsed(), ms(expected));
        if expected == 200 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn stopping_during_a_backoff_cancels_the_restart_without_waiting() {
    let system = ActorSystem::new();
    let log = Log::default();
    let w = worker("w", &log);
    let handle = w.handle();
    let sup = SupervisorSpec::new()
        .backoff(Backoff::fixed(Duration::from_secs(3600)))
        .child(w)
        .child(worker("v", &log))
        .start(&system)
        .await
        .unwrap();
    end(&handle.current().unwrap(), End::Panic).await;
    assert_eq!(state_of(&sup, "w").await, (None, true));
    // `terminate_child` cancels the wait: no restart comes after it.
    sup.terminate_child("w").await.unwrap();
    assert_eq!(state_of(&sup, "w").await, (None, false));
    tokio::time::sleep(Duration::from_secs(7200)).await;
    assert_eq!(state_of(&sup, "w").await, (None, false));
    assert!(handle.current().is_none());
    // `restart_child` starts it at once.
    sup.restart_child("w").await.unwrap();
    let crashed = tokio::time::Instant::now();
    end(&handle.current().unwrap(), End::Panic).await;
    // The system's shutdown does not wait for the backoff.
    system.shutdown().await;
    assert_eq!(crashed.elapsed(), Duration::ZERO);
    assert_eq!(sup.wait_for_exit().await, ExitReason::Shutdown);
    assert!(handle.current().is_none());
}

#[tokio::test(start_paused = true)]
async fn messages_queued_at_a_crash_wait_for_the_incarnation_after_the_backoff() {
    let system = ActorSystem::new();
    let log = Log::default();
    let spec = worker("w", &log).backoff(Backoff::fixed(Duration::from_secs(2)));
    let handle = spec.handle();
    let _sup = SupervisorSpec::new()
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    let first = handle.current().unwrap();
    let crashed = tokio::time::Instant::now();
    first.end(End::Panic).unwrap();
    let answers = tokio::join!(first.handled(), first.handled());
    assert_eq!(answers, (Ok(1), Ok(2)), "answered by the next incarnation");
    assert_eq!(crashed.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_restart_that_fails_waits_one_backoff_step_longer() {
    let broken = Arc::new(AtomicBool::new(false));
    let system = ActorSystem::new();
    let ms = Duration::from_millis;
    let spec = ChildSpec::<Fragile>::from_fn("fragile", {
        let broken = broken.clone();
        move || broken.clone()
    })
    .backoff(Backoff::exponential(ms(100), Duration::from_secs(10)));
    let handle = spec.handle();
    let sup = SupervisorSpec::new()
        .intensity(10, Duration::from_secs(60))
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    broken.store(true, Ordering::SeqCst);
    let crashed = tokio::time::Instant::now();
    let first = handle.current().unwrap();
    first.crash().unwrap();
    first.wait_for_exit().await;
    // The restart at 100 ms fails; the next attempt waits 200 ms more.
    tokio::time::sleep(ms(150)).await;
    let children = sup.which_children().await.unwrap();
    assert_eq!((children[0].actor, children[0].restarting), (None, true));
    broken.store(false, Ordering::SeqCst);
    handle.running().await.unwrap();
    assert_eq!(crashed.elapsed(), ms(300));
}

/// Spends `d` of tokio's paused clock synchronously, as a hook that works that long
/// would: `tokio::time::advance` moves the clock when first polled.
fn spend(d: Duration) {
    let mut advance = std::pin::pin!(tokio::time::advance(d));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let _ = std::future::Future::poll(advance.as_mut(), &mut cx);
}

/// Takes a while to terminate: `spend` ms of the paused clock, or `block` ms of real time
/// blocking its thread.
#[derive(Clone)]
struct SlowToQuit {
    spend: u64,
    block: u64,
}

#[actor]
impl SlowToQuit {
    #[terminate]
    fn terminate(&mut self, _reason: &ExitReason) {
        if self.spend > 0 {
            spend(Duration::from_millis(self.spend));
        }
        std::thread::sleep(Duration::from_millis(self.block));
    }
}

fn slow_to_quit(id: &'static str, spend: u64, block: u64) -> ChildSpec<SlowToQuit> {
    ChildSpec::new(id, SlowToQuit { spend, block })
        .shutdown(Shutdown::Timeout(Duration::from_millis(100)))
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_terminate_that_overruns_the_shutdown_timeout_ends_killed() {
    let system = ActorSystem::new();
    let spec = slow_to_quit("slow", 1_000, 0);
    let handle = spec.handle();
    let sup = SupervisorSpec::new()
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    let child = handle.current().unwrap();
    sup.terminate_child("slow").await.unwrap();
    // Its terminate took 1 s: the supervisor could not kill it meanwhile (one thread),
    // but it ends as if it had.
    assert_eq!(child.wait_for_exit().await, ExitReason::Killed);
    // One within its timeout ends `Shutdown`.
    let spec = slow_to_quit("quick", 50, 0);
    let handle = spec.handle();
    sup.start_child(spec).await.unwrap();
    let child = handle.current().unwrap();
    sup.terminate_child("quick").await.unwrap();
    assert_eq!(child.wait_for_exit().await, ExitReason::Shutdown);
    system.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_terminate_past_the_shutdown_timeout_ends_killed_on_two_workers() {
    let system = ActorSystem::new();
    let spec = slow_to_quit("slow", 0, 300);
    let handle = spec.handle();
    let sup = SupervisorSpec::new()
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    let child = handle.current().unwrap();
    sup.terminate_child("slow").await.unwrap();
    // Its terminate blocked a thread for 300 ms against a shutdown timeout of 100 ms:
    // whichever thread ran it, and whether or not the supervisor could kill it at its
    // timeout, it ends as a killed child.
    assert_eq!(child.wait_for_exit().await, ExitReason::Killed);
    system.shutdown().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_shutdown_kills_an_actor_whose_terminate_overruns_its_timeout() {
    let system = ActorSystem::new();
    let slow = system
        .spawn::<SlowToQuit>(SlowToQuit {
            spend: 1_000,
            block: 0,
        })
        .await
        .unwrap();
    let quick = system
        .spawn::<SlowToQuit>(SlowToQuit {
            spend: 10,
            block: 0,
        })
        .await
        .unwrap();
    let out = system.shutdown_with(Duration::from_millis(100)).await;
    assert_eq!(out.unwrap_err().killed, 1);
    assert_eq!(slow.exit_reason(), Some(ExitReason::Killed));
    assert_eq!(quick.exit_reason(), Some(ExitReason::Shutdown));
}
