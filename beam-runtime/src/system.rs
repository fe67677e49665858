//! [`ActorSystem`], where actors live: spawning, names, stopping and shutdown.
//!
//! # Examples
//!
//! ```
//! use beam_runtime::prelude::*;
//!
//! struct Echo;
//!
//! #[actor]
//! impl Echo {
//!     #[call]
//!     fn echo(&self, text: String) -> String {
//!         text
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let system = ActorSystem::new();
//! let echo = system.spawn::<Echo>(Echo).await?;
//! assert_eq!(echo.echo("hi".into()).await?, "hi");
//! assert_eq!(system.stop(&echo).await, ExitReason::Normal);
//! assert_eq!(echo.echo("hi".into()).await, Err(CallError::NoProc));
//! system.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use slab::Slab;

use crate::actor::ctx::{Child, stop_in_time, stop_process};
use crate::actor::run::current_actor;
use crate::actor::spawn::{Owner, SpawnBuilder};
use crate::actor::{Actor, ActorId, ActorRef, Process};
use crate::call::deadline_after;
use crate::deadline::{Deadlines, Timer};
use crate::error::{ShutdownError, SpawnError, StopError};
use crate::exit::ExitReason;
use crate::registry::Table;
use crate::sched::{self, Sched};
use crate::signal::{Monitor, OUTSIDE, Signal};
use crate::task::{Task, TaskActor};

/// How long [`ActorSystem::shutdown`] gives all actors to stop before killing the rest.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// A group of actors with a shared name registry, stopped together by
/// [`shutdown`](Self::shutdown). Cheap to clone: clones share the same system.
///
/// It needs a tokio runtime with the time driver (`#[tokio::main]` and `#[tokio::test]`
/// have it; a hand-built runtime needs `enable_time()`). Its actors are not tokio tasks of
/// their own: on each runtime where it spawns actors, the system runs them from one run
/// queue on a few tokio tasks, one per worker thread, and an actor stays on the runtime it
/// was spawned on; when that runtime shuts down, its actors are dropped with it, as its
/// tasks would be. A call to an idle actor runs the actor on the caller's thread, within
/// the caller's poll. The deadlines of calls to the system's actors are timed by one task
/// on the runtime of its first spawn; if that runtime shuts down while the system lives
/// on in another, calls time themselves until the next spawn starts the task again there.
#[derive(Clone)]
pub struct ActorSystem {
    inner: Arc<Inner>,
}

/// No user code runs under the system's locks (`parking_lot`'s), so they need no
/// poisoning.
struct Inner {
    registry: Mutex<Table>,
    actors: Actors,
    deadlines: Arc<Deadlines>,
    /// The schedulers of its actors, one per runtime they run on.
    scheds: Mutex<Vec<Arc<Sched>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Lets the timer task and the drivers end.
        self.deadlines.close();
        for sched in self.scheds.get_mut().drain(..) {
            sched.close();
        }
    }
}

impl sched::Actors for Inner {
    fn abort_all(&self, sched: &Sched) {
        self.scheds.lock().retain(|s| !std::ptr::eq(&**s, sched));
        for actor in self.actors.all() {
            actor.abort_task(sched.key());
        }
    }
}

/// How many locks the table of live actors is split over, so that actors spawning and
/// exiting on different threads rarely wait for each other.
const SHARDS: usize = 8;

/// Every live actor of a system, for shutdown (the top-level ones) and introspection.
#[derive(Default)]
struct Actors {
    shutting_down: AtomicBool,
    shards: [Mutex<Shard>; SHARDS],
}

#[derive(Default)]
struct Shard {
    /// Set by shutdown: no more top-level actors.
    closed: bool,
    /// Two words per actor; its parent is kept with the actor.
    actors: Slab<Child>,
}

impl Actors {
    /// Every live actor now, in no particular order.
    fn all(&self) -> Vec<Child> {
        let mut all = Vec::new();
        for shard in &self.shards {
            all.extend(shard.lock().actors.iter().map(|(_, actor)| actor.clone()));
        }
        all
    }
}

/// Whether `actor` is top-level: the system's shutdown stops it (a child is stopped by its
/// parent).
fn is_root(actor: &Child) -> bool {
    actor.parent().is_none()
}

/// Where an actor is tracked in its system, until it exits: its shard and slab key, plus
/// one, so that `Option<Slot>` takes one word in every actor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot(NonZeroUsize);

impl Default for ActorSystem {
    fn default() -> Self {
        Self::new()
    }
}

