//! The typed errors of beam: one enum per operation, and [`Error`] that each converts into.
//!
//! # Examples
//!
//! ```
//! use beam_runtime::{CallError, Error, ExitReason};
//!
//! let err: Error = CallError::Exited(ExitReason::Killed).into();
//! assert_eq!(err.to_string(), "the actor exited while handling the call: killed");
//! ```

use crate::exit::ExitReason;

/// Why a `#[call]` did not produce a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No reply came within the call's timeout (5 s unless set with `.timeout(..)`).
    /// A reply that arrives later is dropped.
    #[error("the call timed out")]
    Timeout,
    /// The actor was not alive when the call was made.
    #[error("the actor is not alive")]
    NoProc,
    /// The actor exited before it replied.
    #[error("the actor exited while handling the call: {0}")]
    Exited(ExitReason),
    /// An actor called itself, which could only wait for its own timeout.
    #[error("an actor cannot call itself")]
    CallingSelf,
    /// The handler dropped its [`Reply`](crate::Reply) handle without replying.
    #[error("the actor dropped the reply handle without replying")]
    NoReply,
}

/// Why a `#[cast]` (or another fire-and-forget send) was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The actor is not alive.
    #[error("the actor is not alive")]
    NoProc,
    /// The actor's bounded mailbox is full.
    #[error("the actor's mailbox is full")]
    Full,
    /// A cast that waits for room ([`ActorRef::waiting`](crate::ActorRef::waiting)) found
    /// none within its timeout; the message was not sent.
    #[error("the actor's mailbox stayed full until the timeout")]
    Timeout,
}

/// Why spawning an actor failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// `#[init]` returned an error; this is its `Display` text.
    #[error("init failed: {0}")]
    Init(String),
    /// `#[init]` panicked with this message.
    #[error("init panicked: {0}")]
    InitPanic(String),
    /// Another live actor is registered under this name.
    #[error("the name `{0}` is already taken")]
    NameTaken(String),
    /// A bounded mailbox was asked for with a capacity of zero or one too large to track.
    #[error("invalid mailbox capacity {0}: it must be between 1 and {max}", max = crate::mailbox::MAX_CAPACITY)]
    Capacity(usize),
    /// The system is shutting down and accepts no new actors.
    #[error("the actor system is shutting down")]
    ShuttingDown,
    /// The new actor's task was dropped before `#[init]` finished: it was killed (by
    /// [`ActorRef::kill`](crate::ActorRef::kill), an exit signal or a shutdown timeout), or
    /// its runtime shut down.
    #[error("the actor's task was dropped before init finished")]
    Aborted,
    /// Spawning was awaited outside a tokio runtime.
    #[error("actors must be spawned inside a tokio runtime")]
    NoRuntime,
    /// A child spec made from one-shot arguments
    /// ([`ChildSpec::once`](crate::ChildSpec::once)) was started a second time.
    #[error("the child's one-shot arguments were used by an earlier start")]
    ArgsUsed,
}

/// Why a name lookup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// No live actor is registered under this name.
    #[error("no actor is registered as `{0}`")]
    NotFound(String),
    /// The name is registered to an actor of another type.
    #[error("`{name}` is a `{found}`, not a `{expected}`")]
    WrongType {
        /// The name looked up.
        name: String,
        /// The actor type the lookup asked for.
        expected: &'static str,
        /// The actor type registered under the name.
        found: &'static str,
    },
}

/// Why a registration in the [registry](crate::registry) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Another live actor holds this name.
    #[error("the name `{0}` is already taken")]
    NameTaken(String),
    /// The actor has exited.
    #[error("the actor is not alive")]
    NoProc,
}

/// Shutting the system down did not finish in time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shutdown timed out: {killed} actor(s) were killed")]
pub struct ShutdownError {
    /// How many actors were still running at the deadline and were killed.
    pub killed: usize,
}

/// Why [`ActorSystem::stop_with`](crate::ActorSystem::stop_with) (or
/// [`ActorRef::stop_with`](crate::ActorRef::stop_with)) did not see the actor stop as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StopError {
    /// The actor was not alive when the stop was asked for.
    #[error("the actor is not alive")]
    NoProc,
    /// The actor had not exited within the timeout, and was killed. It exited with
    /// [`ExitReason::Killed`] (or, rarely, with its own reason, reached as the kill was
    /// sent): [`ActorRef::exit_reason`](crate::ActorRef::exit_reason) tells which.
    #[error("the actor did not stop within {0:?} and was killed")]
    Timeout(std::time::Duration),
}

/// Any beam error; each specific error converts into it with `?`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// A send failed.
    #[error(transparent)]
    Send(#[from] SendError),
    /// A spawn failed.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// A lookup failed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// A registration failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A shutdown timed out.
    #[error(transparent)]
    Shutdown(#[from] ShutdownError),
    /// A stop with a timeout did not go as asked.
    #[error(transparent)]
    Stop(#[from] StopError),
    /// A supervisor did not start.
    #[error(transparent)]
    Supervisor(#[from] crate::supervisor::SupervisorError),
    /// Managing a supervisor's child failed.
    #[error(transparent)]
    Child(#[from] crate::supervisor::ChildError),
    /// A task gave no value.
    #[error(transparent)]
    Task(#[from] crate::task::TaskError),
    /// A ref could not be typed as an agent.
    #[error(transparent)]
    Agent(#[from] crate::agent::AgentError),
    /// A telemetry handler could not be attached.
    #[error(transparent)]
    Telemetry(#[from] crate::telemetry::TelemetryError),
}
