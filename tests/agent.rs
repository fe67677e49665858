//! Agents: reading and changing the state through closures, in order; stopping; timeouts;
//! crashes; supervision and restarts; names; typed re-wraps; and the handle's traits.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::mpsc;
use std::time::Duration;

use beam_runtime::agent::{AgentCall, AgentError, AgentServer};
use beam_runtime::prelude::*;
use beam_runtime::supervisor::DynamicSupervisorSpec;

fn send_sync_clone<T: Send + Sync + Clone>() {}
fn send<T: Send>() {}
fn send_future<F: std::future::IntoFuture<IntoFuture: Send>>(_: F) {}

#[tokio::test]
async fn get_update_and_get_and_update_see_one_state() {
    let system = ActorSystem::new();
    let agent = Agent::start(&system, vec![1_u32, 2]).await.unwrap();

    assert_eq!(agent.get(|v| v.clone()).await, Ok(vec![1, 2]));
    assert_eq!(agent.update(|v| v.push(3)).await, Ok(()));
    assert_eq!(agent.get(|v| v.iter().sum::<u32>()).await, Ok(6));
    let popped = agent.get_and_update(|v| v.pop()).await;
    assert_eq!(popped, Ok(Some(3)));
    assert_eq!(agent.get(|v| v.clone()).await, Ok(vec![1, 2]));
    // An answer may be of any type, unrelated to the state's.
    assert_eq!(agent.get(|v| format!("{v:?}")).await.unwrap(), "[1, 2]");
    system.shutdown().await;
}

#[tokio::test]
async fn closures_from_one_caller_run_in_the_order_sent() {
    let system = ActorSystem::new();
    let agent = Agent::start(&system, Vec::<u32>::new()).await.unwrap();

    for i in 0..100 {
        agent.cast(move |v| v.push(i)).unwrap();
    }
    let update = agent.update(|v| v.push(100));
    let taken = agent.get_and_update(std::mem::take);
    // Nothing is sent before a call is first polled: the one awaited first runs first.
    let taken = taken.await.unwrap();
    update.await.unwrap();
    assert_eq!(taken, (0..100).collect::<Vec<_>>());
    assert_eq!(agent.get(|v| v.clone()).await, Ok(vec![100]));

    agent.cast(|v| v.push(1)).unwrap();
    agent.cast(|v| v.push(2)).unwrap();
    assert_eq!(agent.get(|v| v.clone()).await, Ok(vec![100, 1, 2]));
    system.shutdown().await;
}

#[tokio::test]
async fn clones_share_the_agent() {
    let system = ActorSystem::new();
    let agent = Agent::start(&system, 0_u64).await.unwrap();
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let agent = agent.clone();
            system
                .spawn_task(async move {
                    for _ in 0..10 {
                        agent.update(|n| *n += 1).await.unwrap();
                    }
                })
                .unwrap()
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(agent.get(|n| *n).await, Ok(80));

    let copy = agent.clone();
    assert_eq!(copy, agent);
    assert_eq!(copy.id(), agent.id());
    let hash = |a: &Agent<u64>| {
        let mut h = DefaultHasher::new();
        a.hash(&mut h);
        h.finish()
    };
    assert_eq!(hash(&copy), hash(&agent));
    let other = Agent::start(&system, 0_u64).await.unwrap();
    assert_ne!(other, agent);
    system.shutdown().await;
}

#[tokio::test]
async fn stop_runs_what_was_sent_then_calls_fail_with_noproc() {
    let system = ActorSystem::new();
    let agent = Agent::start(&system, 0_u32).await.unwrap();
    let (seen_tx, seen_rx) = mpsc::channel();
    for i in 1..=3 {
        let seen = seen_tx.clone();
        agent
            .cast(move |n| {
                *n += i;
                seen.send(*n).unwrap();
            })
            .unwrap();
    }

    assert_eq!(agent.stop().await, ExitReason::Normal);
    assert_eq!(seen_rx.try_iter().collect::<Vec<_>>(), [1, 3, 6]);
    assert!(!agent.is_alive());
    assert_eq!(agent.actor_ref().exit_reason(), Some(ExitReason::Normal));

    assert_eq!(agent.get(|n| *n).await, Err(CallError::NoProc));
    assert_eq!(agent.update(|n| *n = 0).await, Err(CallError::NoProc));
    assert_eq!(agent.get_and_update(|n| *n).await, Err(CallError::NoProc));
    assert_eq!(agent.cast(|n| *n = 0), Err(SendError::NoProc));
    assert_eq!(agent.stop().await, ExitReason::NoProc);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_call_with_a_timeout_gives_its_answer() {
    let system = ActorSystem::new();
    let agent = Agent::start(&system, 5_i32).await.unwrap();
    let start = tokio::time::Instant::now();
    let n = agent
        .get(|n| *n)
        .timeout(Duration::from_millis(10))
        .await
        .unwrap();
    assert_eq!(n, 5);
    let old = agent
        .get_and_update(|n| std::mem::replace(n, 6))
        .timeout(Duration::MAX)
        .await;
    assert_eq!(old, Ok(5));
    assert_eq!(
        agent.update(|n| *n += 1).timeout(Duration::ZERO).await,
        Ok(())
    );
    assert_eq!(agent.get(|n| *n).await, Ok(7));
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "no call waited for its timer"
    );
    system.shutdown().await;
}

