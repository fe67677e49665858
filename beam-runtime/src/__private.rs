//! What the macros' generated code uses. Not a public API: it changes without notice.

use std::fmt;

pub use crate::actor::actor_ref::RawRef;
pub use crate::actor::{Actor, Ctx};
pub use crate::call::Call;
pub use crate::cast::Cast;
pub use crate::error::SendError;
pub use crate::exit::ExitReason;
pub use crate::message::{Info, Reply};
pub use crate::registry::Name;
pub use ::core::convert::Infallible;
pub use ::core::future::Future;
pub use tokio::sync::oneshot::Receiver;

use crate::actor::Envelope;

/// The generated type a ref derefs to; it carries the typed handler methods.
pub trait Api<A: Actor>: Send + Sync + 'static {
    fn from_raw(raw: RawRef<A>) -> Self;
    fn raw(&self) -> &RawRef<A>;
}

/// The generated type [`ActorRef::waiting`](crate::ActorRef::waiting) gives: the casts
/// that wait for room.
pub trait WaitingApi<'a, A: Actor> {
    fn from_raw(raw: &'a RawRef<A>) -> Self;
}

/// Builds a cast that waits for room; nothing is sent until it is polled.
#[inline]
pub fn cast_waiting<A: Actor>(raw: &RawRef<A>, msg: A::Msg) -> Cast<'_, A> {
    Cast::new(raw, msg)
}

/// Sends a cast: zero allocations on an unbounded mailbox with spare capacity.
#[inline]
pub fn cast<A: Actor>(raw: &RawRef<A>, msg: A::Msg) -> Result<(), SendError> {
    let mailbox = &raw.shared.mailbox;
    if let Err(err) = mailbox.try_reserve() {
        if err == SendError::Full {
            overflow(raw);
        }
        return Err(err);
    }
    match mailbox.push(Envelope::Msg(msg)) {
        Ok(()) => Ok(()),
        Err(_) => Err(SendError::NoProc),
    }
}

/// A cast found the mailbox full: telemetry's `beam.mailbox.overflow`.
#[cold]
#[inline(never)]
fn overflow<A: Actor>(raw: &RawRef<A>) {
    let shared = &raw.shared;
    crate::telemetry::emit::mailbox_overflow(
        shared.id,
        crate::actor::actor_ref::short_type_name::<A>(),
        shared.mailbox.capacity().unwrap_or(0),
    );
}

/// The reply port of a call and its receiving end (the call's one allocation).
#[inline]
pub fn reply_pair<A: Actor, T>(raw: &RawRef<A>) -> (Reply<T>, Receiver<Option<T>>) {
    Reply::pair(raw.shared.id)
}

/// Builds a call; nothing is sent until it is polled.
#[inline]
pub fn call<A: Actor, T>(raw: &RawRef<A>, msg: A::Msg, rx: Receiver<Option<T>>) -> Call<'_, A, T> {
    Call::new(raw, msg, rx)
}

/// Which kind of handler runs, as telemetry and tracing report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandlerKind {
    /// A `#[call]`.
    Call,
    /// A `#[cast]`.
    Cast,
    /// The `#[info]` handler.
    Info,
    /// The `#[handle_continue]` handler.
    Continue,
    /// `#[init]`.
    Init,
}

impl HandlerKind {
    /// The kind as tracing reports it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Call => "call",
            Self::Cast => "cast",
            Self::Info => "info",
            Self::Continue => "handle_continue",
            Self::Init => "init",
        }
    }
}

/// The handler a message goes to: its method's name, its kind, and whether it is
/// synchronous (run by `__handle_now`) or async (run by `__handle`).
#[derive(Debug, Clone, Copy)]
pub struct Describe {
    pub name: &'static str,
    pub kind: HandlerKind,
    pub sync: bool,
}

/// Why `#[init]` failed, as text.
#[derive(Debug)]
pub struct InitError(String);

impl InitError {
    pub(crate) fn into_message(self) -> String {
        self.0
    }
}

/// What a fallible `#[init]` may return.
#[diagnostic::on_unimplemented(
    message = "`#[init]` must return `Self` or `Result<Self, E>` where `E: Display`",
    label = "this is not `Self` or `Result<Self, E: Display>`"
)]
pub trait InitResult<A> {
    fn into_init(self) -> Result<A, InitError>;
}

impl<A, E: fmt::Display> InitResult<A> for Result<A, E> {
    fn into_init(self) -> Result<A, InitError> {
        self.map_err(|e| InitError(e.to_string()))
    }
}

