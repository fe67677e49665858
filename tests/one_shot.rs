//! Children started from owned, one-shot arguments, and supervised tasks restarted by
//! their restart type.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use beam_runtime::prelude::*;
use beam_runtime::supervisor::{ChildError, DynamicSupervisorSpec, Restart, SpecError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Neither `Clone` nor `Sync`.
struct Meter {
    seen: Cell<u32>,
}

struct Metered {
    meter: Meter,
}

#[actor]
impl Metered {
    #[init]
    fn init(meter: Meter) -> Self {
        Metered { meter }
    }

    #[call]
    fn tick(&mut self) -> u32 {
        self.meter.seen.set(self.meter.seen.get() + 1);
        self.meter.seen.get()
    }

    #[cast]
    fn crash(&mut self) {
        panic!("metered crashed");
    }
}

#[tokio::test(start_paused = true)]
async fn a_temporary_child_takes_arguments_that_are_neither_clone_nor_sync() {
    let system = ActorSystem::new();
    let sup = DynamicSupervisorSpec::new().start(&system).await.unwrap();
    let meter = Meter {
        seen: Cell::new(41),
    };
    let child = sup.start_temporary::<Metered>(meter).await.unwrap();
    assert_eq!(child.tick().await, Ok(42));

    // Temporary: a crash removes it instead of restarting it.
    child.crash().unwrap();
    assert_eq!(
        child.wait_for_exit().await,
        ExitReason::Panic("metered crashed".into())
    );
    assert_eq!(sup.count_children().await.unwrap().specs, 0);
    system.shutdown().await;
}

/// Owns one end of a TCP connection and echoes what it reads, upper-cased.
struct Conn {
    stream: TcpStream,
}

#[actor]
impl Conn {
    #[init]
    fn init(stream: TcpStream) -> Self {
        Conn { stream }
    }

    #[call]
    async fn echo(&mut self) -> String {
        let mut buf = [0; 5];
        self.stream.read_exact(&mut buf).await.unwrap();
        let text = String::from_utf8_lossy(&buf).to_uppercase();
        self.stream.write_all(text.as_bytes()).await.unwrap();
        text
    }
}

#[tokio::test]
async fn a_temporary_child_owns_an_accepted_tcp_stream() {
    let system = ActorSystem::new();
    let sup = DynamicSupervisorSpec::new().start(&system).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (accepted, _) = listener.accept().await.unwrap();

    let conn = sup.start_temporary::<Conn>(accepted).await.unwrap();
    client.write_all(b"hello").await.unwrap();
    assert_eq!(conn.echo().await.unwrap(), "HELLO");
    let mut back = [0; 5];
    client.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"HELLO");
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_one_shot_spec_must_be_temporary() {
    let system = ActorSystem::new();
    let sup = DynamicSupervisorSpec::new().start(&system).await.unwrap();
    let meter = Meter { seen: Cell::new(0) };
    let spec = ChildSpec::<Metered>::once("metered", meter).restart(Restart::Permanent);
    assert_eq!(
        sup.start_child_spec(spec).await.unwrap_err(),
        ChildError::InvalidSpec(SpecError::OneShotRestart("metered".into()))
    );

    // In a static supervisor, the start is refused the same way.
    let meter = Meter { seen: Cell::new(0) };
    let spec = ChildSpec::<Metered>::once("metered", meter).restart(Restart::Transient);
    let refused = SupervisorSpec::new().child(spec).start(&system).await;
    assert!(matches!(
        refused,
        Err(beam_runtime::supervisor::SupervisorError::InvalidSpec(
            SpecError::OneShotRestart(_)
        ))
    ));
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_one_shot_spec_started_twice_fails_the_second_start() {
    let system = ActorSystem::new();
    let meter = Meter { seen: Cell::new(0) };
    let spec = SupervisorSpec::new().child(ChildSpec::<Metered>::once("metered", meter));
    spec.clone().start(&system).await.unwrap();
    let again = spec.start(&system).await.unwrap_err();
    assert_eq!(
        again,
        beam_runtime::supervisor::SupervisorError::ChildStart {
            id: "metered".into(),
            error: SpawnError::ArgsUsed,
        }
    );
    system.shutdown().await;
}

/// A task child that reports each run's number on `runs`; the first run panics once
/// `go` is notified, later ones wait forever.
fn flaky(
    go: Arc<tokio::sync::Notify>,
    runs: tokio::sync::mpsc::UnboundedSender<u32>,
) -> ChildSpec<beam_runtime::task::TaskActor> {
    let count = Arc::new(AtomicU32::new(0));
    ChildSpec::task("acceptor", move || {
        let (count, runs, go) = (count.clone(), runs.clone(), go.clone());
        async move {
            let run = count.fetch_add(1, Ordering::SeqCst);
            let _ = runs.send(run);
            if run == 0 {
                go.notified().await;
                panic!("accept failed");
            }
            std::future::pending::<()>().await;
        }
    })
}

async fn a_permanent_task_child_is_restarted_after_a_panic() {
    let system = ActorSystem::new();
    let (tx, mut runs) = tokio::sync::mpsc::unbounded_channel();
    let go = Arc::new(tokio::sync::Notify::new());
    let spec = flaky(go.clone(), tx);
    let handle = spec.handle();
    let sup = SupervisorSpec::new()
        .child(spec)
        .start(&system)
        .await
        .unwrap();

    assert_eq!(runs.recv().await, Some(0));
    let first = handle.running().await.unwrap();
    go.notify_one();
    assert_eq!(
        first.wait_for_exit().await,
        ExitReason::Panic("accept failed".into())
    );
    assert_eq!(runs.recv().await, Some(1));
    let second = handle.running().await.unwrap();
    assert_ne!(first.id(), second.id());
    assert!(second.is_alive());
    assert_eq!(sup.count_children().await.unwrap().active, 1);
    system.shutdown().await;
    assert!(runs.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn a_permanent_task_child_is_restarted_after_a_panic_current_thread() {
    a_permanent_task_child_is_restarted_after_a_panic().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_task_child_is_restarted_after_a_panic_multi_thread() {
    a_permanent_task_child_is_restarted_after_a_panic().await;
}

#[tokio::test(start_paused = true)]
async fn a_task_child_that_returns_is_restarted_if_permanent_only() {
    let system = ActorSystem::new();
    let runs = Arc::new(AtomicU32::new(0));
    let counted = runs.clone();
    let permanent = ChildSpec::task("loop", move || {
        let runs = counted.clone();
        async move {
            if runs.fetch_add(1, Ordering::SeqCst) < 2 {
                return;
            }
            std::future::pending::<()>().await;
        }
    });
    let transient = ChildSpec::task("once", || async {}).restart(Restart::Transient);
    let sup = SupervisorSpec::new()
        .intensity(5, Duration::from_secs(5))
        .child(permanent)
        .child(transient)
        .start(&system)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    let children = sup.which_children().await.unwrap();
    assert!(children[0].actor.is_some());
    assert_eq!(children[1].actor, None);
    system.shutdown().await;
}
