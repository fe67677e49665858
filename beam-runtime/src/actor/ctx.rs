//! [`Ctx`], what a handler can reach of its own actor: its ref, the system, children,
//! timers, the stash, deferred work and stopping.

use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use rustc_hash::FxHashMap;
use tokio::task::AbortHandle;
use tokio::time::Sleep;

use super::actor_ref::short_type_name;
use super::run::{drop_remains, panic_message};
use super::spawn::{Owner, SpawnBuilder};
use super::{Actor, ActorId, ActorRef, Envelope, Handoff, Process, UNTIMED};
use crate::deadline::{Deadlines, Timer};
use crate::error::SpawnError;
use crate::exit::ExitReason;
use crate::mailbox::{Batch, Take};
use crate::signal::{MonitorRef, Signal, Watcher, notify_exit};
use crate::stream::{StreamRef, Streams};
use crate::system::{ActorSystem, Slot};
use crate::task::{self, Task, TaskActor, TaskError};

/// How long a parent waits for each child to stop before killing it.
pub(crate) const CHILD_SHUTDOWN: Duration = Duration::from_secs(5);

/// How long a stop waits for a killed actor to be gone.
const KILL_GRACE: Duration = Duration::from_millis(100);

/// The longest timer period; longer ones are clamped (about 30 years).
const MAX_PERIOD: Duration = Duration::from_secs(86_400 * 365 * 30);

/// The context of a running actor, passed to any handler that declares a trailing
/// `ctx: &mut Ctx<Self>` parameter (and to `#[init]`).
///
/// # Examples
///
/// ```
/// use beam_runtime::prelude::*;
/// use std::time::Duration;
///
/// struct Ticker {
///     ticks: u32,
/// }
///
/// #[actor]
/// impl Ticker {
///     #[init]
///     fn init(ctx: &mut Ctx<Self>) -> Self {
///         ctx.send_interval(Duration::from_millis(10), || TickerMsg::Tick);
///         Ticker { ticks: 0 }
///     }
///
///     #[cast]
///     fn tick(&mut self) {
///         self.ticks += 1;
///     }
///
///     #[call]
///     fn ticks(&self) -> u32 {
///         self.ticks
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), beam_runtime::Error> {
/// let system = ActorSystem::new();
/// let ticker = system.spawn::<Ticker>(()).await?;
/// tokio::time::sleep(Duration::from_millis(35)).await;
/// assert_eq!(ticker.ticks().await?, 3);
/// # system.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct Ctx<A: Actor> {
    me: ActorRef<A>,
    /// Messages taken from the mailbox at once, handled one by one; boxed on first use so
    /// an actor that never receives stays small.
    batch: Batch<Envelope<A>>,
    /// What most actors never use, allocated on first use to keep idle actors small.
    extras: Option<Box<Extras<A>>>,
    pending_continue: Option<A::Continue>,
    /// Where the system tracks the actor while it lives.
    slot: Option<Slot>,
    /// A stop with [`ExitReason::Normal`] asked for by the current handler, kept here so
    /// the common stop allocates nothing; other reasons wait in the extras.
    stop_normal: bool,
}

struct Extras<A: Actor> {
    idle: Idle,
    stop: Option<ExitReason>,
    timers: Timers,
    children: Children,
    stash: VecDeque<A::Msg>,
    replay: VecDeque<A::Msg>,
    /// The monitors this actor holds, and the actor each watches.
    monitoring: FxHashMap<MonitorRef, Arc<dyn Process>>,
    /// Where a supervised actor leaves its unhandled messages for its next incarnation.
    handoff: Option<Arc<Handoff<A>>>,
    /// The attached streams. Reached only through `&mut` ([`Mutex::get_mut`], which does
    /// not lock): the lock only keeps `Ctx` `Sync` for streams that are merely `Send`.
    streams: parking_lot::Mutex<Streams<A::Msg>>,
}

impl<A: Actor> Ctx<A> {
    /// The context of a new actor, which from now on owns its slot in the system (and its
    /// registrations): they are released when it exits, or when the context is dropped
    /// first.
    pub(crate) fn new(me: ActorRef<A>, slot: Slot) -> Self {
        Self {
            me,
            batch: None,
            extras: None,
            pending_continue: None,
            slot: Some(slot),
            stop_normal: false,
        }
    }

