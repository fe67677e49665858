//! [`ActorRef`], the typed, cloneable address of an actor.

use std::cmp::Ordering;
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use super::{Actor, ActorId, Process, Shared};
use crate::__private::{Api, WaitingApi};
use crate::signal::{Monitor, Signal, Watcher};

/// The typed address of an actor of type `A`.
///
/// The `#[call]` and `#[cast]` handlers of `A` are methods of `ActorRef<A>` (through
/// [`Deref`] to a generated type, so no trait needs importing). A ref is cheap to clone
/// (one reference count), `Send + Sync`, can travel inside messages to other actors, and
/// compares and hashes by [`ActorId`]. Holding a ref does not keep the actor alive.
///
/// Refs make sound map keys: `Hash` and `Eq` read only the immutable id. Clippy's
/// `mutable_key_type` lint cannot see that (the mailbox behind a ref is interior-mutable);
/// tell it with `ignore-interior-mutability = ["beam_runtime::ActorRef"]` in `clippy.toml`.
///
/// # Examples
///
/// ```
/// use beam_runtime::prelude::*;
///
/// struct Counter(i64);
///
/// #[actor]
/// impl Counter {
///     #[call]
///     fn get(&self) -> i64 {
///         self.0
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), beam_runtime::Error> {
/// let system = ActorSystem::new();
/// let counter = system.spawn::<Counter>(Counter(7)).await?;
/// let copy = counter.clone();
/// assert_eq!(copy, counter);
/// assert_eq!(copy.get().await?, 7);
/// assert!(counter.is_alive());
/// # system.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct ActorRef<A: Actor> {
    api: A::Api,
}

impl<A: Actor> ActorRef<A> {
    pub(crate) fn from_shared(shared: Arc<Shared<A>>) -> Self {
        Self {
            api: A::Api::from_raw(RawRef { shared }),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared<A>> {
        &self.api.raw().shared
    }

    /// The actor's id.
    #[must_use]
    pub fn id(&self) -> ActorId {
        self.shared().id
    }

    /// `true` until the actor has exited (after its `#[terminate]` hook).
    #[must_use]
    pub fn is_alive(&self) -> bool {
        self.shared().exit.reason().is_none()
    }

    /// Why the actor exited, or `None` while it is alive.
    #[must_use]
    pub fn exit_reason(&self) -> Option<crate::ExitReason> {
        self.shared().exit.reason().cloned()
    }

    /// The actors linked to this one now, in no particular order (OTP's
    /// `process_info(Pid, links)`); empty once it has exited.
    #[must_use]
    pub fn links(&self) -> Vec<ActorId> {
        self.shared()
            .mailbox
            .watched(|w| w.links.keys().copied().collect())
    }

    /// The actors monitoring this one now, once per monitor, in no particular order (OTP's
    /// `process_info(Pid, monitored_by)`); a [`Monitor`] held outside any actor counts as
    /// `<0.0>`. Empty once it has exited.
    #[must_use]
    pub fn monitored_by(&self) -> Vec<ActorId> {
        self.shared()
            .mailbox
            .watched(|w| w.monitors.values().map(Watcher::id).collect())
    }

    /// Stops the actor with [`ExitReason::Normal`](crate::ExitReason::Normal) after the
    /// messages already in its mailbox, and returns a future that waits until it has
    /// exited (OTP's `gen_server:stop`); the same as
    /// [`ActorSystem::stop`](crate::ActorSystem::stop). The stop is queued at once, not on
    /// the first poll.
    pub fn stop(&self) -> impl Future<Output = crate::ExitReason> + Send + 'static {
        self.shared().system.stop(self)
    }

    /// Stops the actor with `reason` after the messages already in its mailbox, as
    /// [`stop`](Self::stop) does, and waits for it at most `timeout`; if it has not exited
    /// by then, kills it (OTP's `gen_server:stop(Pid, Reason, Timeout)`). The same as
    /// [`ActorSystem::stop_with`](crate::ActorSystem::stop_with), where the details are.
    pub fn stop_with(
        &self,
        reason: crate::ExitReason,
        timeout: std::time::Duration,
    ) -> impl Future<Output = Result<crate::ExitReason, crate::StopError>> + Send + 'static {
        self.shared().system.stop_with(self, reason, timeout)
    }

