//! The dynamic supervisor: starts empty, children are added at run time, one_for_one.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::children::{Children, Key};
use super::{
    Answer, ChildCounts, ChildEntry, ChildError, ChildInfo, ChildSpec, Intensity, Report, Restart,
    Shutdown, SpecError, Started, SupervisorError, crashed, report_failed_restart, reported,
    restarts, start_top,
};
use crate::actor::{Actor, ActorId, ActorRef, Ctx, Process};
use crate::error::CallError;
use crate::exit::ExitReason;
use crate::message::Info;
use crate::system::ActorSystem;
use crate::task::{Task, TaskActor};
use crate::telemetry::emit;

/// A dynamic supervisor's strategy, as telemetry reports it.
const ONE_FOR_ONE: &str = "one_for_one";

/// The configuration of a [`DynamicSupervisor`]: how many children it takes at most and
/// its restart intensity.
///
/// # Examples
///
/// ```
/// use beam_runtime::prelude::*;
/// use beam_runtime::supervisor::{ChildError, DynamicSupervisorSpec};
///
/// #[derive(Clone)]
/// struct Session {
///     user: String,
/// }
///
/// #[actor]
/// impl Session {
///     #[call]
///     fn user(&self) -> String {
///         self.user.clone()
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), beam_runtime::Error> {
/// let system = ActorSystem::new();
/// let sessions = DynamicSupervisorSpec::new().max_children(2).start(&system).await?;
/// let ann = sessions.start_child::<Session>(Session { user: "ann".into() }).await?;
/// let bob = sessions.start_child::<Session>(Session { user: "bob".into() }).await?;
/// assert_eq!(ann.user().await?, "ann");
///
/// let third = sessions.start_child::<Session>(Session { user: "cy".into() }).await;
/// assert_eq!(third.unwrap_err(), ChildError::MaxChildren(2));
///
/// sessions.terminate_child(bob.id()).await?;
/// assert_eq!(sessions.count_children().await?.active, 1);
/// # system.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DynamicSupervisorSpec {
    max_children: Option<usize>,
    max_restarts: u32,
    period: Duration,
    report: Option<Report>,
}

impl Default for DynamicSupervisorSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl DynamicSupervisorSpec {
    /// No limit on children, and OTP's default intensity: at most 1 restart in 5 seconds.
    #[must_use]
    pub fn new() -> Self {
        Self {
            max_children: None,
            max_restarts: 1,
            period: Duration::from_secs(5),
            report: None,
        }
    }

    /// Refuses to start more than `max` children at once
    /// ([`ChildError::MaxChildren`]).
    #[must_use]
    pub fn max_children(mut self, max: usize) -> Self {
        self.max_children = Some(max);
        self
    }

    /// Allows at most `max_restarts` restarts within any `period`, as
    /// [`SupervisorSpec::intensity`](super::SupervisorSpec::intensity).
    #[must_use]
    pub fn intensity(mut self, max_restarts: u32, period: Duration) -> Self {
        self.max_restarts = max_restarts;
        self.period = period;
        self
    }

    /// Starts a top-level dynamic supervisor in `system`, with no children.
    pub async fn start(
        mut self,
        system: &ActorSystem,
    ) -> Result<ActorRef<DynamicSupervisor>, SupervisorError> {
        let report = Report::default();
        self.report = Some(report.clone());
        start_top::<DynamicSupervisor>(system, self, report).await
    }
}

impl std::fmt::Debug for DynamicSupervisorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicSupervisorSpec")
            .field("max_children", &self.max_children)
            .field("max_restarts", &self.max_restarts)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

/// A supervisor that starts empty and takes children at run time (Elixir's
/// `DynamicSupervisor`): for sessions, connections, jobs, anything started on demand.
///
/// Children restart one for one, by their [`Restart`] type, within the restart intensity;
/// a child that exits for good is removed. Children stop in reverse start order when the
/// supervisor stops. See [`DynamicSupervisorSpec`] for an example.
pub struct DynamicSupervisor {
    max_children: Option<usize>,
    intensity: Intensity,
    children: Children,
}