    /// Publishes the exit exactly once: releases its slot in the system, closes the mailbox (later
    /// sends fail with `NoProc`), removes its names, groups and topics from the registry,
    /// sets the reason, sends the exit to linked and monitoring actors, removes this
    /// actor's own monitors, wakes those waiting for it, and only then drops the messages
    /// still queued, so callers waiting on them see `Exited(reason)`.
    ///
    /// If the context is dropped before (the task was killed), its `Drop` publishes
    /// [`ExitReason::Killed`], or the reason of the exit signal that killed it.
    pub(crate) fn publish_exit(&mut self, reason: ExitReason) {
        let shared = self.me.shared();
        if shared.exit.reason().is_some() {
            return;
        }
        if let Some(slot) = self.slot.take() {
            shared.system.untrack(slot);
        }
        let (queued, mut watch) = shared.mailbox.close();
        let stop_by = watch.as_ref().and_then(|w| w.stop_by);
        // Killed before it could publish (its task is dropped at its next scheduling
        // point, but its last poll ended the exit), or still running when its stopper's
        // deadline passed (its stopper could not kill it meanwhile: the exit ran on the
        // stopper's thread): killed either way.
        let reason = match watch.as_mut().and_then(|w| w.doom.take()) {
            Some(doom) => doom,
            None if stop_by.is_some_and(|by| by <= tokio::time::Instant::now()) => {
                shared
                    .overran
                    .store(true, std::sync::atomic::Ordering::Release);
                ExitReason::Killed
            }
            None => reason,
        };
        // Taken but not handled, then still queued: in the order they were sent.
        let mut leftovers = match self.batch.take() {
            Some(taken) if !taken.is_empty() => {
                let mut taken = *taken;
                taken.extend(queued);
                taken
            }
            _ => queued,
        };
        if let Some(handoff) = self.extras.as_ref().and_then(|e| e.handoff.as_ref()) {
            // A supervised actor's messages wait for its next incarnation; the supervisor
            // hears of the exit only after they are in place.
            leftovers = handoff.keep(leftovers);
        }
        if let Some(watch) = &mut watch {
            shared
                .system
                .purge(shared.id, std::mem::take(&mut watch.registry));
        }
        let reason = shared.exit.set(reason);
        // Before anyone hears of the exit, so that its event comes before theirs.
        crate::telemetry::emit::actor_stopped(shared.id, short_type_name::<A>, reason);
        // Linked and monitoring actors hear of the exit before anyone waiting for it wakes.
        if let Some(watch) = watch {
            notify_exit(shared.id, *watch, reason);
        }
        if let Some(extras) = &mut self.extras {
            for (monitor, target) in extras.monitoring.drain() {
                target.remove_monitor(monitor);
            }
        }
        shared.exit.wake();
        // Too late to change the reason: a panic in a message's `Drop` is only reported.
        let _ = drop_remains(shared.id, leftovers);
    }

    /// This actor's own ref (a cast to it is fine; a call to it fails with
    /// [`CallError::CallingSelf`](crate::CallError::CallingSelf)).
    #[must_use]
    pub fn me(&self) -> &ActorRef<A> {
        &self.me
    }

    /// This actor's id.
    #[must_use]
    pub fn id(&self) -> ActorId {
        self.me.id()
    }

    /// The system the actor runs in.
    #[must_use]
    pub fn system(&self) -> &ActorSystem {
        &self.me.shared().system
    }

