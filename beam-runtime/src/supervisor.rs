//! Supervisors: actors that start children from specs, watch them, and restart them by
//! OTP's rules.
//!
//! A [`SupervisorSpec`] lists children ([`ChildSpec`]), a [`Strategy`] and a restart
//! intensity; [`SupervisorSpec::start`] starts the supervisor and its children in order and
//! returns an [`ActorRef<Supervisor>`](Supervisor), whose methods manage the children at
//! run time. A supervisor is itself a child like any other
//! (`ChildSpec::<Supervisor>::new(id, spec)`), so trees nest.
//!
//! # The rules
//!
//! - **Start.** Children start in the order given, each linked to the supervisor (which
//!   traps exits). If one fails to start, those already started are stopped in reverse
//!   order and the start fails with [`SupervisorError::ChildStart`] naming the child.
//! - **Restart.** When a child exits, its [`Restart`] type decides: `Permanent` always
//!   restarts, `Transient` only after a failure (not after [`ExitReason::Normal`] or
//!   [`ExitReason::Shutdown`]), `Temporary` never (its spec is then removed). The
//!   [`Strategy`] decides which children restart with it: just that one (`OneForOne`),
//!   all of them (`OneForAll`), or it and those started after it (`RestForOne`); the
//!   others in the group are stopped first, last started first, and a `Temporary` one
//!   among them is not restarted. Restarts happen in start order.
//! - **Intensity.** More than `max_restarts` restarts within `period` (OTP's default: 1 in
//!   5 s) means restarting does not help: the supervisor stops all its children in reverse
//!   order and exits with [`ExitReason::Shutdown`]. Its own supervisor handles that like
//!   any child's exit: a supervisor child is `Permanent` unless its spec says otherwise,
//!   so it is restarted, with all its children, and the failure escalates up the tree. A
//!   child that fails to restart counts as one more restart and is tried again from the
//!   supervisor's mailbox (so the supervisor still answers calls and stops between
//!   attempts), until the intensity is exceeded.
//! - **Stop.** Children stop in reverse start order, each by its [`Shutdown`]: asked to
//!   stop (after the messages already queued, running `#[terminate]`) and killed if still
//!   running after a timeout (default 5 s), killed at once (`BrutalKill`, no
//!   `#[terminate]`), or waited for without limit (`Infinity`, the default for
//!   supervisors).
//! - **A supervisor's own exit.** If its parent exits, the supervisor stops its children
//!   and exits with the same reason; if it is killed, its children, linked to it, are
//!   killed with it (or stop, if they trap exits: a trapped exit from the actor that
//!   started them is a stop). A child it was stopping when killed (by
//!   [`ActorRef::kill`], or at the timeout of
//!   [`ActorSystem::shutdown_with`]) is killed at once: it has begun to exit, so a kill
//!   is the only signal that still reaches it.
//!
//! # Backoff, and sizing the intensity
//!
//! By default a child restarts as soon as it exits, as in OTP. A [`Backoff`]
//! ([`SupervisorSpec::backoff`] for every child, [`ChildSpec::backoff`] for one) makes
//! the supervisor wait first: a fixed delay, or one that doubles with each restart in a
//! row up to a cap, optionally with jitter so that children that fail together do not
//! restart together. A restart counts in the intensity when it is decided, at the exit,
//! not when it happens: a child that keeps failing still exhausts the intensity, only
//! more slowly. While it waits, the child is not running: `which_children` shows it with
//! no actor and `restarting` set, its handle has no current incarnation (and
//! [`running`](ChildHandle::running) waits), and the messages it had not handled wait for
//! the next incarnation. Stopping the supervisor, or `terminate_child`, cancels the wait.
//!
//! The intensity is the supervisor's, not each child's: a supervisor of `n` similar
//! workers that may fail together (a pool on one database) needs `max_restarts` of at
//! least `n` within the `period` to survive one outage of them all, and a `period`
//! longer than the backoff's largest delay, or the restarts spread out by the backoff
//! never add up. When a supervisor gives up and its parent restarts it, it starts from
//! its spec again: a restarted [`DynamicSupervisor`] comes back empty, and whoever
//! started its children must start them again (or make them children of a
//! [`Supervisor`] with a fixed spec).
//!
//! # Handles that survive restarts, and messages in flight
//!
//! Each incarnation of a child is a new actor with a new [`ActorId`], and a ref to an old
//! incarnation stays dead. To keep talking to "the child", take a [`ChildHandle`] from its
//! spec ([`ChildSpec::handle`]) and ask it for the [`current`](ChildHandle::current)
//! incarnation, or give the child a name ([`ChildSpec::name`]) and look it up with
//! [`ActorSystem::whereis`]: the name moves to each new incarnation.
//!
//! Links and monitors belong to an incarnation: a monitor on a child reports that
//! incarnation's exit once, and watching the restarted one takes a new monitor.
//!
//! **Messages queued for a child when it exits are not lost.** The messages it had not
//! handled yet (the one it crashed on excepted) go to its next incarnation, ahead of any
//! message sent to the new one; callers waiting on those calls get their reply from it.
//! If the child is not restarted (a `Temporary` child, a `Transient` one that stopped
//! normally, [`terminate_child`](Supervisor#method.terminate_child), or the supervisor
//! itself exiting), they are dropped then, and their callers get
//! [`CallError::Exited`] with the child's exit reason. Timer messages, stop requests and
//! notices of the old incarnation are not carried over. Each supervisor keeps its own
//! children's messages, even when several run from copies of one spec. A call handed
//! over and then lost again (the new incarnation crashes while handling it) fails with
//! [`CallError::NoReply`].
//!
//! # Examples
//!
//! ```
//! use beam_runtime::prelude::*;
//! use beam_runtime::supervisor::{ChildSpec, SupervisorSpec};
//!
//! #[derive(Clone)]
//! struct Counter(u64);
//!
//! #[actor]
//! impl Counter {
//!     #[call]
//!     fn bump(&mut self) -> u64 {
//!         self.0 += 1;
//!         self.0
//!     }
//!
//!     #[cast]
//!     fn crash(&mut self) {
//!         panic!("lost count");
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let system = ActorSystem::new();
//! let counter = ChildSpec::<Counter>::new("counter", Counter(0));
//! let handle = counter.handle();
//! let sup = SupervisorSpec::new().child(counter).start(&system).await?;
//!
//! let first = handle.current().expect("started");
//! assert_eq!(first.bump().await?, 1);
//! first.crash()?;
//! first.wait_for_exit().await;
//!
//! // The supervisor restarted it from its spec: a new actor, a fresh count.
//! let second = handle.running().await.expect("restarted");
//! assert_ne!(first.id(), second.id());
//! assert_eq!(second.bump().await?, 1);
//! assert_eq!(sup.count_children().await?.active, 1);
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod backoff;
mod children;
mod dynamic;
mod server;

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use std::collections::VecDeque;

