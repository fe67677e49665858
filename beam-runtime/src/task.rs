//! Tasks: futures run as actors of their own, so that an actor can do slow work without
//! blocking its mailbox, and a crash is never lost (Elixir's `Task` and `Task.Supervisor`).
//!
//! A task is an actor that runs one future and exits: with [`ExitReason::Normal`] when the
//! future completes, with [`ExitReason::Panic`] if it panics. Being an actor, it has an
//! [`ActorId`], can be killed, and shows up to links, monitors and supervisors like any
//! other. Its result goes to whoever asked for it:
//!
//! - [`ActorSystem::spawn_task`] and [`Ctx::spawn_task`] return a [`Task`] to await, from
//!   anywhere: `Ok(value)`, or [`TaskError`] if the task panicked or was stopped first.
//! - [`Ctx::run_task`] delivers the result to the actor as one of its own messages, so a
//!   handler can start slow work and go on handling messages; a panic arrives as
//!   `Err(TaskError::Panic(..))`.
//! - [`ActorRef<DynamicSupervisor>::spawn_task`] runs it under a dynamic supervisor (as a
//!   temporary child), as Elixir's `Task.Supervisor.async_nolink` does.
//!
//! A task started from an actor is its child: it is stopped (and its result dropped) when
//! the actor exits first. A task started from the system is stopped at shutdown.
//! Dropping a [`Task`] does not stop it; call [`Task::abort`] for that. [`Task::timeout`]
//! bounds the wait (the task goes on running after a timeout), and [`Task::label`] names
//! it in [`ActorSystem::actors`] and [`ActorSystem::tree`].
//!
//! [`ActorSystem::actors`]: crate::ActorSystem::actors
//! [`ActorSystem::tree`]: crate::ActorSystem::tree
//!
//! [`Ctx::spawn_task`]: crate::Ctx::spawn_task
//! [`Ctx::run_task`]: crate::Ctx::run_task
//! [`ActorSystem::spawn_task`]: crate::ActorSystem::spawn_task
//! [`ActorRef<DynamicSupervisor>::spawn_task`]: crate::ActorRef::spawn_task
//!
//! # Examples
//!
//! ```
//! use beam_runtime::prelude::*;
//! use beam_runtime::task::TaskError;
//!
//! struct Indexer {
//!     pages: Vec<String>,
//! }
//!
//! #[actor]
//! impl Indexer {
//!     /// Starts a slow fetch and returns at once; the page arrives as `fetched`.
//!     #[cast]
//!     fn crawl(&mut self, url: String, ctx: &mut Ctx<Self>) {
//!         ctx.run_task(
//!             async move { format!("<html>{url}</html>") },
//!             |page| IndexerMsg::Fetched { page },
//!         );
//!     }
//!
//!     #[cast]
//!     fn fetched(&mut self, page: Result<String, TaskError>) {
//!         self.pages.push(page.unwrap_or_else(|e| e.to_string()));
//!     }
//!
//!     #[call]
//!     fn pages(&self) -> Vec<String> {
//!         self.pages.clone()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let system = ActorSystem::new();
//! let indexer = system.spawn::<Indexer>(Indexer { pages: Vec::new() }).await?;
//! indexer.crawl("a.org".into())?;
//!
//! let answer = system.spawn_task(async { 6 * 7 })?;
//! assert_eq!(answer.await, Ok(42));
//! assert_eq!(indexer.pages().await?, ["<html>a.org</html>"]);
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::actor::run::guarded;
use crate::actor::{ActorId, ActorRef};
use crate::exit::ExitReason;

/// Why a task gave no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The task's future panicked with this message.
    #[error("the task panicked: {0}")]
    Panic(String),
    /// The task exited before its future completed: it was killed, or stopped with the
    /// actor or supervisor it belonged to.
    #[error("the task exited before it finished: {0}")]
    Exited(ExitReason),
    /// No result within the limit of [`Task::timeout`]; the task goes on running.
    #[error("the task did not finish in time")]
    Timeout,
    /// The task's result was already given by an earlier await of the same [`Task`].
    #[error("the task's result was already taken")]
    Taken,
}

