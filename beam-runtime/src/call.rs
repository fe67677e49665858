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
use std::sync::atomic::Ordering;
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
    /// time given to [`timeout`](Self::timeout), counted from the first poll, when the call
    /// is sent. The timeout includes any wait for room in a bounded mailbox.
    ///
    /// Sending to an idle actor runs the actor at once, within this poll, on the caller's
    /// thread: a synchronous handler's reply is ready before the first poll returns. Its
    /// handler span is not nested in the caller's tracing span, but it runs in the caller's
    /// tokio task, so `tokio::task::id()` and tokio task-locals are the caller's there. An
    /// actor that is already running or queued, or a call nested more than 8 deep in such
    /// runs, is left to the system's scheduler.
    ///
    /// # What a timeout guarantees
    ///
    /// - **Never a late answer.** A reply that comes after the deadline (by a millisecond
    ///   or more, the timers' resolution) is dropped and the call returns
    ///   `Err(CallError::Timeout)`, as OTP's `gen_server:call/3` does: also when the handler
    ///   ran in place, and on any runtime. The handler's effects stay; only the reply is
    ///   lost.
    /// - **A handler known to be slow does not hold the caller.** A call runs the actor in
    ///   place only within its budget: if the actor took more than half of this call's
    ///   timeout to answer its last timed call (measured in place, or from send to reply
    ///   when queued), the call leaves the actor to the system's scheduler and waits with
    ///   its deadline armed. On a multi-thread runtime another worker runs the handler, and
    ///   the call (or a `tokio::time::timeout` around it) gives up at its deadline even if
    ///   the handler blocks its thread.
    /// - **What nothing can prevent.** A synchronous handler cannot be interrupted. The
    ///   first time a handler takes longer than it did before while it runs in place, the
    ///   caller waits for it (and gets `Err(Timeout)` if the deadline passed meanwhile);
    ///   the actor then counts as slow for the calls that follow. On a `current_thread`
    ///   runtime a blocking handler blocks every task wherever it runs: there the guarantee
    ///   is the first one, once control comes back. Handlers that may block should hand
    ///   the work to `tokio::task::spawn_blocking` and answer later through
    ///   [`Reply`](crate::Reply).
    ///
    /// A call without a limit (`Duration::MAX`) always runs an idle actor in place and
    /// reads no clock; a timed call reads tokio's clock when sent and when it gets its
    /// reply.
    #[must_use = "a call does nothing unless awaited"]
    pub struct Call<'a, A: Actor, T> {
        target: &'a RawRef<A>,
        msg: Option<A::Msg>,
        rx: oneshot::Receiver<Option<T>>,
        stage: Stage<'a>,
        deadline: Deadline,
        // When it was sent, if it has a deadline.
        sent: Option<Instant>,
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
            sent: None,
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
        // The time of this poll, once read.
        let mut now: Option<Instant> = None;
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
                        Err(SendError::NoProc) => break Err(CallError::NoProc),
                    }
                    let msg = this.msg.take().expect("a call sends once");
                    let pushed = match *this.deadline {
                        Deadline::After(timeout) => {
                            let start = Instant::now();
                            *this.sent = Some(start);
                            send_timed(shared, msg, this.deadline, start, timeout, &mut now)
                        }
                        _ => run_in_place(|| shared.mailbox.push(Envelope::Msg(msg))).0,
                    };
                    if pushed.is_err() {
                        break Err(CallError::NoProc);
                    }
                    *this.stage = Stage::Waiting;
                }
                Stage::Room(acquire) => match acquire.as_mut().poll(cx) {
                    Poll::Ready(Ok(permit)) => {
                        permit.forget();
                        let msg = this.msg.take().expect("a call sends once");
                        if shared.mailbox.push(Envelope::Msg(msg)).is_err() {
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
                    // A reply that comes after the deadline is dropped.
                    Poll::Ready(Ok(Some(value))) => {
                        match answered(shared, this.deadline, *this.sent, now) {
                            true => break Ok(value),
                            false => break Err(CallError::Timeout),
                        }
                    }
                    Poll::Ready(Ok(None)) => break Err(CallError::NoReply),
                    // The actor is going down: wait for its final reason (after its
                    // `#[terminate]`), still within the deadline.
                    Poll::Ready(Err(_)) => {
                        *this.stage = Stage::Exiting(Box::pin(shared.exit.notified()));
                    }
                    Poll::Pending => match expired(this.deadline, table, cx) {
                        true => {
                            if let Some(sent) = *this.sent {
                                record(shared, sent, Instant::now(), true);
                            }
                            break Err(CallError::Timeout);
                        }
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

/// Sends a call that has a deadline: in place (see [`run_in_place`]) only if the actor
/// answered its last timed call within half of `timeout`, so a handler known to take
/// longer runs elsewhere and cannot hold the caller past its deadline. Starts `deadline`
/// at `start` (a call that is not run in place registers it on its first wait, without
/// the yield, which would leave it to its own thread), and records how long a run in
/// place took, leaving the time read after it in `now`.
#[inline]
fn send_timed<A: Actor>(
    shared: &crate::actor::Shared<A>,
    msg: A::Msg,
    deadline: &mut Deadline,
    start: Instant,
    timeout: Duration,
    now: &mut Option<Instant>,
) -> Result<(), Envelope<A>> {
    let last = shared.answer_us.load(Ordering::Relaxed);
    let in_place = u128::from(last) * 2 <= timeout.as_micros();
    deadline.start(start, in_place);
    if !in_place {
        return shared.mailbox.push(Envelope::Msg(msg));
    }
    let (pushed, ran) = run_in_place(|| shared.mailbox.push(Envelope::Msg(msg)));
    if ran {
        let after = Instant::now();
        record(shared, start, after, false);
        *now = Some(after);
    }
    pushed
}

/// Whether a reply that has come is in time (it is dropped otherwise); a reply that did
/// not come in the poll that sent the call (whose time is `now`) also records how long the
/// actor took to answer.
#[inline]
fn answered<A: Actor>(
    shared: &crate::actor::Shared<A>,
    deadline: &Deadline,
    sent: Option<Instant>,
    now: Option<Instant>,
) -> bool {
    if matches!(deadline, Deadline::Never) {
        return true;
    }
    let now = match now {
        Some(now) => now,
        None => {
            let now = Instant::now();
            if let Some(sent) = sent {
                record(shared, sent, now, false);
            }
            now
        }
    };
    !deadline.passed(now)
}

/// Records that the actor took from `sent` to `now` to answer (`at_least`: or longer, as
/// the call timed out).
#[inline]
fn record<A: Actor>(shared: &crate::actor::Shared<A>, sent: Instant, now: Instant, at_least: bool) {
    let took = u32::try_from(now.saturating_duration_since(sent).as_micros()).unwrap_or(u32::MAX);
    let last = shared.answer_us.load(Ordering::Relaxed);
    if last != took && !(at_least && last > took) {
        shared.answer_us.store(took, Ordering::Relaxed);
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