use tokio::sync::Notify;
use tokio::time::Instant;

pub use backoff::Backoff;
pub use dynamic::{DynamicSupervisor, DynamicSupervisorSpec};
pub use server::Supervisor;

use crate::actor::spawn::{Owner, SpawnBuilder};
use crate::actor::{Actor, ActorId, ActorRef, Handoff, Process};
use crate::error::{CallError, SpawnError};
use crate::registry::IntoName;
use crate::system::ActorSystem;
use crate::task::TaskActor;
use crate::telemetry::emit;

use crate::exit::ExitReason;

/// What makes a child's spawn arguments for each start; `None` once one-shot arguments
/// were used.
type MakeArgs<B> = Box<dyn Fn() -> Option<<B as Actor>::Args> + Send + Sync>;

/// Takes a message an exiting incarnation left unhandled elsewhere, or gives it back.
pub(crate) type Redirect<B> =
    Arc<dyn Fn(<B as Actor>::Msg) -> Result<(), <B as Actor>::Msg> + Send + Sync>;

/// How long a worker child gets to stop before it is killed, unless its spec says
/// otherwise.
pub const DEFAULT_CHILD_SHUTDOWN: Duration = Duration::from_secs(5);

/// Which children restart when one exits and is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Only the child that exited.
    #[default]
    OneForOne,
    /// Every child: the others are stopped (last started first), then all restart in order.
    OneForAll,
    /// The child that exited and every child started after it.
    RestForOne,
}

impl Strategy {
    /// The strategy as telemetry and tracing report it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::OneForOne => "one_for_one",
            Self::OneForAll => "one_for_all",
            Self::RestForOne => "rest_for_one",
        }
    }
}

/// When a child that exited is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always.
    #[default]
    Permanent,
    /// Only when it failed: not after [`ExitReason::Normal`] or [`ExitReason::Shutdown`].
    Transient,
    /// Never, not even when a sibling's failure takes it down; its spec is removed when it
    /// exits.
    Temporary,
}

/// How a child is stopped by its supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// Killed at once, without its `#[terminate]` hook.
    BrutalKill,
    /// Asked to stop (after its queued messages, with `#[terminate]`), and killed if still
    /// running after this long: a child whose exit ends later ends
    /// [`ExitReason::Killed`], also when its synchronous
    /// `#[terminate]` could not be interrupted.
    Timeout(Duration),
    /// Asked to stop, and waited for without limit: for supervisors, which take as long as
    /// their own children.
    Infinity,
}

