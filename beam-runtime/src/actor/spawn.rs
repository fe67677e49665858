//! [`SpawnBuilder`]: what `spawn` returns; await it to start the actor.

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::num::NonZeroU64;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tokio::sync::oneshot;

use super::Ctx;
use super::actor_ref::short_type_name;
use super::ctx::Children;
use super::run::{ActorTask, drop_remains, fail_init, init_now, life, run};
use super::{Actor, ActorId, ActorRef, Envelope, ExitCell, Handoff, Process, Shared};
use crate::__private::HandlerKind;
use crate::error::{RegistryError, SpawnError};
use crate::exit::ExitReason;
use crate::mailbox::{MAX_CAPACITY, Mailbox};
use crate::registry::IntoName;
use crate::sched::Unstarted;
use crate::system::ActorSystem;
use crate::telemetry::{
    self,
    emit::{Probe, init_observed},
};

/// Configures and starts an actor; returned by [`ActorSystem::spawn`] and [`Ctx::spawn`].
///
/// Awaiting it runs `#[init]` inside the new actor and resolves to
/// `Result<ActorRef<A>, SpawnError>`.
///
/// [`Ctx::spawn`]: crate::Ctx::spawn
///
/// # Examples
///
/// ```
/// use beam_runtime::prelude::*;
///
/// struct Worker;
///
/// #[actor(mailbox = 8)]
/// impl Worker {
///     #[cast]
///     fn work(&mut self) {}
/// }
///
/// beam_runtime::names! {
///     /// The worker.
///     WORKER: Worker = "worker";
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), beam_runtime::Error> {
/// let system = ActorSystem::new();
/// let worker = system.spawn::<Worker>(Worker).name(WORKER).bounded(100).await?;
/// assert_eq!(system.whereis(WORKER), Some(worker));
///
/// let again = system.spawn::<Worker>(Worker).name(WORKER).await;
/// assert_eq!(again.unwrap_err(), SpawnError::NameTaken("worker".into()));
/// # system.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[must_use = "a spawn does nothing until it is awaited"]
pub struct SpawnBuilder<'a, A: Actor> {
    system: &'a ActorSystem,
    owner: Owner<'a>,
    args: A::Args,
    name: Option<Cow<'static, str>>,
    capacity: Option<usize>,
    /// The actor to link the new one to, before its `#[init]`: its parent.
    link: Option<Arc<dyn Process>>,
    /// A supervised actor's messages: those its last incarnation left, and where it leaves
    /// its own.
    handoff: Option<Arc<Handoff<A>>>,
}

/// Who stops a new actor when it is time.
pub(crate) enum Owner<'a> {
    /// The system, at shutdown: a top-level actor.
    System,
    /// Its parent actor (whose id this is), before the parent exits.
    Parent(&'a mut Children, ActorId),
    /// A supervisor, which tracks it by itself.
    Supervisor,
}

impl<'a, A: Actor> SpawnBuilder<'a, A> {
    pub(crate) fn new(system: &'a ActorSystem, owner: Owner<'a>, args: A::Args) -> Self {
        Self {
            system,
            owner,
            args,
            name: None,
            capacity: A::MAILBOX,
            link: None,
            handoff: None,
        }
    }

    /// Links the new actor to `parent` before its `#[init]`; a trapped exit from the
    /// parent stops it.
    pub(crate) fn linked_to(mut self, parent: Arc<dyn Process>) -> Self {
        self.link = Some(parent);
        self
    }

    /// Gives the new actor the messages left in `handoff`, and leaves its own there.
    pub(crate) fn handoff(mut self, handoff: Arc<Handoff<A>>) -> Self {
        self.handoff = Some(handoff);
        self
    }

    /// Sets the name from its text (already typed by the caller).
    pub(crate) fn name_key(mut self, name: Option<Cow<'static, str>>) -> Self {
        self.name = name;
        self
    }

    /// Sets the mailbox capacity (`None`: unbounded).
    pub(crate) fn capacity(mut self, capacity: Option<usize>) -> Self {
        self.capacity = capacity;
        self
    }

    /// Registers the actor under `name` for its life; spawning fails with
    /// [`SpawnError::NameTaken`] if a live actor holds it. The name's actor type must be `A`.
    pub fn name(mut self, name: impl IntoName<Actor = A>) -> Self {
        self.name = Some(name.into_key());
        self
    }

    /// Gives the actor a bounded mailbox of `capacity` messages (overriding
    /// `#[actor(mailbox = N)]`): a cast to a full mailbox fails with
    /// [`SendError::Full`](crate::SendError::Full), a call waits for room within its
    /// timeout. A capacity of 0 makes the spawn fail with [`SpawnError::Capacity`].
    pub fn bounded(mut self, capacity: usize) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// Gives the actor an unbounded mailbox (the default unless `#[actor(mailbox = N)]`).
    pub fn unbounded(mut self) -> Self {
        self.capacity = None;
        self
    }

