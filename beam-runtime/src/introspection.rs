//! Introspection and health: what runs in a system, as a list ([`ActorSystem::actors`]),
//! as a tree of parents and children ([`ActorSystem::tree`]), and as a health report fit
//! for liveness and readiness probes ([`ActorSystem::health`]).
//!
//! Everything here is a snapshot, read without stopping any actor: an actor may exit, or a
//! mailbox fill, a moment after it was taken.
//!
//! # Examples
//!
//! ```
//! use beam_runtime::introspection::Status;
//! use beam_runtime::prelude::*;
//!
//! struct Worker;
//!
//! #[actor]
//! impl Worker {
//!     #[cast]
//!     fn work(&mut self) {}
//! }
//!
//! beam_runtime::names! {
//!     WORKER: Worker = "worker";
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let system = ActorSystem::new();
//! let worker = system.spawn::<Worker>(Worker).name(WORKER).await?;
//! worker.work()?;
//!
//! let actors = system.actors();
//! assert_eq!(actors.len(), 1);
//! assert_eq!(actors[0].name(), Some("worker"));
//! assert_eq!(actors[0].short_type_name(), "Worker");
//! assert_eq!(actors[0].mailbox_len, 1); // not handled yet
//!
//! println!("{}", system.tree()); // <0.1> Worker "worker"
//! let health = system.health();
//! assert_eq!(health.status, Status::Healthy);
//! assert!(health.is_ready());
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;

use crate::actor::ActorId;
use crate::actor::actor_ref::short_name;
use crate::system::ActorSystem;

/// One live actor, as [`ActorSystem::actors`] saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActorInfo {
    /// Its id.
    pub id: ActorId,
    /// The names it is registered under, sorted (usually none or one).
    pub names: Vec<String>,
    /// Its type, as [`std::any::type_name`] spells it.
    pub type_name: &'static str,
    /// The messages waiting in its mailbox: for a bounded mailbox, those holding a slot
    /// (until handled); for an unbounded one, those the actor has not yet taken in (it
    /// takes them in batches, so a busy actor may hold a few more).
    pub mailbox_len: usize,
    /// The capacity of its mailbox, if bounded.
    pub mailbox_capacity: Option<usize>,
    /// The actor that spawned it as a child (its parent, or its supervisor); `None` for a
    /// top-level actor.
    pub parent: Option<ActorId>,
    /// Its label, if it was given one (a [`Task`](crate::Task)'s, from
    /// [`Task::label`](crate::Task::label)); unlike a name, not unique.
    pub label: Option<String>,
}

impl ActorInfo {
    /// Its first name, if it has one.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.names.first().map(String::as_str)
    }

    /// Its type without the module path: `Worker` for `my_app::pool::Worker`.
    #[must_use]
    pub fn short_type_name(&self) -> &str {
        short_name(self.type_name)
    }
}

impl fmt::Display for ActorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.short_type_name())?;
        if let Some(label) = &self.label {
            write!(f, " [{label}]")?;
        }
        for name in &self.names {
            write!(f, " {name:?}")?;
        }
        if self.mailbox_len > 0 {
            write!(f, " ({} queued)", self.mailbox_len)?;
        }
        Ok(())
    }
}

/// The live actors of a system arranged by parent, from [`ActorSystem::tree`]: top-level
/// actors at the roots, each actor's children (a supervisor's included) under it, in the
/// order they started. Its `Display` draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorTree {
    /// The top-level actors (and any actor whose parent has just exited).
    pub roots: Vec<TreeNode>,
}

/// One actor in an [`ActorTree`], with its children.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TreeNode {
    /// The actor.
    pub actor: ActorInfo,
    /// Its live children, oldest first.
    pub children: Vec<TreeNode>,
}