/// Whether a child is a worker or a supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChildKind {
    /// Any actor that is not a supervisor.
    Worker,
    /// A [`Supervisor`] or [`DynamicSupervisor`].
    Supervisor,
}

/// A child as [`which_children`](Supervisor#method.which_children) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildInfo {
    /// The child's id in its supervisor.
    pub id: String,
    /// The running incarnation, or `None` if it is not running (terminated and not
    /// deleted).
    pub actor: Option<ActorId>,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Its restart type.
    pub restart: Restart,
    /// Whether it waits for its restart (OTP's `restarting`): it exited, the restart is
    /// decided, and its [`Backoff`] delay (or the retry of a restart that failed) is not
    /// over yet.
    pub restarting: bool,
}

/// The counts of [`count_children`](Supervisor#method.count_children), as OTP's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ChildCounts {
    /// Child specs, running or not.
    pub specs: usize,
    /// Children running.
    pub active: usize,
    /// Specs of supervisors.
    pub supervisors: usize,
    /// Specs of workers.
    pub workers: usize,
}

/// A supervisor spec or child spec that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// Two children have the same id.
    #[error("two children have the id `{0}`")]
    DuplicateId(String),
    /// A child's id is empty.
    #[error("a child's id cannot be empty")]
    EmptyId,
    /// The restart intensity's period is zero.
    #[error("the restart intensity's period must be longer than zero")]
    ZeroPeriod,
    /// A child started from one-shot arguments ([`ChildSpec::once`]) is not
    /// [`Restart::Temporary`]: it could not be restarted.
    #[error("child `{0}` starts from one-shot arguments, so it must be temporary")]
    OneShotRestart(String),
    /// A [`Pool`](crate::pool::Pool) of zero workers.
    #[error("a pool needs at least one worker")]
    EmptyPool,
}

/// Why a supervisor did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    /// The spec is invalid.
    #[error("invalid supervisor spec: {0}")]
    InvalidSpec(#[from] SpecError),
    /// A child failed to start; the children started before it were stopped.
    #[error("child `{id}` failed to start: {error}")]
    ChildStart {
        /// The child's id.
        id: String,
        /// Why it failed.
        error: SpawnError,
    },
    /// The supervisor itself could not be spawned (its name is taken, the system is
    /// shutting down, ...).
    #[error(transparent)]
    Spawn(SpawnError),
}

