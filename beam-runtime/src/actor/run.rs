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
use super::{Actor, ActorId, Envelope, Shared};
use crate::__private::InitError;
use crate::error::SpawnError;
use crate::exit::ExitReason;
use crate::message::Info;
use crate::system::ActorSystem;

thread_local! {
    /// The id of the actor being polled on this thread (0 for none).
    static CURRENT: Cell<u64> = const { Cell::new(0) };
    /// The id of the actor whose remains the runtime is dropping on this thread right now
    /// (0 for none); never set across an await.
    static TEARDOWN: Cell<u64> = const { Cell::new(0) };
}

/// Sets a thread-local for a scope and restores it on exit, even when unwinding.
struct Scoped {
    key: &'static std::thread::LocalKey<Cell<u64>>,
    previous: u64,
}

impl Scoped {
    fn enter(key: &'static std::thread::LocalKey<Cell<u64>>, value: u64) -> Self {
        let previous = key.with(|c| c.replace(value));
        Self { key, previous }
    }
}

impl Drop for Scoped {
    fn drop(&mut self) {
        self.key.with(|c| c.set(self.previous));
    }
}

/// Whether the runtime is taking actor `id` apart on this thread right now: a
/// [`Reply`](crate::Reply) to it dropped then closes its channel instead of answering
/// `NoReply`, and the caller waits for the final exit reason.
pub(crate) fn in_teardown_of(id: ActorId) -> bool {
    TEARDOWN.with(Cell::get) == id.0
}

/// Runs `f` (which must not await) as the teardown of actor `id`.
fn teardown<R>(id: ActorId, f: impl FnOnce() -> R) -> R {
    let _scope = Scoped::enter(&TEARDOWN, id.0);
    f()
}

/// Drops user values (messages, state) as the teardown of actor `id`; a panic in their
/// `Drop` is caught and returned as its message.
fn drop_remains<T>(id: ActorId, value: T) -> Result<(), String> {
    teardown(id, || {
        catch_unwind(AssertUnwindSafe(move || drop(value)))
            .map_err(|payload| panic_message(payload.as_ref()))
    })
}

/// The id of the actor whose task is running on this thread, if any.
pub(crate) fn current_actor() -> Option<ActorId> {
    let id = CURRENT.with(Cell::get);
    (id != 0).then_some(ActorId(id))
}

/// Lets the tokio scheduler run others once this task has used its budget, so an actor fed
/// faster than it handles never hogs its worker (and can still be aborted).
fn cooperate() -> impl Future<Output = ()> {
    poll_fn(|cx| tokio::task::coop::poll_proceed(cx).map(|restore| restore.made_progress()))
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
            let this = this.project();
            let mut fut = this.fut;
            if fut.is_some() {
                let _ = teardown(*this.id, || {
                    catch_unwind(AssertUnwindSafe(|| fut.set(None)))
                });
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
        let out = {
            let _scope = Scoped::enter(&CURRENT, this.id.0);
            fut.poll(cx)
        };
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
/// `Killed` if the task is dropped first (aborted, or its runtime shut down), even before
/// its first poll.
pub(crate) struct ExitGuard<A: Actor> {
    shared: Arc<Shared<A>>,
    system: ActorSystem,
    name: Option<Cow<'static, str>>,
    root: bool,
    done: bool,
}

impl<A: Actor> ExitGuard<A> {
    pub(crate) fn new(
        shared: Arc<Shared<A>>,
        system: ActorSystem,
        name: Option<Cow<'static, str>>,
        root: bool,
    ) -> Self {
        Self {
            shared,
            system,
            name,
            root,
            done: false,
        }
    }

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
        // Too late to change the reason: a panic in a message's `Drop` is only reported.
        let _ = drop_remains(self.shared.id, leftovers);
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

/// Runs a synchronous (or absent) `#[init]` at once, in the spawner, marked as the new
/// actor (so a call to itself fails with `CallingSelf`): the inner result, or the arguments
/// back when `#[init]` is async. `Err` holds a panic's message.
#[allow(clippy::type_complexity)]
pub(crate) fn init_now<A: Actor>(
    id: ActorId,
    args: A::Args,
    ctx: &mut Ctx<A>,
) -> Result<Result<Result<A, InitError>, A::Args>, String> {
    let _scope = Scoped::enter(&CURRENT, id.0);
    catch_unwind(AssertUnwindSafe(|| A::__init_now(args, ctx)))
        .map_err(|payload| panic_message(payload.as_ref()))
}

/// The end of an actor whose synchronous `#[init]` failed in the spawner.
pub(crate) fn fail_init<A: Actor>(mut guard: ExitGuard<A>, ctx: Ctx<A>, reason: ExitReason) {
    let id = guard.shared.id;
    guard.finish(reason);
    let _ = drop_remains(id, ctx);
}

/// An actor whose `#[init]` is async: runs it in the actor's task, reports to the spawner,
/// then lives.
pub(crate) async fn run<A: Actor>(
    guard: ExitGuard<A>,
    mut ctx: Ctx<A>,
    args: A::Args,
    started: oneshot::Sender<Result<(), SpawnError>>,
) {
    let state = match guarded(A::__init(args, &mut ctx)).await {
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
    life(guard, ctx, state).await;
}

/// An actor's life after `#[init]`: deferred work, the receive loop, and the exit.
pub(crate) async fn life<A: Actor>(guard: ExitGuard<A>, mut ctx: Ctx<A>, mut state: A) {
    let shared = guard.shared.clone();
    let id = shared.id;
    let mut batch: VecDeque<Envelope<A>> = VecDeque::new();
    let mut idle_fired = false;
    let reason = 'life: loop {
        // Deferred work first (OTP's handle_continue), then stop requests.
        while let Some(arg) = ctx.take_continue() {
            if let Err(panic) = guarded(state.__continue(arg, &mut ctx)).await {
                break 'life crash(panic);
            }
        }
        if let Some(reason) = ctx.take_stop() {
            break reason;
        }

        let step = if let Some(msg) = ctx.pop_replay() {
            idle_fired = false;
            Step::Handle(msg)
        } else if let Some(envelope) = batch.pop_front() {
            idle_fired = false;
            match envelope {
                Envelope::Msg(msg) => {
                    shared.mailbox.release();
                    Step::Handle(msg)
                }
                Envelope::Timer(timer, msg) if ctx.timer_fired(timer) => Step::Handle(msg),
                Envelope::Timer(_, msg) => match drop_remains(id, msg) {
                    Ok(()) => continue,
                    Err(panic) => break crash(panic),
                },
                Envelope::Stop(reason) => break reason,
            }
        } else {
            let idle = if idle_fired { None } else { ctx.idle_timeout() };
            if receive(&shared, &mut batch, idle).await {
                continue;
            }
            idle_fired = true;
            Step::Idle
        };
        cooperate().await;
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
    let _ = drop_remains(id, batch);
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
    let id = guard.shared.id;
    let reason = match drop_remains(id, state) {
        Ok(()) => reason,
        Err(panic) => crash(panic),
    };
    guard.finish(reason);
    let _ = drop_remains(id, ctx);
}

/// The end of an actor whose `#[init]` failed.
async fn wind_down<A: Actor>(mut ctx: Ctx<A>, mut guard: ExitGuard<A>, reason: ExitReason) {
    ctx.wind_down().await;
    guard.finish(reason);
    let _ = drop_remains(guard.shared.id, ctx);
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