impl ActorTree {
    fn build(mut actors: Vec<ActorInfo>) -> Self {
        actors.sort_unstable_by_key(|a| a.id);
        let live: std::collections::HashSet<ActorId> = actors.iter().map(|a| a.id).collect();
        let mut children: HashMap<ActorId, Vec<ActorInfo>> = HashMap::new();
        let mut roots = Vec::new();
        for actor in actors {
            match actor.parent.filter(|p| live.contains(p)) {
                Some(parent) => children.entry(parent).or_default().push(actor),
                None => roots.push(actor),
            }
        }
        fn node(actor: ActorInfo, children: &mut HashMap<ActorId, Vec<ActorInfo>>) -> TreeNode {
            let kids = children.remove(&actor.id).unwrap_or_default();
            TreeNode {
                actor,
                children: kids.into_iter().map(|k| node(k, children)).collect(),
            }
        }
        let roots = roots.into_iter().map(|r| node(r, &mut children)).collect();
        Self { roots }
    }

    /// How many actors the tree holds.
    #[must_use]
    pub fn len(&self) -> usize {
        fn count(node: &TreeNode) -> usize {
            1 + node.children.iter().map(count).sum::<usize>()
        }
        self.roots.iter().map(count).sum()
    }

    /// Whether the system had no live actor.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

impl fmt::Display for ActorTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn draw(
            f: &mut fmt::Formatter<'_>,
            node: &TreeNode,
            prefix: &str,
            last: bool,
            top: bool,
        ) -> fmt::Result {
            let (branch, more) = match (top, last) {
                (true, _) => ("", ""),
                (false, true) => ("└─ ", "   "),
                (false, false) => ("├─ ", "│  "),
            };
            writeln!(f, "{prefix}{branch}{}", node.actor)?;
            let prefix = format!("{prefix}{more}");
            for (i, child) in node.children.iter().enumerate() {
                draw(f, child, &prefix, i + 1 == node.children.len(), false)?;
            }
            Ok(())
        }
        for root in &self.roots {
            draw(f, root, "", true, true)?;
        }
        Ok(())
    }
}

/// How well a system is doing, worst last (so `max` combines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Nothing to report.
    Healthy,
    /// Working, with a problem worth a look: a full bounded mailbox, a long queue.
    Degraded,
    /// Not fit to take work: shutting down, or a queue past the unhealthy threshold.
    Unhealthy,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Healthy => "healthy",
            Status::Degraded => "degraded",
            Status::Unhealthy => "unhealthy",
        })
    }
}

/// The thresholds of a health check ([`ActorSystem::health_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HealthCheck {
    /// A mailbox holding at least this many messages makes the system degraded
    /// (default 1 000).
    pub mailbox_degraded: usize,
    /// A mailbox holding at least this many messages makes it unhealthy (default 100 000).
    pub mailbox_unhealthy: usize,
}

impl Default for HealthCheck {
    fn default() -> Self {
        Self {
            mailbox_degraded: 1_000,
            mailbox_unhealthy: 100_000,
        }
    }
}

impl HealthCheck {
    /// The default thresholds.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the mailbox lengths from which the system is degraded, and unhealthy.
    #[must_use]
    pub fn mailbox(mut self, degraded: usize, unhealthy: usize) -> Self {
        self.mailbox_degraded = degraded;
        self.mailbox_unhealthy = unhealthy;
        self
    }
}

/// One finding of a health check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Issue {
    /// How serious it is.
    pub status: Status,
    /// The actor it is about, if it is about one.
    pub actor: Option<ActorId>,
    /// What was found, for people.
    pub detail: String,
}

/// A health report, from [`ActorSystem::health`]: the overall status (the worst of the
/// issues), some figures, and the issues found. Its `Display` is a short text for logs.
///
/// For probes: [`is_live`](Self::is_live) (liveness) is `false` only once the system
/// shuts down; [`is_ready`](Self::is_ready) (readiness) also requires the status not to
/// be [`Status::Unhealthy`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// The worst status among the issues; healthy without any.
    pub status: Status,
    /// Live actors.
    pub actors: usize,
    /// Messages waiting in all mailboxes (see [`ActorInfo::mailbox_len`]).
    pub queued: usize,
    /// Whether the system has begun to shut down.
    pub shutting_down: bool,
    /// What the check found, worst first.
    pub issues: Vec<Issue>,
}

impl Health {
    /// For a liveness probe: the system has not shut down.
    #[must_use]
    pub fn is_live(&self) -> bool {
        !self.shutting_down
    }