/// Why managing a supervisor's child failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChildError {
    /// The supervisor has no child with this id.
    #[error("no child `{0}`")]
    NotFound(String),
    /// The child is running, and the operation needs it stopped.
    #[error("child `{0}` is running")]
    Running(String),
    /// A child with this id exists already.
    #[error("a child `{0}` exists already")]
    AlreadyPresent(String),
    /// A dynamic supervisor has as many children as it takes.
    #[error("the supervisor has its maximum of {0} children")]
    MaxChildren(usize),
    /// The new child's spec is invalid.
    #[error("invalid child spec: {0}")]
    InvalidSpec(#[from] SpecError),
    /// The child failed to start.
    #[error("child `{id}` failed to start: {error}")]
    Start {
        /// The child's id.
        id: String,
        /// Why it failed.
        error: SpawnError,
    },
    /// The call to the supervisor failed (it is not alive, ...).
    #[error(transparent)]
    Call(#[from] CallError),
}

/// The configuration of a supervisor: its strategy, its restart intensity and its
/// children, in start order. Cheap to clone (children specs are shared).
///
/// # Examples
///
/// ```
/// use beam_runtime::supervisor::{SpecError, Strategy, SupervisorError, SupervisorSpec};
/// use beam_runtime::ActorSystem;
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let system = ActorSystem::new();
/// let spec = SupervisorSpec::new()
///     .strategy(Strategy::OneForAll)
///     .intensity(3, Duration::ZERO);
/// assert_eq!(
///     spec.start(&system).await.unwrap_err(),
///     SupervisorError::InvalidSpec(SpecError::ZeroPeriod)
/// );
/// # }
/// ```
#[derive(Clone)]
pub struct SupervisorSpec {
    strategy: Strategy,
    max_restarts: u32,
    period: Duration,
    backoff: Backoff,
    children: Vec<ChildEntry>,
    /// Where `start` learns the typed reason of a failed start.
    report: Option<Report>,
    /// Why the spec cannot work, found before it was made (a pool of no workers).
    refused: Option<SpecError>,
}

/// The answer of a supervisor's call that may fail without the supervisor failing (a
/// reply spelled `Result` would stop it).
type Answer<T> = std::result::Result<T, ChildError>;

/// Where a supervisor's `init` leaves the typed reason it failed with.
type Report = Arc<Mutex<Option<SupervisorError>>>;

/// Spawns a top-level supervisor of type `S`; a failed start gives the typed error its
/// `init` reported.
async fn start_top<S: Actor>(
    system: &ActorSystem,
    args: S::Args,
    report: Report,
) -> Result<ActorRef<S>, SupervisorError> {
    match system.spawn::<S>(args).await {
        Ok(sup) => Ok(sup),
        Err(error) => {
            let typed = report.lock().unwrap_or_else(PoisonError::into_inner).take();
            Err(typed.unwrap_or(SupervisorError::Spawn(error)))
        }
    }
}

/// Leaves `out`'s error where `start_top` finds it, and returns `out`.
fn reported<T>(
    out: Result<T, SupervisorError>,
    report: Option<&Report>,
) -> Result<T, SupervisorError> {
    if let (Err(error), Some(report)) = (&out, report) {
        *report.lock().unwrap_or_else(PoisonError::into_inner) = Some(error.clone());
    }
    out
}

impl Default for SupervisorSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl SupervisorSpec {
    /// A spec with no children, [`Strategy::OneForOne`], and OTP's default intensity: at
    /// most 1 restart in 5 seconds.
    #[must_use]
    pub fn new() -> Self {
        Self {
            strategy: Strategy::OneForOne,
            max_restarts: 1,
            period: Duration::from_secs(5),
            backoff: Backoff::none(),
            children: Vec::new(),
            report: None,
            refused: None,
        }
    }

    /// Makes the spec invalid: its start fails with `error`.
    pub(crate) fn refuse(mut self, error: SpecError) -> Self {
        self.refused = Some(error);
        self
    }

    /// Sets the restart strategy.
    #[must_use]
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Allows at most `max_restarts` restarts within any `period`; one more and the
    /// supervisor gives up (stops its children and exits with `Shutdown`). As in OTP, the
    /// period includes its ends: with `intensity(1, 5 s)`, restarts at 0 s and at exactly
    /// 5 s are two within the period. `0` restarts
    /// means the first exit that calls for a restart ends the supervisor. A zero `period`
    /// is refused when the supervisor starts.
    #[must_use]
    pub fn intensity(mut self, max_restarts: u32, period: Duration) -> Self {
        self.max_restarts = max_restarts;
        self.period = period;
        self
    }

    /// Waits `backoff` before each restart of a child whose own spec sets none
    /// ([`ChildSpec::backoff`]); no wait by default, as in OTP.
    ///
    /// While a child waits, it is not running: [`which_children`](Supervisor#method.which_children)
    /// shows it with no actor and `restarting` set, its handle's
    /// [`current`](ChildHandle::current) is `None` and [`running`](ChildHandle::running)
    /// waits, and the messages it had not handled wait for the next incarnation (a caller
    /// whose call times out meanwhile gets [`CallError::Timeout`]). The restart counted in
    /// the intensity when the child exited; stopping the supervisor, or
    /// [`terminate_child`](Supervisor#method.terminate_child), cancels the wait. A restart
    /// that fails waits again, one step longer.
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Adds a child, started after those added before it.
    #[must_use]
    pub fn child<B: Actor>(mut self, child: ChildSpec<B>) -> Self {
        self.children.push(child.into_entry());
        self
    }

    /// Starts a top-level supervisor in `system`, and its children in order.
    ///
    /// To start one under an actor, spawn it like any actor
    /// (`ctx.spawn_link::<Supervisor>(spec)`), or make it a child of another supervisor.
    pub async fn start(
        mut self,
        system: &ActorSystem,
    ) -> Result<ActorRef<Supervisor>, SupervisorError> {
        let report = Report::default();
        self.report = Some(report.clone());
        start_top::<Supervisor>(system, self, report).await
    }

    fn validate(&self) -> Result<(), SpecError> {
        if let Some(error) = &self.refused {
            return Err(error.clone());
        }
        if self.period.is_zero() {
            return Err(SpecError::ZeroPeriod);
        }
        let mut ids = std::collections::HashSet::new();
        for child in &self.children {
            child.validate()?;
            if !ids.insert(&*child.id) {
                return Err(SpecError::DuplicateId(child.id.to_string()));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for SupervisorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorSpec")
            .field("strategy", &self.strategy)
            .field("max_restarts", &self.max_restarts)
            .field("period", &self.period)
            .field("backoff", &self.backoff)
            .field("children", &self.children)
            .finish_non_exhaustive()
    }
}

/// How to start (and restart) one child of type `B`, and how it is treated.
///
/// The spec makes the child's spawn arguments anew for every start: from a value it
/// clones ([`new`](Self::new)) or from a function ([`from_fn`](Self::from_fn)). A child
/// that is never restarted can instead take its arguments by value, once
/// ([`once`](Self::once)), and a supervised task is made from a function returning its
/// future ([`task`](Self::task)).
///
/// # Examples
///
/// ```
/// use beam_runtime::prelude::*;
/// use beam_runtime::supervisor::{ChildSpec, Restart, Shutdown};
/// use std::time::Duration;
///
/// struct Worker {
///     queue: String,
/// }
///
/// #[actor]
/// impl Worker {
///     #[init]
///     fn init(queue: String) -> Self {
///         Worker { queue }
///     }
/// }
///
/// beam_runtime::names! {
///     /// The mail worker, whichever incarnation is running.
///     MAILER: Worker = "mailer";
/// }
///
/// let spec = ChildSpec::<Worker>::from_fn("mailer", || "outbox".to_string())
///     .restart(Restart::Transient)
///     .shutdown(Shutdown::Timeout(Duration::from_secs(1)))
///     .name(MAILER);
/// # let _ = spec;
/// ```
pub struct ChildSpec<B: Actor> {
    id: Cow<'static, str>,
    restart: Restart,
    shutdown: Shutdown,
    backoff: Option<Backoff>,
    starter: Starter<B>,
    /// Started from one-shot arguments: only a temporary child can be.
    once: bool,
}

impl<B: Actor> ChildSpec<B> {
    /// A child that starts from a clone of `args` each time.
    pub fn new(id: impl Into<Cow<'static, str>>, args: B::Args) -> Self
    where
        B::Args: Clone + Sync,
    {
        Self::from_fn(id, move || args.clone())
    }

    /// A child that starts from what `make` returns each time.
    pub fn from_fn(
        id: impl Into<Cow<'static, str>>,
        make: impl Fn() -> B::Args + Send + Sync + 'static,
    ) -> Self {
        Self::with_starter(id, Box::new(move || Some(make())), false)
    }

    /// A temporary child that starts once, from `args` taken by value: they need be
    /// neither `Clone` nor `Sync` (a connection's socket, a one-shot channel), since a
    /// temporary child is never restarted.
    ///
    /// Setting another [`Restart`] type makes the spec invalid
    /// ([`SpecError::OneShotRestart`], when a supervisor is given it). A copy of the spec
    /// started again (in a supervisor spec started twice) fails to start with
    /// [`SpawnError::ArgsUsed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use beam_runtime::prelude::*;
    /// use beam_runtime::supervisor::DynamicSupervisorSpec;
    /// use std::cell::Cell;
    ///
    /// /// Owned, but neither `Clone` nor `Sync`.
    /// struct Conn {
    ///     seen: Cell<u32>,
    /// }
    ///
    /// struct Session {
    ///     conn: Conn,
    /// }
    ///
    /// #[actor]
    /// impl Session {
    ///     #[init]
    ///     fn init(conn: Conn) -> Self {
    ///         Session { conn }
    ///     }
    ///
    ///     #[call]
    ///     fn touch(&mut self) -> u32 {
    ///         self.conn.seen.set(self.conn.seen.get() + 1);
    ///         self.conn.seen.get()
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// let system = ActorSystem::new();
    /// let sessions = DynamicSupervisorSpec::new().start(&system).await?;
    /// let conn = Conn { seen: Cell::new(0) };
    /// let spec = ChildSpec::<Session>::once("session", conn);
    /// let session = sessions.start_child_spec(spec).await?;
    /// assert_eq!(session.touch().await?, 1);
    /// # system.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn once(id: impl Into<Cow<'static, str>>, args: B::Args) -> Self {
        // `Mutex<T>` is `Sync` for any `T: Send`: the arguments need not be.
        let args = Mutex::new(Some(args));
        let take = move || args.lock().unwrap_or_else(PoisonError::into_inner).take();
        Self::with_starter(id, Box::new(take), true).restart(Restart::Temporary)
    }

    fn with_starter(id: impl Into<Cow<'static, str>>, make: MakeArgs<B>, once: bool) -> Self {
        let kind = kind_of::<B>();
        Self {
            id: id.into(),
            restart: Restart::Permanent,
            shutdown: match kind {
                ChildKind::Worker => Shutdown::Timeout(DEFAULT_CHILD_SHUTDOWN),
                ChildKind::Supervisor => Shutdown::Infinity,
            },
            backoff: None,
            starter: Starter {
                make,
                name: None,
                capacity: B::MAILBOX,
                kind,
                current: Arc::new(Incarnation::default()),
                redirect: None,
            },
            once,
        }
    }

    /// Sets when the child is restarted ([`Restart::Permanent`] unless set).
    #[must_use]
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets how the child is stopped: by default 5 s before it is killed for a worker,
    /// [`Shutdown::Infinity`] for a supervisor.
    #[must_use]
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Waits `backoff` before each restart of this child, instead of its supervisor's
    /// ([`SupervisorSpec::backoff`], which says what the wait means). A
    /// [`DynamicSupervisor`] restarts its children without waiting.
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// Registers every incarnation of the child under `name`, so
    /// [`ActorSystem::whereis`] finds the one running.
    #[must_use]
    pub fn name(mut self, name: impl IntoName<Actor = B>) -> Self {
        self.starter.name = Some(name.into_key());
        self
    }

    /// Gives the child a bounded mailbox (see
    /// [`SpawnBuilder::bounded`](crate::SpawnBuilder::bounded)).
    #[must_use]
    pub fn bounded(mut self, capacity: usize) -> Self {
        self.starter.capacity = Some(capacity);
        self
    }

    /// A handle to whichever incarnation of this child is running.
    #[must_use]
    pub fn handle(&self) -> ChildHandle<B> {
        ChildHandle {
            current: Arc::clone(&self.starter.current),
        }
    }

    /// Offers each message an incarnation leaves unhandled to `redirect` first; those it
    /// gives back wait for the next incarnation as usual.
    pub(crate) fn redirect(mut self, redirect: Redirect<B>) -> Self {
        self.starter.redirect = Some(redirect);
        self
    }

    fn into_entry(self) -> ChildEntry {
        ChildEntry {
            id: self.id,
            restart: self.restart,
            shutdown: self.shutdown,
            once: self.once,
            backoff: self.backoff,
            start: Arc::new(self.starter),
        }
    }
}

impl ChildSpec<TaskActor> {
    /// A supervised task: each incarnation runs the future `make` returns, as a task
    /// (see [`task`](crate::task)). Permanent unless set otherwise, so a loop that must
    /// keep running (an acceptor, a poller) is started again when it panics, and when it
    /// returns; a [`Restart::Transient`] one only when it panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use beam_runtime::prelude::*;
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use tokio::sync::mpsc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// let system = ActorSystem::new();
    /// let (started, mut runs) = mpsc::unbounded_channel();
    /// let count = Arc::new(AtomicU32::new(0));
    /// let spec = ChildSpec::task("poller", move || {
    ///     let (count, started) = (count.clone(), started.clone());
    ///     async move {
    ///         let run = count.fetch_add(1, Ordering::SeqCst);
    ///         let _ = started.send(run);
    ///         if run == 0 {
    ///             panic!("the first run fails");
    ///         }
    ///         std::future::pending::<()>().await;
    ///     }
    /// });
    /// let poller = spec.handle();
    /// SupervisorSpec::new().child(spec).start(&system).await?;
    ///
    /// // The first run panicked; the supervisor started a second one.
    /// assert_eq!(runs.recv().await, Some(0));
    /// assert_eq!(runs.recv().await, Some(1));
    /// assert!(poller.running().await.is_some());
    /// # system.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn task<F, Fut>(id: impl Into<Cow<'static, str>>, make: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::from_fn(id, move || crate::task::work(make(), |_| {}))
    }
}

impl<B: Actor> fmt::Debug for ChildSpec<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("actor", &crate::actor::actor_ref::short_type_name::<B>())
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("name", &self.starter.name)
            .finish_non_exhaustive()
    }
}

