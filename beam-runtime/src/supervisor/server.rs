//! The supervisor actor: starting, watching, restarting and stopping children.

use std::sync::Arc;
use std::time::Duration;

use super::children::{Children, Key};
use super::{
    Answer, Backoff, ChildCounts, ChildEntry, ChildError, ChildInfo, ChildSpec, Intensity, Restart,
    Started, Strategy, SupervisorError, SupervisorSpec, crashed, report_failed_restart, reported,
    restarts,
};
use crate::actor::{Actor, ActorId, ActorRef, Ctx, Process};
use crate::error::CallError;
use crate::exit::ExitReason;
use crate::message::Info;
use crate::telemetry::emit;

/// A supervisor: an actor that starts children from a [`SupervisorSpec`] and restarts them
/// by its rules (see the [module documentation](crate::supervisor)).
///
/// Its methods, on `ActorRef<Supervisor>`, manage the children at run time as OTP's
/// `supervisor` module does. They wait for the supervisor without a timeout, since
/// stopping or starting a child takes as long as that child's shutdown or `#[init]`.
pub struct Supervisor {
    strategy: Strategy,
    intensity: Intensity,
    /// The backoff of children whose spec sets none.
    backoff: Backoff,
    children: Children,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("strategy", &self.strategy)
            .field("intensity", &self.intensity)
            .field("backoff", &self.backoff)
            .field("children", &self.children.infos())
            .finish_non_exhaustive()
    }
}

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
    async fn terminate_one(&mut self, id: String, ctx: &mut Ctx<Self>) -> Answer<()> {
        let key = self.find(&id)?;
        self.children.stop(key, &ctx.system().clone()).await;
        // A restart waiting for its backoff is cancelled.
        self.children.set_pending(&[key], false);
        if self.children.spec(key).restart == Restart::Temporary {
            self.children.remove(key);
        } else {
            self.children.discard(key);
        }
        Ok(())
    }

    /// Tries a restart again that failed: from the supervisor's own mailbox, so that it
    /// handles other messages (a stop, a call) between attempts.
    #[cast]
    async fn retry(&mut self, keys: Vec<Key>, ctx: &mut Ctx<Self>) {
        // Children deleted or started meanwhile are left alone.
        let keys: Vec<Key> = keys
            .into_iter()
            .filter(|&k| self.children.is_stopped(k))
            .collect();
        self.restart_group(&keys, ctx).await;
    }

    /// The backoff of the children `keys` is over: restarts those still waiting.
    #[cast]
    async fn backoff_over(&mut self, keys: Vec<Key>, ctx: &mut Ctx<Self>) {
        let keys: Vec<Key> = keys
            .into_iter()
            .filter(|&k| self.children.take_pending(k))
            .collect();
        if !keys.is_empty() {
            self.restart_group(&keys, ctx).await;
        }
    }

    #[call]
    async fn restart_one(&mut self, id: String, ctx: &mut Ctx<Self>) -> Answer<ActorId> {
        let key = self.find(&id)?;
        if self.children.is_running(key) {
            return Err(ChildError::Running(id));
        }
        self.start_child(key, ctx).await.map(|p| p.id())
    }

    #[call]
    fn delete_one(&mut self, id: String) -> Answer<()> {
        let key = self.find(&id)?;
        if self.children.is_running(key) {
            return Err(ChildError::Running(id));
        }
        self.children.remove(key);
        Ok(())
    }

    #[call]
    async fn add_one(&mut self, spec: ChildEntry, ctx: &mut Ctx<Self>) -> Answer<Started> {
        spec.validate()?;
        if self.children.by_id(&spec.id).is_some() {
            return Err(ChildError::AlreadyPresent(spec.id.into_owned()));
        }
        let key = self.children.push(spec);
        match self.start_child(key, ctx).await {
            Ok(process) => Ok(Started(process)),
            Err(err) => {
                self.children.remove(key);
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
            backoff: spec.backoff,
            children: Children::default(),
        };
        let keys: Vec<Key> = spec
            .children
            .into_iter()
            .map(|child| sup.children.push(child))
            .collect();
        for (i, &key) in keys.iter().enumerate() {
            if let Err(err) = sup.start_child(key, ctx).await {
                sup.children
                    .stop_all(&keys[..i], &ctx.system().clone())
                    .await;
                let ChildError::Start { id, error } = err else {
                    unreachable!("starting a child fails only to start")
                };
                return Err(SupervisorError::ChildStart { id, error });
            }
        }
        Ok(sup)
    }

    fn find(&self, id: &str) -> Answer<Key> {
        self.children
            .by_id(id)
            .ok_or_else(|| ChildError::NotFound(id.to_owned()))
    }

    /// Starts one incarnation of child `key`.
    async fn start_child(&mut self, key: Key, ctx: &mut Ctx<Self>) -> Answer<Arc<dyn Process>> {
        let me: Arc<dyn Process> = ctx.me().shared().clone();
        let system = ctx.system().clone();
        self.children
            .start(key, &system, me)
            .await
            .map_err(|error| ChildError::Start {
                id: self.children.spec(key).id.to_string(),
                error,
            })
    }

    /// Applies the rules to the exit of `from`, if it is a running child.
    async fn child_exited(&mut self, from: ActorId, reason: ExitReason, ctx: &mut Ctx<Self>) {
        // Otherwise an incarnation the supervisor stopped itself, or a stranger linked to it.
        let Some(key) = self.children.by_actor(from) else {
            return;
        };
        self.children.exited(key, from);
        let restart = self.children.spec(key).restart;
        if crashed(restart, &reason) {
            let id = &self.children.spec(key).id;
            emit::child_crashed(ctx.id(), id, from, &reason, self.strategy.name());
        }
        if !restarts(restart, &reason) {
            if restart == Restart::Temporary {
                self.children.remove(key);
            } else {
                self.children.discard(key);
            }
            return;
        }
        if !self.intensity.note_restart(ctx.id()) {
            // `#[terminate]` stops the others and drops every child's messages.
            ctx.stop_with(ExitReason::Shutdown);
            return;
        }
        let system = ctx.system().clone();
        let delay = self.backoff_of(key, ctx);
        // The group that restarts with it, in start order.
        let group = match self.strategy {
            Strategy::OneForOne => {
                // The child alone: no group to gather (and nothing to allocate).
                self.children.stop(key, &system).await;
                self.restart_after(&[key], delay, ctx).await;
                return;
            }
            Strategy::OneForAll => self.children.keys(),
            Strategy::RestForOne => self.children.keys_from(key),
        };
        let mut restarting = Vec::with_capacity(group.len());
        for &sibling in group.iter().rev() {
            self.children.stop(sibling, &system).await;
            if self.children.spec(sibling).restart == Restart::Temporary && sibling != key {
                // Temporary siblings are not restarted: their specs go.
                self.children.remove(sibling);
            } else {
                restarting.push(sibling);
            }
        }
        restarting.reverse();
        self.restart_after(&restarting, delay, ctx).await;
    }

    /// The delay before the restart of child `key` decided now.
    fn backoff_of(&mut self, key: Key, ctx: &Ctx<Self>) -> Duration {
        let period = self.intensity.period;
        self.children
            .backoff(key, self.backoff, period, ctx.id().as_u64())
    }

    /// Restarts the children `keys` now, or after `delay` from the mailbox (they wait,
    /// marked as restarting, and the supervisor goes on handling messages).
    async fn restart_after(&mut self, keys: &[Key], delay: Duration, ctx: &mut Ctx<Self>) {
        if delay.is_zero() {
            self.restart_group(keys, ctx).await;
        } else {
            self.wait_backoff(keys, delay, ctx);
        }
    }

    /// Marks the children `keys` as restarting, and restarts them from the mailbox after
    /// `delay` (unless they are stopped or started meanwhile).
    fn wait_backoff(&mut self, keys: &[Key], delay: Duration, ctx: &mut Ctx<Self>) {
        self.children.set_pending(keys, true);
        let keys = keys.to_vec();
        ctx.send_after(delay, SupervisorMsg::BackoffOver { keys });
    }

    /// Starts the children `keys` in order. If one fails, those started are stopped
    /// again, the attempt counts as a restart, and the supervisor tries again later from
    /// its mailbox (OTP's `try_again_restart`), until the intensity is exceeded.
    async fn restart_group(&mut self, keys: &[Key], ctx: &mut Ctx<Self>) {
        let mut started = 0;
        for &key in keys {
            let old = self.children.last(key);
            let new = match self.start_child(key, ctx).await {
                Ok(new) => new,
                Err(error) => {
                    let (id, attempted) = (&self.children.spec(key).id, self.children.spawned(key));
                    report_failed_restart(ctx.id(), id, attempted, &error, self.strategy.name());
                    break;
                }
            };
            let id = &self.children.spec(key).id;
            emit::child_restarted(ctx.id(), id, old, new.id(), self.strategy.name());
            started += 1;
        }
        if started == keys.len() {
            return;
        }
        self.children
            .stop_each(&keys[..started], &ctx.system().clone())
            .await;
        if !self.intensity.note_restart(ctx.id()) {
            ctx.stop_with(ExitReason::Shutdown);
            return;
        }
        let delay = self.backoff_of(keys[started], ctx);
        if delay.is_zero() {
            let _ = ctx.me().retry(keys.to_vec());
        } else {
            self.wait_backoff(keys, delay, ctx);
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
