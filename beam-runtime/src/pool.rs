//! Worker pools: a fixed number of supervised actors of one type, and typed calls and
//! casts routed to whichever of them is alive (ractor's factories, actix's `SyncArbiter`).
//!
//! [`Pool::builder`] takes the number of workers and a function making each worker's spawn
//! arguments from its index; [`PoolBuilder::start`] starts a [`Supervisor`] that owns the
//! workers (one_for_one: a worker that crashes is restarted from its arguments), or
//! [`PoolBuilder::child_spec`] makes that supervisor a child of another, so the pool sits
//! in a tree.
//!
//! # Routing
//!
//! [`Pool::call`] and [`Pool::cast`] choose a worker by the pool's [`Routing`], among the
//! workers that are alive: one that crashed is skipped until its restart is done.
//! [`Routing::RoundRobin`] takes them in turn; [`Routing::LeastBusy`] takes the one with
//! the lowest load, the calls through the pool it has not answered yet plus the messages
//! in its mailbox (ties go round robin).
//!
//! # Calls that never reached a worker
//!
//! A call is sent to one worker, and retried on another only if it never reached the
//! first, so no handler ever runs twice for one call:
//!
//! - **Never received, sent again.** A call that found its worker gone (the worker died
//!   between the choice and the send, or while the call waited for room in its bounded
//!   mailbox) goes to another live worker at once, within the same timeout. A call still
//!   queued in the mailbox of a worker that crashes goes to another live worker when the
//!   worker exits, ahead of its restart (so do casts); if none is alive, it waits for the
//!   worker's next incarnation, as the messages of any supervised child do (see
//!   [`supervisor`](crate::supervisor#handles-that-survive-restarts-and-messages-in-flight)).
//! - **Received, not retried.** A call whose handler had started when its worker died may
//!   have had effects: it fails with [`CallError::Exited`] and the worker's exit reason.
//!   A call that was moved to another worker and is lost again there (that worker crashes
//!   while handling it) fails with [`CallError::NoReply`].
//!
//! When no worker is alive, a call fails with [`CallError::NoProc`] and a cast with
//! [`SendError::NoProc`]. While the pool stops, workers stop last first, each after the
//! messages already in its mailbox; a message that reaches a worker after its stop goes to
//! one not stopped yet, and those left at the end fail with [`CallError::Exited`].
//!
//! # Examples
//!
//! ```
//! use beam_runtime::prelude::*;
//!
//! struct Resizer {
//!     index: usize,
//! }
//!
//! #[actor]
//! impl Resizer {
//!     #[init]
//!     fn init(index: usize) -> Self {
//!         Resizer { index }
//!     }
//!
//!     #[call]
//!     fn resize(&self, width: u32) -> (usize, u32) {
//!         (self.index, width / 2)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let system = ActorSystem::new();
//! let pool = Pool::<Resizer>::builder(2, |index| index)
//!     .routing(Routing::RoundRobin)
//!     .start(&system)
//!     .await?;
//! assert_eq!(pool.call(|w| w.resize(800)).await?, (0, 400));
//! assert_eq!(pool.call(|w| w.resize(640)).await?, (1, 320));
//! assert_eq!(pool.workers().len(), 2);
//! pool.stop().await;
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::__private::Api;
use crate::actor::{Actor, ActorId, ActorRef, Envelope};
use crate::call::{Call, DEFAULT_CALL_TIMEOUT, deadline_after};
use crate::error::{CallError, SendError};
use crate::exit::ExitReason;
use crate::supervisor::{
    ChildHandle, ChildSpec, SpecError, Supervisor, SupervisorError, SupervisorSpec,
};
use crate::system::ActorSystem;

/// How a [`Pool`] chooses the worker for each call and cast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Routing {
    /// The live workers in turn.
    #[default]
    RoundRobin,
    /// The live worker with the lowest load: the calls through the pool it has not
    /// answered yet plus the messages in its mailbox. Ties go round robin.
    LeastBusy,
}

/// Makes worker `index`'s spawn arguments.
type MakeArgs<W> = Arc<dyn Fn(usize) -> <W as Actor>::Args + Send + Sync>;

/// The configuration of a [`Pool`]: see [`Pool::builder`].
pub struct PoolBuilder<W: Actor> {
    size: usize,
    make: MakeArgs<W>,
    routing: Routing,
    intensity: Option<(u32, Duration)>,
    capacity: Option<usize>,
}