/// Follows the incarnations of a supervised child: see [`ChildSpec::handle`].
///
/// A handle follows the child of whichever supervisor started it last from this spec
/// (or a clone of the supervisor spec that holds it).
pub struct ChildHandle<B: Actor> {
    current: Arc<Incarnation<B>>,
}

/// The running incarnation of a child, as its spec's starter publishes it to the spec's
/// handles: a lock and one `Notify`, cheaper to publish to than a `watch` channel (whose
/// sender wakes eight lists of waiters), which every restart does twice.
struct Incarnation<B: Actor> {
    /// The incarnation running, and whether the starter is gone (no restart can come).
    state: parking_lot::Mutex<(Option<ActorRef<B>>, bool)>,
    changed: Notify,
}

impl<B: Actor> Default for Incarnation<B> {
    fn default() -> Self {
        Self {
            state: parking_lot::Mutex::new((None, false)),
            changed: Notify::new(),
        }
    }
}

impl<B: Actor> Incarnation<B> {
    fn publish(&self, child: Option<ActorRef<B>>) {
        // The ref replaced is dropped outside the lock.
        let _old = std::mem::replace(&mut self.state.lock().0, child);
        self.changed.notify_waiters();
    }

    fn close(&self) {
        self.state.lock().1 = true;
        self.changed.notify_waiters();
    }
}

