//! Agents: a piece of state in an actor of its own, read and changed through closures
//! (Elixir's `Agent`).
//!
//! An [`Agent<S>`] holds a value of type `S` in an actor. [`get`](Agent::get),
//! [`update`](Agent::update) and [`get_and_update`](Agent::get_and_update) send a closure
//! to the agent, which runs it on the state, one at a time, and answers as a call does
//! (with the same timeout and the same [`CallError`]s); [`cast`](Agent::cast) sends a
//! closure without waiting. An agent saves writing an actor when all a process does is
//! keep a value that several tasks share.
//!
//! The closures run inside the agent, so keep them short: the agent handles nothing else
//! meanwhile. A closure that panics crashes the agent, as a panicking handler crashes any
//! actor: it exits with [`ExitReason::Panic`] and its callers get [`CallError::Exited`].
//!
//! Every agent is an actor of the one type [`AgentServer`], whatever its state, so it
//! takes part in supervision, names, links and monitors like any actor:
//! [`Agent::child_spec`] makes a child spec, [`Agent::start_named`] registers a name, and
//! [`Agent::actor_ref`] gives the actor's ref. An [`ActorRef<AgentServer>`] met elsewhere
//! (from a name, or a supervisor's [`ChildHandle`]) becomes a typed agent again with
//! [`Agent::from_ref`] or [`Agent::from_handle`], which check the state's type.
//!
//! # Examples
//!
//! ```
//! use beam_runtime::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let system = ActorSystem::new();
//! let visits: Agent<Vec<String>> = Agent::start(&system, Vec::new()).await?;
//!
//! visits.update(|v| v.push("home".into())).await?;
//! visits.cast(|v| v.push("about".into()))?;
//! assert_eq!(visits.get(|v| v.len()).await?, 2);
//!
//! let last = visits.get_and_update(|v| v.pop()).await?;
//! assert_eq!(last.as_deref(), Some("about"));
//! assert_eq!(visits.get(|v| v.clone()).await?, ["home"]);
//!
//! assert_eq!(visits.stop().await, ExitReason::Normal);
//! assert_eq!(visits.get(|v| v.len()).await, Err(CallError::NoProc));
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::any::{Any, TypeId, type_name};
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::actor::{ActorId, ActorRef};
use crate::call::Call;
use crate::error::{CallError, SendError, SpawnError};
use crate::exit::ExitReason;
use crate::registry::IntoName;
use crate::supervisor::{ChildHandle, ChildSpec};
use crate::system::ActorSystem;

/// A closure an [`AgentServer`] runs on its state: it receives the state with its type
/// erased and returns its answer boxed. [`Agent`] builds these from typed closures.
pub type Job = Box<dyn FnOnce(&mut (dyn Any + Send)) -> Box<dyn Any + Send> + Send>;

/// What a job answers when the state is not of the type it expected; the typed handle
/// reports it as [`CallError::NoReply`]. Typed handles are only made over agents that hold
/// their type, so this is never seen.
struct WrongState;

/// Why an [`ActorRef<AgentServer>`] could not become an [`Agent<S>`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The agent holds a state of another type.
    #[error("the agent holds a `{found}`, not a `{expected}`")]
    WrongType {
        /// The state type asked for.
        expected: &'static str,
        /// The state type the agent holds.
        found: &'static str,
    },
    /// No supervisor can start the agent any more (every copy of its child spec is gone).
    #[error("the agent is not running and will not be restarted")]
    NotRunning,
    /// Asking the agent for its state's type failed (it is not alive, ...).
    #[error(transparent)]
    Call(#[from] CallError),
}

/// The actor behind every [`Agent`], whatever its state's type: it keeps the state boxed
/// and runs the [`Job`]s it is sent on it, one at a time.
///
/// Use [`Agent`] rather than this type's methods: `ActorRef<AgentServer>` is what names
/// ([`names!`](crate::names)), child specs ([`Agent::child_spec`]) and child handles are
/// typed by, and [`Agent::from_ref`] turns one back into a typed agent. Only [`Agent`]
/// makes an `AgentServer`.
pub struct AgentServer {
    state: Box<dyn Any + Send>,
    type_id: TypeId,
    type_name: &'static str,
}

