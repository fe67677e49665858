//! Exit signals, links and monitors: how the end of one actor reaches the others.
//!
//! - A **link** ([`Ctx::link`], [`Ctx::spawn_link`]) is bidirectional: when either side
//!   exits, the other receives an exit signal carrying the reason. [`ExitReason::Normal`]
//!   is ignored; any other reason kills the receiver with the same reason, unless it traps
//!   exits ([`Ctx::trap_exit`]), in which case it gets [`Info::Exit`] instead.
//! - A **monitor** ([`Ctx::monitor`]) is one-way: the watcher gets exactly one
//!   [`Info::Down`] when the watched actor exits, or at once with [`ExitReason::NoProc`] if
//!   it was already gone. [`Ctx::demonitor`] guarantees no `Down` is handled afterwards.
//! - Code outside any actor monitors with [`ActorRef::monitor`] (or
//!   [`ActorSystem::monitor`]): the [`Monitor`] handle it returns resolves, exactly once,
//!   to the watched actor's exit reason ([`ExitReason::NoProc`] at once if it was already
//!   gone); dropping the handle removes the monitor.
//! - [`ActorSystem::exit`] and [`ActorRef::kill`] send an exit signal directly. `Killed`
//!   cannot be trapped; a linked actor that was killed propagates as an ordinary
//!   (trappable) `Killed` reason, so a kill does not cascade as a kill.
//!
//! An exit signal that kills an actor takes effect at its next await point, like
//! [`ActorRef::kill`] (an actor busy with a burst of messages yields at least every 512
//! of them): the actor's `#[terminate]` hook does not run (as in OTP, trap exits to clean
//! up), and its children are killed with it. Once an actor has begun to exit (stopping its
//! children, running `#[terminate]`), exit signals no longer change its reason; only a
//! kill still ends it.
//!
//! An actor started linked ([`Ctx::spawn_link`], or by a supervisor) that traps exits
//! treats an exit signal from the actor that started it as a stop: it stops after its
//! queued messages, running `#[terminate]`, with the signal's reason.
//!
//! Links and monitors hear of an exit before [`ActorRef::wait_for_exit`] returns to those
//! already waiting, and after [`ActorRef::is_alive`] turns `false`.
//!
//! [`ActorRef::wait_for_exit`]: crate::ActorRef::wait_for_exit
//! [`ActorRef::is_alive`]: crate::ActorRef::is_alive
//!
//! [`Ctx::link`]: crate::Ctx::link
//! [`Ctx::spawn_link`]: crate::Ctx::spawn_link
//! [`Ctx::trap_exit`]: crate::Ctx::trap_exit
//! [`Ctx::monitor`]: crate::Ctx::monitor
//! [`Ctx::demonitor`]: crate::Ctx::demonitor
//! [`Info::Exit`]: crate::Info::Exit
//! [`Info::Down`]: crate::Info::Down
//! [`ActorSystem::exit`]: crate::ActorSystem::exit
//! [`ActorSystem::monitor`]: crate::ActorSystem::monitor
//! [`ActorRef::monitor`]: crate::ActorRef::monitor
//! [`ActorRef::kill`]: crate::ActorRef::kill
//!
//! # Examples
//!
//! ```
//! use beam_runtime::prelude::*;
//!
//! struct Worker;
//!
//! #[actor]
//! impl Worker {
//!     #[cast(crash_on_err)]
//!     fn fail(&mut self) -> Result<(), String> {
//!         Err("disk full".into())
//!     }
//! }
//!
//! struct Watcher {
//!     seen: Vec<String>,
//! }
//!
//! #[actor]
//! impl Watcher {
//!     #[init]
//!     async fn init(ctx: &mut Ctx<Self>) -> Result<Self, SpawnError> {
//!         ctx.trap_exit(true);
//!         let worker = ctx.spawn_link::<Worker>(Worker).await?;
//!         worker.fail().expect("the worker is alive");
//!         Ok(Watcher { seen: Vec::new() })
//!     }
//!
//!     #[info]
//!     fn info(&mut self, info: Info) {
//!         if let Info::Exit { reason, .. } = info {
//!             self.seen.push(reason.to_string());
//!         }
//!     }
//!
//!     #[call]
//!     fn seen(&self) -> Vec<String> {
//!         self.seen.clone()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let system = ActorSystem::new();
//! let watcher = system.spawn::<Watcher>(()).await?;
//! tokio::task::yield_now().await; // lets the worker run (and fail)
//! assert_eq!(watcher.seen().await?, ["error: disk full"]);
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use rustc_hash::FxHashMap;
use tokio::sync::oneshot;