impl<B: Actor> ChildHandle<B> {
    /// The incarnation running now, or `None` between an exit and its restart, or when the
    /// child is not running.
    #[must_use]
    pub fn current(&self) -> Option<ActorRef<B>> {
        self.current.state.lock().0.clone()
    }

    /// Waits until an incarnation is running and returns it (at once if one is).
    /// `None` once no supervisor can start the child any more (every copy of its spec is
    /// gone).
    pub async fn running(&self) -> Option<ActorRef<B>> {
        loop {
            // Registered before looking, so a change made meanwhile is not missed.
            let mut changed = std::pin::pin!(self.current.changed.notified());
            changed.as_mut().enable();
            {
                let state = self.current.state.lock();
                match &state.0 {
                    Some(child) if child.is_alive() => return Some(child.clone()),
                    _ if state.1 => return None,
                    _ => {}
                }
            }
            changed.await;
        }
    }
}

impl<B: Actor> Clone for ChildHandle<B> {
    fn clone(&self) -> Self {
        Self {
            current: Arc::clone(&self.current),
        }
    }
}

impl<B: Actor> fmt::Debug for ChildHandle<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildHandle")
            .field("current", &self.current())
            .finish()
    }
}

fn kind_of<B: Actor>() -> ChildKind {
    let id = TypeId::of::<B>();
    if id == TypeId::of::<Supervisor>() || id == TypeId::of::<DynamicSupervisor>() {
        ChildKind::Supervisor
    } else {
        ChildKind::Worker
    }
}