impl AgentServer {
    fn new<S: Send + 'static>(state: S) -> Self {
        Self {
            state: Box::new(state),
            type_id: TypeId::of::<S>(),
            type_name: type_name::<S>(),
        }
    }
}

impl fmt::Debug for AgentServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentServer")
            .field("state", &self.type_name)
            .finish_non_exhaustive()
    }
}

#[crate::actor(crate = crate)]
impl AgentServer {
    /// Runs `job` on the state and answers what it returns.
    #[call]
    fn run(&mut self, job: Job) -> Box<dyn Any + Send> {
        job(&mut *self.state)
    }

    /// Runs `job` on the state; its answer is dropped.
    #[cast]
    fn run_cast(&mut self, job: Job) {
        drop(job(&mut *self.state));
    }

    /// The [`TypeId`] and the name of the state's type.
    #[call]
    fn state_type(&self) -> (TypeId, &'static str) {
        (self.type_id, self.type_name)
    }
}

/// Wraps a typed closure as a [`Job`] for an agent holding an `S`.
fn job<S, R, F>(f: F) -> Job
where
    S: Send + 'static,
    R: Send + 'static,
    F: FnOnce(&mut S) -> R + Send + 'static,
{
    Box::new(move |state: &mut (dyn Any + Send)| -> Box<dyn Any + Send> {
        match state.downcast_mut::<S>() {
            Some(state) => Box::new(f(state)),
            None => Box::new(WrongState),
        }
    })
}

/// A typed handle to an agent holding a value of type `S`: see the
/// [module documentation](crate::agent).
///
/// Cheap to clone (one reference count), `Send + Sync`, and compared and hashed by the
/// agent's [`ActorId`]. Holding one does not keep the agent alive.
///
/// # Examples
///
/// ```
/// use beam_runtime::prelude::*;
/// use std::collections::HashMap;
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), beam_runtime::Error> {
/// let system = ActorSystem::new();
/// let scores = Agent::start(&system, HashMap::<String, u32>::new()).await?;
///
/// let writer = scores.clone();
/// let task = system.spawn_task(async move {
///     writer
///         .update(|s| *s.entry("ann".into()).or_default() += 3)
///         .await
/// })?;
/// task.await??;
///
/// let ann = scores
///     .get(|s| s.get("ann").copied())
///     .timeout(Duration::from_millis(100))
///     .await?;
/// assert_eq!(ann, Some(3));
/// # system.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct Agent<S> {
    actor: ActorRef<AgentServer>,
    state: PhantomData<fn() -> S>,
}