    /// Spawns a child: an actor that is stopped when this one stops (children first, in
    /// reverse start order, each given 5 s before it is killed). Await the builder as with
    /// [`ActorSystem::spawn`].
    pub fn spawn<B: Actor>(&mut self, args: B::Args) -> SpawnBuilder<'_, B> {
        let extras = self.extras.get_or_insert_with(Extras::boxed);
        SpawnBuilder::new(
            &self.me.shared().system,
            Owner::Parent(&mut extras.children, self.me.id()),
            args,
        )
    }

    /// Spawns a child linked to this actor ([`link`](Self::link)): like
    /// [`spawn`](Self::spawn), and the link is in place before the child's `#[init]` runs.
    /// As in OTP, a child whose `#[init]` fails exits with that failure, which reaches this
    /// actor through the link: trap exits to survive it. If the child traps exits, an exit
    /// signal from this actor, its parent, stops it (after its queued messages, with
    /// `#[terminate]`) instead of reaching its `#[info]` handler, as in OTP's
    /// `gen_server`.
    pub fn spawn_link<B: Actor>(&mut self, args: B::Args) -> SpawnBuilder<'_, B> {
        let me: Arc<dyn Process> = self.me.shared().clone();
        self.spawn(args).linked_to(me)
    }

    /// Links this actor with `other`, both ways: when either exits with a reason other
    /// than [`ExitReason::Normal`], the other is killed with the same reason, or receives
    /// [`Info::Exit`](crate::Info::Exit) if it traps exits. Linking twice, or to itself,
    /// does nothing.
    ///
    /// If `other` is already gone, this actor receives an exit signal with
    /// [`ExitReason::NoProc`] from it at once, as in OTP: it dies (once this handler
    /// yields) unless it traps exits.
    pub fn link<B: Actor>(&mut self, other: &ActorRef<B>) {
        let other: Arc<dyn Process> = other.shared().clone();
        let me: Arc<dyn Process> = self.me.shared().clone();
        if other.id() == me.id() {
            return;
        }
        // Both sides change together with respect to any other link or unlink.
        let _both = link_lock();
        // This side first: if `other` exits in between, its signal finds the link here.
        me.add_link(other.clone());
        if !other.add_link(me.clone()) {
            me.remove_link(other.id());
            me.signal(Signal::Exit {
                from: other.id(),
                reason: ExitReason::NoProc,
                link: false,
            });
        }
    }

    /// Removes the link with `other`, if any. Afterwards its exit has no effect on this
    /// actor (an [`Info::Exit`](crate::Info::Exit) already queued is still delivered).
    pub fn unlink<B: Actor>(&mut self, other: &ActorRef<B>) {
        let other = other.shared();
        let _both = link_lock();
        self.me.shared().remove_link(other.id);
        other.remove_link(self.me.id());
    }

    /// Turns exit signals into [`Info::Exit`](crate::Info::Exit) messages for the `#[info]`
    /// handler (`true`), or lets them kill this actor (`false`, the default). The kill of
    /// [`ActorRef::kill`] is never trapped.
    pub fn trap_exit(&mut self, trap: bool) {
        if trap || self.traps_exits() {
            self.me.shared().mailbox.watch(|w| w.trap = trap);
        }
    }

    /// Whether this actor traps exits.
    #[must_use]
    pub fn traps_exits(&self) -> bool {
        self.me.shared().mailbox.watched(|w| w.trap)
    }

    /// Monitors `other`: this actor receives exactly one [`Info::Down`](crate::Info::Down)
    /// with this monitor's ref when `other` exits, at once (with
    /// [`ExitReason::NoProc`]) if it is already gone. Each call makes a new monitor.
    pub fn monitor<B: Actor>(&mut self, other: &ActorRef<B>) -> MonitorRef {
        let monitor = MonitorRef::next();
        let target: Arc<dyn Process> = other.shared().clone();
        let me: Arc<dyn Process> = self.me.shared().clone();
        let id = target.id();
        let alive = target.add_monitor(monitor, Watcher::Actor(me.clone()));
        self.extras().monitoring.insert(monitor, target);
        if !alive {
            me.signal(Signal::Down {
                monitor,
                id,
                reason: ExitReason::NoProc,
            });
        }
        monitor
    }

    /// Removes a monitor of this actor; `true` if it was active. Afterwards its
    /// [`Info::Down`](crate::Info::Down) is not handled, even if already queued.
    pub fn demonitor(&mut self, monitor: MonitorRef) -> bool {
        match self
            .extras
            .as_mut()
            .and_then(|e| e.monitoring.remove(&monitor))
        {
            Some(target) => {
                target.remove_monitor(monitor);
                true
            }
            None => false,
        }
    }

    /// Whether a `Down` that just arrived belongs to a monitor still active; it ends the
    /// monitor.
    pub(crate) fn accept_down(&mut self, monitor: MonitorRef) -> bool {
        self.extras
            .as_mut()
            .is_some_and(|e| e.monitoring.remove(&monitor).is_some())
    }

    /// Runs `fut` as a task, a child of this actor (see [`crate::task`]), and returns its
    /// [`Task`] to await elsewhere. Awaiting it inside this actor's own handler would hold
    /// the mailbox until it finishes: use [`run_task`](Self::run_task) for that.
    pub fn spawn_task<F>(&mut self, fut: F) -> Result<Task<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (work, result) = Task::prepare(fut);
        let actor = self.spawn::<TaskActor>(work).start_now()?;
        Ok(Task::new(result, actor))
    }

    /// Runs `fut` as a task, a child of this actor, and delivers its result to this actor
    /// as the message `to_msg` makes of it: `Ok(value)`, or
    /// `Err(TaskError::Panic(..))` if the future panicked. The handler returns at once and
    /// the actor goes on handling messages meanwhile. The result message is delivered even
    /// to a full bounded mailbox; if this actor exits first, the task is stopped and
    /// nothing is delivered. Returns the task's id.
    pub fn run_task<F>(
        &mut self,
        fut: F,
        to_msg: impl FnOnce(Result<F::Output, TaskError>) -> A::Msg + Send + 'static,
    ) -> Result<ActorId, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let me = self.me.shared().clone();
        let work = task::work(fut, move |out| {
            let _ = me.mailbox.push(Envelope::to_self(to_msg(out)));
        });
        let actor = self.spawn::<TaskActor>(work).start_now()?;
        Ok(actor.id())
    }

    /// The ids of the children still alive, in start order.
    #[must_use]
    pub fn children(&self) -> Vec<ActorId> {
        let Some(extras) = &self.extras else {
            return Vec::new();
        };
        extras
            .children
            .list
            .iter()
            .filter(|c| c.exit().reason().is_none())
            .map(|c| c.id())
            .collect()
    }

    /// Sends `msg` to this actor after `delay`, through its mailbox. The timer dies with the
    /// actor, and [`cancel_timer`](Self::cancel_timer) guarantees the message is not
    /// handled afterwards.
    pub fn send_after(&mut self, delay: Duration, msg: A::Msg) -> TimerRef {
        let shared = self.me.shared().clone();
        let actor = shared.id;
        let timers = &mut self.extras().timers;
        let id = timers.next_id();
        let task = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = shared.mailbox.push(Envelope::timer(id, msg));
        });
        timers.insert(actor, id, task.abort_handle(), false)
    }

    /// Sends a message made by `make` to this actor every `period` (first after one
    /// period), until cancelled or the actor stops. The period is clamped to between 1 ms
    /// and about 30 years.
    pub fn send_interval<F>(&mut self, period: Duration, mut make: F) -> TimerRef
    where
        F: FnMut() -> A::Msg + Send + 'static,
    {
        let period = period.clamp(Duration::from_millis(1), MAX_PERIOD);
        let shared = self.me.shared().clone();
        let actor = shared.id;
        let timers = &mut self.extras().timers;
        let id = timers.next_id();
        let task = tokio::spawn(async move {
            let start = tokio::time::Instant::now() + period;
            let mut interval = tokio::time::interval_at(start, period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                if shared.mailbox.push(Envelope::timer(id, make())).is_err() {
                    break;
                }
            }
        });
        timers.insert(actor, id, task.abort_handle(), true)
    }

    /// Cancels a timer of this actor; `true` if it was still active. After this, its
    /// message is not handled even if it is already in the mailbox. A timer of another
    /// actor is left alone (`false`).
    pub fn cancel_timer(&mut self, timer: TimerRef) -> bool {
        timer.actor == self.me.id()
            && self
                .extras
                .as_mut()
                .is_some_and(|e| e.timers.cancel(timer.id))
    }

    /// Attaches `stream` to this actor (see [`crate::stream`]): the actor pulls its items
    /// one at a time, between handlers, and handles each as the message `to_msg` makes of
    /// it; the next item is pulled only once that message's handler has finished. When the
    /// stream ends, the message `on_end` makes is handled next, and the stream is dropped.
    ///
    /// The stream is dropped unfinished (without `on_end`) when the actor begins to stop,
    /// before `#[terminate]`, or by [`detach_stream`](Self::detach_stream). Several
    /// streams may be attached at once; they take turns with each other and with the
    /// mailbox. A panic in the stream or in either closure crashes the actor with
    /// [`ExitReason::Panic`], as a panic in a handler does.
    pub fn attach_stream<S, F, E>(&mut self, stream: S, to_msg: F, on_end: E) -> StreamRef
    where
        S: futures_core::Stream + Send + 'static,
        F: FnMut(S::Item) -> A::Msg + Send + 'static,
        E: FnOnce() -> A::Msg + Send + 'static,
    {
        let actor = self.me.id();
        self.extras()
            .streams
            .get_mut()
            .attach(actor, stream, to_msg, on_end)
    }

    /// Detaches and drops a stream of this actor; `true` if it was still attached. Its
    /// `on_end` message is not sent, and no item is handled after this. A stream of another
    /// actor is left alone (`false`).
    pub fn detach_stream(&mut self, stream: StreamRef) -> bool {
        if stream.actor != self.me.id() {
            return false;
        }
        let Some(extras) = &mut self.extras else {
            return false;
        };
        extras.streams.get_mut().detach(stream.id).is_some()
    }

    /// How many streams are attached.
    #[must_use]
    pub fn stream_count(&self) -> usize {
        self.extras.as_ref().map_or(0, |e| e.streams.lock().len())
    }

    /// Delivers [`Info::Timeout`](crate::Info::Timeout) to the `#[info]` handler once the
    /// actor has been idle (no message of any kind) for `timeout`; once per idle period.
    /// Setting it starts a new idle period, so the `#[info]` handler can re-arm it.
    /// `None` turns it off.
    pub fn set_idle_timeout(&mut self, timeout: Option<Duration>) {
        if timeout.is_some() || self.extras.is_some() {
            // A new idle period starts now, even inside the `Info::Timeout` handler.
            let idle = &mut self.extras().idle;
            idle.timeout = timeout;
            idle.restart();
        }
    }

    /// Puts a message aside, to be handled again after [`unstash_all`](Self::unstash_all).
    /// A handler stashes the message it is handling by rebuilding it from its arguments;
    /// a `#[call]` that may be stashed takes a [`Reply`](crate::Reply) handle so the caller
    /// keeps waiting (within its timeout).
    pub fn stash(&mut self, msg: A::Msg) {
        self.extras().stash.push_back(msg);
    }

    /// Replays every stashed message, in the order stashed, before any newer message.
    pub fn unstash_all(&mut self) {
        if let Some(extras) = &mut self.extras {
            let mut stashed = std::mem::take(&mut extras.stash);
            stashed.append(&mut extras.replay);
            extras.replay = stashed;
        }
    }

    /// How many messages are stashed.
    #[must_use]
    pub fn stash_len(&self) -> usize {
        self.extras.as_ref().map_or(0, |e| e.stash.len())
    }

    /// Drops every stashed message (their callers get
    /// [`CallError::NoReply`](crate::CallError::NoReply)).
    pub fn clear_stash(&mut self) {
        if let Some(extras) = &mut self.extras {
            extras.stash.clear();
        }
    }

    /// Runs the `#[handle_continue]` handler with `arg` right after the current handler (or
    /// `#[init]`), before any other message: OTP's `{continue, Arg}`.
    pub fn continue_with(&mut self, arg: A::Continue) {
        self.pending_continue = Some(arg);
    }

    /// Whether `#[handle_continue]` is to run next.
    pub(crate) fn has_continue(&self) -> bool {
        self.pending_continue.is_some()
    }

    pub(crate) fn take_continue(&mut self) -> Option<A::Continue> {
        self.pending_continue.take()
    }

    fn extras(&mut self) -> &mut Extras<A> {
        self.extras.get_or_insert_with(Extras::boxed)
    }

    /// Leaves the messages unhandled at the exit in `handoff` instead of dropping them.
    pub(crate) fn set_handoff(&mut self, handoff: Arc<Handoff<A>>) {
        self.extras().handoff = Some(handoff);
    }

    /// The next message taken from the mailbox and not yet handled.
    pub(crate) fn next_taken(&mut self) -> Option<Envelope<A>> {
        self.batch.as_mut()?.pop_front()
    }

    /// The next step of the receive loop in the common case, where there is nothing to
    /// look at but the mailbox: no deferred work, no stop, no unstashed message, and no
    /// idle timeout (whose period a message restarts, and which the loop waits for). Then
    /// the next user message in order, or pending with the waker registered.
    /// `Ready(None)` leaves every other case to the full loop.
    #[inline]
    pub(crate) fn poll_plain_msg(&mut self, cx: &mut Context<'_>) -> Poll<Option<A::Msg>> {
        let plain = self.pending_continue.is_none()
            && !self.stop_normal
            && self.extras.as_deref_mut().is_none_or(|e| {
                e.stop.is_none()
                    && e.replay.is_empty()
                    && e.idle.timeout.is_none()
                    && e.streams.get_mut().is_empty()
            });
        if !plain {
            return Poll::Ready(None);
        }
        loop {
            if let Some(batch) = self.batch.as_mut() {
                match batch.pop_front() {
                    Some(Envelope::Msg(msg)) => return Poll::Ready(Some(msg)),
                    Some(other) => {
                        // Back where it was, in the slot just freed: no allocation.
                        batch.push_front(other);
                        return Poll::Ready(None);
                    }
                    None => {}
                }
            }
            match ready!(self.poll_take_msg(cx)) {
                Take::One(msg) => return Poll::Ready(Some(msg)),
                Take::Left => return Poll::Ready(None),
                Take::Batch => {}
            }
        }
    }

    /// Takes from the mailbox for [`poll_plain_msg`](Self::poll_plain_msg): a lone user
    /// message by itself; anything else alone stays queued. Out of line, so the loop over
    /// a batch stays small.
    #[inline(never)]
    fn poll_take_msg(&mut self, cx: &mut Context<'_>) -> Poll<Take<A::Msg>> {
        let only_msg = |envelope| match envelope {
            Envelope::Msg(msg) => Ok(msg),
            other => Err(other),
        };
        self.me
            .shared()
            .mailbox
            .poll_take(cx, &mut self.batch, only_msg)
    }

    /// Takes what is queued in the mailbox, or registers the waker: a lone envelope is
    /// handed out, several move to the taken ones ([`next_taken`](Self::next_taken)) and
    /// give `Ready(None)`.
    pub(crate) fn poll_take(&mut self, cx: &mut Context<'_>) -> Poll<Option<Envelope<A>>> {
        let mailbox = &self.me.shared().mailbox;
        Poll::Ready(match ready!(mailbox.poll_take(cx, &mut self.batch, Ok)) {
            Take::One(envelope) => Some(envelope),
            Take::Left | Take::Batch => None,
        })
    }

    /// Waits out the idle timeout, if one is set and has not fired in this idle period.
    pub(crate) fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.extras {
            Some(extras) => extras.idle.poll(cx),
            None => Poll::Pending,
        }
    }

    /// Whether the attached streams go before the mailbox at this look: every other look,
    /// so that they take turns.
    pub(crate) fn streams_first(&mut self) -> bool {
        self.extras
            .as_mut()
            .is_some_and(|e| e.streams.get_mut().take_turn())
    }

    /// Polls the attached streams for the next message: an item's, or an end's (the ended
    /// stream is dropped). `Err` holds the message of a panic in a stream, in its
    /// closures, or in the `Drop` of a stream that ended.
    pub(crate) fn poll_streams(&mut self, cx: &mut Context<'_>) -> Poll<Result<A::Msg, String>> {
        let id = self.me.id();
        let Some(extras) = &mut self.extras else {
            return Poll::Pending;
        };
        let streams = extras.streams.get_mut();
        if streams.is_empty() {
            return Poll::Pending;
        }
        let polled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| streams.poll_next(cx)));
        Poll::Ready(match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready((msg, None))) => Ok(msg),
            Ok(Poll::Ready((msg, Some(ended)))) => match drop_remains(id, ended) {
                Ok(()) => Ok(msg),
                Err(panic) => {
                    let _ = drop_remains(id, msg);
                    Err(panic)
                }
            },
            Err(payload) => Err(panic_message(payload.as_ref())),
        })
    }

    /// Drops every attached stream (a panic in a `Drop` is only reported: the actor is
    /// stopping already).
    fn drop_streams(&mut self) {
        if let Some(extras) = &mut self.extras {
            let streams = extras.streams.get_mut().take_all();
            if !streams.is_empty() {
                let _ = drop_remains(self.me.id(), streams);
            }
        }
    }

    /// A message arrived: a new idle period begins.
    pub(crate) fn note_activity(&mut self) {
        if let Some(extras) = &mut self.extras {
            extras.idle.restart();
        }
    }

    /// The failure the current handler stopped the actor with, if any: an `Err` it
    /// returned (or an [`ExitReason::Error`] it stopped with).
    pub(crate) fn failure(&self) -> Option<&ExitReason> {
        self.extras
            .as_ref()?
            .stop
            .as_ref()
            .filter(|r| matches!(r, ExitReason::Error(_)))
    }

    /// A stop asked for by the current handler, if any.
    pub(crate) fn take_stop(&mut self) -> Option<ExitReason> {
        if std::mem::take(&mut self.stop_normal) {
            return Some(ExitReason::Normal);
        }
        self.extras.as_mut()?.stop.take()
    }

    /// The next unstashed message to handle again, if any.
    pub(crate) fn pop_replay(&mut self) -> Option<A::Msg> {
        self.extras.as_mut()?.replay.pop_front()
    }

    /// Whether a timer message that just arrived is still wanted.
    pub(crate) fn timer_fired(&mut self, id: u64) -> bool {
        id == UNTIMED || self.extras.as_mut().is_some_and(|e| e.timers.fire(id))
    }

    /// Whether any child may still be alive.
    pub(crate) fn has_children(&self) -> bool {
        self.extras
            .as_ref()
            .is_some_and(|e| !e.children.list.is_empty())
    }

    /// Cancels every timer and drops the attached streams.
    pub(crate) fn cancel_timers(&mut self) {
        if let Some(extras) = &mut self.extras {
            extras.timers.cancel_all();
        }
        self.drop_streams();
    }

    /// Drops the attached streams, then stops the children (last started first) and the
    /// timers: the start of every exit.
    /// From here on, exit signals (say, from children linked to this actor, which stop with
    /// `Shutdown`) no longer change the reason; only a kill still ends it.
    pub(crate) async fn wind_down(&mut self) {
        self.me.shared().mailbox.begin_exit();
        self.drop_streams();
        if let Some(extras) = &mut self.extras {
            let table = self.me.shared().system.deadlines();
            extras.children.stop_all(table).await;
            extras.timers.cancel_all();
        }
    }

    /// Stops the actor with [`ExitReason::Normal`] once the current handler returns.
    pub fn stop(&mut self) {
        self.stop_with(ExitReason::Normal);
    }

    /// Stops the actor with `reason` once the current handler returns.
    pub fn stop_with(&mut self, reason: ExitReason) {
        // The last stop asked for wins.
        if reason == ExitReason::Normal {
            self.stop_normal = true;
            if let Some(extras) = &mut self.extras {
                extras.stop = None;
            }
        } else {
            self.stop_normal = false;
            self.extras().stop = Some(reason);
        }
    }
}