    /// Monitors the actor from outside any actor (OTP's `monitor(process, Pid)`): the
    /// [`Monitor`] resolves, exactly once, to its exit reason, at once to
    /// [`ExitReason::NoProc`](crate::ExitReason::NoProc) if it has already exited. Dropping
    /// the handle removes the monitor. Inside an actor, [`Ctx::monitor`](crate::Ctx::monitor)
    /// delivers the same news as an [`Info::Down`](crate::Info::Down) message instead.
    pub fn monitor(&self) -> Monitor {
        Monitor::new(self.shared().clone())
    }

    /// The actor's `#[cast]` methods in a form that waits for room in a bounded mailbox:
    /// `r.waiting().name(args)` returns a [`Cast`](crate::Cast) future that resolves to
    /// `Result<(), SendError>` once the message is in the mailbox, or fails with
    /// [`SendError::Timeout`](crate::SendError::Timeout) when no room came within the
    /// default 5 s or [`Cast::timeout`](crate::Cast::timeout). To an unbounded mailbox, or
    /// one with room, it is sent at once. The plain `r.name(args)` never waits: a full
    /// mailbox refuses it with [`SendError::Full`](crate::SendError::Full).
    ///
    /// # Examples
    ///
    /// ```
    /// use beam_runtime::prelude::*;
    /// use std::time::Duration;
    ///
    /// struct Sink;
    ///
    /// #[actor(mailbox = 16)]
    /// impl Sink {
    ///     #[cast]
    ///     fn put(&mut self, n: u32) {}
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// let system = ActorSystem::new();
    /// let sink = system.spawn::<Sink>(Sink).await?;
    /// for n in 0..1_000 {
    ///     // Never `Full`: each waits, if need be, until the sink makes room.
    ///     sink.waiting().put(n).timeout(Duration::from_secs(1)).await?;
    /// }
    /// # system.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn waiting(&self) -> A::Waiting<'_> {
        A::Waiting::from_raw(self.api.raw())
    }

    /// Kills the actor at once, whatever it is doing: it exits with
    /// [`ExitReason::Killed`](crate::ExitReason::Killed) at its next await point, without
    /// running `#[terminate]`, and its children are killed too. Trapping exits does not
    /// help (OTP's `exit(Pid, kill)`). Does nothing to an actor that has already exited.
    pub fn kill(&self) {
        self.shared().signal(Signal::Kill);
    }

    /// Waits until the actor has exited (after its `#[terminate]` hook) and returns why.
    /// Returns at once for an actor that already exited. Waiting does not keep the actor
    /// alive or stop it.
    pub fn wait_for_exit(&self) -> impl Future<Output = crate::ExitReason> + Send + 'static {
        let shared = self.shared().clone();
        async move { shared.exit.wait().await }
    }
}

impl<A: Actor> Deref for ActorRef<A> {
    type Target = A::Api;

    fn deref(&self) -> &A::Api {
        &self.api
    }
}

impl<A: Actor> Clone for ActorRef<A> {
    fn clone(&self) -> Self {
        Self::from_shared(self.shared().clone())
    }
}

impl<A: Actor> PartialEq for ActorRef<A> {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl<A: Actor> Eq for ActorRef<A> {}

impl<A: Actor> PartialOrd for ActorRef<A> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<A: Actor> Ord for ActorRef<A> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id().cmp(&other.id())
    }
}

impl<A: Actor> Hash for ActorRef<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl<A: Actor> fmt::Debug for ActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActorRef<{}>{}", short_type_name::<A>(), self.id())
    }
}

/// The last path segment of a type's name, for messages.
pub(crate) fn short_type_name<T>() -> &'static str {
    short_name(std::any::type_name::<T>())
}

/// A type's name without its module path.
pub(crate) fn short_name(full: &str) -> &str {
    full.rsplit("::").next().unwrap_or(full)
}

/// The untyped core of a ref, used by generated code.
#[doc(hidden)]
pub struct RawRef<A: Actor> {
    pub(crate) shared: Arc<Shared<A>>,
}

impl<A: Actor> fmt::Debug for RawRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawRef{}", self.shared.id)
    }
}