/// What a handler marked `crash_on_err` that does not reply returns: `Result<(), E>` with
/// `E: Display`. Checked on the return type, so an alias of a `Result` is one too.
#[diagnostic::on_unimplemented(
    message = "a handler marked `crash_on_err` must return `Result<(), E>` where `E: Display`",
    label = "this is not `Result<(), E: Display>`"
)]
pub trait HandlerResult {
    fn failure(self) -> Option<String>;
}

impl<E: fmt::Display> HandlerResult for Result<(), E> {
    fn failure(self) -> Option<String> {
        self.err().map(|e| e.to_string())
    }
}

/// What a `#[call(crash_on_err)]` returns: `Result<T, E>` with `E: Display`. Checked on the
/// return type, so an alias of a `Result` is one too.
#[diagnostic::on_unimplemented(
    message = "`#[call(crash_on_err)]` must return `Result<T, E>` where `E: Display`",
    label = "this is not `Result<T, E: Display>`"
)]
pub trait CallResult {
    fn failure(&self) -> Option<String>;
}

impl<T, E: fmt::Display> CallResult for Result<T, E> {
    fn failure(&self) -> Option<String> {
        self.as_ref().err().map(|e| e.to_string())
    }
}

/// What a `#[cast]` without `crash_on_err` returns: nothing, as nobody receives its value.
#[diagnostic::on_unimplemented(
    message = "`#[cast]` handlers return `()`, not `{Self}`",
    label = "nobody receives a cast's value",
    note = "to reply, make it a `#[call]`; to crash on an `Err`, write `#[cast(crash_on_err)]`"
)]
pub trait CastReturn {
    #[inline(always)]
    fn done(self)
    where
        Self: Sized,
    {
    }
}
impl CastReturn for () {}

/// What a `#[call]` that answers through its `Reply` returns without `crash_on_err`.
#[diagnostic::on_unimplemented(
    message = "a `#[call]` that takes a `Reply` returns `()`, not `{Self}`",
    label = "it answers through the `Reply`",
    note = "to crash on an `Err`, write `#[call(crash_on_err)]`"
)]
pub trait ReplyCallReturn {
    #[inline(always)]
    fn done(self)
    where
        Self: Sized,
    {
    }
}
impl ReplyCallReturn for () {}

/// What `#[info]` returns without `crash_on_err`.
#[diagnostic::on_unimplemented(
    message = "`#[info]` handlers return `()`, not `{Self}`",
    label = "nobody receives this value",
    note = "to crash on an `Err`, write `#[info(crash_on_err)]`"
)]
pub trait InfoReturn {
    #[inline(always)]
    fn done(self)
    where
        Self: Sized,
    {
    }
}
impl InfoReturn for () {}

/// What `#[handle_continue]` returns without `crash_on_err`.
#[diagnostic::on_unimplemented(
    message = "`#[handle_continue]` handlers return `()`, not `{Self}`",
    label = "nobody receives this value",
    note = "to crash on an `Err`, write `#[handle_continue(crash_on_err)]`"
)]
pub trait ContinueReturn {
    #[inline(always)]
    fn done(self)
    where
        Self: Sized,
    {
    }
}
impl ContinueReturn for () {}

/// Stops the actor with `ExitReason::Error` if its handler failed.
#[inline]
pub fn fail<A: Actor>(ctx: &mut Ctx<A>, failure: Option<String>) {
    if let Some(message) = failure {
        ctx.stop_with(ExitReason::Error(message));
    }
}

/// What a handler argument must be to travel in a message.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent to an actor",
    label = "handler arguments must be `Send + 'static`"
)]
pub trait MessageArg {}
impl<T: Send + 'static> MessageArg for T {}

/// What an actor's own type must be: it moves between worker threads.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an actor",
    label = "an actor's state must be `Send + 'static`: it runs on any worker thread"
)]
pub trait ActorState {}
impl<T: Send + 'static> ActorState for T {}

/// What a `#[call]` reply must be to travel back.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent back as a reply",
    label = "`#[call]` replies must be `Send + 'static`"
)]
pub trait MessageReply {}
impl<T: Send + 'static> MessageReply for T {}

/// Debug text for a generated message enum: the variant only, as arguments need not be
/// `Debug`.
pub fn fmt_variant(f: &mut fmt::Formatter<'_>, enum_name: &str, variant: &str) -> fmt::Result {
    write!(f, "{enum_name}::{variant} {{ .. }}")
}