impl<A: Actor> fmt::Debug for Ctx<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("me", &self.me)
            .field("children", &self.children().len())
            .field(
                "timers",
                &self.extras.as_ref().map_or(0, |e| e.timers.active.len()),
            )
            .field("stashed", &self.stash_len())
            .field("streams", &self.stream_count())
            .finish_non_exhaustive()
    }
}

impl<A: Actor> Drop for Ctx<A> {
    fn drop(&mut self) {
        // Reached with work left only when the actor's task was killed (or its init failed
        // before it ran): take the rest down, then publish `Killed`.
        if let Some(extras) = &mut self.extras {
            extras.timers.cancel_all();
            for child in extras.children.list.drain(..) {
                child.signal(Signal::Kill);
            }
        }
        self.drop_streams();
        let reason = self.me.shared().mailbox.take_doom();
        self.publish_exit(reason.unwrap_or(ExitReason::Killed));
    }
}

/// The idle timeout and its timer, which is made on first use and then reused.
#[derive(Default)]
struct Idle {
    timeout: Option<Duration>,
    sleep: Option<Pin<Box<Sleep>>>,
    /// Whether `sleep` counts the current idle period.
    armed: bool,
    /// Whether the timeout fired in the current idle period.
    fired: bool,
}

impl Idle {
    /// A new idle period begins.
    fn restart(&mut self) {
        self.armed = false;
        self.fired = false;
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(timeout) = self.timeout else {
            return Poll::Pending;
        };
        if self.fired {
            return Poll::Pending;
        }
        if !self.armed {
            let at = crate::call::deadline_after(timeout);
            match &mut self.sleep {
                Some(sleep) => sleep.as_mut().reset(at),
                None => self.sleep = Some(Box::pin(tokio::time::sleep_until(at))),
            }
            self.armed = true;
        }
        let Some(sleep) = &mut self.sleep else {
            unreachable!("armed above")
        };
        ready!(sleep.as_mut().poll(cx));
        self.armed = false;
        self.fired = true;
        Poll::Ready(())
    }
}

