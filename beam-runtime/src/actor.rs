//! Actors: the [`Actor`] trait that `#[actor]` implements, actor identity, and the pieces an
//! actor is made of (its [`ActorRef`], its [`Ctx`], how it is spawned and how it runs).
//!
//! # Examples
//!
//! ```
//! use beam_runtime::prelude::*;
//!
//! struct Greeter;
//!
//! #[actor]
//! impl Greeter {
//!     #[call]
//!     fn greet(&self, name: String) -> String {
//!         format!("hello, {name}")
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let system = ActorSystem::new();
//! let greeter = system.spawn::<Greeter>(Greeter).await?;
//! assert_eq!(greeter.greet("joe".into()).await?, "hello, joe");
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub(crate) mod actor_ref;
pub(crate) mod ctx;
pub(crate) mod run;
pub(crate) mod slot;
pub(crate) mod spawn;

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::Notify;

use crate::exit::ExitReason;
use crate::mailbox::Mailbox;
use crate::message::Info;
use crate::signal::{MonitorRef, Queued, Signal, Watcher};
use crate::system::ActorSystem;

pub use actor_ref::ActorRef;
pub use ctx::{Ctx, TimerRef};
pub use spawn::{SpawnBuilder, Spawning};

/// A type whose values run as actors.
///
/// `#[actor]` implements this trait for the type of the `impl` block it annotates; the
/// hidden items are the generated glue. Implementing it by hand is not supported.
pub trait Actor: Sized + Send + 'static {
    /// What `spawn` takes: the `#[init]` parameters (`()` for none, a tuple for several), or
    /// the actor itself when there is no `#[init]`.
    type Args: Send + 'static;
    /// The generated message enum, `<Type>Msg` unless renamed with `#[actor(msg = Name)]`.
    type Msg: Send + 'static;
    /// What [`Ctx::continue_with`] takes: the argument of the `#[handle_continue]` handler,
    /// or [`Infallible`](std::convert::Infallible) when there is none.
    type Continue: Send + 'static;
    #[doc(hidden)]
    type Api: crate::__private::Api<Self>;
    /// What [`ActorRef::waiting`] gives: the casts that wait for room.
    #[doc(hidden)]
    type Waiting<'a>: crate::__private::WaitingApi<'a, Self>;
    #[doc(hidden)]
    const MAILBOX: ::core::option::Option<usize> = None;
    /// Whether the actor has a `#[terminate]` hook.
    #[doc(hidden)]
    const TERMINATES: bool = true;
    /// Whether `#[init]` is async (it then runs in the actor's task).
    #[doc(hidden)]
    const ASYNC_INIT: bool = false;

    /// The handler a message goes to, for telemetry and tracing.
    #[doc(hidden)]
    fn __describe(msg: &Self::Msg) -> crate::__private::Describe;

    /// Runs a synchronous (or absent) `#[init]` at once; gives the arguments back when
    /// `#[init]` is async and must run in the actor's task.
    #[doc(hidden)]
    #[allow(clippy::type_complexity)]
    fn __init_now(
        args: Self::Args,
        ctx: &mut Ctx<Self>,
    ) -> Result<Result<Self, crate::__private::InitError>, Self::Args>;

    #[doc(hidden)]
    fn __init(
        args: Self::Args,
        ctx: &mut Ctx<Self>,
    ) -> impl Future<Output = Result<Self, crate::__private::InitError>> + Send;

    /// Handles a message of a synchronous handler at once; gives back the message of an
    /// async one.
    #[doc(hidden)]
    fn __handle_now(&mut self, msg: Self::Msg, ctx: &mut Ctx<Self>) -> Result<(), Self::Msg>;

    #[doc(hidden)]
    fn __handle(&mut self, msg: Self::Msg, ctx: &mut Ctx<Self>) -> impl Future<Output = ()> + Send;

    #[doc(hidden)]
    fn __info(&mut self, info: Info, ctx: &mut Ctx<Self>) -> impl Future<Output = ()> + Send;

    #[doc(hidden)]
    fn __continue(
        &mut self,
        arg: Self::Continue,
        ctx: &mut Ctx<Self>,
    ) -> impl Future<Output = ()> + Send;

    #[doc(hidden)]
    fn __terminate(
        &mut self,
        reason: &ExitReason,
        ctx: &mut Ctx<Self>,
    ) -> impl Future<Output = ()> + Send;
}

/// The identity of an actor, unique within the process for its whole life.
///
/// Displayed like an Erlang pid: `<0.42>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActorId(u64);