/// An agent busy with a closure that waits for the test cannot answer in time: the call
/// times out, the late answer is dropped, and the agent goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_to_a_busy_agent_times_out() {
    let system = ActorSystem::new();
    let agent = Agent::start(&system, 0_u32).await.unwrap();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    agent
        .cast(move |n| {
            started_tx.send(()).unwrap();
            // Blocks this agent's worker thread until the test lets it go.
            release_rx.recv().unwrap();
            *n += 1;
        })
        .unwrap();
    started_rx.await.unwrap();

    let late = agent
        .get_and_update(|n| {
            *n += 10;
            *n
        })
        .timeout(Duration::from_millis(20))
        .await;
    assert_eq!(late, Err(CallError::Timeout));

    release_tx.send(()).unwrap();
    // The closure of the call that timed out still ran; only its answer was dropped.
    assert_eq!(agent.get(|n| *n).await, Ok(11));
    system.shutdown().await;
}

#[tokio::test]
async fn a_panicking_closure_crashes_the_agent() {
    let system = ActorSystem::new();
    let agent = Agent::start(&system, String::from("state")).await.unwrap();
    let crashed = agent
        .get(|s| -> usize {
            if !s.is_empty() {
                panic!("bad read of {s}");
            }
            0
        })
        .await;
    let reason = ExitReason::Panic("bad read of state".into());
    assert_eq!(crashed, Err(CallError::Exited(reason.clone())));
    assert_eq!(agent.actor_ref().wait_for_exit().await, reason);
    assert_eq!(agent.get(|s| s.len()).await, Err(CallError::NoProc));

    // A cast that panics crashes it just the same, and a call queued behind it fails.
    let agent = Agent::start(&system, 0_u8).await.unwrap();
    agent.cast(|_| panic!("bad cast")).unwrap();
    let behind = agent.update(|n| *n += 1).await;
    let reason = ExitReason::Panic("bad cast".into());
    assert_eq!(behind, Err(CallError::Exited(reason.clone())));
    assert_eq!(agent.stop().await, ExitReason::NoProc);
    assert_eq!(agent.actor_ref().exit_reason(), Some(reason));
    system.shutdown().await;
}

#[tokio::test]
async fn a_supervised_agent_restarts_with_fresh_state() {
    let system = ActorSystem::new();
    let spec = Agent::<Vec<&'static str>>::child_spec("log", || vec!["boot"]);
    let handle = spec.handle();
    let sup = SupervisorSpec::new()
        .intensity(5, Duration::from_secs(5))
        .child(spec)
        .start(&system)
        .await
        .unwrap();

    let first = Agent::<Vec<&str>>::from_handle(&handle).await.unwrap();
    assert_eq!(first.actor_ref(), &handle.current().unwrap());
    first.update(|v| v.push("a")).await.unwrap();
    assert_eq!(first.get(|v| v.clone()).await, Ok(vec!["boot", "a"]));

    let crashed = first.update(|_| panic!("corrupt log")).await;
    assert_eq!(
        crashed,
        Err(CallError::Exited(ExitReason::Panic("corrupt log".into())))
    );

    let second = Agent::<Vec<&str>>::from_handle(&handle).await.unwrap();
    assert_ne!(second.id(), first.id());
    assert_eq!(second.get(|v| v.clone()).await, Ok(vec!["boot"]));
    second.update(|v| v.push("b")).await.unwrap();
    assert_eq!(second.get(|v| v.clone()).await, Ok(vec!["boot", "b"]));
    assert_eq!(first.get(|v| v.len()).await, Err(CallError::NoProc));

    // Closures queued behind the one that crashes go to the next incarnation.
    second.cast(|_| panic!("corrupt again")).unwrap();
    second.cast(|v| v.push("handed over")).unwrap();
    let reason = second.actor_ref().wait_for_exit().await;
    assert_eq!(reason, ExitReason::Panic("corrupt again".into()));
    let third = Agent::<Vec<&str>>::from_handle(&handle).await.unwrap();
    assert_eq!(
        third.get(|v| v.clone()).await,
        Ok(vec!["boot", "handed over"])
    );

    assert_eq!(sup.count_children().await.unwrap().active, 1);
    system.shutdown().await;
    assert!(!third.is_alive());
}

