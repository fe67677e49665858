//! The scheduler of a system's actors: each actor is one allocation (its receive loop and
//! the state that schedules it), run by a few tokio tasks of the system, its drivers, one
//! per worker thread of the runtime, instead of a tokio task of its own.
//!
//! An actor that is woken goes to the back of the system's run queue; a driver takes it
//! from the front and polls it. Three shortcuts skip the queue:
//!
//! - an actor woken by the actors a driver polls is polled next by that driver (the
//!   driver's next slot, as tokio's LIFO slot), so actors that message each other stay on
//!   one thread;
//! - a call or a stop that wakes an idle actor polls it in place, on the caller's thread
//!   ([`run_in_place`]), so the reply (or the exit) is usually there before the call
//!   first returns (unless that could hold the caller past its deadline: a call to an
//!   actor known to answer slower than half its timeout, a stop with a deadline of an
//!   actor with a `#[terminate]` hook);
//! - a new actor with nothing to do yet (no `#[handle_continue]` pending, nothing queued)
//!   is first polled by its spawner ([`Unstarted`]), and is idle when the spawn returns.
//!
//! The next slot belongs to the thread: a handler that blocks its thread in
//! `tokio::task::block_in_place` waiting for an actor it has just woken waits until the
//! handler returns (tokio moves its own LIFO slot away there; nothing tells us). Such a
//! handler should hand the wait to `spawn_blocking`, or await.
//!
//! A driver goes back to tokio once its tokio budget is spent (so tokio's other tasks,
//! timers and I/O keep their turn), and sleeps while the queue is empty. When the runtime
//! shuts down, its drivers are dropped, and the last of them drops every actor that runs
//! on it and has not finished, as the runtime would drop its tasks.
//!
//! Crate-private: users see it only through [`ActorSystem`](crate::ActorSystem).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

use async_task::{Runnable, Task};
use parking_lot::Mutex;

/// How many actors a driver polls before it gives tokio a turn, whatever its budget says.
const ROUND: usize = 128;

/// How deep calls may run their callee in place (see [`run_in_place`]) before they queue
/// it as any other wake does, so that a chain of calls cannot overflow the stack.
const MAX_IN_PLACE: u32 = 8;

/// How many tasks in a row a driver takes from [`NEXT`] before it serves the queue.
const MAX_NEXT_IN_A_ROW: usize = 32;

thread_local! {
    /// Set by [`run_in_place`] while it pushes: the next task woken here is handed over.
    static WANTED: Cell<bool> = const { Cell::new(false) };
    /// The task handed over to [`run_in_place`], as [`Runnable::into_raw`] made it (a
    /// plain pointer: the slot needs no destructor, so reaching it is one load or store).
    /// Set only by [`hand_over`] and emptied only by [`take_handed`].
    static HANDED: Cell<Option<NonNull<()>>> = const { Cell::new(None) };
    /// The tokio task last polled here when [`Sched::is_current`] asked, and its runtime.
    static SEEN: Cell<Option<(tokio::task::Id, tokio::runtime::Id)>> = const { Cell::new(None) };
    /// How many callees run in place on this thread right now.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The [`Sched::key`] of the scheduler whose driver runs on this thread right now (0
    /// for none).
    static DRIVING: Cell<usize> = const { Cell::new(0) };
    /// The task that driver polls next: the last one woken by the actors it polls.
    static NEXT: Cell<Option<Runnable<usize>>> = const { Cell::new(None) };
    /// While [`reap`] drops tasks on this thread, the ones it is still to drop.
    static REAPING: RefCell<Option<Vec<Runnable<usize>>>> = const { RefCell::new(None) };
}

/// The runtime of the context entered on this thread, remembered as the runtime of
/// `task` (the tokio task polled here, if any) for the next [`Sched::is_current`]: a task
/// stays on its runtime, and asking tokio for the context clones its handle (two atomic
/// operations on a line all of the runtime's threads share).
///
/// This relies on a task id naming one task: tokio allows an id to be reused once its
/// task has ended and no handle to it is left, but tokio 1 draws ids from a 64-bit
/// counter and never does. Were one reused on this thread by a task of another runtime,
/// a call from it could run an actor in place under that runtime's context (its
/// handler's `tokio::spawn` would go there); the actor still belongs to its own.
#[cold]
fn current_runtime(task: Option<tokio::task::Id>) -> Option<tokio::runtime::Id> {
    let runtime = tokio::runtime::Handle::try_current().ok()?.id();
    if let Some(task) = task {
        SEEN.set(Some((task, runtime)));
    }
    Some(runtime)
}