impl ActorId {
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) const fn from_raw(n: u64) -> Self {
        Self(n)
    }

    /// The number behind the id.
    #[must_use]
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// The actor running on this thread now: `Some` inside its handlers, its `#[init]` and
    /// its `#[terminate]` (including a callee run in place by its caller), `None` in code
    /// that is not an actor's, such as `main`, a plain tokio task, or the future of a
    /// [`Task`](crate::Task), which runs apart from its actor.
    ///
    /// A panic hook can use it to tell the panics of actors, which beam catches and reports
    /// as [`ExitReason::Panic`] (to links, monitors, supervisors and telemetry), from the
    /// others; see the README's panic hook recipe.
    ///
    /// # Examples
    ///
    /// ```
    /// use beam_runtime::prelude::*;
    ///
    /// struct Me;
    ///
    /// #[actor]
    /// impl Me {
    ///     #[call]
    ///     fn me(&self) -> Option<ActorId> {
    ///         ActorId::current()
    ///     }
    /// }
    ///
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() -> Result<(), beam_runtime::Error> {
    ///     let system = ActorSystem::new();
    ///     let me = system.spawn::<Me>(Me).await?;
    ///     assert_eq!(me.me().await?, Some(me.id()));
    ///     assert_eq!(ActorId::current(), None);
    ///     system.shutdown().await;
    ///     Ok(())
    /// }
    /// ```
    #[must_use]
    pub fn current() -> Option<ActorId> {
        run::current_actor()
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<0.{}>", self.0)
    }
}

/// What travels through a mailbox: as large as the message itself, since the rare kinds
/// are boxed (every queued message pays for the largest kind).
pub(crate) enum Envelope<A: Actor> {
    /// A user message that holds a mailbox slot.
    Msg(A::Msg),
    /// A timer's message and the timer's id; delivered only if the timer is still active
    /// (always for [`UNTIMED`]). Holds no mailbox slot.
    Timer(Box<(u64, A::Msg)>),
    /// Stop after the messages before this one.
    Stop(Stop),
    /// A system message for the `#[info]` handler (a trapped exit, a monitor's `Down`).
    Info(Box<Info>),
}

/// The timer id of a message an actor sends itself without a timer: always delivered.
pub(crate) const UNTIMED: u64 = 0;

/// A stop request's reason, without an allocation for the usual ones.
pub(crate) enum Stop {
    Normal,
    Shutdown,
    Other(Box<ExitReason>),
}

impl From<Stop> for ExitReason {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Normal => Self::Normal,
            Stop::Shutdown => Self::Shutdown,
            Stop::Other(reason) => *reason,
        }
    }
}

impl<A: Actor> crate::mailbox::Item for Envelope<A> {
    fn lone_stop(&self) -> Option<crate::mailbox::LoneStop> {
        match self {
            Self::Stop(Stop::Normal) => Some(crate::mailbox::LoneStop::Normal),
            Self::Stop(Stop::Shutdown) => Some(crate::mailbox::LoneStop::Shutdown),
            _ => None,
        }
    }

    fn from_lone_stop(stop: crate::mailbox::LoneStop) -> Self {
        Self::Stop(match stop {
            crate::mailbox::LoneStop::Normal => Stop::Normal,
            crate::mailbox::LoneStop::Shutdown => Stop::Shutdown,
        })
    }
}

impl<A: Actor> Envelope<A> {
    pub(crate) fn timer(id: u64, msg: A::Msg) -> Self {
        Self::Timer(Box::new((id, msg)))
    }

    /// A message the actor sends itself (a task's result), outside the mailbox's capacity.
    pub(crate) fn to_self(msg: A::Msg) -> Self {
        Self::timer(UNTIMED, msg)
    }

    pub(crate) fn stop(reason: ExitReason) -> Self {
        Self::Stop(match reason {
            ExitReason::Normal => Stop::Normal,
            ExitReason::Shutdown => Stop::Shutdown,
            other => Stop::Other(Box::new(other)),
        })
    }
}

/// The user messages a supervised actor left unhandled when it exited, kept for its next
/// incarnation (see the supervisor module's documentation).
pub(crate) struct Handoff<A: Actor> {
    queue: std::sync::Mutex<VecDeque<A::Msg>>,
    /// Offered each message first (a pool hands them to its other workers).
    redirect: Option<crate::supervisor::Redirect<A>>,
    /// The id of the last incarnation spawned (0 for none), started or not: a restart
    /// whose `#[init]` fails is reported under it.
    spawned: AtomicU64,
}

impl<A: Actor> Handoff<A> {
    pub(crate) fn new(redirect: Option<crate::supervisor::Redirect<A>>) -> Self {
        Self {
            queue: std::sync::Mutex::new(VecDeque::new()),
            redirect,
            spawned: AtomicU64::new(0),
        }
    }

    /// Incarnation `id` is being spawned from these messages.
    pub(crate) fn note_spawned(&self, id: ActorId) {
        self.spawned.store(id.0, Ordering::Relaxed);
    }

