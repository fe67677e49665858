//! A supervisor's children: their specs in start order and their running incarnations,
//! found by position or by incarnation in logarithmic time, so that a supervisor of many
//! children handles each exit in time independent of their number.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::backoff::{self, Backoff};
use super::{AnyHandoff, ChildCounts, ChildEntry, ChildInfo, ChildKind, Shutdown};
use crate::actor::ctx::{kill_process, stop_process};
use crate::actor::{ActorId, Process};
use crate::deadline::Timer;
use crate::error::SpawnError;
use crate::signal::Signal;
use crate::system::ActorSystem;

/// Where a child stands in its supervisor's start order; keys only grow, so a child added
/// later comes after every child already there.
pub(super) type Key = u64;

/// A child as its supervisor tracks it.
struct Child {
    spec: ChildEntry,
    running: Option<Arc<dyn Process>>,
    /// The last incarnation that ran, once one has exited.
    last: Option<ActorId>,
    /// The messages its incarnations hand over to the next, for this supervisor alone.
    handoff: AnyHandoff,
    /// Whether a restart of it is decided and waits for its backoff.
    pending: bool,
    /// Its restarts in a row, and when the last was decided.
    streak: u32,
    last_restart: Option<Instant>,
}

/// A child being stopped: killed if the stop is abandoned before it is gone (the future
/// waiting for it dropped, because its supervisor was killed), so that a kill reaches the
/// children a supervisor had already begun to stop.
struct Stopping(Option<Arc<dyn Process>>);

impl Stopping {
    /// The child is gone: nothing left to kill.
    fn done(mut self) {
        self.0 = None;
    }
}

impl Drop for Stopping {
    fn drop(&mut self) {
        if let Some(process) = self.0.take() {
            process.signal(Signal::Kill);
        }
    }
}

#[derive(Default)]
pub(super) struct Children {
    list: BTreeMap<Key, Child>,
    next: Key,
    /// The key of each running incarnation.
    running: FxHashMap<ActorId, Key>,
}

impl Children {
    /// Adds a child after the others, not running yet.
    pub(super) fn push(&mut self, spec: ChildEntry) -> Key {
        let key = self.next;
        self.next += 1;
        let handoff = spec.start.handoff();
        self.list.insert(
            key,
            Child {
                spec,
                running: None,
                last: None,
                handoff,
                pending: false,
                streak: 0,
                last_restart: None,
            },
        );
        key
    }

    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    pub(super) fn spec(&self, key: Key) -> &ChildEntry {
        &self.list[&key].spec
    }

    pub(super) fn is_running(&self, key: Key) -> bool {
        self.list.get(&key).is_some_and(|c| c.running.is_some())
    }

    /// The last incarnation of child `key` that ran, once one has exited.
    pub(super) fn last(&self, key: Key) -> Option<ActorId> {
        self.list.get(&key)?.last
    }

    /// The delay before the restart of child `key` decided now, by its own backoff or
    /// `default`; a restart more than `period` after its last starts a new streak.
    pub(super) fn backoff(
        &mut self,
        key: Key,
        default: Backoff,
        period: Duration,
        supervisor: u64,
    ) -> Duration {
        let Some(child) = self.list.get_mut(&key) else {
            return Duration::ZERO;
        };
        let backoff = child.spec.backoff.unwrap_or(default);
        if backoff.is_none() {
            return Duration::ZERO;
        }
        let now = Instant::now();
        let in_a_row = child
            .last_restart
            .is_some_and(|at| now.duration_since(at) <= period);
        child.streak = if in_a_row {
            child.streak.saturating_add(1)
        } else {
            1
        };
        child.last_restart = Some(now);
        backoff.jittered(child.streak, backoff::seed(supervisor, key, child.streak))
    }

    /// Marks the children `keys` as waiting for their restart, or not.
    pub(super) fn set_pending(&mut self, keys: &[Key], pending: bool) {
        for key in keys {
            if let Some(child) = self.list.get_mut(key) {
                child.pending = pending;
            }
        }
    }

    /// Whether child `key` waits for its restart and is not running; clears the mark.
    pub(super) fn take_pending(&mut self, key: Key) -> bool {
        self.list
            .get_mut(&key)
            .is_some_and(|c| c.running.is_none() && std::mem::take(&mut c.pending))
    }

    /// The last incarnation of child `key` spawned, started or not.
    pub(super) fn spawned(&self, key: Key) -> Option<ActorId> {
        let child = self.list.get(&key)?;
        child.spec.start.spawned(&child.handoff)
    }

    /// The child whose running incarnation is `actor`.
    pub(super) fn by_actor(&self, actor: ActorId) -> Option<Key> {
        self.running.get(&actor).copied()
    }

    /// The child with this spec id (a linear search: for management calls).
    pub(super) fn by_id(&self, id: &str) -> Option<Key> {
        self.list
            .iter()
            .find(|(_, c)| c.spec.id == id)
            .map(|(&key, _)| key)
    }

