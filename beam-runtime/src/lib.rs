#![doc = include_str!("../../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod actor;
pub mod agent;
pub mod call;
pub mod cast;
mod clock;
#[cfg(feature = "cluster")]
#[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
pub mod cluster;
mod deadline;
pub mod error;
pub mod exit;
pub mod introspection;
mod mailbox;
pub mod message;
pub mod pool;
pub mod registry;
mod sched;
pub mod signal;
pub mod stream;
pub mod supervisor;
pub mod system;
pub mod task;
pub mod telemetry;

#[doc(hidden)]
#[path = "__private.rs"]
pub mod __private;

pub use actor::{Actor, ActorId, ActorRef, Ctx, SpawnBuilder, Spawning, TimerRef};
pub use agent::{Agent, AgentError};
pub use call::{Call, DEFAULT_CALL_TIMEOUT};
pub use cast::Cast;
pub use error::{
    CallError, Error, LookupError, RegistryError, SendError, ShutdownError, SpawnError, StopError,
};
pub use exit::ExitReason;
pub use message::{Info, Reply};
pub use pool::{Pool, Routing};
pub use registry::{Fanout, Group, IntoName, Name, Topic};
pub use signal::{Monitor, MonitorRef};
pub use stream::StreamRef;
pub use supervisor::{ChildSpec, DynamicSupervisor, Supervisor, SupervisorSpec};
pub use system::{ActorSystem, DEFAULT_SHUTDOWN_TIMEOUT};
pub use task::{Task, TaskError};