impl<S: Send + 'static> Agent<S> {
    fn wrap(actor: ActorRef<AgentServer>) -> Self {
        Self {
            actor,
            state: PhantomData,
        }
    }

    /// Starts a top-level agent in `system` holding `state` (stopped at shutdown).
    pub async fn start(system: &ActorSystem, state: S) -> Result<Self, SpawnError> {
        let actor = system.spawn::<AgentServer>(AgentServer::new(state)).await?;
        Ok(Self::wrap(actor))
    }

    /// Starts a top-level agent holding `state`, registered under `name` for its life;
    /// fails with [`SpawnError::NameTaken`] if a live actor holds the name. Find it again
    /// with [`ActorSystem::whereis`] and [`Agent::from_ref`].
    ///
    /// # Examples
    ///
    /// ```
    /// use beam_runtime::agent::AgentServer;
    /// use beam_runtime::prelude::*;
    ///
    /// beam_runtime::names! {
    ///     /// The configuration, as a map of settings.
    ///     CONFIG: AgentServer = "config";
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// let system = ActorSystem::new();
    /// Agent::start_named(&system, CONFIG, vec![("debug", true)]).await?;
    ///
    /// let found = system.lookup(CONFIG)?;
    /// let config = Agent::<Vec<(&str, bool)>>::from_ref(found).await?;
    /// assert_eq!(config.get(|c| c.len()).await?, 1);
    /// # system.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start_named(
        system: &ActorSystem,
        name: impl IntoName<Actor = AgentServer>,
        state: S,
    ) -> Result<Self, SpawnError> {
        let actor = system
            .spawn::<AgentServer>(AgentServer::new(state))
            .name(name)
            .await?;
        Ok(Self::wrap(actor))
    }

    /// A child spec for an agent that starts (and restarts) holding what `make_state`
    /// returns, for a [`SupervisorSpec`](crate::SupervisorSpec) or a
    /// [`DynamicSupervisor`](crate::DynamicSupervisor). Take its
    /// [`handle`](ChildSpec::handle) before adding it, and get the running agent from the
    /// handle with [`Agent::from_handle`].
    ///
    /// As with any supervised child, the closures still queued when an incarnation crashes
    /// run on the next one (see [`supervisor`](crate::supervisor)).
    ///
    /// # Examples
    ///
    /// ```
    /// use beam_runtime::prelude::*;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// let system = ActorSystem::new();
    /// let spec = Agent::<u64>::child_spec("hits", || 0);
    /// let handle = spec.handle();
    /// SupervisorSpec::new().child(spec).start(&system).await?;
    ///
    /// let hits = Agent::<u64>::from_handle(&handle).await?;
    /// hits.update(|n| *n += 1).await?;
    /// assert_eq!(hits.get(|n| *n).await?, 1);
    ///
    /// // A panicking closure crashes the agent; its supervisor restarts it, fresh.
    /// let crashed = hits.update(|_| panic!("bad update")).await;
    /// assert!(matches!(crashed, Err(CallError::Exited(ExitReason::Panic(_)))));
    /// let hits = Agent::<u64>::from_handle(&handle).await?;
    /// assert_eq!(hits.get(|n| *n).await?, 0);
    /// # system.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn child_spec(
        id: impl Into<Cow<'static, str>>,
        make_state: impl Fn() -> S + Send + Sync + 'static,
    ) -> ChildSpec<AgentServer> {
        ChildSpec::from_fn(id, move || AgentServer::new(make_state()))
    }

    /// The agent behind `actor`, typed, once it is checked (by a call) that its state is
    /// an `S`: [`AgentError::WrongType`] if it is not, [`AgentError::Call`] if the call
    /// fails (`NoProc` for an agent that is not alive).
    pub async fn from_ref(actor: ActorRef<AgentServer>) -> Result<Self, AgentError> {
        let (held, found) = actor.state_type().await?;
        if held != TypeId::of::<S>() {
            return Err(AgentError::WrongType {
                expected: type_name::<S>(),
                found,
            });
        }
        Ok(Self::wrap(actor))
    }

    /// The running incarnation of a supervised agent, typed: waits until one is running
    /// (as [`ChildHandle::running`] does), then checks its state's type as
    /// [`from_ref`](Self::from_ref) does. [`AgentError::NotRunning`] once no supervisor
    /// can start it any more.
    ///
    /// Each incarnation is a new actor: after a restart, ask the handle again.
    pub async fn from_handle(handle: &ChildHandle<AgentServer>) -> Result<Self, AgentError> {
        let actor = handle.running().await.ok_or(AgentError::NotRunning)?;
        Self::from_ref(actor).await
    }

    /// Reads the state: runs `f` on it in the agent and answers its result.
    ///
    /// Like a `#[call]`: [`AgentCall::timeout`] sets the time limit (5 s unless set),
    /// and it fails with [`CallError::NoProc`] if the agent is not alive and with
    /// [`CallError::Exited`] if it dies first (`f` panicking makes it die).
    pub fn get<R, F>(&self, f: F) -> AgentCall<'_, R>
    where
        R: Send + 'static,
        F: FnOnce(&S) -> R + Send + 'static,
    {
        self.call(job(move |state: &mut S| f(state)))
    }

    /// Changes the state: runs `f` on it in the agent, and answers once it has run.
    ///
    /// Fails as [`get`](Self::get) does.
    pub fn update<F>(&self, f: F) -> AgentCall<'_, ()>
    where
        F: FnOnce(&mut S) + Send + 'static,
    {
        self.call(job(f))
    }

    /// Reads and changes the state in one step: runs `f` on it in the agent and answers
    /// its result.
    ///
    /// Fails as [`get`](Self::get) does.
    pub fn get_and_update<R, F>(&self, f: F) -> AgentCall<'_, R>
    where
        R: Send + 'static,
        F: FnOnce(&mut S) -> R + Send + 'static,
    {
        self.call(job(f))
    }

    /// Changes the state without waiting: sends `f` to run on it in the agent, after what
    /// this caller sent before. Like a `#[cast]`, it never blocks; it fails with
    /// [`SendError::NoProc`] if the agent is not alive.
    pub fn cast<F>(&self, f: F) -> Result<(), SendError>
    where
        F: FnOnce(&mut S) + Send + 'static,
    {
        self.actor.run_cast(job(f))
    }

    fn call<R: Send + 'static>(&self, job: Job) -> AgentCall<'_, R> {
        AgentCall {
            call: self.actor.run(job),
            answer: PhantomData,
        }
    }
}

