//! The supervisor actor: starting, watching, restarting and stopping children.

use std::sync::Arc;
use std::time::Duration;

use super::{
    Child, ChildCounts, ChildEntry, ChildError, ChildInfo, ChildSpec, Intensity, Restart, Started,
    Strategy, SupervisorError, SupervisorSpec, count, reported, restarts, stop_all, stop_child,
};
use crate::actor::{Actor, ActorId, ActorRef, Ctx, Process};
use crate::error::CallError;
use crate::exit::ExitReason;
use crate::message::Info;

/// A supervisor: an actor that starts children from a [`SupervisorSpec`] and restarts them
/// by its rules (see the [module documentation](crate::supervisor)).
///
/// Its methods, on `ActorRef<Supervisor>`, manage the children at run time as OTP's
/// `supervisor` module does. They wait for the supervisor without a timeout, since
/// stopping or starting a child takes as long as that child's shutdown or `#[init]`.
pub struct Supervisor {
    strategy: Strategy,
    intensity: Intensity,
    children: Vec<Child>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("strategy", &self.strategy)
            .field("intensity", &self.intensity)
            .field(
                "children",
                &self.children.iter().map(Child::info).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// The answer of a call that may fail without the supervisor failing (a reply spelled
/// `Result` would stop it).
type Answer<T> = std::result::Result<T, ChildError>;

#[crate::actor(crate = crate)]
impl Supervisor {
    #[init]
    async fn init(spec: SupervisorSpec, ctx: &mut Ctx<Self>) -> Result<Self, SupervisorError> {
        let report = spec.report.clone();
        reported(Self::boot(spec, ctx).await, report.as_ref())
    }

    #[info]
    async fn info(&mut self, info: Info, ctx: &mut Ctx<Self>) {
        if let Info::Exit { from, reason } = info {
            self.child_exited(from, reason, ctx).await;
        }
    }

    #[terminate]
    async fn terminate(&mut self, ctx: &mut Ctx<Self>) {
        stop_all(&mut self.children, &ctx.system().clone()).await;
    }

    #[call]
    fn children_info(&self) -> Vec<ChildInfo> {
        self.children.iter().map(Child::info).collect()
    }

    #[call]
    fn counts(&self) -> ChildCounts {
        count(&self.children)
    }

    #[call]
    async fn terminate_one(&mut self, id: String, ctx: &mut Ctx<Self>) -> Answer<()> {
        let index = self.find(&id)?;
        let system = ctx.system().clone();
        let child = &mut self.children[index];
        if let Some(last) = stop_child(child, &system).await {
            child.spec.start.discard(last);
        }
        if child.spec.restart == Restart::Temporary {
            self.children.remove(index);
        }
        Ok(())
    }

    #[call]
    async fn restart_one(&mut self, id: String, ctx: &mut Ctx<Self>) -> Answer<ActorId> {
        let index = self.find(&id)?;
        if self.children[index].running.is_some() {
            return Err(ChildError::Running(id));
        }
        self.start_child(index, ctx).await
    }

    #[call]
    fn delete_one(&mut self, id: String) -> Answer<()> {
        let index = self.find(&id)?;
        if self.children[index].running.is_some() {
            return Err(ChildError::Running(id));
        }
        self.children.remove(index);
        Ok(())
    }

    #[call]
    async fn add_one(&mut self, spec: ChildEntry, ctx: &mut Ctx<Self>) -> Answer<Started> {
        spec.validate()?;
        if self.find(&spec.id).is_ok() {
            return Err(ChildError::AlreadyPresent(spec.id.into_owned()));
        }
        self.children.push(Child {
            spec,
            running: None,
        });
        let index = self.children.len() - 1;
        match self.start_child(index, ctx).await {
            Ok(_) => {
                let process = self.children[index].running.clone();
                Ok(Started(process.expect("just started")))
            }
            Err(err) => {
                self.children.remove(index);
                Err(err)
            }
        }
    }
}

impl Supervisor {
    /// Validates the spec, traps exits and starts the children in order.
    async fn boot(spec: SupervisorSpec, ctx: &mut Ctx<Self>) -> Result<Self, SupervisorError> {
        spec.validate()?;
        ctx.trap_exit(true);
        let mut sup = Supervisor {
            strategy: spec.strategy,
            intensity: Intensity::new(spec.max_restarts, spec.period),
            children: spec
                .children
                .into_iter()
                .map(|spec| Child {
                    spec,
                    running: None,
                })
                .collect(),
        };
        for index in 0..sup.children.len() {
            if let Err(err) = sup.start_child(index, ctx).await {
                stop_all(&mut sup.children[..index], &ctx.system().clone()).await;
                let ChildError::Start { id, error } = err else {
                    unreachable!("starting a child fails only to start")
                };
                return Err(SupervisorError::ChildStart { id, error });
            }
        }
        Ok(sup)
    }

    fn find(&self, id: &str) -> Answer<usize> {
        self.children
            .iter()
            .position(|c| c.spec.id == id)
            .ok_or_else(|| ChildError::NotFound(id.to_owned()))
    }

    /// Starts one incarnation of child `index`.
    async fn start_child(&mut self, index: usize, ctx: &mut Ctx<Self>) -> Answer<ActorId> {
        let me: Arc<dyn Process> = ctx.me().shared().clone();
        let child = &mut self.children[index];
        match child.spec.start.start(ctx.system(), me).await {
            Ok(process) => {
                let id = process.id();
                child.running = Some(process);
                Ok(id)
            }
            Err(error) => Err(ChildError::Start {
                id: child.spec.id.to_string(),
                error,
            }),
        }
    }

    /// Applies the rules to the exit of `from`, if it is a running child.
    async fn child_exited(&mut self, from: ActorId, reason: ExitReason, ctx: &mut Ctx<Self>) {
        let Some(index) = self
            .children
            .iter()
            .position(|c| c.running.as_ref().is_some_and(|p| p.id() == from))
        else {
            // An incarnation the supervisor stopped itself, or a stranger linked to it.
            return;
        };
        let child = &mut self.children[index];
        child.running = None;
        child.spec.start.exited();
        if !restarts(child.spec.restart, &reason) {
            child.spec.start.discard(from);
            if child.spec.restart == Restart::Temporary {
                self.children.remove(index);
            }
            return;
        }
        if !self.intensity.note_restart() {
            self.children[index].spec.start.discard(from);
            ctx.stop_with(ExitReason::Shutdown);
            return;
        }
        // The group that restarts with it, in start order.
        let group: Vec<usize> = match self.strategy {
            Strategy::OneForOne => vec![index],
            Strategy::OneForAll => (0..self.children.len()).collect(),
            Strategy::RestForOne => (index..self.children.len()).collect(),
        };
        let system = ctx.system().clone();
        for &i in group.iter().rev() {
            let sibling = &mut self.children[i];
            if let Some(last) = stop_child(sibling, &system).await {
                if sibling.spec.restart == Restart::Temporary {
                    sibling.spec.start.discard(last);
                }
            }
        }
        // Temporary siblings are not restarted: their specs go.
        let group: Vec<String> = group
            .iter()
            .map(|&i| self.children[i].spec.id.to_string())
            .collect();
        self.children.retain(|c| {
            c.spec.restart != Restart::Temporary || !group.iter().any(|id| *id == c.spec.id)
        });
        let ids: Vec<String> = group
            .into_iter()
            .filter(|id| self.find(id).is_ok())
            .collect();
        self.restart_group(&ids, ctx).await;
    }

    /// Starts the children `ids` in order; after a failure, stops those started and tries
    /// again, each attempt counting as a restart, until the intensity is exceeded.
    async fn restart_group(&mut self, ids: &[String], ctx: &mut Ctx<Self>) {
        let system = ctx.system().clone();
        loop {
            let mut started: Vec<usize> = Vec::new();
            let mut failed = false;
            for id in ids {
                let Ok(index) = self.find(id) else { continue };
                if self.start_child(index, ctx).await.is_ok() {
                    started.push(index);
                } else {
                    failed = true;
                    break;
                }
            }
            if !failed {
                return;
            }
            for &index in started.iter().rev() {
                stop_child(&mut self.children[index], &system).await;
            }
            if !self.intensity.note_restart() {
                ctx.stop_with(ExitReason::Shutdown);
                return;
            }
        }
    }
}

impl ActorRef<Supervisor> {
    /// The children in start order, running or not (OTP's `which_children`).
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.children_info().timeout(Duration::MAX).await
    }

    /// How many children there are, running and by kind (OTP's `count_children`).
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.counts().timeout(Duration::MAX).await
    }