use crate::actor::{ActorId, Process};
use crate::exit::ExitReason;
use crate::registry::Registration;

/// Identifies one monitor, from [`Ctx::monitor`](crate::Ctx::monitor); it comes back in
/// the [`Info::Down`](crate::Info::Down) it produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonitorRef(u64);

impl MonitorRef {
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl fmt::Display for MonitorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Ref<{}>", self.0)
    }
}

/// The id that [`Info::Exit`](crate::Info::Exit) names as the sender of an exit signal
/// sent from outside any actor (with [`ActorSystem::exit`](crate::ActorSystem::exit)):
/// `<0.0>`, never an actor's.
pub(crate) const OUTSIDE: ActorId = ActorId::from_raw(0);

/// A signal from one actor (or the outside) to another.
pub(crate) enum Signal {
    /// An exit signal; `link` says it comes through a link (ignored if the link has been
    /// removed meanwhile).
    Exit {
        from: ActorId,
        reason: ExitReason,
        link: bool,
    },
    /// The untrappable kill.
    Kill,
    /// A monitored actor exited.
    Down {
        monitor: MonitorRef,
        id: ActorId,
        reason: ExitReason,
    },
}

/// What the rest of the system may change about an actor from outside it, kept under its
/// mailbox's lock so that it is taken atomically with the mailbox's closing: a link or
/// monitor is either in place before the actor exits (and is notified), or finds it gone.
#[derive(Default)]
pub(crate) struct Watch {
    /// Whether exit signals become `Info::Exit` messages.
    pub(crate) trap: bool,
    /// The actor that started this one linked (a supervisor, or a `spawn_link` parent): an
    /// exit signal from it stops this one even when it traps exits.
    pub(crate) parent: Option<ActorId>,
    /// The reason to publish when the actor's task is dropped after an exit signal killed
    /// it.
    pub(crate) doom: Option<ExitReason>,
    /// The actors linked to this one.
    pub(crate) links: FxHashMap<ActorId, Arc<dyn Process>>,
    /// The monitors on this actor, and who holds each.
    pub(crate) monitors: FxHashMap<MonitorRef, Watcher>,
    /// The names, groups and topics this actor is registered under.
    pub(crate) registry: Vec<Registration>,
    /// A label for people, shown by introspection (a task's, from `Task::label`).
    pub(crate) label: Option<Box<str>>,
    /// The earliest deadline of the stops asked for with one: an exit that ends after it
    /// ends `Killed`, as the stopper kills an actor still running then (kept here, made
    /// on first use, rather than in every mailbox).
    pub(crate) stop_by: Option<tokio::time::Instant>,
}

/// What receiving a signal comes to.
pub(crate) enum Verdict {
    /// Nothing happens.
    Ignore,
    /// Something for the actor's mailbox.
    Queue(Queued),
    /// The actor dies with this reason.
    Die(ExitReason),
}

/// What a signal puts in the mailbox.
pub(crate) enum Queued {
    /// A message for the `#[info]` handler.
    Info(crate::message::Info),
    /// An orderly stop (with `#[terminate]`) after the messages before it: a trapped exit
    /// from the parent, as in OTP's `gen_server`.
    Stop(ExitReason),
}