#[tokio::test]
async fn a_handle_checks_the_state_type() {
    let system = ActorSystem::new();
    let spec = Agent::<u64>::child_spec("hits", || 0);
    let handle = spec.handle();
    let _sup = SupervisorSpec::new()
        .child(spec)
        .start(&system)
        .await
        .unwrap();

    let wrong = Agent::<String>::from_handle(&handle).await;
    assert_eq!(
        wrong,
        Err(AgentError::WrongType {
            expected: "alloc::string::String",
            found: "u64",
        })
    );
    // The agent is untouched.
    let hits = Agent::<u64>::from_handle(&handle).await.unwrap();
    assert_eq!(hits.get(|n| *n).await, Ok(0));
    system.shutdown().await;

    // A handle whose spec is gone has no agent to give.
    let spec = Agent::<u64>::child_spec("gone", || 0);
    let handle = spec.handle();
    drop(spec);
    assert_eq!(
        Agent::<u64>::from_handle(&handle).await,
        Err(AgentError::NotRunning)
    );
}

beam_runtime::names! {
    /// A named agent of the tests.
    SETTINGS: AgentServer = "settings";
}

#[tokio::test]
async fn a_named_agent_is_found_and_typed_again() {
    let system = ActorSystem::new();
    let agent = Agent::start_named(&system, SETTINGS, (true, 3_u8))
        .await
        .unwrap();
    let again = Agent::start_named(&system, SETTINGS, (false, 0_u8)).await;
    assert_eq!(again, Err(SpawnError::NameTaken("settings".into())));

    let found = system.whereis(SETTINGS).unwrap();
    assert_eq!(&found, agent.actor_ref());
    let typed = Agent::<(bool, u8)>::from_ref(found.clone()).await.unwrap();
    assert_eq!(typed, agent);
    assert_eq!(typed.get(|s| *s).await, Ok((true, 3)));

    let wrong = Agent::<(bool, u16)>::from_ref(found).await;
    assert_eq!(
        wrong,
        Err(AgentError::WrongType {
            expected: "(bool, u16)",
            found: "(bool, u8)",
        })
    );

    agent.stop().await;
    assert_eq!(system.whereis(SETTINGS), None);
    let dead = Agent::<(bool, u8)>::from_ref(agent.actor_ref().clone()).await;
    assert_eq!(dead, Err(AgentError::Call(CallError::NoProc)));
    system.shutdown().await;
}

#[tokio::test]
async fn an_agent_runs_under_a_dynamic_supervisor() {
    let system = ActorSystem::new();
    let sup = DynamicSupervisorSpec::new().start(&system).await.unwrap();
    let started = sup
        .start_child_spec(Agent::<i64>::child_spec("acc", || -1))
        .await
        .unwrap();
    let acc = Agent::<i64>::from_ref(started).await.unwrap();
    assert_eq!(
        acc.get_and_update(|n| std::mem::replace(n, 1)).await,
        Ok(-1)
    );
    assert_eq!(acc.get(|n| *n).await, Ok(1));
    assert_eq!(sup.count_children().await.unwrap().active, 1);
    system.shutdown().await;
}

#[tokio::test]
async fn errors_convert_and_display() {
    let err: beam_runtime::Error = AgentError::NotRunning.into();
    assert_eq!(
        err.to_string(),
        "the agent is not running and will not be restarted"
    );
    let wrong = AgentError::WrongType {
        expected: "u8",
        found: "u16",
    };
    assert_eq!(wrong.to_string(), "the agent holds a `u16`, not a `u8`");
    assert_eq!(
        AgentError::from(CallError::NoProc).to_string(),
        "the actor is not alive"
    );
}

#[tokio::test]
async fn the_handle_is_send_sync_clone_and_debug() {
    send_sync_clone::<Agent<Vec<u8>>>();
    // The state need only be `Send`.
    send_sync_clone::<Agent<std::cell::Cell<u8>>>();
    send::<AgentCall<'static, u8>>();
    send::<AgentError>();

    let system = ActorSystem::new();
    send_future(Agent::start(&system, 0_u8));
    let agent = Agent::start(&system, std::cell::Cell::new(1_u8))
        .await
        .unwrap();
    send_future(agent.get(|c| c.get()));
    send_future(agent.stop());
    send_future(Agent::<std::cell::Cell<u8>>::from_ref(
        agent.actor_ref().clone(),
    ));
    let spec = Agent::<u8>::child_spec("x", || 0);
    send_future(Agent::<u8>::from_handle(&spec.handle()));

    assert_eq!(
        format!("{agent:?}"),
        format!("Agent<core::cell::Cell<u8>>{}", agent.id())
    );
    let call = format!("{:?}", agent.get(|c| c.get()));
    assert!(call.starts_with("AgentCall {"), "{call}");
    let server: ActorRef<AgentServer> = agent.clone().into();
    assert_eq!(&server, AsRef::<ActorRef<AgentServer>>::as_ref(&agent));
    system.shutdown().await;
}