    /// Everything up to the new actor's task: a synchronous (or absent) `#[init]` has run by
    /// the end; an async one runs in the task, which reports on the returned channel.
    fn start(self) -> Result<Started<A>, SpawnError> {
        let Self {
            system,
            owner,
            args,
            name,
            capacity,
            link,
            handoff,
        } = self;
        if let Some(cap) = capacity {
            if cap == 0 || cap > MAX_CAPACITY {
                return Err(SpawnError::Capacity(cap));
            }
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Err(SpawnError::NoRuntime);
        };
        system.start_timers();
        let sched = system.sched_on(&runtime);
        let parent = match &owner {
            Owner::System => None,
            Owner::Parent(_, parent) => Some(*parent),
            Owner::Supervisor => link.as_ref().map(|p| p.id()),
        };
        let shared = Arc::new(Shared {
            id: ActorId::next(),
            parent: parent.and_then(|p| NonZeroU64::new(p.as_u64())),
            system: system.clone(),
            mailbox: Mailbox::new(capacity),
            exit: ExitCell::new(),
            answer_ms: AtomicU32::new(0),
            overran: AtomicBool::new(false),
        });
        // A supervised actor's inherited messages come first, before its name makes it
        // reachable; if it does not start, they go back.
        if let Some(handoff) = &handoff {
            handoff.note_spawned(shared.id);
            shared
                .mailbox
                .seed(handoff.take().into_iter().map(Envelope::Msg));
        }
        // Undoes the above when the actor does not start after all.
        let abandon = || {
            let (queued, watch) = shared.mailbox.close();
            let rest = match &handoff {
                Some(handoff) => handoff.keep(queued),
                None => queued,
            };
            let watch = watch.map(|mut watch| {
                system.purge(shared.id, std::mem::take(&mut watch.registry));
                watch
            });
            // Found by its name meanwhile, it may have callers and watchers.
            shared.publish_unstarted(ExitReason::NoProc, watch);
            let _ = drop_remains(shared.id, rest);
        };
        if let Some(name) = &name {
            if let Err(err) = system.register_name(name.clone(), shared.clone()) {
                abandon();
                return Err(match err {
                    RegistryError::NameTaken(name) => SpawnError::NameTaken(name),
                    RegistryError::NoProc => SpawnError::Aborted,
                });
            }
        }
        let process: Arc<dyn Process> = shared.clone();
        let slot = match system.track(process.clone()) {
            Ok(slot) => slot,
            Err(err) => {
                abandon();
                return Err(err);
            }
        };
        if let Some(parent) = link {
            let parent_id = parent.id();
            parent.add_link(process.clone());
            shared.mailbox.watch(|w| {
                w.links.insert(parent_id, parent);
                w.parent = Some(parent_id);
            });
        }
        if let Owner::Parent(children, _) = owner {
            children.push(process);
        }
        // From here the context owns the root slot and the registrations: dropping the
        // task, even before its first poll, releases them and publishes `Killed`.
        let id = shared.id;
        let me = ActorRef::from_shared(shared.clone());
        let mut ctx = Ctx::new(me, slot);
        if let Some(handoff) = handoff {
            ctx.set_handoff(handoff);
        }
        telemetry::emit::actor_spawned(id, short_type_name::<A>, name.as_deref(), parent);
        // A synchronous `#[init]` runs here, in the spawner: observed, in its span.
        let probe = (!A::ASYNC_INIT && init_observed())
            .then(|| Probe::start(id, short_type_name::<A>(), "init", HandlerKind::Init));
        let init = || init_now::<A>(id, args, &mut ctx);
        let out = match &probe {
            Some(probe) => probe.run(init),
            None => init(),
        };
        let finish = |reason: Option<&ExitReason>| {
            if let Some(probe) = probe {
                probe.finish(reason);
            }
        };
        match out {
            // A sync `#[init]` (or none) already ran: no hand-shake with the new task.
            Ok(Ok(Ok(state))) => {
                finish(None);
                // With nothing to do yet, its first poll only finds the mailbox empty: the
                // spawner makes it (`Spawning`), so a call that follows finds it idle.
                // Anything else (deferred work, messages already queued) is the drivers'.
                let idle = !ctx.has_continue() && shared.mailbox.is_empty();
                let (task, first) = sched.spawn(ActorTask::new(id, life(ctx, state)));
                shared.mailbox.set_abort(task);
                let first = if idle {
                    Some(first)
                } else {
                    drop(first);
                    None
                };
                Ok(Started::Running(ActorRef::from_shared(shared), first))
            }
            Ok(Ok(Err(err))) => {
                let message = err.into_message();
                let reason = ExitReason::Error(message.clone());
                finish(Some(&reason));
                fail_init(ctx, reason);
                Err(SpawnError::Init(message))
            }
            Err(panic) => {
                let reason = ExitReason::Panic(panic.clone());
                finish(Some(&reason));
                fail_init(ctx, reason);
                Err(SpawnError::InitPanic(panic))
            }
            // An async `#[init]` runs in the actor's task; wait for its verdict.
            Ok(Err(args)) => {
                let (started_tx, started) = oneshot::channel();
                let (task, first) =
                    sched.spawn(ActorTask::new(id, run::<A>(ctx, args, started_tx)));
                shared.mailbox.set_abort(task);
                // Queued: the spawner waits for the verdict, not for the `#[init]` itself.
                drop(first);
                Ok(Started::Initializing(Initializing { started, shared }))
            }
        }
    }
}