impl Watch {
    /// Decides what `signal` does to the actor `me` that owns this watch; `exiting` says
    /// it has begun its exit, after which exit signals no longer change its reason (only
    /// the kill still ends it).
    pub(crate) fn receive(&mut self, me: ActorId, signal: Signal, exiting: bool) -> Verdict {
        use crate::message::Info;
        match signal {
            Signal::Kill => Verdict::Die(ExitReason::Killed),
            Signal::Down {
                monitor,
                id,
                reason,
            } => Verdict::Queue(Queued::Info(Info::Down {
                monitor,
                id,
                reason,
            })),
            Signal::Exit { from, reason, link } => {
                if link && self.links.remove(&from).is_none() {
                    // Unlinked meanwhile: the link has no effect any more.
                    return Verdict::Ignore;
                }
                if exiting {
                    Verdict::Ignore
                } else if self.trap && self.parent == Some(from) {
                    Verdict::Queue(Queued::Stop(reason))
                } else if self.trap {
                    Verdict::Queue(Queued::Info(Info::Exit { from, reason }))
                } else if reason == ExitReason::Normal && from != me {
                    Verdict::Ignore
                } else {
                    Verdict::Die(reason)
                }
            }
        }
    }

    /// Whether nothing is recorded: the box can be dropped.
    pub(crate) fn is_empty(&self) -> bool {
        !self.trap
            && self.parent.is_none()
            && self.doom.is_none()
            && self.links.is_empty()
            && self.monitors.is_empty()
            && self.registry.is_empty()
            && self.label.is_none()
    }

    /// Forgets one registration (the actor left the key before exiting).
    pub(crate) fn forget(&mut self, registration: &Registration) {
        if let Some(at) = self.registry.iter().position(|r| r == registration) {
            self.registry.swap_remove(at);
        }
    }
}

/// What an exiting actor owes the others: exit signals to its links, `Down` to its
/// watchers.
pub(crate) fn notify_exit(id: ActorId, watch: Watch, reason: &ExitReason) {
    for (_, linked) in watch.links {
        linked.signal(Signal::Exit {
            from: id,
            reason: reason.clone(),
            link: true,
        });
    }
    for (monitor, watcher) in watch.monitors {
        match watcher {
            Watcher::Actor(watcher) => {
                watcher.signal(Signal::Down {
                    monitor,
                    id,
                    reason: reason.clone(),
                });
            }
            Watcher::Outside(down) => {
                // The handle may have been dropped meanwhile; then nobody is waiting.
                let _ = down.send(reason.clone());
            }
        }
    }
}

/// Who holds a monitor: an actor, told by an [`Info::Down`](crate::Info::Down) message, or
/// a [`Monitor`] handle held outside any actor.
pub(crate) enum Watcher {
    /// An actor's monitor, from [`Ctx::monitor`](crate::Ctx::monitor).
    Actor(Arc<dyn Process>),
    /// A [`Monitor`] handle, told through this channel.
    Outside(oneshot::Sender<ExitReason>),
}

impl Watcher {
    /// The holder's id: [`OUTSIDE`] for a handle.
    pub(crate) fn id(&self) -> ActorId {
        match self {
            Watcher::Actor(process) => process.id(),
            Watcher::Outside(_) => OUTSIDE,
        }
    }
}

