//! Call deadlines: every call in flight to a system's actors registers its deadline in one
//! table, and one timer task per system wakes the calls whose deadline has passed.
//!
//! A tokio timer per call would cost a registration in tokio's timer wheel on the first
//! poll and a removal on drop, and would make every [`Call`](crate::Call) future carry a
//! 112-byte `Sleep` (and with it every actor whose async handler awaits a call). Here a call
//! holds a slot number; registering is a slab insert under an uncontended lock, and the
//! timer task only sleeps until the earliest deadline, rearming when an earlier one
//! arrives. Deadlines keep tokio's clock (paused clocks included) and its millisecond
//! resolution.
//!
//! When no timer task runs for the system (its runtime has shut down), a call falls back to
//! a tokio timer of its own.
//!
//! This module is internal; users see it through [`Call::timeout`](crate::Call::timeout).

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use parking_lot::Mutex;
use slab::Slab;
use tokio::time::{Instant, Sleep, sleep_until};

use crate::call::{FOREVER, deadline_after};

/// The deadlines of one system's calls.
#[derive(Default)]
pub(crate) struct Deadlines {
    /// No user code runs under this lock (wakers are woken after it is released), so it
    /// needs no poisoning.
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: Slab<Entry>,
    /// When the timer task will next look, if it is waiting for a deadline.
    armed: Option<Instant>,
    /// The timer task, to bring its wake-up forward.
    task: Option<Waker>,
    /// Whether a timer task serves this table.
    running: bool,
    /// Set when the system is dropped: the timer task ends at its next look.
    closed: bool,
}

struct Entry {
    at: Instant,
    waker: Waker,
    state: State,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    /// The deadline passed.
    Fired,
    /// The timer task stopped before the deadline; the call must time itself.
    Orphaned,
}

/// How many wakers the timer task collects before waking them outside the lock.
const WAKE_BATCH: usize = 32;

impl Deadlines {
    /// Starts the timer task on the current runtime unless one runs; the task ends when the
    /// table is dropped (it holds only a weak reference) or its runtime shuts down.
    pub(crate) fn ensure_running(self: &Arc<Self>) {
        {
            let mut inner = self.inner.lock();
            if inner.running {
                return;
            }
            inner.running = true;
        }
        tokio::spawn(run(Arc::downgrade(self)));
    }

    /// Wakes the timer task so it notices the table is gone.
    pub(crate) fn close(&self) {
        let task = {
            let mut inner = self.inner.lock();
            inner.closed = true;
            inner.task.take()
        };
        if let Some(task) = task {
            task.wake();
        }
    }

    fn register(&self, at: Instant, waker: &Waker) -> Option<usize> {
        let mut inner = self.inner.lock();
        if !inner.running {
            return None;
        }
        let key = inner.entries.insert(Entry {
            at,
            waker: waker.clone(),
            state: State::Waiting,
        });
        let earlier = inner.armed.is_none_or(|armed| at < armed);
        let task = if earlier {
            inner.armed = Some(at);
            inner.task.clone()
        } else {
            None
        };
        drop(inner);
        if let Some(task) = task {
            task.wake();
        }
        Some(key)
    }

    /// The state of slot `key`, keeping `cx`'s waker while it waits.
    fn poll(&self, key: usize, cx: &mut Context<'_>) -> State {
        let mut inner = self.inner.lock();
        match inner.entries.get_mut(key) {
            Some(entry) => {
                if entry.state == State::Waiting && !entry.waker.will_wake(cx.waker()) {
                    entry.waker.clone_from(cx.waker());
                }
                entry.state
            }
            // Slots are removed only by their own call.
            None => State::Orphaned,
        }
    }

    fn remove(&self, key: usize) {
        let entry = self.inner.lock().entries.try_remove(key);
        // The waker is dropped outside the lock.
        drop(entry);
    }