impl<A: Actor> Extras<A> {
    fn boxed() -> Box<Self> {
        Box::new(Self {
            idle: Idle::default(),
            stop: None,
            timers: Timers::default(),
            children: Children::default(),
            stash: VecDeque::new(),
            replay: VecDeque::new(),
            monitoring: FxHashMap::default(),
            handoff: None,
            streams: parking_lot::Mutex::default(),
        })
    }
}

/// A timer started with [`Ctx::send_after`] or [`Ctx::send_interval`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerRef {
    actor: ActorId,
    id: u64,
}

#[derive(Default)]
pub(crate) struct Timers {
    next: u64,
    active: FxHashMap<u64, (AbortHandle, bool)>,
}

impl Timers {
    fn next_id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    fn insert(&mut self, actor: ActorId, id: u64, abort: AbortHandle, repeat: bool) -> TimerRef {
        self.active.insert(id, (abort, repeat));
        TimerRef { actor, id }
    }

    fn cancel(&mut self, id: u64) -> bool {
        match self.active.remove(&id) {
            Some((abort, _)) => {
                abort.abort();
                true
            }
            None => false,
        }
    }

    fn fire(&mut self, id: u64) -> bool {
        match self.active.get(&id) {
            Some((_, true)) => true,
            Some((_, false)) => {
                self.active.remove(&id);
                true
            }
            None => false,
        }
    }