/// A monitor held outside any actor, from [`ActorRef::monitor`](crate::ActorRef::monitor)
/// or [`ActorSystem::monitor`](crate::ActorSystem::monitor): a future that resolves,
/// exactly once, to the exit reason of the actor it watches.
///
/// It is OTP's `monitor(process, Pid)` for code that is not an actor (a `main`, a test, a
/// request handler): where an actor gets an [`Info::Down`](crate::Info::Down) message, the
/// holder of a `Monitor` awaits it, or polls `&mut monitor` in a `tokio::select!` loop.
///
/// - It resolves to [`ExitReason::NoProc`] at once if the actor had already exited when the
///   monitor was made (as OTP's `noproc`), whatever its reason was; use
///   [`ActorRef::wait_for_exit`](crate::ActorRef::wait_for_exit) for the reason of an actor
///   that may be gone already.
/// - It resolves once: after it has given the reason, polling it again stays pending (like
///   a `Down` message that was already received), so a `select!` branch on it never fires
///   twice.
/// - Dropping it (or [`demonitor`](Self::demonitor)) removes the monitor from the actor:
///   it no longer appears in [`ActorRef::monitored_by`](crate::ActorRef::monitored_by),
///   which lists a handle's monitor under `<0.0>`.
/// - Holding it does not keep the actor alive, nor stop it.
///
/// # Examples
///
/// ```
/// use beam_runtime::prelude::*;
///
/// struct Worker;
///
/// #[actor]
/// impl Worker {
///     #[cast(crash_on_err)]
///     fn fail(&mut self) -> Result<(), String> {
///         Err("disk full".into())
///     }
/// }
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> Result<(), beam_runtime::Error> {
///     let system = ActorSystem::new();
///     let worker = system.spawn::<Worker>(Worker).await?;
///     let mut down = worker.monitor();
///     worker.fail()?;
///     tokio::select! {
///         reason = &mut down => assert_eq!(reason, ExitReason::Error("disk full".into())),
///         () = tokio::time::sleep(std::time::Duration::from_secs(1)) => panic!("still up"),
///     }
///
///     // An actor already gone: `NoProc` at once.
///     assert_eq!(worker.monitor().await, ExitReason::NoProc);
///     system.shutdown().await;
///     Ok(())
/// }
/// ```
#[must_use = "a monitor is removed when its handle is dropped"]
pub struct Monitor {
    id: MonitorRef,
    actor: ActorId,
    /// The watched actor, to remove the monitor from; `None` once it has resolved.
    target: Option<Arc<dyn Process>>,
    /// The exit reason to come, or already known (`NoProc`).
    down: Down,
}

enum Down {
    Waiting(oneshot::Receiver<ExitReason>),
    Known(ExitReason),
    Taken,
}

impl Monitor {
    /// Monitors `target` from outside any actor.
    pub(crate) fn new(target: Arc<dyn Process>) -> Self {
        let id = MonitorRef::next();
        let actor = target.id();
        let (tx, rx) = oneshot::channel();
        let down = if target.add_monitor(id, Watcher::Outside(tx)) {
            Down::Waiting(rx)
        } else {
            Down::Known(ExitReason::NoProc)
        };
        Self {
            id,
            actor,
            target: Some(target),
            down,
        }
    }

    /// This monitor's ref, unique like those of [`Ctx::monitor`](crate::Ctx::monitor).
    #[must_use]
    pub fn id(&self) -> MonitorRef {
        self.id
    }

    /// The actor it watches.
    #[must_use]
    pub fn actor(&self) -> ActorId {
        self.actor
    }

    /// The exit reason if the actor is down and the reason was not taken yet, without
    /// waiting; a reason returned here is not given again (by this or by awaiting).
    pub fn try_down(&mut self) -> Option<ExitReason> {
        let reason = match &mut self.down {
            Down::Waiting(rx) => match rx.try_recv() {
                Ok(reason) => reason,
                Err(oneshot::error::TryRecvError::Empty) => return None,
                Err(oneshot::error::TryRecvError::Closed) => self.lost(),
            },
            Down::Known(reason) => reason.clone(),
            Down::Taken => return None,
        };
        Some(self.take(reason))
    }

    /// Removes the monitor (as dropping it does): no reason is given afterwards.
    pub fn demonitor(self) {}

    /// The channel closed with nothing sent: the actor's state was dropped without its
    /// exit being published (its runtime shut down).
    #[cold]
    fn lost(&self) -> ExitReason {
        self.target
            .as_ref()
            .and_then(|t| t.exit().reason().cloned())
            .unwrap_or(ExitReason::NoProc)
    }

    fn take(&mut self, reason: ExitReason) -> ExitReason {
        self.down = Down::Taken;
        // The monitor has fired: nothing to remove any more.
        self.target = None;
        reason
    }
}

impl Future for Monitor {
    type Output = ExitReason;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ExitReason> {
        let this = &mut *self;
        let reason = match &mut this.down {
            Down::Waiting(rx) => match Pin::new(rx).poll(cx) {
                Poll::Ready(Ok(reason)) => reason,
                Poll::Ready(Err(_)) => this.lost(),
                Poll::Pending => return Poll::Pending,
            },
            Down::Known(reason) => reason.clone(),
            // Given once already.
            Down::Taken => return Poll::Pending,
        };
        Poll::Ready(this.take(reason))
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        if let Some(target) = self.target.take() {
            target.remove_monitor(self.id);
        }
    }
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("id", &self.id)
            .field("actor", &self.actor)
            .field("down", &matches!(self.down, Down::Taken))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Info;

    fn id(n: u64) -> ActorId {
        ActorId::from_raw(n)
    }

    fn exit(from: u64, reason: ExitReason, link: bool) -> Signal {
        Signal::Exit {
            from: id(from),
            reason,
            link,
        }
    }

    #[test]
    fn normal_is_ignored_unless_trapped_or_sent_to_oneself() {
        let mut w = Watch::default();
        assert!(matches!(
            w.receive(id(1), exit(2, ExitReason::Normal, false), false),
            Verdict::Ignore
        ));
        assert!(matches!(
            w.receive(id(1), exit(1, ExitReason::Normal, false), false),
            Verdict::Die(ExitReason::Normal)
        ));
        w.trap = true;
        assert!(matches!(
            w.receive(id(1), exit(2, ExitReason::Normal, false), false),
            Verdict::Queue(Queued::Info(Info::Exit {
                reason: ExitReason::Normal,
                ..
            }))
        ));
    }

    #[test]
    fn kill_cannot_be_trapped_but_killed_can() {
        let mut w = Watch {
            trap: true,
            ..Watch::default()
        };
        assert!(matches!(
            w.receive(id(1), Signal::Kill, false),
            Verdict::Die(ExitReason::Killed)
        ));
        assert!(matches!(
            w.receive(id(1), exit(2, ExitReason::Killed, false), false),
            Verdict::Queue(Queued::Info(Info::Exit {
                reason: ExitReason::Killed,
                ..
            }))
        ));
    }

    #[test]
    fn an_exiting_actor_keeps_its_reason_but_can_be_killed() {
        let mut w = Watch::default();
        assert!(matches!(
            w.receive(id(1), exit(2, ExitReason::Shutdown, false), true),
            Verdict::Ignore
        ));
        assert!(matches!(
            w.receive(id(1), Signal::Kill, true),
            Verdict::Die(ExitReason::Killed)
        ));
    }

    #[test]
    fn a_trapped_exit_from_the_parent_is_a_stop() {
        let mut w = Watch {
            trap: true,
            parent: Some(id(2)),
            ..Watch::default()
        };
        assert!(matches!(
            w.receive(id(1), exit(2, ExitReason::Normal, false), false),
            Verdict::Queue(Queued::Stop(ExitReason::Normal))
        ));
        assert!(matches!(
            w.receive(id(1), exit(3, ExitReason::Normal, false), false),
            Verdict::Queue(Queued::Info(_))
        ));
    }

    #[test]
    fn a_removed_link_has_no_effect() {
        let mut w = Watch::default();
        assert!(matches!(
            w.receive(id(1), exit(2, ExitReason::Shutdown, true), false),
            Verdict::Ignore
        ));
        assert!(matches!(
            w.receive(id(1), exit(2, ExitReason::Shutdown, false), false),
            Verdict::Die(ExitReason::Shutdown)
        ));
    }
}
