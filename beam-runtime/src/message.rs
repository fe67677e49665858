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
use std::mem::ManuallyDrop;

use tokio::sync::oneshot;

use crate::actor::ActorId;
use crate::actor::run::{current_actor, in_teardown_of};
use crate::exit::ExitReason;
use crate::signal::MonitorRef;

/// A system message, delivered to the actor's `#[info]` handler (and dropped if it has
/// none).
///
/// `#[non_exhaustive]`: later releases add notices (for example about remote nodes).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Info {
    /// The actor has been idle for its idle timeout
    /// ([`Ctx::set_idle_timeout`](crate::Ctx::set_idle_timeout)).
    Timeout,
    /// An exit signal reached this actor while it traps exits
    /// ([`Ctx::trap_exit`](crate::Ctx::trap_exit)): a linked actor exited, or someone
    /// called [`ActorSystem::exit`](crate::ActorSystem::exit) on it. OTP's
    /// `{'EXIT', From, Reason}`.
    Exit {
        /// Who sent the signal: the linked actor that exited, or the sender of
        /// `ActorSystem::exit` (`<0.0>` when sent from outside any actor).
        from: ActorId,
        /// The exit reason the signal carries.
        reason: ExitReason,
    },
    /// An actor this one monitors ([`Ctx::monitor`](crate::Ctx::monitor)) exited, or was
    /// already gone when the monitor was set (then with [`ExitReason::NoProc`]). Exactly one
    /// per monitor, unless [`Ctx::demonitor`](crate::Ctx::demonitor) removed it first.
    Down {
        /// The monitor, as `Ctx::monitor` returned it.
        monitor: MonitorRef,
        /// The actor that exited.
        id: ActorId,
        /// Why it exited.
        reason: ExitReason,
    },
}

/// The handle to answer a call, for a `#[call]` handler that replies later.
///
/// A `#[call]` handler that takes a `Reply<T>` argument returns nothing; the caller gets
/// the value given to [`send`](Self::send). If the handle is dropped unsent, the caller
/// gets [`CallError::NoReply`](crate::CallError::NoReply) at once; if it is dropped because
/// the actor crashed or stopped, the caller gets
/// [`CallError::Exited`](crate::CallError::Exited) with the actor's final exit reason.
pub struct Reply<T> {
    /// Taken exactly once, by [`send`](Self::send) or by the drop; not an `Option`, which
    /// would make every call message 8 bytes larger. `None` travels when the handle is
    /// dropped on purpose; a closed channel means the actor is going down.
    tx: ManuallyDrop<oneshot::Sender<Option<T>>>,
    /// The actor called: only its crash or teardown closes the channel silently.
    target: ActorId,
}

impl<T> Reply<T> {
    pub(crate) fn pair(target: ActorId) -> (Self, oneshot::Receiver<Option<T>>) {
        let (tx, rx) = oneshot::channel();
        (
            Self {
                tx: ManuallyDrop::new(tx),
                target,
            },
            rx,
        )
    }

    /// Answers the call. Gives the value back if the caller stopped waiting (it timed out
    /// or was dropped); a late reply is otherwise harmless.
    pub fn send(self, value: T) -> Result<(), T> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so its sender is taken here only.
        let tx = unsafe { ManuallyDrop::take(&mut this.tx) };
        tx.send(Some(value)).map_err(|v| v.expect("sent a value"))
    }

    /// `true` once the caller has stopped waiting.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

impl<T> Drop for Reply<T> {
    fn drop(&mut self) {
        // SAFETY: the handle is being dropped, and `send` (which takes the sender too)
        // never drops it.
        let tx = unsafe { ManuallyDrop::take(&mut self.tx) };
        // Dropped while the called actor's handler panics, or while the runtime takes that
        // actor apart: close the channel, and the caller waits for its final exit reason.
        // Any other drop answers `NoReply` at once.
        let going_down = in_teardown_of(self.target)
            || (std::thread::panicking() && current_actor() == Some(self.target));
        if !going_down {
            let _ = tx.send(None);
        }
    }
}

impl<T> fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("closed", &self.is_closed())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_handle_is_its_sender_and_an_id_so_call_messages_stay_small() {
        use std::mem::size_of;
        assert_eq!(
            size_of::<Reply<u64>>(),
            size_of::<oneshot::Sender<Option<u64>>>() + size_of::<ActorId>()
        );
    }

    #[tokio::test]
    async fn a_reply_sent_or_dropped_reaches_the_caller_once() {
        let (reply, rx) = Reply::<u32>::pair(ActorId::next());
        assert!(!reply.is_closed());
        assert_eq!(reply.send(3), Ok(()));
        assert_eq!(rx.await, Ok(Some(3)));

        let (reply, rx) = Reply::<u32>::pair(ActorId::next());
        drop(reply);
        assert_eq!(rx.await, Ok(None));

        let (reply, rx) = Reply::<u32>::pair(ActorId::next());
        drop(rx);
        assert!(reply.is_closed());
        assert_eq!(reply.send(4), Err(4));
    }
}
