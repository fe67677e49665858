//! The life of an actor: init, the receive loop, and the exit sequence.

use std::any::Any;
use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tokio::sync::oneshot;

use super::actor_ref::short_type_name;
use super::ctx::Ctx;
use super::slot::FutureSlot;
use super::{Actor, ActorId, Envelope};
use crate::__private::{HandlerKind, InitError};
use crate::error::SpawnError;
use crate::exit::ExitReason;
use crate::message::Info;
use crate::telemetry::emit::{Observed, Probe, handlers_observed, init_observed};

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
pub(crate) fn drop_remains<T>(id: ActorId, value: T) -> Result<(), String> {
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
    pub(crate) struct CatchUnwind<F> {
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

/// Polls `fut`, turning a panic into `Err(message)`.
pub(crate) fn guarded<F: Future>(fut: F) -> CatchUnwind<F> {
    CatchUnwind { fut }
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
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
pub(crate) fn fail_init<A: Actor>(mut ctx: Ctx<A>, reason: ExitReason) {
    ctx.publish_exit(reason);
    let _ = drop_remains(ctx.id(), ctx);
}

/// An actor whose `#[init]` is async: runs it in the actor's task, reports to the spawner,
/// then lives.
pub(crate) async fn run<A: Actor>(
    mut ctx: Ctx<A>,
    args: A::Args,
    started: oneshot::Sender<Result<(), SpawnError>>,
) {
    let id = ctx.id();
    let init = guarded(A::__init(args, &mut ctx));
    let (out, probe) = if init_observed() {
        let probe = Probe::start(id, short_type_name::<A>(), "init", HandlerKind::Init);
        let mut observed = Box::pin(Observed::new(init, probe));
        let out = observed.as_mut().await;
        (out, Some(Observed::into_probe(observed)))
    } else {
        (init.await, None)
    };
    let state = match out {
        Ok(Ok(state)) => {
            if let Some(probe) = probe {
                probe.finish(None);
            }
            state
        }
        Ok(Err(err)) => {
            let message = err.into_message();
            let reason = ExitReason::Error(message.clone());
            if let Some(probe) = probe {
                probe.finish(Some(&reason));
            }
            Box::pin(wind_down(ctx, reason)).await;
            let _ = started.send(Err(SpawnError::Init(message)));
            return;
        }
        Err(panic) => {
            let reason = crash(panic.clone());
            if let Some(probe) = probe {
                probe.finish(Some(&reason));
            }
            Box::pin(wind_down(ctx, reason)).await;
            let _ = started.send(Err(SpawnError::InitPanic(panic)));
            return;
        }
    };
    let _ = started.send(Ok(()));
    life(ctx, state).await;
}

/// An actor's life after `#[init]`: deferred work, the receive loop, and the exit.
///
/// Not an `async fn`: one of those would keep a second copy of its by-value arguments in
/// every idle actor.
#[allow(clippy::manual_async_fn)]
pub(crate) fn life<A: Actor>(mut ctx: Ctx<A>, mut state: A) -> impl Future<Output = ()> + Send {
    async move {
        // Where handler futures run: an idle actor keeps a pointer, not room for the
        // largest of them.
        let mut slot = FutureSlot::new();
        let reason = loop {
            let (step, observed) = match poll_fn(|cx| next_step(cx, &mut state, &mut ctx)).await {
                Ok(next) => next,
                Err(reason) => break reason,
            };
            // The step is consumed before the await, so no idle actor keeps room for it.
            let handler = slot.place(|| dispatch(&mut state, &mut ctx, step, observed));
            let probe = match guarded(handler).await {
                Ok(observed) => observed.map(Observed::into_probe),
                Err(panic) => break crash(panic),
            };
            if let Some(probe) = probe {
                probe.finish(ctx.failure());
            }
        };
        if A::TERMINATES || ctx.has_children() {
            // Boxed: the exit path is taken once, and its futures would otherwise make every
            // idle actor larger.
            Box::pin(exit(state, ctx, reason)).await;
        } else {
            exit_now(state, ctx, reason);
        }
    }
}

/// What the loop does next, unless it exits.
enum Step<A: Actor> {
    Continue(A::Continue),
    Handle(A::Msg),
    Info(Info),
}

pin_project! {
    /// The handler future of one step. Observed (by telemetry or tracing), it runs boxed
    /// in its probe's span, and gives the box back when done, for the probe to be finished
    /// (the output is one word either way).
    #[project = HandlerProj]
    enum Handler<C, H, I> {
        Continue { #[pin] fut: C },
        Handle { #[pin] fut: H },
        Info { #[pin] fut: I },
        Observed { fut: Option<ObservedHandler<C, H, I>> },
    }
}

type ObservedHandler<C, H, I> = Pin<Box<Observed<Handler<C, H, I>>>>;

impl<C, H, I> Future for Handler<C, H, I>
where
    C: Future<Output = ()>,
    H: Future<Output = ()>,
    I: Future<Output = ()>,
{
    type Output = Option<ObservedHandler<C, H, I>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            HandlerProj::Continue { fut } => fut.poll(cx).map(|()| None),
            HandlerProj::Handle { fut } => fut.poll(cx).map(|()| None),
            HandlerProj::Info { fut } => fut.poll(cx).map(|()| None),
            HandlerProj::Observed { fut } => poll_observed(fut, cx),
        }
    }
}

/// Polls an observed handler; gives it back when done.
#[inline(never)]
fn poll_observed<C, H, I>(
    fut: &mut Option<ObservedHandler<C, H, I>>,
    cx: &mut Context<'_>,
) -> Poll<Option<ObservedHandler<C, H, I>>>
where
    C: Future<Output = ()>,
    H: Future<Output = ()>,
    I: Future<Output = ()>,
{
    let observed = fut.as_mut().expect("polled after it completed");
    ready!(observed.as_mut().poll(cx));
    Poll::Ready(fut.take())
}

/// The probe of a step about to run.
#[cold]
#[inline(never)]
fn probe<A: Actor>(id: ActorId, step: &Step<A>) -> Probe {
    let (handler, kind) = match step {
        Step::Continue(_) => ("handle_continue", HandlerKind::Continue),
        Step::Info(_) => ("info", HandlerKind::Info),
        Step::Handle(msg) => {
            let d = A::__describe(msg);
            (d.name, d.kind)
        }
    };
    Probe::start(id, short_type_name::<A>(), handler, kind)
}

/// Starts the handler for `step`, under a probe if `observed`.
fn dispatch<'a, A: Actor>(
    state: &'a mut A,
    ctx: &'a mut Ctx<A>,
    step: Step<A>,
    observed: bool,
) -> Handler<
    impl Future<Output = ()> + Send + 'a,
    impl Future<Output = ()> + Send + 'a,
    impl Future<Output = ()> + Send + 'a,
> {
    let plain = |state: &'a mut A, ctx: &'a mut Ctx<A>, step| match step {
        Step::Continue(arg) => Handler::Continue {
            fut: state.__continue(arg, ctx),
        },
        Step::Handle(msg) => Handler::Handle {
            fut: state.__handle(msg, ctx),
        },
        Step::Info(info) => Handler::Info {
            fut: state.__info(info, ctx),
        },
    };
    if observed {
        let probe = probe(ctx.id(), &step);
        return Handler::Observed {
            fut: Some(Box::pin(Observed::new(plain(state, ctx, step), probe))),
        };
    }
    plain(state, ctx, step)
}

/// Runs the messages of synchronous handlers at once, with no future, until a step needs
/// one (an async handler, deferred work, the idle timeout) or the actor exits or waits.
///
/// Whether telemetry or tracing observes handlers is read once per poll, not per message,
/// and given back with the step for [`dispatch`]. Every step is paid for out of the task's
/// coop budget ([`Coop`]).
fn next_step<A: Actor>(
    cx: &mut Context<'_>,
    state: &mut A,
    ctx: &mut Ctx<A>,
) -> Poll<Result<(Step<A>, bool), ExitReason>> {
    let observed = handlers_observed();
    let mut coop = Coop::default();
    loop {
        let spent = ready!(coop.poll_proceed(cx));
        let msg = match ready!(ctx.poll_plain_msg(cx)) {
            Some(msg) => {
                ctx.me().shared().mailbox.release();
                coop.made_progress(spent);
                msg
            }
            None => {
                let step = match ready!(next_message(cx, ctx)) {
                    Ok(step) => step,
                    Err(reason) => return Poll::Ready(Err(reason)),
                };
                coop.made_progress(spent);
                match step {
                    Step::Handle(msg) => msg,
                    step => return Poll::Ready(Ok((step, observed))),
                }
            }
        };
        if observed {
            match handle_observed(state, ctx, msg) {
                Ok(None) => {}
                Ok(Some(msg)) => return Poll::Ready(Ok((Step::Handle(msg), observed))),
                Err(reason) => return Poll::Ready(Err(reason)),
            }
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| state.__handle_now(msg, ctx))) {
            Ok(Ok(())) => {}
            Ok(Err(msg)) => return Poll::Ready(Ok((Step::Handle(msg), observed))),
            Err(payload) => {
                return Poll::Ready(Err(crash(panic_message(payload.as_ref()))));
            }
        }
    }
}

/// [`next_step`]'s handling of one message when observed: a synchronous handler runs in
/// its probe's span, timed; an async one's message is given back, for [`dispatch`].
#[cold]
#[inline(never)]
fn handle_observed<A: Actor>(
    state: &mut A,
    ctx: &mut Ctx<A>,
    msg: A::Msg,
) -> Result<Option<A::Msg>, ExitReason> {
    let describe = A::__describe(&msg);
    if !describe.sync {
        return Ok(Some(msg));
    }
    let probe = Probe::start(
        ctx.id(),
        short_type_name::<A>(),
        describe.name,
        describe.kind,
    );
    match probe.run(|| catch_unwind(AssertUnwindSafe(|| state.__handle_now(msg, ctx)))) {
        Ok(Ok(())) => {
            probe.finish(ctx.failure());
            Ok(None)
        }
        // Not expected: `__describe` says the handler is synchronous.
        Ok(Err(msg)) => Ok(Some(msg)),
        Err(payload) => {
            let reason = crash(panic_message(payload.as_ref()));
            probe.finish(Some(&reason));
            Err(reason)
        }
    }
}

/// How many steps of the receive loop one unit of the task's coop budget pays for.
///
/// Tokio gives a task a budget of 128 units each time it polls it; the receive loop spends
/// it on the steps it hands out and yields to the scheduler when it runs out, so an actor
/// fed faster than it handles still lets other tasks run (and can be killed there). A unit
/// per step would make the budget's bookkeeping (a thread-local read and write, and a
/// guard to drop) a large part of a small handler's cost; a unit per four steps keeps the
/// guarantee, with a yield after at most 128 × 4 = 512 steps in one poll (fewer when
/// handlers spend budget of their own).
const STEPS_PER_UNIT: u8 = 4;

/// The task's coop budget as one poll of the receive loop spends it: a unit of it pays for
/// the next [`STEPS_PER_UNIT`] steps.
#[derive(Default)]
struct Coop {
    /// The steps still paid for by the last unit spent.
    paid: u8,
}

/// What [`Coop::poll_proceed`] spent on the next step: nothing if it was paid for already,
/// or a unit of the budget, given back when dropped unless the step made progress.
type Spent = Option<tokio::task::coop::RestoreOnPending>;

impl Coop {
    /// Ready when the next step may be handed out; pending when the budget is exhausted
    /// (tokio then wakes the task at its next turn).
    #[inline]
    fn poll_proceed(&self, cx: &mut Context<'_>) -> Poll<Spent> {
        if self.paid > 0 {
            return Poll::Ready(None);
        }
        tokio::task::coop::poll_proceed(cx).map(Some)
    }

    /// A step was handed out: it keeps what was spent on it.
    #[inline]
    fn made_progress(&mut self, spent: Spent) {
        match spent {
            None => self.paid -= 1,
            Some(unit) => {
                unit.made_progress();
                self.paid = STEPS_PER_UNIT - 1;
            }
        }
    }
}

/// Picks the next step: deferred work first (OTP's `handle_continue`), then a stop asked
/// for by the last handler, then unstashed messages, then the mailbox in order; waits for
/// a message or the idle timeout. [`next_step`] covers the common case first, inline
/// ([`Ctx::poll_plain_msg`]), and pays for the step out of the task's coop budget.
#[inline(never)]
fn next_message<A: Actor>(
    cx: &mut Context<'_>,
    ctx: &mut Ctx<A>,
) -> Poll<Result<Step<A>, ExitReason>> {
    if let Some(arg) = ctx.take_continue() {
        return Poll::Ready(Ok(Step::Continue(arg)));
    }
    if let Some(reason) = ctx.take_stop() {
        return Poll::Ready(Err(reason));
    }
    if let Some(msg) = ctx.pop_replay() {
        ctx.note_activity();
        return Poll::Ready(Ok(Step::Handle(msg)));
    }
    // Attached streams take turns with the mailbox: every other look, they go first.
    let mut streams_polled = false;
    if ctx.streams_first() {
        streams_polled = true;
        if let Poll::Ready(pulled) = ctx.poll_streams(cx) {
            return Poll::Ready(pulled_step(ctx, pulled));
        }
    }
    loop {
        let envelope = match ctx.next_taken() {
            Some(envelope) => envelope,
            None => match ctx.poll_take(cx) {
                Poll::Ready(Some(envelope)) => envelope,
                Poll::Ready(None) => continue,
                Poll::Pending => {
                    if !std::mem::replace(&mut streams_polled, true) {
                        if let Poll::Ready(pulled) = ctx.poll_streams(cx) {
                            return Poll::Ready(pulled_step(ctx, pulled));
                        }
                    }
                    ready!(ctx.poll_idle(cx));
                    return Poll::Ready(Ok(Step::Info(Info::Timeout)));
                }
            },
        };
        ctx.note_activity();
        match envelope {
            Envelope::Msg(msg) => {
                ctx.me().shared().mailbox.release();
                return Poll::Ready(Ok(Step::Handle(msg)));
            }
            Envelope::Timer(timer) => {
                let (id, msg) = *timer;
                if ctx.timer_fired(id) {
                    return Poll::Ready(Ok(Step::Handle(msg)));
                }
                if let Err(panic) = drop_remains(ctx.id(), msg) {
                    return Poll::Ready(Err(crash(panic)));
                }
            }
            Envelope::Stop(stop) => return Poll::Ready(Err(stop.into())),
            Envelope::Info(info) => {
                if let Info::Down { monitor, .. } = *info {
                    if !ctx.accept_down(monitor) {
                        // Demonitored after it was sent.
                        continue;
                    }
                }
                return Poll::Ready(Ok(Step::Info(*info)));
            }
        }
    }
}

/// The step for what an attached stream gave: its message, or the crash of a panic.
fn pulled_step<A: Actor>(
    ctx: &mut Ctx<A>,
    pulled: Result<A::Msg, String>,
) -> Result<Step<A>, ExitReason> {
    let msg = pulled.map_err(crash)?;
    ctx.note_activity();
    Ok(Step::Handle(msg))
}

/// The end of an actor that ran: children and timers, `#[terminate]`, the state's `Drop`,
/// then the published exit.
async fn exit<A: Actor>(mut state: A, mut ctx: Ctx<A>, reason: ExitReason) {
    ctx.wind_down().await;
    let reason = match guarded(state.__terminate(&reason, &mut ctx)).await {
        Ok(()) => reason,
        Err(panic) => crash(panic),
    };
    finish(state, ctx, reason);
}

/// [`exit`] for an actor with no children to stop and no `#[terminate]` hook: nothing to
/// wait for.
fn exit_now<A: Actor>(state: A, mut ctx: Ctx<A>, reason: ExitReason) {
    ctx.cancel_timers();
    finish(state, ctx, reason);
}

/// The last step of every exit: the state's `Drop` (user code too, so a panic there
/// becomes the reason), then the published exit.
fn finish<A: Actor>(state: A, mut ctx: Ctx<A>, reason: ExitReason) {
    let id = ctx.id();
    let reason = match drop_remains(id, state) {
        Ok(()) => reason,
        Err(panic) => crash(panic),
    };
    ctx.publish_exit(reason);
    let _ = drop_remains(id, ctx);
}

/// The end of an actor whose `#[init]` failed.
async fn wind_down<A: Actor>(mut ctx: Ctx<A>, reason: ExitReason) {
    ctx.wind_down().await;
    ctx.publish_exit(reason);
    let _ = drop_remains(ctx.id(), ctx);
}