/// Whether the exit of a child with restart type `restart` is reported as a crash: as in
/// OTP, an abnormal exit, or any exit that gets it restarted (a permanent child is not
/// meant to exit; a supervisor child that gave up exits with `Shutdown`).
fn crashed(restart: Restart, reason: &ExitReason) -> bool {
    !reason.is_normal() || restarts(restart, reason)
}

/// The exit reason of an incarnation that failed to start with `error`.
fn start_failure(error: &SpawnError) -> ExitReason {
    match error {
        SpawnError::Init(message) => ExitReason::Error(message.clone()),
        SpawnError::InitPanic(message) => ExitReason::Panic(message.clone()),
        other => ExitReason::Error(other.to_string()),
    }
}

/// Reports a restart of child `id` that failed with `error` as a crash of the
/// incarnation that did not start.
fn report_failed_restart(
    supervisor: ActorId,
    id: &str,
    attempted: Option<ActorId>,
    error: &ChildError,
    strategy: &'static str,
) {
    if let (Some(actor), ChildError::Start { error, .. }) = (attempted, error) {
        emit::child_crashed(supervisor, id, actor, &start_failure(error), strategy);
    }
}

/// Whether a child with restart type `restart` that exited with `reason` is restarted.
fn restarts(restart: Restart, reason: &ExitReason) -> bool {
    match restart {
        Restart::Permanent => true,
        Restart::Transient => !reason.is_normal(),
        Restart::Temporary => false,
    }
}

/// A restart intensity and the restarts that count against it.
#[derive(Debug)]
struct Intensity {
    max_restarts: u32,
    period: Duration,
    /// When the restarts within the current period happened.
    restarts: VecDeque<Instant>,
}

impl Intensity {
    fn new(max_restarts: u32, period: Duration) -> Self {
        Self {
            max_restarts,
            period,
            restarts: VecDeque::new(),
        }
    }

    /// Records a restart now; `false` if that makes more than `max_restarts` within
    /// `period`, which supervisor `supervisor` then reports. As in OTP, a restart counts
    /// while it is at most `period` old: one exactly `period` ago still does.
    fn note_restart(&mut self, supervisor: ActorId) -> bool {
        let now = Instant::now();
        while self
            .restarts
            .front()
            .is_some_and(|&at| now.duration_since(at) > self.period)
        {
            self.restarts.pop_front();
        }
        self.restarts.push_back(now);
        let within = self.restarts.len() <= self.max_restarts as usize;
        if !within {
            emit::max_restarts(
                supervisor,
                self.restarts.len(),
                self.max_restarts,
                self.period,
            );
        }
        within
    }
}

/// A child that was started, for the refs' typed `start_child`.
#[doc(hidden)]
pub struct Started(Arc<dyn Process>);

impl Started {
    /// The typed ref of a child started from a spec of `B`.
    fn typed<B: Actor>(self) -> ActorRef<B> {
        let shared = self
            .0
            .into_any()
            .downcast::<crate::actor::Shared<B>>()
            .unwrap_or_else(|_| unreachable!("the spec started a `B`"));
        ActorRef::from_shared(shared)
    }
}