    fn cancel_all(&mut self) {
        for (_, (abort, _)) in self.active.drain() {
            abort.abort();
        }
    }
}

/// Serialises links and unlinks, so that each changes both sides before another begins
/// (a link and an unlink of the same pair must not interleave into a one-sided link).
/// Exits do not take it: a closed mailbox refuses new links by itself.
fn link_lock() -> std::sync::MutexGuard<'static, ()> {
    static LINKS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LINKS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A child or top-level actor, seen without its type.
pub(crate) type Child = Arc<dyn Process>;

#[derive(Default)]
pub(crate) struct Children {
    list: Vec<Child>,
    prune_at: usize,
}

impl Children {
    pub(crate) fn push(&mut self, child: Child) {
        // Forget children that already exited, at doubling sizes so it stays amortised O(1).
        if self.list.len() >= self.prune_at.max(16) {
            self.list.retain(|c| c.exit().reason().is_none());
            self.prune_at = self.list.len() * 2;
        }
        self.list.push(child);
    }

    /// Stops every child, last started first, each within [`CHILD_SHUTDOWN`]. A child
    /// leaves the list only once stopped, so if this actor is killed meanwhile, `Drop` still
    /// kills the child.
    async fn stop_all(&mut self, table: &Deadlines) {
        while let Some(child) = self.list.last() {
            if child.exit().reason().is_none() {
                stop_process(&**child, &mut Timer::after(table, CHILD_SHUTDOWN)).await;
            }
            self.list.pop();
        }
    }
}