    /// The last incarnation spawned, if any.
    pub(crate) fn spawned(&self) -> Option<ActorId> {
        let id = self.spawned.load(Ordering::Relaxed);
        (id != 0).then_some(ActorId(id))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<A::Msg>> {
        // Only moves of messages happen under the lock.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps the user messages of `leftovers`, after any kept before; gives back the rest
    /// (timers, stop requests and notices, which belonged to the incarnation that exited).
    /// A message the redirect takes goes there instead (outside the lock: it sends to
    /// other actors).
    pub(crate) fn keep(&self, leftovers: VecDeque<Envelope<A>>) -> VecDeque<Envelope<A>> {
        let mut rest = VecDeque::new();
        let mut kept = VecDeque::new();
        for envelope in leftovers {
            match envelope {
                Envelope::Msg(msg) => match &self.redirect {
                    Some(redirect) => {
                        if let Err(msg) = redirect(msg) {
                            kept.push_back(msg);
                        }
                    }
                    None => kept.push_back(msg),
                },
                other => rest.push_back(other),
            }
        }
        if !kept.is_empty() {
            self.lock().append(&mut kept);
        }
        rest
    }

    /// Takes the kept messages.
    pub(crate) fn take(&self) -> VecDeque<A::Msg> {
        std::mem::take(&mut *self.lock())
    }
}

/// Set once, when the actor has exited; wakes everyone waiting for it.
pub(crate) struct ExitCell {
    reason: OnceLock<ExitReason>,
    notify: Notify,
}

impl ExitCell {
    fn new() -> Self {
        Self {
            reason: OnceLock::new(),
            notify: Notify::new(),
        }
    }

    pub(crate) fn reason(&self) -> Option<&ExitReason> {
        self.reason.get()
    }

    /// Records the reason; waiters are woken by [`wake`](Self::wake).
    fn set(&self, reason: ExitReason) -> &ExitReason {
        let _ = self.reason.set(reason);
        self.reason.get().expect("set above")
    }

    fn wake(&self) {
        self.notify.notify_waiters();
    }

    /// A registration for the exit; create it before checking [`reason`](Self::reason).
    pub(crate) fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }

    pub(crate) async fn wait(&self) -> ExitReason {
        loop {
            let notified = self.notify.notified();
            if let Some(reason) = self.reason.get() {
                return reason.clone();
            }
            notified.await;
        }
    }
}

/// The part of an actor that refs share.
pub(crate) struct Shared<A: Actor> {
    pub(crate) id: ActorId,
    /// The actor that spawned it as its child (a parent or a supervisor); none for a
    /// top-level actor, stopped by the system's shutdown.
    pub(crate) parent: Option<NonZeroU64>,
    pub(crate) system: ActorSystem,
    pub(crate) mailbox: Mailbox<Envelope<A>>,
    pub(crate) exit: ExitCell,
    /// How long the actor took to answer its last timed call, in milliseconds of the
    /// [coarse clock](crate::clock): its run in place, or the wait of a call it answered
    /// from its queue. A call runs the actor in place only within its budget (see
    /// [`Call`](crate::Call)).
    pub(crate) answer_ms: AtomicU32,
    /// Set before the exit is published when it ended past a stopper's deadline (and so
    /// ends `Killed`): what tells a stopper that it overran from an actor stopped, or
    /// killed by someone else, in time. Beside `answer_ms`, in the same word.
    pub(crate) overran: AtomicBool,
}

impl<A: Actor> Shared<A> {
    /// Publishes the exit of an actor whose spawn was abandoned before it ran, in case it
    /// was reached meanwhile (through its name): waiters wake with `reason`, and links and
    /// monitors made meanwhile hear of it.
    pub(crate) fn publish_unstarted(
        &self,
        reason: ExitReason,
        watch: Option<Box<crate::signal::Watch>>,
    ) {
        let reason = self.exit.set(reason);
        if let Some(watch) = watch {
            crate::signal::notify_exit(self.id, *watch, reason);
        }
        self.exit.wake();
    }
}

/// An actor seen without its type: what parents, links, monitors and the system keep to
/// reach it.
pub(crate) trait Process: Send + Sync {
    fn id(&self) -> ActorId;
    fn exit(&self) -> &ExitCell;
    /// Whether its exit ended past the deadline of a stop that had one (and so ended
    /// `Killed`); read it once the exit is published.
    fn overran(&self) -> bool;
    /// Queues a stop behind the messages already sent (an idle actor stops at once, in
    /// place, unless it has a `#[terminate]` and the stop a deadline); `false` if the
    /// actor is gone. A stopper that kills the actor at `by` passes it: the exit of an
    /// actor with a `#[terminate]` that ends later ends `Killed`.
    fn request_stop(&self, reason: ExitReason, by: Option<tokio::time::Instant>) -> bool;
    /// Delivers an exit signal or a monitor's notice; `false` if the actor is gone.
    fn signal(&self, signal: Signal) -> bool;
    /// Records a link to `other` on this side; `false` if this actor is gone.
    fn add_link(&self, other: Arc<dyn Process>) -> bool;
    /// Forgets the link to `other` on this side.
    fn remove_link(&self, other: ActorId);
    /// Records that `watcher` monitors this actor; `false` if this actor is gone.
    fn add_monitor(&self, monitor: MonitorRef, watcher: Watcher) -> bool;
    /// Forgets a monitor on this actor.
    fn remove_monitor(&self, monitor: MonitorRef);
    /// Forgets one of its registrations (it left the key before exiting).
    fn forget(&self, registration: &crate::registry::Registration);
    /// The actor's type, as `std::any::type_name` spells it.
    fn type_name(&self) -> &'static str;
    /// The actor it was spawned as a child of, if any.
    fn parent(&self) -> Option<ActorId>;
    /// The names it is registered under.
    fn names(&self) -> Vec<String>;
    /// Its label for people, if it has one (a task's).
    fn label(&self) -> Option<String>;
    /// Its mailbox: the messages waiting, and the capacity if bounded.
    fn mailbox(&self) -> (usize, Option<usize>);
    /// The typed actor behind, for a downcast to `Shared<A>`.
    fn into_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync>;
    /// Drops its task unfinished if it runs on the scheduler `sched` (a
    /// [`Sched::key`](crate::sched::Sched::key)), whose runtime shuts down.
    fn abort_task(&self, sched: usize);
}

impl<A: Actor> Process for Shared<A> {
    fn id(&self) -> ActorId {
        self.id
    }