    /// Marks every passed deadline fired and collects up to [`WAKE_BATCH`] wakers; returns
    /// when the timer task should look next, or `Err(())` when the batch is full (look
    /// again). `pending` is the task's timer, if it has not fired yet: an earlier wake-up is
    /// kept (a spurious look is cheaper than moving the timer), so a steady stream of calls
    /// costs about one look per timeout period.
    fn sweep(
        &self,
        now: Instant,
        pending: Option<Instant>,
        wake: &mut Vec<Waker>,
    ) -> Result<Option<Instant>, ()> {
        let mut inner = self.inner.lock();
        let mut next: Option<Instant> = None;
        for (_, entry) in &mut inner.entries {
            if entry.state != State::Waiting {
                continue;
            }
            if entry.at <= now {
                if wake.len() == WAKE_BATCH {
                    return Err(());
                }
                entry.state = State::Fired;
                wake.push(entry.waker.clone());
            } else if next.is_none_or(|n| entry.at < n) {
                next = Some(entry.at);
            }
        }
        let look = match (pending, next) {
            (Some(p), Some(n)) => Some(p.min(n)),
            (p, n) => p.or(n),
        };
        inner.armed = look;
        Ok(look)
    }

    /// Keeps the timer task's waker; `false` once the table is closed.
    fn set_task(&self, waker: &Waker) -> bool {
        let mut inner = self.inner.lock();
        if inner.closed {
            return false;
        }
        match &inner.task {
            Some(task) if task.will_wake(waker) => {}
            _ => inner.task = Some(waker.clone()),
        }
        true
    }

