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
use crate::clock;
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
    ///
    /// # What a timeout guarantees
    ///
    /// - **Never a late answer.** A reply that comes after the deadline (by more than the
    ///   clocks' resolution, about a millisecond) is dropped and the call returns
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
    /// How a run in place is timed: on a coarse millisecond clock kept by a thread of the
    /// runtime (`beam-clock`, one per process, parked while no call reads it), so timing
    /// costs two atomic loads, not two reads of the system clock. It is real time: it
    /// also sees a handler that blocks while tokio's clock is paused. A call without a
    /// limit (`Duration::MAX`) always runs an idle actor in place and reads no clock. On a
    /// machine so loaded that this thread is not scheduled for longer than a call's
    /// timeout, a reading can lag that much, and a reply that came in time can be judged
    /// late: keep timeouts well above the scheduling delays you expect.
    #[must_use = "a call does nothing unless awaited"]
    pub struct Call<'a, A: Actor, T> {
        target: &'a RawRef<A>,
        msg: Option<A::Msg>,
        rx: oneshot::Receiver<Option<T>>,
        stage: Stage<'a>,
        deadline: Deadline,
        // How the answer is timed (see `Sent`).
        sent: Sent,
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
            sent: Sent::Untimed,
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
        // Whether this poll sent the call.
        let mut sent_now = false;
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
                    let pushed = match *this.deadline {
                        Deadline::After(timeout) => {
                            send_timed(shared, msg, this.deadline, timeout, this.sent)
                        }
                        _ => run_in_place(|| shared.mailbox.push(Envelope::Msg(msg))).0,
                    };
                    if let Err(back) = pushed {
                        keep_unsent(this.msg, back);
                        break Err(CallError::NoProc);
                    }
                    sent_now = true;
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
                    // A reply that comes after the deadline is dropped.
                    Poll::Ready(Ok(Some(value))) => {
                        match answered(shared, *this.sent, this.deadline, sent_now) {
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
                    // Already past its deadline in place: no need to wait for the reply.
                    Poll::Pending if matches!(*this.sent, Sent::Late) => {
                        break Err(CallError::Timeout);
                    }
                    Poll::Pending => match expired(this.deadline, table, cx) {
                        true => {
                            timed_out(shared, *this.sent);
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

/// How a call with a deadline times its answer, on the [coarse clock](crate::clock).
#[derive(Debug, Clone, Copy)]
enum Sent {
    /// Not timed: no deadline, or not sent yet.
    Untimed,
    /// Run in place at `at` (ms) and done within its budget of `budget` ms, or still
    /// running there: a reply that comes in a later poll is timed from `at`.
    InTime { at: u32, budget: u32 },
    /// Answered in place, after its deadline: the reply is dropped.
    Late,
    /// Left to the scheduler at `at` (ms), with a budget of `budget` ms.
    Queued { at: u32, budget: u32 },
}

/// A timeout in whole milliseconds (rounded down; at most `u32::MAX`).
#[inline]
fn budget_ms(timeout: Duration) -> u32 {
    // Not `as_millis`, whose `u128` arithmetic costs more on the call path.
    let ms = timeout
        .as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from(timeout.subsec_millis()));
    u32::try_from(ms).unwrap_or(u32::MAX)
}

/// Sends a call that has a deadline, `timeout` from now. An idle actor that answered its
/// last timed call within half of `timeout` runs in place (see [`run_in_place`]), timed
/// on the coarse clock: if it took longer than `timeout`, the reply will be dropped. An
/// actor known to be slower is left to the scheduler and the deadline armed at once
/// (without the first wait's yield, which would leave the caller to its own thread), so
/// that the caller gives up at its deadline even while the handler blocks another
/// worker.
#[inline]
fn send_timed<A: Actor>(
    shared: &crate::actor::Shared<A>,
    msg: A::Msg,
    deadline: &mut Deadline,
    timeout: Duration,
    sent: &mut Sent,
) -> Result<(), Envelope<A>> {
    let known = shared.answer_ms.load(Ordering::Relaxed);
    let start = clock::now_ms();
    if known != 0 && u64::from(known) * 2 > u64::from(budget_ms(timeout)) {
        return send_queued(shared, msg, deadline, timeout, start, sent);
    }
    let (pushed, ran) = run_in_place(|| shared.mailbox.push(Envelope::Msg(msg)));
    *sent = match ran {
        true => match clock::since(start) {
            // Within the clock's resolution, and nothing to unlearn: the common case.
            0 | 1 if known == 0 => Sent::InTime {
                at: start,
                budget: budget_ms(timeout),
            },
            took => timed_in_place(shared, start, took, timeout),
        },
        false => Sent::Queued {
            at: start,
            budget: budget_ms(timeout),
        },
    };
    pushed
}

/// Sends a call to an actor known to answer slower than half its timeout: queued, with
/// the deadline armed at once.
#[cold]
fn send_queued<A: Actor>(
    shared: &crate::actor::Shared<A>,
    msg: A::Msg,
    deadline: &mut Deadline,
    timeout: Duration,
    start: u32,
    sent: &mut Sent,
) -> Result<(), Envelope<A>> {
    deadline.start(Instant::now());
    *sent = Sent::Queued {
        at: start,
        budget: budget_ms(timeout),
    };
    shared.mailbox.push(Envelope::Msg(msg))
}

/// Records how long a run in place took, and whether its reply is late.
#[cold]
fn timed_in_place<A: Actor>(
    shared: &crate::actor::Shared<A>,
    start: u32,
    took: u32,
    timeout: Duration,
) -> Sent {
    note(shared, took);
    let budget = budget_ms(timeout);
    match late(took, budget) {
        true => Sent::Late,
        false => Sent::InTime { at: start, budget },
    }
}

/// Whether an answer that took `took` ms is past a deadline of `budget` ms, at the
/// clock's resolution: a reading may lag by a millisecond, so one more is allowed.
#[inline]
fn late(took: u32, budget: u32) -> bool {
    took > budget.saturating_add(1)
}

/// Whether a reply that has come is in time (it is dropped otherwise). A reply to a
/// call run in place is there in the poll that sent it, timed already; one that came
/// later is checked against the deadline, and a reply to a queued call records how long
/// the actor took, on the coarse clock (which also sees a handler that blocked a thread
/// while tokio's clock was paused).
#[inline]
fn answered<A: Actor>(
    shared: &crate::actor::Shared<A>,
    sent: Sent,
    deadline: &Deadline,
    sent_now: bool,
) -> bool {
    match sent {
        Sent::InTime { .. } if sent_now => true,
        Sent::Late => false,
        // Run in place, answered later (an `async` handler, or a `Reply` kept).
        Sent::InTime { at, budget } => !late(clock::since(at), budget) && !passed(deadline),
        Sent::Queued { at, budget } => {
            let took = clock::since(at);
            note(shared, took);
            !late(took, budget) && !passed(deadline)
        }
        Sent::Untimed => !passed(deadline),
    }
}

/// Whether the deadline, if known, has passed by a millisecond or more (the timers'
/// resolution). Reads tokio's clock only for a deadline that is known: one armed once the
/// call has waited a scheduling round, or at once for an actor known to be slow.
fn passed(deadline: &Deadline) -> bool {
    deadline
        .at()
        .is_some_and(|at| Instant::now().saturating_duration_since(at) >= Duration::from_millis(1))
}

/// A timed call gave up: the actor took at least as long as it waited.
#[cold]
fn timed_out<A: Actor>(shared: &crate::actor::Shared<A>, sent: Sent) {
    if let Sent::Queued { at, .. } = sent {
        let waited = clock::since(at);
        let known = shared.answer_ms.load(Ordering::Relaxed);
        if waited > known {
            note(shared, waited);
        }
    }
}

/// Records that the actor took `took` ms to answer, writing only when that changes what
/// is known (so a fast actor's line is not written by every caller). A millisecond or
/// less is within the clock's resolution: it counts as no time, so an actor that answers
/// at once stays known as fast (and its callers on the shortest path).
#[inline]
fn note<A: Actor>(shared: &crate::actor::Shared<A>, took: u32) {
    let took = if took <= 1 { 0 } else { took };
    if shared.answer_ms.load(Ordering::Relaxed) != took {
        shared.answer_ms.store(took, Ordering::Relaxed);
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