/// Drops a task whose runtime has gone, with its future. Dropping an actor kills its
/// linked actors and children, whose tasks come back here: they are dropped one after the
/// other by the outermost call, not each inside the one before, so a long chain of links
/// cannot overflow the stack.
fn reap(runnable: Runnable<usize>) {
    let first = REAPING.with_borrow_mut(|reaping| match reaping {
        Some(later) => {
            later.push(runnable);
            None
        }
        None => {
            *reaping = Some(Vec::new());
            Some(runnable)
        }
    });
    let Some(mut next) = first else {
        return;
    };
    loop {
        drop(next);
        match REAPING.with_borrow_mut(|reaping| reaping.as_mut().and_then(Vec::pop)) {
            Some(more) => next = more,
            None => break,
        }
    }
    REAPING.set(None);
}

/// Runs `push`, which sends a call to an actor; if that wakes the actor from idle (so
/// nothing else will poll it), polls it right here, on the caller's thread, instead of
/// queueing it for a driver: the reply is then usually ready when `push` returns, and
/// the caller never waits for a driver, or for a thread hop.
///
/// Only a task of the current runtime is taken, and only [`MAX_IN_PLACE`] deep. Returns
/// `push`'s output, and whether the actor ran here.
pub(crate) fn run_in_place<R>(push: impl FnOnce() -> R) -> (R, bool) {
    if DEPTH.get() >= MAX_IN_PLACE {
        return (push(), false);
    }
    let (out, handed) = {
        let _wanted = Wanted::set();
        let out = push();
        (out, take_handed())
    };
    match handed {
        Some(runnable) => (out, run_here(runnable)),
        None => (out, false),
    }
}

/// Hands `runnable` over to the [`run_in_place`] running on this thread.
#[inline]
fn hand_over(runnable: Runnable<usize>) {
    debug_assert!(HANDED.get().is_none(), "one task is handed over per push");
    HANDED.set(Some(runnable.into_raw()));
}

/// The task handed over to the [`run_in_place`] running on this thread, if any.
#[inline]
fn take_handed() -> Option<Runnable<usize>> {
    // SAFETY: `HANDED` holds only pointers that `hand_over` made with
    // `Runnable::<usize>::into_raw`, and `take` empties it, so each is turned back into
    // its task exactly once.
    HANDED
        .take()
        .map(|raw| unsafe { Runnable::<usize>::from_raw(raw) })
}

/// Polls `runnable` here, unless calls already run [`MAX_IN_PLACE`] deep in this thread
/// (then it is queued); `true` if it ran here.
fn run_here(runnable: Runnable<usize>) -> bool {
    let depth = DEPTH.get();
    if depth >= MAX_IN_PLACE {
        runnable.schedule();
        return false;
    }
    DEPTH.set(depth + 1);
    // An actor's own loop turns panics into exits; one that escapes it (from a `Drop`)
    // has already ended that task, and must not unwind into the caller.
    let _ = catch_unwind(AssertUnwindSafe(|| runnable.run()));
    DEPTH.set(depth);
    true
}

/// A new actor's task, not yet polled: [`run`](Self::run) polls it for the first time in
/// place, on the thread that spawned it; dropped instead, it is queued for a driver.
#[must_use = "a new task is queued only when dropped"]
pub(crate) struct Unstarted(Option<Runnable<usize>>);

impl Unstarted {
    /// Polls the task here (queues it when calls already run [`MAX_IN_PLACE`] deep here).
    /// Call it on the thread that spawned the task, which runs the task's runtime.
    pub(crate) fn run(mut self) {
        if let Some(runnable) = self.0.take() {
            let _ = run_here(runnable);
        }
    }
}