    /// Every child, in start order.
    pub(super) fn keys(&self) -> Vec<Key> {
        self.list.keys().copied().collect()
    }

    /// `key` and every child started after it, in start order.
    pub(super) fn keys_from(&self, key: Key) -> Vec<Key> {
        self.list.range(key..).map(|(&k, _)| k).collect()
    }

    /// Removes a child (its incarnation, if any, is left to run: stop it first), dropping
    /// the messages its last incarnation left.
    pub(super) fn remove(&mut self, key: Key) -> Option<ChildEntry> {
        self.discard(key);
        let child = self.list.remove(&key)?;
        if let Some(process) = &child.running {
            self.running.remove(&process.id());
        }
        Some(child.spec)
    }

    /// Drops the messages child `key`'s last incarnation left, as that incarnation's
    /// teardown: the child will not run again for now.
    pub(super) fn discard(&mut self, key: Key) {
        if let Some(child) = self.list.get(&key) {
            if let Some(last) = child.last {
                child.spec.start.discard(last, &child.handoff);
            }
        }
    }

    /// Starts an incarnation of child `key`, linked to `parent`.
    pub(super) async fn start(
        &mut self,
        key: Key,
        system: &ActorSystem,
        parent: Arc<dyn Process>,
    ) -> Result<Arc<dyn Process>, SpawnError> {
        let Some(child) = self.list.get(&key) else {
            return Err(SpawnError::Aborted);
        };
        let (start, handoff) = (child.spec.start.clone(), child.handoff.clone());
        let process = start.start(system, parent, &handoff).await?;
        self.running.insert(process.id(), key);
        if let Some(child) = self.list.get_mut(&key) {
            child.running = Some(process.clone());
            child.pending = false;
        }
        Ok(process)
    }

    /// Child `key`'s incarnation `actor` exited: it is no longer running.
    pub(super) fn exited(&mut self, key: Key, actor: ActorId) {
        self.running.remove(&actor);
        if let Some(child) = self.list.get_mut(&key) {
            child.running = None;
            child.last = Some(actor);
            child.spec.start.exited();
        }
    }

    /// Stops child `key`'s incarnation by its shutdown (its handle then shows none), and
    /// keeps the messages it leaves for the next; returns the id of the incarnation
    /// stopped.
    pub(super) async fn stop(&mut self, key: Key, system: &ActorSystem) -> Option<ActorId> {
        let child = self.list.get_mut(&key)?;
        let process = child.running.take()?;
        let id = process.id();
        self.running.remove(&id);
        child.last = Some(id);
        child.spec.start.exited();
        let table = system.deadlines();
        // Out of the running list, yet not gone: killed if the supervisor is killed (or
        // its system's shutdown times out) while it waits for this stop.
        let stopping = Stopping(Some(process));
        let process = stopping.0.as_deref().expect("set above");
        match child.spec.shutdown {
            Shutdown::BrutalKill => kill_process(process).await,
            Shutdown::Timeout(timeout) => {
                stop_process(process, &mut Timer::after(table, timeout)).await;
            }
            Shutdown::Infinity => {
                stop_process(process, &mut Timer::after(table, Duration::MAX)).await;
            }
        }
        stopping.done();
        Some(id)
    }

    /// Stops every running child among `keys`, last first, keeping the messages they
    /// leave for their next incarnations.
    pub(super) async fn stop_each(&mut self, keys: &[Key], system: &ActorSystem) {
        for &key in keys.iter().rev() {
            self.stop(key, system).await;
        }
    }

    /// Stops every running child among `keys`, last first, and drops the messages left by
    /// each (running or not): they will not run again.
    pub(super) async fn stop_all(&mut self, keys: &[Key], system: &ActorSystem) {
        for &key in keys.iter().rev() {
            self.stop(key, system).await;
            self.discard(key);
        }
    }

    /// Whether child `key` exists and is not running: one a retried restart may start.
    pub(super) fn is_stopped(&self, key: Key) -> bool {
        self.list.get(&key).is_some_and(|c| c.running.is_none())
    }

    pub(super) fn infos(&self) -> Vec<ChildInfo> {
        self.list
            .values()
            .map(|c| ChildInfo {
                id: c.spec.id.to_string(),
                actor: c.running.as_ref().map(|p| p.id()),
                kind: c.spec.start.kind(),
                restart: c.spec.restart,
                restarting: c.pending,
            })
            .collect()
    }

    pub(super) fn counts(&self) -> ChildCounts {
        let mut counts = ChildCounts {
            specs: self.list.len(),
            active: self.running.len(),
            ..ChildCounts::default()
        };
        for child in self.list.values() {
            match child.spec.start.kind() {
                ChildKind::Worker => counts.workers += 1,
                ChildKind::Supervisor => counts.supervisors += 1,
            }
        }
        counts
    }
}
