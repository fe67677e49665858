#![doc = include_str!("../../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod actor;
pub mod call;
pub mod error;
pub mod exit;
mod mailbox;
pub mod message;
pub mod registry;
pub mod system;

#[doc(hidden)]
#[path = "__private.rs"]
pub mod __private;

pub use actor::{Actor, ActorId, ActorRef, Ctx, SpawnBuilder, TimerRef};
pub use call::{Call, DEFAULT_CALL_TIMEOUT};
pub use error::{CallError, Error, LookupError, SendError, ShutdownError, SpawnError};
pub use exit::ExitReason;
pub use message::{Info, Reply};
pub use registry::{IntoName, Name};
pub use system::{ActorSystem, DEFAULT_SHUTDOWN_TIMEOUT};

pub use beam_macros::{actor, call, cast, handle_continue, info, init, names, terminate};

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
        Actor, ActorId, ActorRef, ActorSystem, CallError, Ctx, ExitReason, Info, LookupError, Name,
        Reply, SendError, SpawnError, TimerRef,
    };
    pub use beam_macros::{actor, call, cast, handle_continue, info, init, terminate};
}