impl Drop for Unstarted {
    fn drop(&mut self) {
        if let Some(runnable) = self.0.take() {
            runnable.schedule();
        }
    }
}

/// Sets [`WANTED`] for a scope, and clears it at the end, even when unwinding.
struct Wanted;

impl Wanted {
    fn set() -> Self {
        WANTED.set(true);
        Self
    }
}

impl Drop for Wanted {
    fn drop(&mut self) {
        WANTED.set(false);
        // Left only by a push that unwound after the wake: queue the task as any wake
        // would, rather than leave it to whatever runs in place here next.
        if let Some(runnable) = take_handed() {
            runnable.schedule();
        }
    }
}

/// The run queue and drivers of a system's actors on one runtime.
pub(crate) struct Sched {
    runtime: tokio::runtime::Id,
    state: Mutex<State>,
    /// The system, to drop its actors here when the runtime goes away.
    system: Weak<dyn Actors>,
}

/// What a scheduler needs of its system.
pub(crate) trait Actors: Send + Sync {
    /// Forgets the scheduler `sched`, whose runtime is going away, and kills every actor's
    /// task that runs on it and has not finished.
    fn abort_all(&self, sched: &Sched);
}

struct State {
    queue: VecDeque<Runnable<usize>>,
    /// The drivers waiting for work: a driver's number and how to wake it.
    idle: Vec<(usize, Waker)>,
    /// How many drivers are alive (spawned and not dropped).
    drivers: usize,
    /// Set when the system is gone: idle drivers end.
    closed: bool,
}

/// How to kill an actor's task: dropping the handle lets the task run on; [`abort`]
/// drops the task's future at its next scheduling point.
///
/// [`abort`]: TaskHandle::abort
pub(crate) struct TaskHandle(Option<Task<(), usize>>);

impl TaskHandle {
    /// Drops the task's future at its next scheduling point (at once if it is idle).
    pub(crate) fn abort(mut self) {
        drop(self.0.take());
    }

    /// The [`Sched::key`] of the scheduler that runs the task.
    pub(crate) fn sched(&self) -> usize {
        self.0.as_ref().map_or(0, |task| *task.metadata())
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}

impl Sched {
    /// A scheduler for `system`'s actors on `runtime`, counting on one driver per worker
    /// thread; [`start`](Self::start) them.
    pub(crate) fn new(runtime: &tokio::runtime::Handle, system: Weak<dyn Actors>) -> Arc<Self> {
        Arc::new(Self {
            runtime: runtime.id(),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                idle: Vec::new(),
                drivers: runtime.metrics().num_workers().max(1),
                closed: false,
            }),
            system,
        })
    }

    /// Spawns its drivers on `runtime`. Call without the system's locks: on a runtime that
    /// is shutting down they are dropped at once, and the last one drops the actors.
    pub(crate) fn start(self: &Arc<Self>, runtime: &tokio::runtime::Handle) {
        let drivers = self.state.lock().drivers;
        for number in 0..drivers {
            runtime.spawn(Driver {
                sched: Arc::clone(self),
                number,
            });
        }
    }

    /// The runtime it runs on.
    pub(crate) fn runtime(&self) -> tokio::runtime::Id {
        self.runtime
    }

    /// Tells its tasks apart from other schedulers' (its address).
    pub(crate) fn key(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// Makes `fut` an actor's task, not yet polled: its first poll runs when the
    /// [`Unstarted`] is run on this thread, or by one of the drivers once it is dropped.
    pub(crate) fn spawn<F>(self: &Arc<Self>, fut: F) -> (TaskHandle, Unstarted)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let sched = Arc::clone(self);
        let (runnable, task) = async_task::Builder::new()
            .metadata(self.key())
            .spawn(move |_| fut, move |runnable| sched.schedule(runnable));
        (TaskHandle(Some(task)), Unstarted(Some(runnable)))
    }

    /// Queues a woken task, and wakes an idle driver for it. With no driver left (the
    /// runtime has shut down) the task is dropped instead, as the runtime would.
    fn schedule(&self, runnable: Runnable<usize>) {
        if WANTED.get() && self.is_current() {
            WANTED.set(false);
            hand_over(runnable);
            return;
        }
        // Woken by an actor this scheduler's driver polls here: polled next by the same
        // driver, on the same thread, with its caches warm (the task it displaces is
        // queued for any driver).
        let runnable = if DRIVING.get() == self.key() {
            match NEXT.replace(Some(runnable)) {
                Some(displaced) => displaced,
                None => return,
            }
        } else {
            runnable
        };
        self.enqueue(runnable);
    }

    /// Queues a task for any driver, waking an idle one.
    fn enqueue(&self, runnable: Runnable<usize>) {
        let mut state = self.state.lock();
        if state.drivers == 0 {
            drop(state);
            reap(runnable);
            return;
        }
        state.queue.push_back(runnable);
        let idle = state.idle.pop();
        drop(state);
        if let Some((_, driver)) = idle {
            driver.wake();
        }
    }

    /// Whether this thread runs its runtime: whether the tokio task being polled here
    /// (or, outside a task, the runtime context entered here) is of its runtime.
    #[inline]
    fn is_current(&self) -> bool {
        let task = tokio::task::try_id();
        if let (Some(task), Some((seen, runtime))) = (task, SEEN.get()) {
            if task == seen {
                return runtime == self.runtime;
            }
        }
        current_runtime(task) == Some(self.runtime)
    }

    /// The system is gone: its drivers end once idle.
    pub(crate) fn close(&self) {
        let idle = {
            let mut state = self.state.lock();
            state.closed = true;
            std::mem::take(&mut state.idle)
        };
        for (_, driver) in idle {
            driver.wake();
        }
    }
}