impl<W: Actor> PoolBuilder<W> {
    /// Sets the routing ([`Routing::RoundRobin`] unless set).
    #[must_use]
    pub fn routing(mut self, routing: Routing) -> Self {
        self.routing = routing;
        self
    }

    /// Sets the restart intensity of the pool's supervisor, as
    /// [`SupervisorSpec::intensity`]; by default as many restarts as there are workers
    /// within 5 seconds.
    #[must_use]
    pub fn intensity(mut self, max_restarts: u32, period: Duration) -> Self {
        self.intensity = Some((max_restarts, period));
        self
    }

    /// Gives every worker a bounded mailbox of `capacity` messages (see
    /// [`SpawnBuilder::bounded`](crate::SpawnBuilder::bounded)).
    #[must_use]
    pub fn bounded(mut self, capacity: usize) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// Starts the pool's supervisor in `system` (top level), and the workers in order.
    /// A pool of zero workers is refused ([`SpecError::EmptyPool`]).
    pub async fn start(self, system: &ActorSystem) -> Result<Pool<W>, SupervisorError> {
        let (spec, mut pool) = self.build();
        pool.top = Some(spec.start(system).await?);
        Ok(pool)
    }

    /// The pool as a child `id` of another supervisor, and the pool, which works once
    /// that supervisor has started the child (and follows it across restarts). Its
    /// start fails with [`SpecError::EmptyPool`] for a pool of zero workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use beam_runtime::prelude::*;
    ///
    /// struct Echo;
    ///
    /// #[actor]
    /// impl Echo {
    ///     #[call]
    ///     fn echo(&self, text: String) -> String {
    ///         text
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// let system = ActorSystem::new();
    /// let (spec, echoes) = Pool::<Echo>::builder(3, |_| Echo).child_spec("echoes");
    /// let root = SupervisorSpec::new().child(spec).start(&system).await?;
    /// assert_eq!(echoes.call(|w| w.echo("hi".into())).await?, "hi");
    /// assert_eq!(root.count_children().await?.supervisors, 1);
    /// # system.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn child_spec(self, id: impl Into<Cow<'static, str>>) -> (ChildSpec<Supervisor>, Pool<W>) {
        let (spec, mut pool) = self.build();
        let child = ChildSpec::<Supervisor>::new(id, spec);
        pool.nested = Some(child.handle());
        (child, pool)
    }

    /// The supervisor spec owning the workers, and the pool over their handles.
    fn build(self) -> (SupervisorSpec, Pool<W>) {
        let Self {
            size,
            make,
            routing,
            intensity,
            capacity,
        } = self;
        let (max, period) = intensity.unwrap_or_else(|| {
            let max = u32::try_from(size).unwrap_or(u32::MAX).max(1);
            (max, Duration::from_secs(5))
        });
        let mut spec = SupervisorSpec::new().intensity(max, period);
        if size == 0 {
            spec = spec.refuse(SpecError::EmptyPool);
        }
        let mut children = Vec::with_capacity(size);
        let inner = Arc::new_cyclic(|weak: &Weak<Inner<W>>| {
            let workers = (0..size)
                .map(|index| {
                    let make = make.clone();
                    let weak = weak.clone();
                    let mut child =
                        ChildSpec::<W>::from_fn(format!("worker-{index}"), move || make(index))
                            .redirect(Arc::new(move |msg| match weak.upgrade() {
                                Some(inner) => inner.redirect(index, msg),
                                None => Err(msg),
                            }));
                    if let Some(capacity) = capacity {
                        child = child.bounded(capacity);
                    }
                    let handle = child.handle();
                    children.push(child);
                    Worker {
                        handle,
                        calls: AtomicUsize::new(0),
                    }
                })
                .collect();
            Inner {
                workers,
                routing,
                cursor: AtomicUsize::new(0),
            }
        });
        for child in children {
            spec = spec.child(child);
        }
        let pool = Pool {
            inner,
            top: None,
            nested: None,
        };
        (spec, pool)
    }
}

impl<W: Actor> fmt::Debug for PoolBuilder<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("size", &self.size)
            .field("routing", &self.routing)
            .field("intensity", &self.intensity)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// A supervised pool of workers of type `W`: see the [module documentation](self).
///
/// Cheap to clone (the clones share the workers and the routing). Dropping it leaves the
/// workers running; [`stop`](Self::stop) stops them.
pub struct Pool<W: Actor> {
    inner: Arc<Inner<W>>,
    /// The supervisor of a pool started at the top level.
    top: Option<ActorRef<Supervisor>>,
    /// The supervisor of a pool that is another supervisor's child.
    nested: Option<ChildHandle<Supervisor>>,
}