    /// Stops child `id` by its shutdown and keeps its spec, so that
    /// [`restart_child`](Self::restart_child) can start it again (a `Temporary` child's
    /// spec is removed). Stopping a child that is not running is fine.
    pub async fn terminate_child(&self, id: &str) -> Result<(), ChildError> {
        self.terminate_one(id.to_owned())
            .timeout(Duration::MAX)
            .await?
    }

    /// Starts child `id` again after [`terminate_child`](Self::terminate_child); fails with
    /// [`ChildError::Running`] if it runs.
    pub async fn restart_child(&self, id: &str) -> Result<ActorId, ChildError> {
        self.restart_one(id.to_owned())
            .timeout(Duration::MAX)
            .await?
    }

    /// Removes the spec of child `id`, which must not be running.
    pub async fn delete_child(&self, id: &str) -> Result<(), ChildError> {
        self.delete_one(id.to_owned())
            .timeout(Duration::MAX)
            .await?
    }

    /// Adds a child to the running supervisor and starts it, after the others.
    pub async fn start_child<B: Actor>(
        &self,
        spec: ChildSpec<B>,
    ) -> Result<ActorRef<B>, ChildError> {
        let Started(process) = self
            .add_one(spec.into_entry())
            .timeout(Duration::MAX)
            .await??;
        Ok(Started(process).typed())
    }
}
