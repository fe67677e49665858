//! The life of an actor: init, the receive loop, and the exit sequence.

use std::any::Any;
use std::borrow::Cow;
use std::cell::Cell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
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
}

/// The id of the actor whose task is running on this thread, if any.
pub(crate) fn current_actor() -> Option<ActorId> {
    let id = CURRENT.with(Cell::get);
    (id != 0).then_some(ActorId(id))
}

pin_project! {
    /// An actor's task: marks the thread with the actor's id while it is polled.
    pub(crate) struct ActorTask<F> {
        id: ActorId,
        #[pin]
        fut: F,
    }
}

impl<F> ActorTask<F> {
    pub(crate) fn new(id: ActorId, fut: F) -> Self {
        Self { id, fut }
    }
}

impl<F: Future> Future for ActorTask<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let previous = CURRENT.with(|c| c.replace(this.id.0));
        let out = this.fut.poll(cx);
        CURRENT.with(|c| c.set(previous));
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
    let mut guard = ExitGuard {
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
            ctx.children.stop_all().await;
            ctx.timers.cancel_all();
            let message = err.into_message();
            guard.finish(ExitReason::Error(message.clone()));
            let _ = started.send(Err(SpawnError::Init(message)));
            return;
        }
        Err(panic) => {
            ctx.children.stop_all().await;
            ctx.timers.cancel_all();
            guard.finish(crash(panic.clone()));
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

        let outcome = if let Some(msg) = ctx.replay.pop_front() {
            guarded(state.__handle(msg, &mut ctx)).await
        } else if let Some(envelope) = batch.pop_front() {
            idle_fired = false;
            match envelope {
                Envelope::Msg(msg) => {
                    shared.mailbox.release();
                    guarded(state.__handle(msg, &mut ctx)).await
                }
                Envelope::Timer(id, msg) => {
                    if ctx.timers.fire(id) {
                        guarded(state.__handle(msg, &mut ctx)).await
                    } else {
                        Ok(())
                    }
                }
                Envelope::Stop(reason) => break reason,
            }
        } else {
            let idle = if idle_fired { None } else { ctx.idle_timeout };
            if receive(&shared, &mut batch, idle).await {
                continue;
            }
            idle_fired = true;
            guarded(state.__info(Info::Timeout, &mut ctx)).await
        };
        if let Err(panic) = outcome {
            break crash(panic);
        }
    };

    ctx.children.stop_all().await;
    ctx.timers.cancel_all();
    let reason = match guarded(state.__terminate(&reason, &mut ctx)).await {
        Ok(()) => reason,
        Err(panic) => crash(panic),
    };
    drop(state);
    guard.finish(reason);
    // Messages taken from the mailbox but not handled are dropped only now, after the reason
    // is published.
    drop(batch);
    drop(ctx);
}

/// Waits for messages (moving them all into `batch`); `false` if `idle` passed first.
async fn receive<A: Actor>(
    shared: &Shared<A>,
    batch: &mut VecDeque<Envelope<A>>,
    idle: Option<std::time::Duration>,
) -> bool {
    let mut sleep = pin!(idle.map(tokio::time::sleep));
    poll_fn(|cx| {
        if shared.mailbox.poll_take_all(cx, batch).is_ready() {
            return Poll::Ready(true);
        }
        match sleep.as_mut().as_pin_mut().map(|s| s.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(false),
            _ => Poll::Pending,
        }
    })
    .await
}