struct Inner<W: Actor> {
    workers: Vec<Worker<W>>,
    routing: Routing,
    /// Where the next round starts.
    cursor: AtomicUsize,
}

struct Worker<W: Actor> {
    handle: ChildHandle<W>,
    /// Calls sent through the pool to this worker and not answered yet.
    calls: AtomicUsize,
}

/// Counts a call against its worker's load while it lasts.
struct Busy<'a>(&'a AtomicUsize);

impl<'a> Busy<'a> {
    fn new(calls: &'a AtomicUsize) -> Self {
        calls.fetch_add(1, Ordering::Relaxed);
        Self(calls)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<W: Actor> Inner<W> {
    /// The worker the routing chooses among the live ones `skip` does not refuse.
    fn pick(&self, skip: impl Fn(usize, ActorId) -> bool) -> Option<(usize, ActorRef<W>)> {
        let n = self.workers.len();
        if n == 0 {
            return None;
        }
        let start = self.cursor.fetch_add(1, Ordering::Relaxed) % n;
        let live = (0..n).filter_map(|k| {
            let index = (start + k) % n;
            let worker = self.workers[index].handle.current()?;
            (worker.is_alive() && !skip(index, worker.id())).then_some((index, worker))
        });
        match self.routing {
            Routing::RoundRobin => live.into_iter().next(),
            Routing::LeastBusy => live.min_by_key(|(index, worker)| {
                let calls = self.workers[*index].calls.load(Ordering::Relaxed);
                calls + worker.shared().mailbox.len()
            }),
        }
    }

    /// Hands a message that worker `from` left at its exit to another live worker, or
    /// gives it back.
    fn redirect(&self, from: usize, mut msg: W::Msg) -> Result<(), W::Msg> {
        let mut refused: Vec<usize> = Vec::new();
        while let Some((index, worker)) =
            self.pick(|index, _| index == from || refused.contains(&index))
        {
            match offer(&worker, msg) {
                Ok(()) => return Ok(()),
                Err(back) => {
                    msg = back;
                    refused.push(index);
                }
            }
        }
        Err(msg)
    }
}

/// Queues `msg` for `worker` if it is alive and has room, or gives it back.
fn offer<W: Actor>(worker: &ActorRef<W>, msg: W::Msg) -> Result<(), W::Msg> {
    let mailbox = &worker.shared().mailbox;
    if mailbox.try_reserve().is_err() {
        return Err(msg);
    }
    match mailbox.push(Envelope::Msg(msg)) {
        Ok(()) => Ok(()),
        Err(Envelope::Msg(msg)) => Err(msg),
        Err(_) => unreachable!("a message pushed is given back as it was"),
    }
}

impl<W: Actor> Pool<W> {
    /// A pool of `size` workers; worker `index` (from 0) starts, and restarts, from the
    /// arguments `make_args(index)` returns.
    pub fn builder(
        size: usize,
        make_args: impl Fn(usize) -> W::Args + Send + Sync + 'static,
    ) -> PoolBuilder<W> {
        PoolBuilder {
            size,
            make: Arc::new(make_args),
            routing: Routing::default(),
            intensity: None,
            capacity: None,
        }
    }

    /// How many workers the pool has, alive or not.
    #[must_use]
    pub fn size(&self) -> usize {
        self.inner.workers.len()
    }

    /// The workers alive now, in index order.
    #[must_use]
    pub fn workers(&self) -> Vec<ActorRef<W>> {
        self.inner
            .workers
            .iter()
            .filter_map(|w| w.handle.current().filter(ActorRef::is_alive))
            .collect()
    }

    /// The supervisor that owns the workers, if it runs.
    #[must_use]
    pub fn supervisor(&self) -> Option<ActorRef<Supervisor>> {
        match (&self.top, &self.nested) {
            (Some(top), _) => Some(top.clone()).filter(ActorRef::is_alive),
            (None, Some(nested)) => nested.current(),
            (None, None) => None,
        }
    }

    /// Sends a call to a live worker chosen by the routing and waits for its reply:
    /// `f` makes the call on the worker it is given (`pool.call(|w| w.work(job))`).
    ///
    /// The call is sent again to another worker if it never reached the one chosen
    /// (see the [module documentation](self)). The pool's timeout applies
    /// ([`PoolCall::timeout`], 5 s unless set), not one set inside `f`.
    pub fn call<T, F>(&self, f: F) -> PoolCall<'_, W, T, F>
    where
        F: for<'r> FnOnce(&'r ActorRef<W>) -> Call<'r, W, T>,
    {
        PoolCall {
            pool: self,
            make: f,
            timeout: DEFAULT_CALL_TIMEOUT,
            answer: std::marker::PhantomData,
        }
    }

    /// Sends a cast to a live worker chosen by the routing: `f` makes the cast on the
    /// worker it is given (`pool.cast(|w| w.run(job))`) and its result is returned.
    /// [`SendError::NoProc`] if no worker is alive.
    pub fn cast<F>(&self, f: F) -> Result<(), SendError>
    where
        F: FnOnce(&ActorRef<W>) -> Result<(), SendError>,
    {
        match self.inner.pick(|_, _| false) {
            Some((_, worker)) => f(&worker),
            None => Err(SendError::NoProc),
        }
    }

    /// Stops the pool: its supervisor stops the workers (last first, each by its
    /// shutdown), then exits. Resolves to the supervisor's exit reason
    /// ([`ExitReason::NoProc`] if it was not running). A pool that is another
    /// supervisor's child is then restarted or not by that supervisor, as any child.
    pub fn stop(&self) -> impl Future<Output = ExitReason> + Send + 'static {
        let supervisor = self.supervisor();
        async move {
            match supervisor {
                Some(supervisor) => supervisor.stop().await,
                None => ExitReason::NoProc,
            }
        }
    }

