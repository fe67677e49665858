//! [`Call`], the future a `#[call]` method of a ref returns.
//!
//! # Examples
//!
//! ```
//! use beam_runtime::prelude::*;
//! use std::time::Duration;
//!
//! struct Sleepy;
//!
//! #[actor]
//! impl Sleepy {
//!     #[call]
//!     async fn nap(&self, ms: u64) -> &'static str {
//!         tokio::time::sleep(Duration::from_millis(ms)).await;
//!         "rested"
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let system = ActorSystem::new();
//! let sleepy = system.spawn::<Sleepy>(Sleepy).await?;
//! assert_eq!(sleepy.nap(10).await?, "rested");
//! let late = sleepy.nap(1_000).timeout(Duration::from_millis(50)).await;
//! assert_eq!(late, Err(CallError::Timeout));
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::sync::futures::Notified;
use tokio::sync::{AcquireError, SemaphorePermit, oneshot};
use tokio::time::Instant;

use crate::actor::actor_ref::RawRef;
use crate::actor::run::current_actor;
use crate::actor::{Actor, Envelope};
use crate::deadline::{Deadline, Deadlines};
use crate::error::{CallError, SendError};
use crate::sched::run_in_place;

/// How long a call waits for its reply unless told otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// `timeout` from now, or about 30 years from now for longer ones (`Duration::MAX` means
/// "no timeout" without overflowing the clock).
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout).unwrap_or_else(|| now + FOREVER)
}

/// A wait this long or longer never ends: such a call deadline is never armed
/// (about 30 years).
pub(crate) const FOREVER: Duration = Duration::from_secs(86_400 * 365 * 30);

type Acquire<'a> =
    Pin<Box<dyn Future<Output = Result<SemaphorePermit<'a>, AcquireError>> + Send + 'a>>;

enum Stage<'a> {
    Start,
    /// Waiting for room in a bounded mailbox.
    Room(Acquire<'a>),
    /// Sent; waiting for the reply.
    Waiting,
    /// The actor is going down: waiting for its final reason (boxed: a rare path).
    Exiting(Pin<Box<Notified<'a>>>),
    Done,
}

pin_project! {
    /// A request to an actor and the wait for its reply; resolves to
    /// `Result<T, CallError>`.
    ///
    /// Nothing is sent until it is first polled. It fails at once with
    /// [`CallError::NoProc`] if the actor is not alive and with [`CallError::CallingSelf`]
    /// if an actor calls itself; with [`CallError::Exited`] if the actor dies before
    /// replying, and with [`CallError::Timeout`] after [`DEFAULT_CALL_TIMEOUT`] or the
    /// time given to [`timeout`](Self::timeout), counted from the end of the scheduling
    /// round in which the call is sent (the caller yields once, as
    /// [`tokio::task::yield_now`] does: most calls are answered within that round and never
    /// arm a timer). The timeout includes any wait for room in a bounded mailbox.
    ///
    /// Sending to an idle actor runs the actor at once, within this poll, on the caller's
    /// thread: a synchronous handler's reply is ready before the first poll returns. Its
    /// handler span is not nested in the caller's tracing span, but it runs in the caller's
    /// tokio task, so `tokio::task::id()` and tokio task-locals are the caller's there. An
    /// actor that is already running or queued, or a call nested more than 8 deep in such
    /// runs, is left to the system's scheduler.
    #[must_use = "a call does nothing unless awaited"]
    pub struct Call<'a, A: Actor, T> {
        target: &'a RawRef<A>,
        msg: Option<A::Msg>,
        rx: oneshot::Receiver<Option<T>>,
        stage: Stage<'a>,
        deadline: Deadline,
    }

    impl<'a, A: Actor, T> PinnedDrop for Call<'a, A, T> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.deadline.clear(this.target.shared.system.deadlines());
        }
    }
}

impl<'a, A: Actor, T> Call<'a, A, T> {
    pub(crate) fn new(
        target: &'a RawRef<A>,
        msg: A::Msg,
        rx: oneshot::Receiver<Option<T>>,
    ) -> Self {
        Self {
            target,
            msg: Some(msg),
            rx,
            stage: Stage::Start,
            deadline: Deadline::after(DEFAULT_CALL_TIMEOUT),
        }
    }

    /// Waits at most `timeout` for the reply instead of [`DEFAULT_CALL_TIMEOUT`]
    /// (`Duration::MAX`, or any timeout of 30 years or more, waits for as long as it takes
    /// and arms no timer at all).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        // A call polled (and moved) already may hold a slot in the deadline table.
        self.deadline.clear(self.target.shared.system.deadlines());
        self.deadline = Deadline::after(timeout);
        self
    }
}