impl<S> Agent<S> {
    /// The agent's actor id.
    #[must_use]
    pub fn id(&self) -> ActorId {
        self.actor.id()
    }

    /// `true` until the agent has exited.
    #[must_use]
    pub fn is_alive(&self) -> bool {
        self.actor.is_alive()
    }

    /// The agent's actor ref: to link to it, monitor it, kill it, or wait for its exit.
    #[must_use]
    pub fn actor_ref(&self) -> &ActorRef<AgentServer> {
        &self.actor
    }

    /// Stops the agent with [`ExitReason::Normal`] after the closures already sent to it,
    /// and returns a future that waits until it has exited, with the final exit reason
    /// ([`ExitReason::NoProc`] if it was not alive). See [`ActorRef::stop`].
    pub fn stop(&self) -> impl Future<Output = ExitReason> + Send + 'static {
        self.actor.stop()
    }
}

impl<S> Clone for Agent<S> {
    fn clone(&self) -> Self {
        Self {
            actor: self.actor.clone(),
            state: PhantomData,
        }
    }
}

impl<S> AsRef<ActorRef<AgentServer>> for Agent<S> {
    fn as_ref(&self) -> &ActorRef<AgentServer> {
        &self.actor
    }
}

impl<S> From<Agent<S>> for ActorRef<AgentServer> {
    fn from(agent: Agent<S>) -> Self {
        agent.actor
    }
}

impl<S> PartialEq for Agent<S> {
    fn eq(&self, other: &Self) -> bool {
        self.actor == other.actor
    }
}

impl<S> Eq for Agent<S> {}

impl<S> Hash for Agent<S> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.actor.hash(state);
    }
}

impl<S> fmt::Debug for Agent<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Agent<{}>{}", type_name::<S>(), self.id())
    }
}

pin_project! {
    /// A closure sent to an agent and the wait for its answer; resolves to
    /// `Result<R, CallError>`. Returned by [`Agent::get`], [`Agent::update`] and
    /// [`Agent::get_and_update`].
    ///
    /// It is a [`Call`] to the agent and behaves as one: nothing is sent until it is first
    /// polled, and it fails with [`CallError::NoProc`], [`CallError::CallingSelf`],
    /// [`CallError::Exited`] or [`CallError::Timeout`] as a call does.
    #[must_use = "an agent call does nothing unless awaited"]
    pub struct AgentCall<'a, R> {
        #[pin]
        call: Call<'a, AgentServer, Box<dyn Any + Send>>,
        answer: PhantomData<fn() -> R>,
    }
}

impl<R> AgentCall<'_, R> {
    /// Waits at most `timeout` for the answer instead of
    /// [`DEFAULT_CALL_TIMEOUT`](crate::DEFAULT_CALL_TIMEOUT) (`Duration::MAX` waits for as
    /// long as it takes). The closure still runs if the agent gets to it later; its answer
    /// is dropped.
    pub fn timeout(self, timeout: Duration) -> Self {
        Self {
            call: self.call.timeout(timeout),
            answer: PhantomData,
        }
    }
}

impl<R: 'static> Future for AgentCall<'_, R> {
    type Output = Result<R, CallError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().call.poll(cx).map(|answer| {
            // Only an agent holding another type than the handle's answers otherwise, and
            // typed handles are made only over agents that hold their type.
            answer.and_then(|any| {
                any.downcast::<R>()
                    .map(|r| *r)
                    .map_err(|_| CallError::NoReply)
            })
        })
    }
}

impl<R> fmt::Debug for AgentCall<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentCall")
            .field("call", &self.call)
            .finish_non_exhaustive()
    }
}