    async fn run_call<T, F>(&self, make: F, timeout: Duration) -> Result<T, CallError>
    where
        F: for<'r> FnOnce(&'r ActorRef<W>) -> Call<'r, W, T>,
    {
        let inner = &*self.inner;
        let deadline = deadline_after(timeout);
        let Some((index, worker)) = inner.pick(|_, _| false) else {
            return Err(CallError::NoProc);
        };
        let (mut msg, mut rx) = {
            let _busy = Busy::new(&inner.workers[index].calls);
            let mut call = pin!(make(&worker).timeout(timeout));
            let out = call.as_mut().await;
            match out {
                Err(_) => match call.take_unsent() {
                    Some(unsent) => unsent,
                    None => return out,
                },
                Ok(_) => return out,
            }
        };
        // It never reached `worker`: another one gets it, within what is left of the time.
        let mut tried = vec![worker.id()];
        loop {
            let Some((index, worker)) = inner.pick(|_, id| tried.contains(&id)) else {
                return Err(CallError::NoProc);
            };
            let _busy = Busy::new(&inner.workers[index].calls);
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let mut call = pin!(Call::new(worker.raw(), msg, rx).timeout(left));
            let out = call.as_mut().await;
            match out {
                Err(_) => match call.take_unsent() {
                    Some(unsent) => (msg, rx) = unsent,
                    None => return out,
                },
                Ok(_) => return out,
            }
            tried.push(worker.id());
        }
    }
}

impl<W: Actor> Clone for Pool<W> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            top: self.top.clone(),
            nested: self.nested.clone(),
        }
    }
}

impl<W: Actor> fmt::Debug for Pool<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("size", &self.size())
            .field("routing", &self.inner.routing)
            .field("workers", &self.workers())
            .finish_non_exhaustive()
    }
}

/// A call through a [`Pool`]; resolves to `Result<T, CallError>` when awaited.
/// Returned by [`Pool::call`].
#[must_use = "a pool call does nothing unless awaited"]
pub struct PoolCall<'a, W: Actor, T, F> {
    pool: &'a Pool<W>,
    make: F,
    timeout: Duration,
    answer: std::marker::PhantomData<fn() -> T>,
}

impl<W: Actor, T, F> PoolCall<'_, W, T, F> {
    /// Waits at most `timeout` for the reply, re-sends included, instead of
    /// [`DEFAULT_CALL_TIMEOUT`] (`Duration::MAX` waits for as long as it takes).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl<'a, W, T, F> IntoFuture for PoolCall<'a, W, T, F>
where
    W: Actor,
    T: Send + 'static,
    F: for<'r> FnOnce(&'r ActorRef<W>) -> Call<'r, W, T> + Send + 'a,
{
    type Output = Result<T, CallError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T, CallError>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.pool.run_call(self.make, self.timeout))
    }
}

impl<W: Actor, T, F> fmt::Debug for PoolCall<'_, W, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolCall")
            .field("pool", self.pool)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