impl ActorSystem {
    /// A new, empty, local system.
    #[must_use]
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                registry: Mutex::new(Table::default()),
                actors: Actors::default(),
                deadlines: Arc::default(),
                scheds: Mutex::default(),
            }),
        }
    }

    /// Starts building an actor of type `A` from its spawn arguments (the `#[init]`
    /// parameters, or the actor itself without `#[init]`). Await the builder to spawn.
    pub fn spawn<A: Actor>(&self, args: A::Args) -> SpawnBuilder<'_, A> {
        SpawnBuilder::new(self, Owner::System, args)
    }

    /// Runs `fut` as a top-level task (see [`crate::task`]) and returns its [`Task`] to
    /// await: `Ok(value)`, or a [`TaskError`](crate::task::TaskError) if it panicked or was
    /// stopped first (at shutdown, or by [`Task::abort`]).
    pub fn spawn_task<F>(&self, fut: F) -> Result<Task<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (work, result) = Task::prepare(fut);
        let actor = SpawnBuilder::<TaskActor>::new(self, Owner::System, work).start_now()?;
        Ok(Task::new(result, actor))
    }

    /// Monitors `actor` from outside any actor; the same as
    /// [`ActorRef::monitor`] (see [`Monitor`]).
    pub fn monitor<A: Actor>(&self, actor: &ActorRef<A>) -> Monitor {
        actor.monitor()
    }

    /// Sends `actor` an exit signal with `reason`, OTP's `exit(Pid, Reason)`:
    ///
    /// - [`ExitReason::Killed`] kills it even if it traps exits (like
    ///   [`ActorRef::kill`]);
    /// - if it traps exits ([`Ctx::trap_exit`](crate::Ctx::trap_exit)), any other reason
    ///   arrives as [`Info::Exit`](crate::Info::Exit);
    /// - otherwise [`ExitReason::Normal`] is ignored (unless an actor sends it to itself),
    ///   and any other reason kills it with that reason at its next await point, without
    ///   its `#[terminate]` hook.
    ///
    /// The signal names the calling actor as its sender, or `<0.0>` when sent from
    /// outside any actor. Does nothing to an actor that has already exited; use
    /// [`ActorRef::wait_for_exit`] to wait for the outcome.
    pub fn exit<A: Actor>(&self, actor: &ActorRef<A>, reason: ExitReason) {
        let signal = match reason {
            ExitReason::Killed => Signal::Kill,
            reason => Signal::Exit {
                from: current_actor().unwrap_or(OUTSIDE),
                reason,
                link: false,
            },
        };
        actor.shared().signal(signal);
    }

    /// Stops `actor` with [`ExitReason::Normal`] after the messages already in its mailbox,
    /// and returns a future that waits until it has exited (its children stopped and its
    /// `#[terminate]` run), with the final exit reason ([`ExitReason::NoProc`] if it was
    /// not alive).
    ///
    /// The stop is queued at once, not when the future is first polled, so many actors can
    /// be stopped together and then waited for. An idle actor stops right away, in place
    /// (its `#[terminate]` runs on the caller's thread, as a call runs an idle callee's
    /// handler), so its exit is often known before this returns:
    ///
    /// ```
    /// # use beam_runtime::prelude::*;
    /// # struct Idle;
    /// # #[actor]
    /// # impl Idle {}
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// let system = ActorSystem::new();
    /// let mut actors = Vec::new();
    /// for _ in 0..3 {
    ///     actors.push(system.spawn::<Idle>(Idle).await?);
    /// }
    /// let exits: Vec<_> = actors.iter().map(|a| system.stop(a)).collect();
    /// for exit in exits {
    ///     assert_eq!(exit.await, ExitReason::Normal);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// An actor stopping itself should use [`Ctx::stop`](crate::Ctx::stop); called from
    /// inside the actor itself, this queues the stop and the future returns
    /// [`ExitReason::Normal`] at once instead of waiting for its own exit.
    pub fn stop<A: Actor>(
        &self,
        actor: &ActorRef<A>,
    ) -> impl Future<Output = ExitReason> + Send + use<A> {
        let shared = actor.shared().clone();
        // An idle actor stops at once, in place.
        let queued = shared.request_stop(ExitReason::Normal, None);
        let own = current_actor() == Some(shared.id);
        async move {
            if !queued {
                return ExitReason::NoProc;
            }
            if own {
                return ExitReason::Normal;
            }
            shared.exit.wait().await
        }
    }

    /// Stops `actor` with `reason` after the messages already in its mailbox, as
    /// [`stop`](Self::stop) does, and waits for it to exit, at most `timeout`; an actor
    /// still running then (busy in a long handler, or in its `#[terminate]`) is killed, as
    /// a supervisor kills a child that overruns its shutdown. OTP's
    /// `gen_server:stop(Pid, Reason, Timeout)`, with typed outcomes instead of exits:
    ///
    /// - `Ok(reason)`: it exited in time, with this reason (`reason`, unless its
    ///   `#[terminate]` panicked, or an exit signal or a crash ended it first);
    /// - `Err(StopError::NoProc)`: it was not alive;
    /// - `Err(StopError::Timeout(timeout))`: it was killed after the timeout; the future
    ///   resolves once the kill has taken effect (or after a short grace, for a handler
    ///   that never reaches an await point and so cannot be interrupted).
    ///
    /// Like [`stop`](Self::stop), the stop is queued at once, not on the first poll, and a
    /// stop asked for by the actor itself is only queued: the future gives `Ok(reason)` at
    /// once instead of waiting for its own exit. The reason reaches links and monitors as
    /// any exit reason does: [`ExitReason::Normal`] leaves linked actors alone, any other
    /// kills those that do not trap exits.
    ///
    /// # Examples
    ///
    /// ```
    /// use beam_runtime::prelude::*;
    /// use std::time::Duration;
    ///
    /// struct Slow;
    ///
    /// #[actor]
    /// impl Slow {
    ///     #[cast]
    ///     async fn nap(&mut self, secs: u64) {
    ///         tokio::time::sleep(Duration::from_secs(secs)).await;
    ///     }
    /// }
    ///
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() -> Result<(), beam_runtime::Error> {
    ///     let system = ActorSystem::new();
    ///     let quick = system.spawn::<Slow>(Slow).await?;
    ///     let done = system.stop_with(&quick, ExitReason::Shutdown, Duration::from_secs(1));
    ///     assert_eq!(done.await, Ok(ExitReason::Shutdown));
    ///
    ///     let stuck = system.spawn::<Slow>(Slow).await?;
    ///     stuck.nap(3600)?;
    ///     let done = stuck.stop_with(ExitReason::Shutdown, Duration::from_millis(10));
    ///     assert_eq!(done.await, Err(StopError::Timeout(Duration::from_millis(10))));
    ///     assert_eq!(stuck.exit_reason(), Some(ExitReason::Killed));
    ///     Ok(())
    /// }
    /// ```
    pub fn stop_with<A: Actor>(
        &self,
        actor: &ActorRef<A>,
        reason: ExitReason,
        timeout: Duration,
    ) -> impl Future<Output = Result<ExitReason, StopError>> + Send + use<A> {
        let shared = actor.shared().clone();
        let system = self.clone();
        let own = current_actor() == Some(shared.id);
        // Under a deadline, a `#[terminate]` hook does not run within this call (see
        // `Process::request_stop`); an exit that ends past the deadline ends `Killed`.
        let by = (!own).then(|| deadline_after(timeout));
        let queued = shared.request_stop(reason.clone(), by);
        async move {
            if !queued {
                return Err(StopError::NoProc);
            }
            // Its own stop: only queued, as `Ctx::stop` does.
            let Some(by) = by else {
                return Ok(reason);
            };
            let mut deadline = Timer::at(system.deadlines(), by);
            if stop_in_time(&*shared, &mut deadline).await {
                Ok(shared.exit.wait().await)
            } else {
                Err(StopError::Timeout(timeout))
            }
        }
    }

    /// Stops every actor, last started first, each after the messages already in its
    /// mailbox and with its `#[terminate]` hook; actors still running after
    /// [`DEFAULT_SHUTDOWN_TIMEOUT`] are killed. Spawning afterwards fails with
    /// [`SpawnError::ShuttingDown`]. Call it from outside the actors: an actor that shuts
    /// the system down waits for its own stop until the timeout kills it.
    pub async fn shutdown(&self) {
        let _ = self.shutdown_with(DEFAULT_SHUTDOWN_TIMEOUT).await;
    }

    /// Like [`shutdown`](Self::shutdown) with a timeout of your choice; the error counts
    /// the actors that had to be killed (an actor whose exit ends past the timeout ends
    /// [`ExitReason::Killed`] and counts too, even if its synchronous `#[terminate]` could
    /// not be interrupted).
    pub async fn shutdown_with(&self, timeout: Duration) -> Result<(), ShutdownError> {
        let started = tokio::time::Instant::now();
        let mut deadline = Timer::at(self.deadlines(), deadline_after(timeout));
        // A snapshot: entries leave the slab only when their actor exits, so a shutdown that
        // is itself cancelled leaves nothing untracked.
        self.inner
            .actors
            .shutting_down
            .store(true, Ordering::Relaxed);
        // With their ids: sorting by a field of each actor would visit every actor's
        // memory many times over.
        let mut actors: Vec<(ActorId, Child)> = Vec::new();
        for shard in &self.inner.actors.shards {
            let mut shard = shard.lock();
            shard.closed = true;
            actors.extend(
                shard
                    .actors
                    .iter()
                    .filter(|(_, actor)| is_root(actor))
                    .map(|(_, actor)| (actor.id(), actor.clone())),
            );
        }
        actors.sort_unstable_by_key(|(id, _)| std::cmp::Reverse(*id));
        let mut killed = 0;
        for (_, child) in &actors {
            if !stop_process(&**child, &mut deadline).await {
                killed += 1;
            }
        }
        crate::telemetry::emit::shutdown(started.elapsed(), actors.len(), killed);
        if killed == 0 {
            Ok(())
        } else {
            Err(ShutdownError { killed })
        }
    }

    /// `true` once [`shutdown`](Self::shutdown) has begun.
    #[must_use]
    pub fn is_shutting_down(&self) -> bool {
        self.inner.actors.shutting_down.load(Ordering::Relaxed)
    }

    /// Tracks a new actor, before its task exists (so it cannot remove itself before it is
    /// added): a top-level one (`root`) is refused once shutdown has begun.
    pub(crate) fn track(&self, actor: Child) -> Result<Slot, SpawnError> {
        // Actor ids are consecutive, so spawns spread over the shards.
        let at = (actor.id().as_u64() % SHARDS as u64) as usize;
        let mut shard = self.inner.actors.shards[at].lock();
        if is_root(&actor) && shard.closed {
            return Err(SpawnError::ShuttingDown);
        }
        let key = shard.actors.insert(actor);
        Ok(Slot(NonZeroUsize::MIN.saturating_add(key * SHARDS + at)))
    }

    /// Stops tracking an actor that has exited.
    pub(crate) fn untrack(&self, slot: Slot) {
        let n = slot.0.get() - 1;
        self.inner.actors.shards[n % SHARDS]
            .lock()
            .actors
            .try_remove(n / SHARDS);
    }

    /// Every live actor now, in no particular order.
    pub(crate) fn tracked(&self) -> Vec<Child> {
        self.inner.actors.all()
    }

    /// The registry's table, for the [`registry`](crate::registry) module.
    pub(crate) fn table(&self) -> MutexGuard<'_, Table> {
        self.inner.registry.lock()
    }

    /// Starts the system's call-deadline timer task on the current runtime, unless it runs.
    pub(crate) fn start_timers(&self) {
        self.inner.deadlines.ensure_running();
    }

    /// The scheduler of this system's actors on `runtime` (see [`crate::sched`]), started
    /// there unless it runs.
    pub(crate) fn sched_on(&self, runtime: &tokio::runtime::Handle) -> Arc<Sched> {
        let id = runtime.id();
        let sched = {
            let mut scheds = self.inner.scheds.lock();
            if let Some(sched) = scheds.iter().find(|s| s.runtime() == id) {
                return Arc::clone(sched);
            }
            let weak: Weak<dyn sched::Actors> = Arc::downgrade(&self.inner) as _;
            let sched = Sched::new(runtime, weak);
            scheds.push(Arc::clone(&sched));
            sched
        };
        sched.start(runtime);
        sched
    }

    /// The deadlines of the calls in flight to this system's actors.
    pub(crate) fn deadlines(&self) -> &Deadlines {
        &self.inner.deadlines
    }
}

impl fmt::Debug for ActorSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (names, groups_and_topics) = {
            let table = self.table();
            (table.names.len(), table.set_count())
        };
        let (mut actors, mut top_level) = (0, 0);
        for shard in &self.inner.actors.shards {
            let shard = shard.lock();
            actors += shard.actors.len();
            top_level += shard.actors.iter().filter(|(_, a)| is_root(a)).count();
        }
        f.debug_struct("ActorSystem")
            .field("actors", &actors)
            .field("top_level_actors", &top_level)
            .field("names", &names)
            .field("groups_and_topics", &groups_and_topics)
            .field("shutting_down", &self.is_shutting_down())
            .finish()
    }
}