impl<A: Actor> SpawnBuilder<'_, A> {
    /// Spawns an actor whose `#[init]` is synchronous (or absent) without awaiting: it is
    /// running on return.
    pub(crate) fn start_now(self) -> Result<ActorRef<A>, SpawnError> {
        match self.start()? {
            // Its first poll is queued: this spawner does not wait.
            Started::Running(actor, _) => Ok(actor),
            Started::Initializing(_) => unreachable!("`start_now` is for a synchronous `#[init]`"),
        }
    }
}

impl<'a, A: Actor> IntoFuture for SpawnBuilder<'a, A> {
    type Output = Result<ActorRef<A>, SpawnError>;
    type IntoFuture = Spawning<'a, A>;

    fn into_future(self) -> Spawning<'a, A> {
        Spawning {
            stage: Stage::Start(self),
        }
    }
}

/// How far `start` got.
enum Started<A: Actor> {
    /// Running: its `#[init]` was synchronous (or absent); its task still to be polled
    /// in place, if it is idle.
    Running(ActorRef<A>, Option<Unstarted>),
    Initializing(Initializing<A>),
}

/// An actor whose async `#[init]` runs in its task, which reports on `started`.
struct Initializing<A: Actor> {
    started: oneshot::Receiver<Result<(), SpawnError>>,
    shared: Arc<Shared<A>>,
}

enum Stage<'a, A: Actor> {
    Start(SpawnBuilder<'a, A>),
    Initializing(Initializing<A>),
    Done,
}

pin_project! {
    /// An awaited [`SpawnBuilder`]: starts the actor on its first poll and resolves to
    /// `Result<ActorRef<A>, SpawnError>`.
    ///
    /// An actor whose `#[init]` is synchronous (or absent) is running when the first poll
    /// returns, and idle if it has nothing to do yet (its task was first polled right
    /// here, so a call that follows runs it in place); a `#[handle_continue]` it deferred
    /// runs later, not in the spawner. An async `#[init]` runs inside the new actor, and
    /// this waits for its verdict.
    /// Allocates nothing beyond the actor itself.
    #[must_use = "a spawn does nothing until it is awaited"]
    pub struct Spawning<'a, A: Actor> {
        stage: Stage<'a, A>,
    }
}

impl<A: Actor> Future for Spawning<'_, A> {
    type Output = Result<ActorRef<A>, SpawnError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let stage = self.project().stage;
        if let Stage::Start(_) = stage {
            let Stage::Start(builder) = std::mem::replace(stage, Stage::Done) else {
                unreachable!("matched above")
            };
            match builder.start() {
                Ok(Started::Running(actor, first)) => {
                    if let Some(first) = first {
                        first.run();
                    }
                    return Poll::Ready(Ok(actor));
                }
                Ok(Started::Initializing(init)) => *stage = Stage::Initializing(init),
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
        let Stage::Initializing(init) = stage else {
            panic!("`Spawning` polled after it completed");
        };
        let out = match ready!(Pin::new(&mut init.started).poll(cx)) {
            Ok(Ok(())) => Ok(ActorRef::from_shared(init.shared.clone())),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(SpawnError::Aborted),
        };
        *stage = Stage::Done;
        Poll::Ready(out)
    }
}

impl<A: Actor> fmt::Debug for Spawning<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.stage {
            Stage::Start(_) => "start",
            Stage::Initializing(_) => "initializing",
            Stage::Done => "done",
        };
        f.debug_struct("Spawning")
            .field("actor", &super::actor_ref::short_type_name::<A>())
            .field("stage", &stage)
            .finish()
    }
}

impl<A: Actor> fmt::Debug for SpawnBuilder<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnBuilder")
            .field("actor", &super::actor_ref::short_type_name::<A>())
            .field("name", &self.name)
            .field("capacity", &self.capacity)
            .field("child", &matches!(self.owner, Owner::Parent(..)))
            .field("linked", &self.link.is_some())
            .finish_non_exhaustive()
    }
}