/// Turns an inherent `impl` block into an actor.
///
/// Methods marked with a helper attribute become handlers; other methods stay as they are.
///
/// | Attribute | Signature | Becomes |
/// | --- | --- | --- |
/// | `#[call]` | `fn f(&self or &mut self, args.., [ctx]) -> T`, sync or `async` | variant `F { args.., reply }` and `ActorRef::f(args..) -> Call<T>` |
/// | `#[call]` | `fn f(&mut self, args.., reply: Reply<T>, [ctx])` | the same; the handler answers through `reply`, now or later |
/// | `#[cast]` | `fn f(&self or &mut self, args.., [ctx])` | variant `F { args.. }` (a unit variant without arguments) and `ActorRef::f(args..) -> Result<(), SendError>`, plus `ref.waiting().f(args..) -> Cast` that waits for room in a bounded mailbox |
/// | `#[init]` | `fn init(args.., [ctx]) -> Self` or `-> Result<Self, E: Display>`, sync or `async` | what `spawn` runs; its arguments are the spawn arguments (`()` for none, a tuple for several) |
/// | `#[info]` | `fn f(&mut self, info: Info, [ctx])` | receives system messages: [`Info::Timeout`], [`Info::Exit`], [`Info::Down`] |
/// | `#[handle_continue]` | `fn f(&mut self, arg: T, [ctx])` | runs after the handler that called [`Ctx::continue_with`], before any other message |
/// | `#[terminate]` | `fn f(&mut self, [reason: &ExitReason], [ctx])` | runs once when the actor stops (not when it is killed) |
///
/// **Handlers that fail.** A `#[call]` replies with what it returns, so a `#[call]`
/// returning `Result<T, E>` answers the caller with the `Ok` or the `Err` and the actor goes
/// on: an `Err` is an answer like any other. To make an `Err` a crash instead, mark the
/// handler `crash_on_err`: `#[call(crash_on_err)]` replies with the `Err` first, then stops
/// the actor with [`ExitReason::Error`]`(e.to_string())`, a crash that links and supervisors
/// see (OTP's `{stop, Reason, Reply, State}`). The handlers whose value nobody receives
/// (`#[cast]`, `#[info]`, `#[handle_continue]`, and a `#[call]` that answers through a
/// `Reply`) return `()`; marked `crash_on_err` (`#[cast(crash_on_err)]`, ...) they return
/// `Result<(), E>` and an `Err` stops the actor the same way (OTP's `{stop, Reason,
/// State}`). Without `crash_on_err` they cannot return a `Result`, as an `Err` nobody sees
/// would be lost: handle it in the handler, or opt in to the crash. `E` must implement
/// `Display`. The return type is checked as a type, not by its spelling, so an alias such
/// as `type Outcome = Result<(), MyError>` behaves exactly like the type it names.
/// `#[init]` and `#[terminate]` take no options: an `Err` from `#[init]` always fails the
/// spawn with [`SpawnError::Init`].
///
/// `[ctx]` is an optional last parameter `ctx: &mut Ctx<Self>`. Arguments must be owned,
/// `Send + 'static`, plain names (not patterns) and of concrete types; handlers cannot be
/// generic, and handler names that `ActorRef` itself uses (`id`, `clone`, `stop`, ...) are
/// refused. Each misuse is a compile error on the offending token. The generated message
/// enum is `pub` and named `<Type>Msg`; generic actor types are not supported.
///
/// Options: `#[actor(mailbox = 64)]` gives a bounded mailbox, `#[actor(msg = Name)]` renames
/// the message enum, `#[actor(crate = path)]` names the runtime crate when it is renamed.
///
/// # Examples
///
/// ```
/// use beam_runtime::prelude::*;
///
/// struct Account {
///     balance: u64,
/// }
///
/// #[actor(mailbox = 128, msg = AccountCommand)]
/// impl Account {
///     #[init]
///     fn open(deposit: u64) -> Result<Self, String> {
///         if deposit == 0 {
///             return Err("an account opens with a deposit".into());
///         }
///         Ok(Account { balance: deposit })
///     }
///
///     /// Takes money out, if there is enough; an `Err` is an answer, not a crash.
///     #[call]
///     fn withdraw(&mut self, amount: u64) -> Result<u64, String> {
///         let left = self.balance.checked_sub(amount);
///         self.balance = left.ok_or(format!("only {} left", self.balance))?;
///         Ok(self.balance)
///     }
///
///     /// Crashes the actor if the books do not add up.
///     #[cast(crash_on_err)]
///     fn audit(&mut self, expected: u64) -> Result<(), String> {
///         if self.balance != expected {
///             return Err(format!("expected {expected}, found {}", self.balance));
///         }
///         Ok(())
///     }
///
///     /// Puts money in.
///     #[cast]
///     fn deposit(&mut self, amount: u64) {
///         self.balance += amount;
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), beam_runtime::Error> {
/// let system = ActorSystem::new();
/// let refused = system.spawn::<Account>(0).await;
/// assert_eq!(
///     refused.unwrap_err(),
///     SpawnError::Init("an account opens with a deposit".into())
/// );
///
/// let account = system.spawn::<Account>(100).await?;
/// account.deposit(50)?;
/// assert_eq!(account.withdraw(120).await?, Ok(30));
/// assert_eq!(account.withdraw(40).await?, Err("only 30 left".into()));
/// account.audit(31)?;
/// assert_eq!(
///     account.wait_for_exit().await,
///     ExitReason::Error("expected 31, found 30".into())
/// );
/// let _: AccountCommand = AccountCommand::Deposit { amount: 1 };
/// # system.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub use beam_macros::actor;

/// Marks a request/reply handler inside an [`#[actor]`](macro@actor) impl block; see there.
/// `#[call(crash_on_err)]`: a returned `Err` is replied, then stops the actor.
pub use beam_macros::call;

/// Marks a fire-and-forget handler inside an [`#[actor]`](macro@actor) impl block; see there.
/// `#[cast(crash_on_err)]`: the handler returns `Result<(), E>` and an `Err` stops the actor.
pub use beam_macros::cast;

/// Marks the constructor inside an [`#[actor]`](macro@actor) impl block; see there.
pub use beam_macros::init;

/// Marks the system-message handler inside an [`#[actor]`](macro@actor) impl block; see
/// there and [`Info`]. `#[info(crash_on_err)]`: it returns `Result<(), E>` and an `Err`
/// stops the actor.
pub use beam_macros::info;

/// Marks the stop hook inside an [`#[actor]`](macro@actor) impl block; see there.
pub use beam_macros::terminate;

/// Marks the deferred-work handler (OTP's `handle_continue`) inside an
/// [`#[actor]`](macro@actor) impl block; see there and [`Ctx::continue_with`].
/// `#[handle_continue(crash_on_err)]`: it returns `Result<(), E>` and an `Err` stops the
/// actor.
pub use beam_macros::handle_continue;

/// Declares typed [`registry`] keys as constants: actor names
/// ([`Name<A>`]), process groups ([`Group<A>`]) and event topics ([`Topic<E>`]).
///
/// Each entry reads `vis NAME: ActorType = "text";` for a name, `vis NAME: Group<ActorType>
/// = "text";` for a group and `vis NAME: Topic<EventType> = "text";` for a topic, with
/// optional doc comments. Spawning another actor type under a name, joining another type
/// to a group, or expecting another type from [`ActorSystem::whereis`] does not compile;
/// neither do a name or group for a type that is not an actor, a topic whose event is not
/// `Clone + Send + 'static`, nor two names with the same text, nor two groups (or topics)
/// of one type with the same text. Each kind has its own namespace, and a group's or
/// topic's type is part of its key, so a name, a `Group<Worker>` and a `Group<Auditor>`
/// may all be "jobs". Write `crate = path;` first if the runtime crate is renamed.
///
/// # Examples
///
/// ```
/// use beam_runtime::prelude::*;
///
/// struct Cache;
///
/// #[actor]
/// impl Cache {}
///
/// #[derive(Clone)]
/// struct Evicted(String);
///
/// beam_runtime::names! {
///     /// The process-wide cache.
///     pub CACHE: Cache = "cache";
///     BACKUP_CACHE: Cache = "cache:backup";
///     /// Every cache, for broadcasts.
///     pub CACHES: Group<Cache> = "cache";
///     /// Keys evicted from any cache.
///     pub EVICTIONS: Topic<Evicted> = "cache:evictions";
/// }
///
/// assert_eq!(CACHE.as_str(), "cache");
/// assert_eq!(CACHES.as_str(), "cache");
/// # let _ = (BACKUP_CACHE, EVICTIONS);
/// ```
pub use beam_macros::names;

/// Everything a typical actor module needs: `use beam_runtime::prelude::*;`.
///
/// # Examples
///
/// ```
/// use beam_runtime::prelude::*;
///
/// struct Nop;
///
/// #[actor]
/// impl Nop {
///     #[cast]
///     fn poke(&mut self) {}
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), beam_runtime::Error> {
/// let system = ActorSystem::new();
/// let nop: ActorRef<Nop> = system.spawn::<Nop>(Nop).await?;
/// nop.poke()?;
/// # system.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub mod prelude {
    pub use crate::{
        Actor, ActorId, ActorRef, ActorSystem, Agent, CallError, ChildSpec, Ctx, DynamicSupervisor,
        ExitReason, Group, Info, LookupError, Monitor, MonitorRef, Name, Pool, RegistryError,
        Reply, Routing, SendError, SpawnError, StopError, StreamRef, Supervisor, SupervisorSpec,
        Task, TaskError, TimerRef, Topic,
    };
    pub use beam_macros::{actor, call, cast, handle_continue, info, init, terminate};
}