    fn exit(&self) -> &ExitCell {
        &self.exit
    }

    fn overran(&self) -> bool {
        self.overran.load(Ordering::Acquire)
    }

    fn request_stop(&self, reason: ExitReason, by: Option<tokio::time::Instant>) -> bool {
        let stop = Envelope::stop(reason);
        match by {
            // A `#[terminate]` hook is user code that may take any time: under a deadline
            // it runs elsewhere, never within the stopper's poll, so the deadline holds
            // (and an exit that ends past it ends `Killed`, should the stopper not have
            // been able to kill it at the deadline).
            Some(by) if A::TERMINATES => self.mailbox.push_stop_by(stop, by).is_ok(),
            // Any other idle actor stops at once, in place: its exit is the runtime's own
            // (or its stopper waits for as long as it takes anyway).
            _ => crate::sched::run_in_place(|| self.mailbox.push_stop(stop).is_ok()).0,
        }
    }

    fn signal(&self, signal: Signal) -> bool {
        self.mailbox.signal(self.id, signal, |queued| match queued {
            Queued::Info(info) => Envelope::Info(Box::new(info)),
            Queued::Stop(reason) => Envelope::stop(reason),
        })
    }

    fn add_link(&self, other: Arc<dyn Process>) -> bool {
        self.mailbox
            .watch(|w| {
                w.links.insert(other.id(), other);
            })
            .is_some()
    }

    fn remove_link(&self, other: ActorId) {
        self.mailbox.unwatch(|w| {
            w.links.remove(&other);
        });
    }

    fn add_monitor(&self, monitor: MonitorRef, watcher: Watcher) -> bool {
        self.mailbox
            .watch(|w| {
                w.monitors.insert(monitor, watcher);
            })
            .is_some()
    }

    fn remove_monitor(&self, monitor: MonitorRef) {
        self.mailbox.unwatch(|w| {
            w.monitors.remove(&monitor);
        });
    }

    fn forget(&self, registration: &crate::registry::Registration) {
        self.mailbox.unwatch(|w| w.forget(registration));
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<A>()
    }

    fn parent(&self) -> Option<ActorId> {
        self.parent.map(|p| ActorId::from_raw(p.get()))
    }

    fn names(&self) -> Vec<String> {
        self.mailbox.watched(|w| {
            w.registry
                .iter()
                .filter_map(|r| match r {
                    crate::registry::Registration::Name(name) => Some(name.to_string()),
                    crate::registry::Registration::Set(..) => None,
                })
                .collect()
        })
    }

    fn label(&self) -> Option<String> {
        self.mailbox
            .watched(|w| w.label.as_deref().map(str::to_owned))
    }

    fn mailbox(&self) -> (usize, Option<usize>) {
        (self.mailbox.len(), self.mailbox.capacity())
    }

    fn abort_task(&self, sched: usize) {
        self.mailbox.abort(sched);
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync> {
        self
    }
}