/// The work of a task: its future, wrapped so that it hands over its own result and
/// reports a panic (by its message) instead of unwinding.
pub(crate) type Work = Pin<Box<dyn Future<Output = Option<String>> + Send>>;

/// Wraps `fut` as a task's work: its outcome goes to `deliver`.
pub(crate) fn work<F, D>(fut: F, deliver: D) -> Work
where
    F: Future + Send + 'static,
    D: FnOnce(Result<F::Output, TaskError>) + Send + 'static,
{
    Box::pin(async move {
        match guarded(fut).await {
            Ok(value) => {
                deliver(Ok(value));
                None
            }
            Err(panic) => {
                deliver(Err(TaskError::Panic(panic.clone())));
                Some(panic)
            }
        }
    })
}

pub use runner::Task as TaskActor;

mod runner {
    //! The actor behind every task, out of reach of users: its message enum is internal.

    use std::fmt;

    use super::Work;
    use crate::actor::Ctx;
    use crate::exit::ExitReason;

    /// The actor behind every task: it runs its future in a tokio task of its own, so it
    /// stays free to handle a stop, and exits when the future is done (with
    /// [`ExitReason::Normal`], or [`ExitReason::Panic`] if it panicked).
    ///
    /// It has no methods of its own: `ActorRef<TaskActor>` is what the child specs of
    /// supervised tasks ([`ChildSpec::task`](crate::ChildSpec::task)) and their
    /// [`ChildHandle`](crate::supervisor::ChildHandle)s are typed by, to stop, kill or
    /// watch a task like any actor.
    pub struct Task {
        /// Kills the work when the actor goes, however it goes.
        work: Option<AbortOnDrop>,
    }

    struct AbortOnDrop(tokio::task::AbortHandle);

    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }

    impl fmt::Debug for Task {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Task")
                .field("running", &self.work.is_some())
                .finish()
        }
    }

    #[crate::actor(crate = crate)]
    impl Task {
        #[init]
        fn init(work: Work, ctx: &mut Ctx<Self>) -> Self {
            let me = ctx.me().clone();
            let handle = tokio::spawn(async move {
                let panic = work.await;
                let _ = me.finished(panic);
            });
            Task {
                work: Some(AbortOnDrop(handle.abort_handle())),
            }
        }

        #[cast]
        fn finished(&mut self, panic: Option<String>, ctx: &mut Ctx<Self>) {
            self.work = None;
            match panic {
                None => ctx.stop(),
                Some(panic) => ctx.stop_with(ExitReason::Panic(panic)),
            }
        }
    }
}