impl fmt::Debug for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Started({})", self.0.id())
    }
}

/// A child spec without its type, as a supervisor keeps it.
#[derive(Clone)]
pub(crate) struct ChildEntry {
    id: Cow<'static, str>,
    restart: Restart,
    shutdown: Shutdown,
    /// Started from one-shot arguments.
    once: bool,
    /// Its own backoff, or `None` for its supervisor's.
    backoff: Option<Backoff>,
    start: Arc<dyn Start>,
}

impl ChildEntry {
    fn validate(&self) -> Result<(), SpecError> {
        if self.id.is_empty() {
            return Err(SpecError::EmptyId);
        }
        if self.once && self.restart != Restart::Temporary {
            return Err(SpecError::OneShotRestart(self.id.to_string()));
        }
        Ok(())
    }
}

impl fmt::Debug for ChildEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildEntry")
            .field("id", &self.id)
            .field("kind", &self.start.kind())
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

type Starting<'a> = Pin<Box<dyn Future<Output = Result<Arc<dyn Process>, SpawnError>> + Send + 'a>>;

/// Where a supervisor keeps the messages one child's incarnations hand over (a
/// `Handoff<B>` for a child of type `B`).
pub(crate) type AnyHandoff = Arc<dyn Any + Send + Sync>;

/// Starts incarnations of one child, whatever its type.
pub(crate) trait Start: Send + Sync + 'static {
    fn kind(&self) -> ChildKind;
    /// A new place for the messages this child's incarnations hand over, one per
    /// supervisor running the spec.
    fn handoff(&self) -> AnyHandoff;
    /// Spawns an incarnation linked to `parent`, giving it the messages the last one left
    /// in `handoff`.
    fn start<'a>(
        &'a self,
        system: &'a ActorSystem,
        parent: Arc<dyn Process>,
        handoff: &AnyHandoff,
    ) -> Starting<'a>;
    /// The incarnation that was running is gone; the handle shows none.
    fn exited(&self);
    /// The last incarnation spawned with `handoff`, started or not.
    fn spawned(&self, handoff: &AnyHandoff) -> Option<ActorId>;
    /// The child will not run again for now: the messages its last incarnation `last`
    /// left in `handoff` are dropped, as its teardown (their callers get its exit reason).
    fn discard(&self, last: ActorId, handoff: &AnyHandoff);
}

/// The typed part of a child spec.
struct Starter<B: Actor> {
    make: MakeArgs<B>,
    name: Option<Cow<'static, str>>,
    capacity: Option<usize>,
    kind: ChildKind,
    /// The running incarnation, for the spec's handles.
    current: Arc<Incarnation<B>>,
    /// Where the messages an incarnation leaves go first, if anywhere.
    redirect: Option<Redirect<B>>,
}

impl<B: Actor> Drop for Starter<B> {
    fn drop(&mut self) {
        // Every copy of the spec is gone: handles waiting for a restart stop waiting.
        self.current.close();
    }
}

impl<B: Actor> Starter<B> {
    fn typed(handoff: &AnyHandoff) -> Arc<Handoff<B>> {
        handoff
            .clone()
            .downcast::<Handoff<B>>()
            .unwrap_or_else(|_| unreachable!("made by this starter"))
    }
}

impl<B: Actor> Start for Starter<B> {
    fn kind(&self) -> ChildKind {
        self.kind
    }

    fn handoff(&self) -> AnyHandoff {
        Arc::new(Handoff::<B>::new(self.redirect.clone()))
    }

    fn start<'a>(
        &'a self,
        system: &'a ActorSystem,
        parent: Arc<dyn Process>,
        handoff: &AnyHandoff,
    ) -> Starting<'a> {
        let Some(args) = (self.make)() else {
            return Box::pin(std::future::ready(Err(SpawnError::ArgsUsed)));
        };
        let builder = SpawnBuilder::<B>::new(system, Owner::Supervisor, args)
            .linked_to(parent)
            .handoff(Self::typed(handoff))
            .name_key(self.name.clone())
            .capacity(self.capacity);
        Box::pin(async move {
            let child = builder.await?;
            let process: Arc<dyn Process> = child.shared().clone();
            self.current.publish(Some(child));
            Ok(process)
        })
    }

    fn exited(&self) {
        self.current.publish(None);
    }

    fn spawned(&self, handoff: &AnyHandoff) -> Option<ActorId> {
        Self::typed(handoff).spawned()
    }

    fn discard(&self, last: ActorId, handoff: &AnyHandoff) {
        let left = Self::typed(handoff).take();
        let _ = crate::actor::run::drop_remains(last, left);
    }
}