#[crate::actor(crate = crate)]
impl DynamicSupervisor {
    #[init]
    fn init(spec: DynamicSupervisorSpec, ctx: &mut Ctx<Self>) -> Result<Self, SupervisorError> {
        if spec.period.is_zero() {
            let error = SupervisorError::InvalidSpec(SpecError::ZeroPeriod);
            return reported(Err(error), spec.report.as_ref());
        }
        ctx.trap_exit(true);
        Ok(DynamicSupervisor {
            max_children: spec.max_children,
            intensity: Intensity::new(spec.max_restarts, spec.period),
            children: Children::default(),
        })
    }

    #[info]
    async fn info(&mut self, info: Info, ctx: &mut Ctx<Self>) {
        if let Info::Exit { from, reason } = info {
            self.child_exited(from, reason, ctx).await;
        }
    }

    #[terminate]
    async fn terminate(&mut self, ctx: &mut Ctx<Self>) {
        let all = self.children.keys();
        self.children.stop_all(&all, &ctx.system().clone()).await;
    }

    #[call]
    fn children_info(&self) -> Vec<ChildInfo> {
        self.children.infos()
    }

    #[call]
    fn counts(&self) -> ChildCounts {
        self.children.counts()
    }

    #[call]
    async fn add_one(&mut self, spec: ChildEntry, ctx: &mut Ctx<Self>) -> Answer<Started> {
        spec.validate()?;
        if let Some(max) = self.max_children {
            if self.children.len() >= max {
                return Err(ChildError::MaxChildren(max));
            }
        }
        let key = self.children.push(spec);
        let me: Arc<dyn Process> = ctx.me().shared().clone();
        match self.children.start(key, &ctx.system().clone(), me).await {
            Ok(process) => Ok(Started(process)),
            Err(error) => {
                let spec = self.children.remove(key).expect("just added");
                Err(ChildError::Start {
                    id: spec.id.into_owned(),
                    error,
                })
            }
        }
    }

    #[call]
    async fn terminate_one(&mut self, child: ActorId, ctx: &mut Ctx<Self>) -> Answer<()> {
        let key = self
            .children
            .by_actor(child)
            .ok_or_else(|| ChildError::NotFound(child.to_string()))?;
        self.children.stop(key, &ctx.system().clone()).await;
        self.children.remove(key);
        Ok(())
    }

    /// Tries a restart again that failed, from the supervisor's own mailbox.
    #[cast]
    async fn retry(&mut self, key: Key, ctx: &mut Ctx<Self>) {
        if self.children.is_stopped(key) {
            self.restart(key, ctx).await;
        }
    }
}

impl DynamicSupervisor {
    /// Restarts child `from` if its restart type says so, within the intensity; removes it
    /// otherwise.
    async fn child_exited(&mut self, from: ActorId, reason: ExitReason, ctx: &mut Ctx<Self>) {
        let Some(key) = self.children.by_actor(from) else {
            return;
        };
        self.children.exited(key, from);
        if crashed(self.children.spec(key).restart, &reason) {
            let id = &self.children.spec(key).id;
            emit::child_crashed(ctx.id(), id, from, &reason, ONE_FOR_ONE);
        }
        if !restarts(self.children.spec(key).restart, &reason) {
            self.children.remove(key);
            return;
        }
        if !self.intensity.note_restart(ctx.id()) {
            ctx.stop_with(ExitReason::Shutdown);
            return;
        }
        self.restart(key, ctx).await;
    }

    /// Starts child `key` again; a failure counts as one more restart and is retried
    /// later from the mailbox, until the intensity is exceeded.
    async fn restart(&mut self, key: Key, ctx: &mut Ctx<Self>) {
        let me: Arc<dyn Process> = ctx.me().shared().clone();
        let old = self.children.last(key);
        let error = match self.children.start(key, &ctx.system().clone(), me).await {
            Ok(new) => {
                let id = &self.children.spec(key).id;
                emit::child_restarted(ctx.id(), id, old, new.id(), ONE_FOR_ONE);
                return;
            }
            Err(error) => error,
        };
        let id = &self.children.spec(key).id;
        let error = ChildError::Start {
            id: id.to_string(),
            error,
        };
        report_failed_restart(
            ctx.id(),
            id,
            self.children.spawned(key),
            &error,
            ONE_FOR_ONE,
        );
        if !self.intensity.note_restart(ctx.id()) {
            ctx.stop_with(ExitReason::Shutdown);
            return;
        }
        let _ = ctx.me().retry(key);
    }
}