/// A running task's result, to await: `Ok(value)`, or why there is none.
///
/// Created by [`ActorSystem::spawn_task`](crate::ActorSystem::spawn_task),
/// [`Ctx::spawn_task`](crate::Ctx::spawn_task) and
/// [`ActorRef<DynamicSupervisor>::spawn_task`](crate::ActorRef::spawn_task). Dropping it
/// leaves the task running.
///
/// A `Task` is itself a future (and `Unpin`): `task.await` gives the result, and
/// `&mut task` can be polled in a `tokio::select!` loop or under
/// [`timeout`](Self::timeout) and awaited again later. Once it has given its result,
/// awaiting it again gives [`TaskError::Taken`].
///
/// # Examples
///
/// ```
/// use beam_runtime::prelude::*;
/// use std::time::Duration;
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> Result<(), beam_runtime::Error> {
///     let system = ActorSystem::new();
///     let mut fetch = system
///         .spawn_task(async {
///             tokio::time::sleep(Duration::from_millis(50)).await;
///             "page"
///         })?
///         .label("fetch");
///     // Not done within 10 ms: the task goes on running...
///     assert_eq!(fetch.timeout(Duration::from_millis(10)).await, Err(TaskError::Timeout));
///     assert!(system.tree().to_string().contains("Task [fetch]"));
///     // ...and can still be awaited.
///     assert_eq!(fetch.await, Ok("page"));
///     system.shutdown().await;
///     Ok(())
/// }
/// ```
#[must_use = "a task's result is only seen by awaiting its `Task`"]
pub struct Task<T> {
    state: State<T>,
    actor: ActorRef<TaskActor>,
}

/// Where a [`Task`]'s result stands.
enum State<T> {
    /// The task runs, or has sent its result.
    Running(oneshot::Receiver<Result<T, TaskError>>),
    /// It was stopped before its future completed: waiting for its exit reason.
    Stopped(Pin<Box<dyn Future<Output = ExitReason> + Send + Sync>>),
    /// The result was given.
    Taken,
}

impl<T: Send + 'static> Task<T> {
    /// A task for `fut` and where its result goes, before its actor is spawned.
    pub(crate) fn prepare<F>(fut: F) -> (Work, oneshot::Receiver<Result<T, TaskError>>)
    where
        F: Future<Output = T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let work = work(fut, move |out| {
            let _ = tx.send(out);
        });
        (work, rx)
    }

    pub(crate) fn new(
        result: oneshot::Receiver<Result<T, TaskError>>,
        actor: ActorRef<TaskActor>,
    ) -> Self {
        Self {
            state: State::Running(result),
            actor,
        }
    }

    /// Waits for the result at most `limit`: after that, gives [`TaskError::Timeout`]
    /// and leaves the task running (as `tokio::time::timeout` does with a
    /// `JoinHandle`); the `Task` can still be awaited, or [aborted](Self::abort). To
    /// give up on a task for good, abort it after a timeout:
    ///
    /// ```
    /// # use beam_runtime::prelude::*;
    /// # use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// # let system = ActorSystem::new();
    /// let mut task = system.spawn_task(std::future::pending::<()>())?;
    /// if task.timeout(Duration::from_millis(10)).await == Err(TaskError::Timeout) {
    ///     task.abort();
    /// }
    /// assert_eq!(task.await, Err(TaskError::Exited(ExitReason::Killed)));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn timeout(&mut self, limit: Duration) -> Result<T, TaskError> {
        tokio::time::timeout(limit, self)
            .await
            .unwrap_or(Err(TaskError::Timeout))
    }
}

impl<T> Task<T> {
    /// The task's actor id.
    #[must_use]
    pub fn id(&self) -> ActorId {
        self.actor.id()
    }

    /// Names the task for people: the label shows in [`ActorSystem::actors`] and
    /// [`ActorSystem::tree`] (`<0.7> Task [fetch]`) while it runs. It is not a
    /// registered name (two tasks may have the same label); an empty one removes it.
    ///
    /// [`ActorSystem::actors`]: crate::ActorSystem::actors
    /// [`ActorSystem::tree`]: crate::ActorSystem::tree
    pub fn label(self, label: impl Into<String>) -> Self {
        let label: String = label.into();
        self.actor.shared().mailbox.watch(|w| {
            w.label = (!label.is_empty()).then(|| label.into_boxed_str());
        });
        self
    }

    /// Kills the task at its next await point; awaiting it then gives
    /// `Err(TaskError::Exited(ExitReason::Killed))`, unless it had finished.
    pub fn abort(&self) {
        self.actor.kill();
    }

    /// `true` once the task has exited.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        !self.actor.is_alive()
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Running(result) => match Pin::new(result).poll(cx) {
                    Poll::Ready(Ok(out)) => {
                        this.state = State::Taken;
                        return Poll::Ready(out);
                    }
                    // Stopped before its future completed.
                    Poll::Ready(Err(_)) => {
                        this.state = State::Stopped(Box::pin(this.actor.wait_for_exit()));
                    }
                    Poll::Pending => return Poll::Pending,
                },
                State::Stopped(exit) => {
                    let reason = std::task::ready!(exit.as_mut().poll(cx));
                    this.state = State::Taken;
                    return Poll::Ready(Err(TaskError::Exited(reason)));
                }
                State::Taken => return Poll::Ready(Err(TaskError::Taken)),
            }
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("id", &self.id()).finish()
    }
}