impl<A: Actor, T> Future for Call<'_, A, T> {
    type Output = Result<T, CallError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let shared = &*this.target.shared;
        let table = shared.system.deadlines();
        let out = loop {
            match this.stage {
                Stage::Start => {
                    if current_actor() == Some(shared.id) {
                        break Err(CallError::CallingSelf);
                    }
                    match shared.mailbox.try_reserve() {
                        Ok(_) => {}
                        Err(SendError::Full) => {
                            let room = shared.mailbox.room().expect("a full mailbox is bounded");
                            *this.stage = Stage::Room(Box::pin(room.acquire()));
                            continue;
                        }
                        Err(_) => break Err(CallError::NoProc),
                    }
                    let msg = this.msg.take().expect("a call sends once");
                    let pushed = run_in_place(|| shared.mailbox.push(Envelope::Msg(msg)));
                    if let Err(back) = pushed {
                        keep_unsent(this.msg, back);
                        break Err(CallError::NoProc);
                    }
                    *this.stage = Stage::Waiting;
                }
                Stage::Room(acquire) => match acquire.as_mut().poll(cx) {
                    Poll::Ready(Ok(permit)) => {
                        permit.forget();
                        let msg = this.msg.take().expect("a call sends once");
                        if let Err(back) = shared.mailbox.push(Envelope::Msg(msg)) {
                            keep_unsent(this.msg, back);
                            break Err(CallError::NoProc);
                        }
                        *this.stage = Stage::Waiting;
                    }
                    // The mailbox closed while we waited: the actor is going down.
                    Poll::Ready(Err(_)) => {
                        *this.stage = Stage::Exiting(Box::pin(shared.exit.notified()));
                    }
                    Poll::Pending => match expired(this.deadline, table, cx) {
                        true => break Err(CallError::Timeout),
                        false => return Poll::Pending,
                    },
                },
                Stage::Waiting => match Pin::new(&mut *this.rx).poll(cx) {
                    Poll::Ready(Ok(Some(value))) => break Ok(value),
                    Poll::Ready(Ok(None)) => break Err(CallError::NoReply),
                    // The actor is going down: wait for its final reason (after its
                    // `#[terminate]`), still within the deadline.
                    Poll::Ready(Err(_)) => {
                        *this.stage = Stage::Exiting(Box::pin(shared.exit.notified()));
                    }
                    Poll::Pending => match expired(this.deadline, table, cx) {
                        true => break Err(CallError::Timeout),
                        false => return Poll::Pending,
                    },
                },
                Stage::Exiting(exited) => {
                    if let Some(reason) = shared.exit.reason() {
                        break Err(CallError::Exited(reason.clone()));
                    }
                    if exited.as_mut().poll(cx).is_ready() {
                        // Woken: look again with a fresh registration.
                        exited.set(shared.exit.notified());
                        continue;
                    }
                    match expired(this.deadline, table, cx) {
                        true => break Err(CallError::Timeout),
                        false => return Poll::Pending,
                    }
                }
                Stage::Done => panic!("`Call` polled after it completed"),
            }
        };
        *this.stage = Stage::Done;
        this.deadline.clear(table);
        Poll::Ready(out)
    }
}

/// Keeps the message a closed mailbox gave back, so that
/// [`take_unsent`](Call::take_unsent) finds it.
#[cold]
fn keep_unsent<A: Actor>(slot: &mut Option<A::Msg>, back: Envelope<A>) {
    if let Envelope::Msg(msg) = back {
        *slot = Some(msg);
    }
}

impl<A: Actor, T> Call<'_, A, T> {
    /// The message of a call that never reached its actor (the actor was gone, or went
    /// while the call waited for room in its mailbox), with the receiver of its reply:
    /// what a pool sends to another worker. `None` once the message was delivered.
    pub(crate) fn take_unsent(
        self: Pin<&mut Self>,
    ) -> Option<(A::Msg, oneshot::Receiver<Option<T>>)> {
        let this = self.project();
        let msg = this.msg.take()?;
        // The call is done: a closed receiver takes the place of the one handed over.
        let (_, closed) = oneshot::channel();
        Some((msg, std::mem::replace(this.rx, closed)))
    }
}

/// Whether the call's deadline has passed.
fn expired(deadline: &mut Deadline, table: &Deadlines, cx: &mut Context<'_>) -> bool {
    deadline.poll(table, cx).is_ready()
}

impl<A: Actor, T> fmt::Debug for Call<'_, A, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("target", &self.target)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}