    /// The timer task is gone: every call falls back to its own timer.
    fn stopped(&self) {
        let wakers: Vec<Waker> = {
            let mut inner = self.inner.lock();
            inner.running = false;
            inner.armed = None;
            inner.task = None;
            inner
                .entries
                .iter_mut()
                .filter(|(_, e)| e.state == State::Waiting)
                .map(|(_, e)| {
                    e.state = State::Orphaned;
                    e.waker.clone()
                })
                .collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// Marks the table unserved when the timer task ends, however it ends.
struct Stopped(Weak<Deadlines>);

impl Drop for Stopped {
    fn drop(&mut self) {
        if let Some(deadlines) = self.0.upgrade() {
            deadlines.stopped();
        }
    }
}

/// The timer task: sleeps until the earliest deadline, wakes the calls whose deadline has
/// passed, and rearms.
fn run(table: Weak<Deadlines>) -> impl Future<Output = ()> + Send {
    // Made outside the async block, so it also marks the table unserved when the task is
    // dropped before its first poll.
    let stopped = Stopped(table.clone());
    async move {
        let _stopped = stopped;
        serve(table).await;
    }
}

async fn serve(table: Weak<Deadlines>) {
    let mut sleep: Pin<&mut Sleep> = pin!(sleep_until(Instant::now()));
    // The timer's deadline while it has not fired.
    let mut pending: Option<Instant> = None;
    let mut wake = Vec::with_capacity(WAKE_BATCH);
    poll_fn(|cx| {
        loop {
            let Some(deadlines) = table.upgrade() else {
                return Poll::Ready(());
            };
            // Registered before sweeping, so an earlier deadline added meanwhile wakes us;
            // checked under the same lock as `close`, so a closing system is never missed.
            if !deadlines.set_task(cx.waker()) {
                return Poll::Ready(());
            }
            let look = deadlines.sweep(Instant::now(), pending, &mut wake);
            drop(deadlines);
            wake.drain(..).for_each(Waker::wake);
            let look = match look {
                Ok(look) => look,
                Err(()) => continue,
            };
            let Some(at) = look else {
                return Poll::Pending;
            };
            if pending != Some(at) {
                sleep.as_mut().reset(at);
                pending = Some(at);
            }
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            pending = None;
        }
    })
    .await;
}

/// A call's deadline: counted from the end of the call's first scheduling round (below)
/// and registered in its system's table, or a tokio timer of its own when no timer task
/// serves the table.
///
/// A wait first yields for one scheduling round, the way [`tokio::task::yield_now`] does:
/// the scheduler polls it again once it has run every task already ready and polled its
/// drivers (and at least every 61 tasks on a multi-thread runtime, so a busy worker does
/// not hold it back). Most calls are answered within that round, since the actor was
/// woken before the caller yielded, so they neither read the clock nor touch the table;
/// the deadline counts from the end of the round. Unlike waking itself, such a yield does
/// not hand the caller to another worker of a multi-thread runtime.
#[derive(Debug)]
pub(crate) enum Deadline {
    /// Not waiting yet.
    After(Duration),
    /// Waited once, for one scheduling round; the deadline counts from the end of it.
    Yielded(Duration),
    /// Known, not registered.
    At(Instant),
    /// Slot `key` of the table.
    Registered { at: Instant, key: usize },
    /// A timer of its own (boxed: this path is rare).
    Own(Pin<Box<Sleep>>),
    /// A wait of [`FOREVER`] or longer: nothing to arm.
    Never,
}

impl Deadline {
    pub(crate) fn after(timeout: Duration) -> Self {
        if timeout >= FOREVER {
            return Self::Never;
        }
        Self::After(timeout)
    }

    /// Starts the clock at `now` if it does not run yet (or the wait is unlimited), with
    /// no scheduling round of grace: the first wait registers the deadline at once, for
    /// a waiter that must be woken at its deadline even while its own thread is busy.
    /// Returns the deadline, `None` for an unlimited wait.
    pub(crate) fn start(&mut self, now: Instant) -> Option<Instant> {
        if let Self::After(timeout) | Self::Yielded(timeout) = *self {
            *self = Self::At(now.checked_add(timeout).unwrap_or_else(|| now + FOREVER));
        }
        self.at()
    }

    /// The deadline once it is known: `None` before (within the first scheduling round)
    /// or for an unlimited wait.
    pub(crate) fn at(&self) -> Option<Instant> {
        match self {
            Self::At(at) | Self::Registered { at, .. } => Some(*at),
            Self::Own(sleep) => Some(sleep.deadline()),
            Self::After(_) | Self::Yielded(_) | Self::Never => None,
        }
    }

    /// `Ready` once the deadline has passed.
    pub(crate) fn poll(&mut self, table: &Deadlines, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match self {
                Self::After(timeout) => {
                    *self = Self::Yielded(*timeout);
                    // Polled again after everything already scheduled has run (at once,
                    // outside a tokio runtime). The yield's first poll only hands the
                    // waker to the scheduler; it need not be kept.
                    let yielded = pin!(tokio::task::yield_now()).poll(cx);
                    debug_assert!(yielded.is_pending());
                    return Poll::Pending;
                }
                Self::Yielded(timeout) => *self = Self::At(deadline_after(*timeout)),
                Self::At(at) => {
                    // A deadline already passed fires on the timer task's next look.
                    let at = *at;
                    *self = match table.register(at, cx.waker()) {
                        Some(key) => Self::Registered { at, key },
                        None => Self::Own(Box::pin(sleep_until(at))),
                    };
                    if let Self::Registered { .. } = self {
                        return Poll::Pending;
                    }
                }
                Self::Registered { at, key } => match table.poll(*key, cx) {
                    State::Waiting => return Poll::Pending,
                    State::Fired => {
                        table.remove(*key);
                        *self = Self::At(*at);
                        return Poll::Ready(());
                    }
                    // The timer task stopped: register again (with a new one) or fall
                    // back to a timer of our own.
                    State::Orphaned => {
                        table.remove(*key);
                        *self = Self::At(*at);
                    }
                },
                Self::Own(sleep) => return sleep.as_mut().poll(cx),
                Self::Never => return Poll::Pending,
            }
        }
    }

    /// Gives the slot back; the deadline can be polled again later.
    #[inline]
    pub(crate) fn clear(&mut self, table: &Deadlines) {
        if let Self::Registered { at, key } = *self {
            table.remove(key);
            *self = Self::At(at);
        }
    }
}

/// A deadline bound to its table, which gives its slot back when dropped (for waits that
/// may be cancelled, such as a stop interrupted by a kill).
pub(crate) struct Timer<'a> {
    deadline: Deadline,
    table: &'a Deadlines,
}

impl<'a> Timer<'a> {
    /// A deadline `timeout` after the first wait.
    pub(crate) fn after(table: &'a Deadlines, timeout: Duration) -> Self {
        Self {
            deadline: Deadline::After(timeout),
            table,
        }
    }

    /// A deadline at `at`.
    pub(crate) fn at(table: &'a Deadlines, at: Instant) -> Self {
        Self {
            deadline: Deadline::At(at),
            table,
        }
    }

    /// `Ready` once the deadline has passed.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.deadline.poll(self.table, cx)
    }

    /// Starts the clock now if it does not run yet, to be registered on the first wait
    /// (see [`Deadline::start`]); the deadline (`None`: unlimited).
    pub(crate) fn start(&mut self) -> Option<Instant> {
        match self.deadline {
            Deadline::After(_) | Deadline::Yielded(_) => self.deadline.start(Instant::now()),
            _ => self.deadline.at(),
        }
    }
}