/// A tokio task that polls the actors of the run queue.
struct Driver {
    sched: Arc<Sched>,
    number: usize,
}

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let sched = &*self.sched;
        let _driving = Driving::enter(sched);
        let mut in_a_row = 0;
        for _ in 0..ROUND {
            let next = match NEXT.take() {
                Some(next) if in_a_row < MAX_NEXT_IN_A_ROW => {
                    in_a_row += 1;
                    next
                }
                next => {
                    in_a_row = 0;
                    let mut state = sched.state.lock();
                    if let Some(next) = next {
                        state.queue.push_back(next);
                    }
                    match state.queue.pop_front() {
                        Some(next) => next,
                        None if state.closed => return Poll::Ready(()),
                        None => {
                            if !state.idle.iter().any(|(n, _)| *n == self.number) {
                                state.idle.push((self.number, cx.waker().clone()));
                            }
                            return Poll::Pending;
                        }
                    }
                }
            };
            // An actor's own loop turns panics into exits; one that escapes it (from a
            // `Drop`) has already ended that task, and must not end the others.
            let _ = catch_unwind(AssertUnwindSafe(|| next.run()));
            if !tokio::task::coop::has_budget_remaining() {
                break;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Marks the thread as running a driver of `sched`, for a poll; at its end, the task
/// kept for the driver's next turn goes to the queue, for any driver.
struct Driving<'a> {
    sched: &'a Sched,
    /// What the thread was doing before, should a driver be polled within an actor (by a
    /// runtime the actor runs itself).
    previous: (usize, Option<Runnable<usize>>),
}

impl<'a> Driving<'a> {
    fn enter(sched: &'a Sched) -> Self {
        let previous = (DRIVING.replace(sched.key()), NEXT.take());
        Self { sched, previous }
    }
}

impl Drop for Driving<'_> {
    fn drop(&mut self) {
        if let Some(next) = NEXT.replace(self.previous.1.take()) {
            self.sched.enqueue(next);
        }
        DRIVING.set(self.previous.0);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let queue = {
            let mut state = self.sched.state.lock();
            state.drivers -= 1;
            state.idle.retain(|(n, _)| *n != self.number);
            if state.drivers > 0 {
                return;
            }
            std::mem::take(&mut state.queue)
        };
        // The runtime is going away: drop what is queued, then every unfinished actor
        // (a task aborted now comes back through `enqueue`, which reaps it at once).
        for runnable in queue {
            reap(runnable);
        }
        if let Some(system) = self.sched.system.upgrade() {
            system.abort_all(&self.sched);
        }
    }
}