/// Asks `process` to stop and waits for it until `deadline` (which may serve a whole
/// shutdown); kills it after that. `true` if it stopped by itself.
pub(crate) async fn stop_process(process: &dyn Process, deadline: &mut Timer<'_>) -> bool {
    let exit = process.exit();
    let by = deadline.start();
    if !process.request_stop(ExitReason::Shutdown, by) && exit.reason().is_some() {
        return true;
    }
    stop_in_time(process, deadline).await
}

/// Waits for `process`, already asked to stop, until `deadline`; kills it after that.
/// `true` if it stopped by itself.
pub(crate) async fn stop_in_time(process: &dyn Process, deadline: &mut Timer<'_>) -> bool {
    let exit = process.exit();
    let mut waiting = pin!(exit.wait());
    let stopped = poll_fn(|cx| {
        if waiting.as_mut().poll(cx).is_ready() {
            return Poll::Ready(true);
        }
        deadline.poll(cx).map(|()| false)
    })
    .await;
    if stopped {
        // An exit that ended past the deadline ends `Killed` (see `publish_exit`); one
        // that ends `Killed` in time (asked for, or by someone else) stopped in time.
        return !process.overran();
    }
    kill_process(process).await;
    false
}

/// Kills `process` and waits for it to be gone. A killed task is dropped at its next
/// scheduling point and publishes `Killed`; one stuck in a handler that never yields
/// cannot be waited for, so this gives up after a short grace.
pub(crate) async fn kill_process(process: &dyn Process) {
    // Even when the kill finds the actor already exiting: it is gone only once its exit
    // is published (a supervised one has handed its messages over by then).
    process.signal(Signal::Kill);
    let _ = tokio::time::timeout(KILL_GRACE, process.exit().wait()).await;
}