impl std::fmt::Debug for DynamicSupervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicSupervisor")
            .field("max_children", &self.max_children)
            .field("intensity", &self.intensity)
            .field("children", &self.children.len())
            .finish_non_exhaustive()
    }
}

impl ActorRef<DynamicSupervisor> {
    /// Starts a child of type `B` from `args` ([`Restart::Permanent`](super::Restart), restarted from a
    /// clone of `args`); fails with [`ChildError::MaxChildren`] at the limit.
    pub async fn start_child<B: Actor>(&self, args: B::Args) -> Result<ActorRef<B>, ChildError>
    where
        B::Args: Clone + Sync,
    {
        let id = crate::actor::actor_ref::short_type_name::<B>();
        self.start_child_spec(ChildSpec::<B>::new(id, args)).await
    }

    /// Starts a temporary child of type `B` from `args`, taken by value: they need be
    /// neither `Clone` nor `Sync` (an accepted `TcpStream`, a one-shot channel), since the
    /// child is never restarted (see [`ChildSpec::once`]). Fails with
    /// [`ChildError::MaxChildren`] at the limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use beam_runtime::prelude::*;
    /// use beam_runtime::supervisor::DynamicSupervisorSpec;
    /// use tokio::sync::oneshot;
    ///
    /// struct Job {
    ///     done: Option<oneshot::Sender<u32>>,
    /// }
    ///
    /// #[actor]
    /// impl Job {
    ///     #[init]
    ///     fn init(done: oneshot::Sender<u32>) -> Self {
    ///         Job { done: Some(done) }
    ///     }
    ///
    ///     #[cast]
    ///     fn finish(&mut self, n: u32, ctx: &mut Ctx<Self>) {
    ///         if let Some(done) = self.done.take() {
    ///             let _ = done.send(n);
    ///         }
    ///         ctx.stop();
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// let system = ActorSystem::new();
    /// let jobs = DynamicSupervisorSpec::new().start(&system).await?;
    /// let (tx, rx) = oneshot::channel();
    /// let job = jobs.start_temporary::<Job>(tx).await?;
    /// job.finish(7)?;
    /// assert_eq!(rx.await, Ok(7));
    /// job.wait_for_exit().await;
    /// assert_eq!(jobs.count_children().await?.specs, 0);
    /// # system.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start_temporary<B: Actor>(
        &self,
        args: B::Args,
    ) -> Result<ActorRef<B>, ChildError> {
        let id = crate::actor::actor_ref::short_type_name::<B>();
        self.start_child_spec(ChildSpec::<B>::once(id, args)).await
    }

    /// Starts a child from a full spec (restart type, shutdown, name, ...); its id is only
    /// reported, and need not be unique.
    pub async fn start_child_spec<B: Actor>(
        &self,
        spec: ChildSpec<B>,
    ) -> Result<ActorRef<B>, ChildError> {
        let started = self
            .add_one(spec.into_entry())
            .timeout(Duration::MAX)
            .await??;
        Ok(started.typed())
    }

    /// Runs `fut` as a task under this supervisor (Elixir's `Task.Supervisor.async_nolink`):
    /// a temporary child, killed at once when the supervisor stops, whose result the
    /// returned [`Task`] gives. A panic is the task's crash, reported in the result.
    pub async fn spawn_task<F>(&self, fut: F) -> Result<Task<F::Output>, ChildError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (work, result) = Task::prepare(fut);
        // A future runs once: the spec starts it once (a temporary child never restarts).
        let work = std::sync::Mutex::new(Some(work));
        let spec = ChildSpec::<TaskActor>::from_fn("task", move || {
            let work = work
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            work.unwrap_or_else(|| Box::pin(async { None }))
        })
        .restart(Restart::Temporary)
        .shutdown(Shutdown::BrutalKill);
        let actor = self.start_child_spec(spec).await?;
        Ok(Task::new(result, actor))
    }

    /// Stops the running child `child` by its shutdown and removes it; fails with
    /// [`ChildError::NotFound`] if it is not a running child of this supervisor.
    pub async fn terminate_child(&self, child: ActorId) -> Result<(), ChildError> {
        self.terminate_one(child).timeout(Duration::MAX).await?
    }

    /// The running children, in start order.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.children_info().timeout(Duration::MAX).await
    }

    /// How many children there are, and of which kind.
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.counts().timeout(Duration::MAX).await
    }
}
