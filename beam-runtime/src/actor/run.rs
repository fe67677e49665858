//! The life of an actor: init, the receive loop, and the exit sequence.

use std::any::Any;
use std::borrow::Cow;
use std::cell::Cell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::sync::oneshot;

use super::ctx::Ctx;
use super::{Actor, ActorId, ActorRef, Envelope, Shared};
use crate::error::SpawnError;
use crate::exit::ExitReason;
use crate::message::Info;
use crate::system::ActorSystem;

thread_local! {
    /// The id of the actor being polled on this thread (0 for none).
    static CURRENT: Cell<u64> = const { Cell::new(0) };
    /// Set while the runtime drops what an exiting actor held (never across an await).
    static TEARDOWN: Cell<bool> = const { Cell::new(false) };
}

/// Whether the runtime is taking an exiting actor apart on this thread right now: a
/// [`Reply`](crate::Reply) dropped then closes its channel instead of answering `NoReply`.
pub(crate) fn in_teardown() -> bool {
    TEARDOWN.with(Cell::get)
}

/// Runs `f` (which must not await) marked as teardown.
fn teardown<R>(f: impl FnOnce() -> R) -> R {
    let previous = TEARDOWN.with(|t| t.replace(true));
    let out = f();
    TEARDOWN.with(|t| t.set(previous));
    out
}

/// The id of the actor whose task is running on this thread, if any.
pub(crate) fn current_actor() -> Option<ActorId> {
    let id = CURRENT.with(Cell::get);
    (id != 0).then_some(ActorId(id))
}

pin_project! {
    /// An actor's task: marks the thread with the actor's id while it is polled, and takes
    /// an unfinished actor apart as teardown when it is dropped (killed).
    pub(crate) struct ActorTask<F> {
        id: ActorId,
        #[pin]
        fut: Option<F>,
    }

    impl<F> PinnedDrop for ActorTask<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut fut = this.project().fut;
            if fut.is_some() {
                teardown(|| fut.set(None));
            }
        }
    }
}

impl<F> ActorTask<F> {
    pub(crate) fn new(id: ActorId, fut: F) -> Self {
        Self { id, fut: Some(fut) }
    }
}

impl<F: Future<Output = ()>> Future for ActorTask<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let Some(fut) = this.fut.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        let previous = CURRENT.with(|c| c.replace(this.id.0));
        let out = fut.poll(cx);
        CURRENT.with(|c| c.set(previous));
        if out.is_ready() {
            this.fut.set(None);
        }
        out
    }
}