impl Drop for Timer<'_> {
    fn drop(&mut self) {
        self.deadline.clear(self.table);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    fn slots(table: &Deadlines) -> usize {
        table.inner.lock().entries.len()
    }

    struct Silent;

    #[crate::actor(crate = crate)]
    impl Silent {
        #[call]
        async fn never(&self) {
            std::future::pending::<()>().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_timeout_frees_the_slot_of_a_call_already_waiting() {
        let system = crate::ActorSystem::new();
        let silent = system.spawn::<Silent>(Silent).await.unwrap();
        let table = system.deadlines();
        let mut call = silent.never();
        // The first wait yields one round; the second registers the deadline.
        for _ in 0..2 {
            assert!(
                poll_fn(|cx| Poll::Ready(Pin::new(&mut call).poll(cx)))
                    .await
                    .is_pending()
            );
            tokio::task::yield_now().await;
        }
        assert_eq!(slots(table), 1);
        let call = call.timeout(Duration::from_millis(10));
        assert_eq!(slots(table), 0);
        assert_eq!(call.await, Err(crate::CallError::Timeout));
        assert_eq!(slots(table), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_without_a_timeout_never_takes_a_slot() {
        let system = crate::ActorSystem::new();
        let silent = system.spawn::<Silent>(Silent).await.unwrap();
        let table = system.deadlines();
        let mut call = silent.never().timeout(Duration::MAX);
        for _ in 0..3 {
            assert!(
                poll_fn(|cx| Poll::Ready(Pin::new(&mut call).poll(cx)))
                    .await
                    .is_pending()
            );
            tokio::task::yield_now().await;
        }
        assert_eq!(slots(table), 0);
        // Still waiting a century later.
        tokio::time::advance(Duration::from_secs(86_400 * 365 * 100)).await;
        assert!(
            poll_fn(|cx| Poll::Ready(Pin::new(&mut call).poll(cx)))
                .await
                .is_pending()
        );
        // A shorter timeout given later still arms.
        let call = call.timeout(Duration::from_millis(10));
        assert_eq!(call.await, Err(crate::CallError::Timeout));
    }

    /// Keeps the scheduler's queue from ever running dry until `done` is set.
    async fn spin(done: Arc<AtomicBool>) {
        poll_fn(|cx| {
            if done.load(Ordering::Relaxed) {
                return Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_times_out_while_its_thread_never_runs_out_of_work() {
        let system = crate::ActorSystem::new();
        let silent = system.spawn::<Silent>(Silent).await.unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let spinner = tokio::spawn(spin(done.clone()));
        let call = tokio::spawn(async move {
            let out = silent.never().timeout(Duration::from_millis(10)).await;
            (out, silent)
        });
        // The scheduler never idles, so the first wait ends at its periodic look at the
        // timers rather than when the queue is empty; the deadline still arms and fires.
        let mut steps = 0;
        while !call.is_finished() {
            assert!(steps < 100, "the call never timed out");
            tokio::time::advance(Duration::from_millis(1)).await;
            steps += 1;
        }
        done.store(true, Ordering::Relaxed);
        spinner.await.unwrap();
        let (out, _silent) = call.await.unwrap();
        assert_eq!(out, Err(crate::CallError::Timeout));
        assert!(
            steps >= 10,
            "timed out after {steps} ms, before its deadline"
        );
        assert_eq!(slots(system.deadlines()), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_take_a_slot_and_give_it_back_when_done_or_dropped() {
        let table = Arc::new(Deadlines::default());
        table.ensure_running();
        // Fires at its deadline, then gives its slot back.
        let start = Instant::now();
        let mut timer = Timer::after(&table, Duration::from_millis(30));
        poll_fn(|cx| timer.poll(cx)).await;
        assert_eq!(start.elapsed(), Duration::from_millis(30));
        assert_eq!(slots(&table), 0);
        drop(timer);
        // Dropped while waiting: its slot is freed.
        let mut timer = Timer::at(&table, Instant::now() + Duration::from_secs(60));
        assert!(poll_fn(|cx| Poll::Ready(timer.poll(cx))).await.is_pending());
        assert_eq!(slots(&table), 1);
        drop(timer);
        assert_eq!(slots(&table), 0);
    }
}
