//! What besides calls and casts reaches an actor: [`Info`] for system messages, and
//! [`Reply`], the handle a `#[call]` handler takes to answer later.
//!
//! # Examples
//!
//! A call answered later, from another task (OTP's `{noreply, State}` and
//! `gen_server:reply`):
//!
//! ```
//! use beam_runtime::prelude::*;
//!
//! struct Slow;
//!
//! #[actor]
//! impl Slow {
//!     #[call]
//!     fn double(&mut self, n: u64, reply: Reply<u64>) {
//!         tokio::spawn(async move {
//!             let _ = reply.send(n * 2);
//!         });
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let system = ActorSystem::new();
//! let slow = system.spawn::<Slow>(Slow).await?;
//! assert_eq!(slow.double(21).await?, 42);
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::fmt;

use tokio::sync::oneshot;

/// A system message, delivered to the actor's `#[info]` handler.
///
/// `#[non_exhaustive]`: links and monitors add their notices here.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Info {
    /// The actor has been idle for its idle timeout
    /// ([`Ctx::set_idle_timeout`](crate::Ctx::set_idle_timeout)).
    Timeout,
}

/// The handle to answer a call, for a `#[call]` handler that replies later.
///
/// A `#[call]` handler that takes a `Reply<T>` argument returns nothing; the caller gets
/// the value given to [`send`](Self::send). If the handle is dropped unsent, the caller
/// gets [`CallError::NoReply`](crate::CallError::NoReply) at once (or
/// [`CallError::Exited`](crate::CallError::Exited) if the actor died).
pub struct Reply<T> {
    tx: oneshot::Sender<T>,
}

impl<T> Reply<T> {
    pub(crate) fn pair() -> (Self, oneshot::Receiver<T>) {
        let (tx, rx) = oneshot::channel();
        (Self { tx }, rx)
    }

    /// Answers the call. Gives the value back if the caller stopped waiting (it timed out
    /// or was dropped); a late reply is otherwise harmless.
    pub fn send(self, value: T) -> Result<(), T> {
        self.tx.send(value)
    }

    /// `true` once the caller has stopped waiting.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

impl<T> fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("closed", &self.is_closed())
            .finish()
    }
}