pin_project! {
    /// Polls a future, turning a panic into `Err(message)`.
    struct CatchUnwind<F> {
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.project().fut;
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

fn guarded<F: Future>(fut: F) -> CatchUnwind<F> {
    CatchUnwind { fut }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}

/// Marks the actor exited exactly once: on the normal path through `finish`, and with
/// `Killed` if the task is dropped first (aborted, or its runtime shut down).
struct ExitGuard<A: Actor> {
    shared: Arc<Shared<A>>,
    system: ActorSystem,
    name: Option<Cow<'static, str>>,
    root: bool,
    done: bool,
}

impl<A: Actor> ExitGuard<A> {
    fn finish(&mut self, reason: ExitReason) {
        self.done = true;
        if let Some(name) = self.name.take() {
            self.system.unregister(&name, self.shared.id);
        }
        if self.root {
            self.system.remove_root(self.shared.id);
        }
        // Close first so later sends fail with NoProc, then publish the reason, then drop
        // what was left: callers still waiting see `Exited(reason)`.
        let leftovers = self.shared.mailbox.close();
        self.shared.exit.set(reason);
        drop(leftovers);
    }
}

impl<A: Actor> Drop for ExitGuard<A> {
    fn drop(&mut self) {
        if !self.done {
            self.finish(ExitReason::Killed);
        }
    }
}

/// Why one step of the loop ended the actor.
fn crash(panic: String) -> ExitReason {
    ExitReason::Panic(panic)
}

pub(crate) async fn run<A: Actor>(
    shared: Arc<Shared<A>>,
    system: ActorSystem,
    name: Option<Cow<'static, str>>,
    root: bool,
    args: A::Args,
    started: oneshot::Sender<Result<(), SpawnError>>,
) {
    let guard = ExitGuard {
        shared: shared.clone(),
        system: system.clone(),
        name,
        root,
        done: false,
    };
    let mut ctx = Ctx::new(ActorRef::from_shared(shared.clone()), system);

    let mut state = match guarded(A::__init(args, &mut ctx)).await {
        Ok(Ok(state)) => state,
        Ok(Err(err)) => {
            let message = err.into_message();
            let reason = ExitReason::Error(message.clone());
            Box::pin(wind_down(ctx, guard, reason)).await;
            let _ = started.send(Err(SpawnError::Init(message)));
            return;
        }
        Err(panic) => {
            Box::pin(wind_down(ctx, guard, crash(panic.clone()))).await;
            let _ = started.send(Err(SpawnError::InitPanic(panic)));
            return;
        }
    };
    let _ = started.send(Ok(()));

    let mut batch: VecDeque<Envelope<A>> = VecDeque::new();
    let mut idle_fired = false;
    let reason = 'life: loop {
        // Deferred work first (OTP's handle_continue), then stop requests.
        while let Some(arg) = ctx.take_continue() {
            if let Err(panic) = guarded(state.__continue(arg, &mut ctx)).await {
                break 'life crash(panic);
            }
        }
        if let Some(reason) = ctx.stop.take() {
            break reason;
        }

        let step = if let Some(msg) = ctx.pop_replay() {
            Step::Handle(msg)
        } else if let Some(envelope) = batch.pop_front() {
            idle_fired = false;
            match envelope {
                Envelope::Msg(msg) => {
                    shared.mailbox.release();
                    Step::Handle(msg)
                }
                Envelope::Timer(id, msg) if ctx.timer_fired(id) => Step::Handle(msg),
                Envelope::Timer(..) => continue,
                Envelope::Stop(reason) => break reason,
            }
        } else {
            let idle = if idle_fired { None } else { ctx.idle_timeout };
            if receive(&shared, &mut batch, idle).await {
                continue;
            }
            idle_fired = true;
            Step::Idle
        };
        let outcome = match step {
            Step::Handle(msg) => guarded(state.__handle(msg, &mut ctx)).await,
            Step::Idle => guarded(state.__info(Info::Timeout, &mut ctx)).await,
        };
        if let Err(panic) = outcome {
            break crash(panic);
        }
    };

    // Boxed: the exit path is taken once, and its futures would otherwise make every idle
    // actor larger.
    Box::pin(exit(state, ctx, guard, reason)).await;
    // Messages taken from the mailbox but not handled are dropped only now, after the reason
    // is published.
    teardown(|| drop(batch));
}

/// What the loop does next.
enum Step<M> {
    Handle(M),
    Idle,
}

/// The end of an actor that ran: children and timers, `#[terminate]`, the state's `Drop`,
/// then the published exit.
async fn exit<A: Actor>(
    mut state: A,
    mut ctx: Ctx<A>,
    mut guard: ExitGuard<A>,
    reason: ExitReason,
) {
    ctx.wind_down().await;
    let reason = match guarded(state.__terminate(&reason, &mut ctx)).await {
        Ok(()) => reason,
        Err(panic) => crash(panic),
    };
    // The state's own `Drop` is user code too.
    let reason = match teardown(|| catch_unwind(AssertUnwindSafe(move || drop(state)))) {
        Ok(()) => reason,
        Err(payload) => crash(panic_message(payload.as_ref())),
    };
    teardown(|| {
        guard.finish(reason);
        drop(ctx);
    });
}

/// The end of an actor whose `#[init]` failed.
async fn wind_down<A: Actor>(mut ctx: Ctx<A>, mut guard: ExitGuard<A>, reason: ExitReason) {
    ctx.wind_down().await;
    teardown(|| {
        guard.finish(reason);
        drop(ctx);
    });
}

/// Waits for messages (moving them all into `batch`); `false` if `idle` passed first.
async fn receive<A: Actor>(
    shared: &Shared<A>,
    batch: &mut VecDeque<Envelope<A>>,
    idle: Option<std::time::Duration>,
) -> bool {
    // Boxed: a timer is large, and an idle actor without an idle timeout should not carry
    // room for one.
    let mut sleep = idle.map(|d| Box::pin(tokio::time::sleep(d)));
    poll_fn(|cx| {
        if shared.mailbox.poll_take_all(cx, batch).is_ready() {
            return Poll::Ready(true);
        }
        match sleep.as_mut().map(|s| s.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(false),
            _ => Poll::Pending,
        }
    })
    .await
}