    /// For a readiness probe: live, and not [`Status::Unhealthy`].
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.is_live() && self.status != Status::Unhealthy
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} actor(s), {} message(s) queued",
            self.status, self.actors, self.queued
        )?;
        for issue in &self.issues {
            write!(f, "\n  {}: {}", issue.status, issue.detail)?;
        }
        Ok(())
    }
}

impl ActorSystem {
    /// Every live actor now, oldest first: id, names, type, mailbox, parent and label. A
    /// task shows as the type `Task`, with its [label](crate::Task::label) if it has one.
    #[must_use]
    pub fn actors(&self) -> Vec<ActorInfo> {
        let mut actors: Vec<ActorInfo> = self
            .tracked()
            .into_iter()
            .filter(|actor| actor.exit().reason().is_none())
            .map(|actor| {
                let (mailbox_len, mailbox_capacity) = actor.mailbox();
                let mut names = actor.names();
                names.sort_unstable();
                ActorInfo {
                    id: actor.id(),
                    names,
                    type_name: actor.type_name(),
                    mailbox_len,
                    mailbox_capacity,
                    parent: actor.parent(),
                    label: actor.label(),
                }
            })
            .collect();
        actors.sort_unstable_by_key(|a| a.id);
        actors
    }

    /// The live actors arranged by parent: a dump of the supervision tree (see
    /// [`ActorTree`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use beam_runtime::prelude::*;
    ///
    /// #[derive(Clone)]
    /// struct Worker;
    ///
    /// #[actor]
    /// impl Worker {}
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// let system = ActorSystem::new();
    /// let sup = SupervisorSpec::new()
    ///     .child(ChildSpec::<Worker>::new("a", Worker))
    ///     .child(ChildSpec::<Worker>::new("b", Worker))
    ///     .start(&system)
    ///     .await?;
    /// let tree = system.tree();
    /// assert_eq!(tree.len(), 3);
    /// assert_eq!(tree.roots[0].actor.id, sup.id());
    /// assert_eq!(tree.roots[0].children.len(), 2);
    /// // <0.1> Supervisor
    /// // ├─ <0.2> Worker
    /// // └─ <0.3> Worker
    /// println!("{tree}");
    /// # system.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn tree(&self) -> ActorTree {
        ActorTree::build(self.actors())
    }

    /// A health report with the default thresholds (see [`health_with`](Self::health_with)).
    #[must_use]
    pub fn health(&self) -> Health {
        self.health_with(&HealthCheck::default())
    }

    /// A health report: the system is unhealthy once it shuts down; an actor whose
    /// mailbox holds at least `check.mailbox_unhealthy` messages makes it unhealthy, one
    /// with at least `check.mailbox_degraded`, or a full bounded mailbox, degraded.
    #[must_use]
    pub fn health_with(&self, check: &HealthCheck) -> Health {
        let actors = self.actors();
        let mut issues = Vec::new();
        let shutting_down = self.is_shutting_down();
        if shutting_down {
            issues.push(Issue {
                status: Status::Unhealthy,
                actor: None,
                detail: "the system is shutting down".into(),
            });
        }
        for actor in &actors {
            let len = actor.mailbox_len;
            let status = if len >= check.mailbox_unhealthy {
                Status::Unhealthy
            } else if len >= check.mailbox_degraded
                || actor.mailbox_capacity.is_some_and(|cap| len >= cap)
            {
                Status::Degraded
            } else {
                continue;
            };
            let detail = match actor.mailbox_capacity {
                Some(cap) if len >= cap => format!("{actor}: mailbox full ({len} of {cap})"),
                _ => format!("{actor}: {len} messages waiting"),
            };
            issues.push(Issue {
                status,
                actor: Some(actor.id),
                detail,
            });
        }
        issues.sort_by_key(|i| std::cmp::Reverse(i.status));
        Health {
            status: issues.first().map_or(Status::Healthy, |i| i.status),
            queued: actors.iter().map(|a| a.mailbox_len).sum(),
            actors: actors.len(),
            shutting_down,
            issues,
        }
    }
}
