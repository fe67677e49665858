//! Where the runtime emits: one function per catalog event, each sending it to the
//! attached handlers (after one load) and to `tracing` (after its own level check), and
//! the probe that runs a handler in its span and times it.
//!
//! Callers hold no lock of the runtime: handlers may do anything an actor may.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::Instant;
use tracing::{Level, Span};

use super::{Catalog, Value, any_observed, emit, system_time};
use crate::__private::HandlerKind;
use crate::actor::ActorId;
use crate::exit::ExitReason;

/// Whether `tracing` wants TRACE spans of target `beam`: with no subscriber, or one whose
/// level is lower, `tracing`'s first check (one relaxed load) says no; with a subscriber
/// that filters `beam` out, its cached interest (one more load) does.
#[inline]
fn trace_enabled() -> bool {
    tracing::enabled!(target: "beam", Level::TRACE)
}

const HANDLER_EVENTS: u64 = Catalog::CallStart.bit()
    | Catalog::CallStop.bit()
    | Catalog::CallException.bit()
    | Catalog::CastStart.bit()
    | Catalog::CastStop.bit()
    | Catalog::CastException.bit();

const INIT_EVENTS: u64 = Catalog::InitStop.bit() | Catalog::InitException.bit();

/// Whether handlers should run under a [`Probe`]: the check an actor makes each time it
/// wakes up.
#[inline]
pub(crate) fn handlers_observed() -> bool {
    any_observed(HANDLER_EVENTS) || trace_enabled()
}

/// Whether `#[init]` should run under a [`Probe`].
#[inline]
pub(crate) fn init_observed() -> bool {
    any_observed(INIT_EVENTS) || trace_enabled()
}

/// The start, stop and exception events of a kind of handler, if it has them.
fn events_of(kind: HandlerKind) -> Option<(Option<Catalog>, Catalog, Catalog)> {
    match kind {
        HandlerKind::Call => Some((
            Some(Catalog::CallStart),
            Catalog::CallStop,
            Catalog::CallException,
        )),
        HandlerKind::Cast => Some((
            Some(Catalog::CastStart),
            Catalog::CastStop,
            Catalog::CastException,
        )),
        HandlerKind::Init => Some((None, Catalog::InitStop, Catalog::InitException)),
        HandlerKind::Info | HandlerKind::Continue => None,
    }
}

/// One run of a handler (or `#[init]`) observed: its span, and its start time if a
/// telemetry handler wants its duration.
pub(crate) struct Probe {
    actor: ActorId,
    actor_type: &'static str,
    handler: &'static str,
    kind: HandlerKind,
    start: Option<Instant>,
    span: Span,
}

impl Probe {
    /// Opens the span and emits the start event.
    #[cold]
    #[inline(never)]
    pub(crate) fn start(
        actor: ActorId,
        actor_type: &'static str,
        handler: &'static str,
        kind: HandlerKind,
    ) -> Self {
        let span = if kind == HandlerKind::Init {
            tracing::trace_span!(target: "beam", "beam.init", actor = %actor, actor_type)
        } else {
            // A root span wherever the handler runs: in place of a call, it runs within
            // the caller's poll, whose span it must not nest in.
            tracing::trace_span!(
                target: "beam",
                parent: None,
                "beam.handle",
                actor = %actor,
                actor_type,
                handler,
                kind = kind.as_str(),
            )
        };
        let mut probe = Self {
            actor,
            actor_type,
            handler,
            kind,
            start: None,
            span,
        };
        if let Some((start, stop, exception)) = events_of(kind) {
            if any_observed(start.map_or(0, Catalog::bit) | stop.bit() | exception.bit()) {
                probe.start = Some(Instant::now());
            }
            if let Some(start) = start.filter(|e| e.observed()) {
                let _entered = probe.span.enter();
                emit(
                    start,
                    &[("system_time", Value::U64(system_time()))],
                    &probe.metadata(None),
                );
            }
        }
        probe
    }

    /// `actor`, `actor_type`, then `handler` for a message's handler and `reason` for an
    /// exception.
    fn metadata<'a>(&self, reason: Option<&'a ExitReason>) -> Fields<'a, 4> {
        let mut fields = Fields::new();
        fields.push("actor", Value::Pid(self.actor));
        fields.push("actor_type", Value::Str(self.actor_type));
        if self.kind != HandlerKind::Init {
            fields.push("handler", Value::Str(self.handler));
        }
        fields.push_some("reason", reason.map(Value::Reason));
        fields
    }

    /// Runs `f` inside the span.
    pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = self.span.enter();
        f()
    }

    /// Emits the stop event, or the exception event if the handler failed with `failure`.
    #[cold]
    #[inline(never)]
    pub(crate) fn finish(self, failure: Option<&ExitReason>) {
        let Some((_, stop, exception)) = events_of(self.kind) else {
            return;
        };
        let Some(start) = self.start else {
            return;
        };
        let event = if failure.is_some() { exception } else { stop };
        if event.observed() {
            let _entered = self.span.enter();
            emit(
                event,
                &[("duration", Value::Duration(start.elapsed()))],
                &self.metadata(failure),
            );
        }
    }
}

/// Up to `N` metadata fields on the stack, some of them optional; derefs to the ones set.
struct Fields<'a, const N: usize> {
    fields: [(&'static str, Value<'a>); N],
    len: usize,
}

impl<'a, const N: usize> Fields<'a, N> {
    fn new() -> Self {
        Self {
            fields: [("", Value::Bool(false)); N],
            len: 0,
        }
    }

    /// Adds a field; panics past `N`, a bug in the caller's fixed field list.
    fn push(&mut self, key: &'static str, value: Value<'a>) {
        self.fields[self.len] = (key, value);
        self.len += 1;
    }

    /// Adds a field if it has a value.
    fn push_some(&mut self, key: &'static str, value: Option<Value<'a>>) {
        if let Some(value) = value {
            self.push(key, value);
        }
    }
}

impl<'a, const N: usize> std::ops::Deref for Fields<'a, N> {
    type Target = [(&'static str, Value<'a>)];

    fn deref(&self) -> &Self::Target {
        &self.fields[..self.len]
    }
}

pin_project! {
    /// A handler's future, run in its probe's span; emits the exception (then goes on
    /// panicking) if a poll panics. Once it is done, [`Observed::into_probe`] gives the
    /// probe back to be finished.
    pub(crate) struct Observed<F> {
        #[pin]
        fut: F,
        probe: Option<Probe>,
    }
}

impl<F> Observed<F> {
    pub(crate) fn new(fut: F, probe: Probe) -> Self {
        Self {
            fut,
            probe: Some(probe),
        }
    }

    /// The probe of a future that completed.
    pub(crate) fn into_probe(mut this: Pin<Box<Self>>) -> Probe {
        this.as_mut()
            .project()
            .probe
            .take()
            .expect("a completed `Observed` keeps its probe")
    }
}

impl<F: Future> Future for Observed<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let probe = this
            .probe
            .as_ref()
            .expect("`Observed` polled after a panic");
        let fut = this.fut;
        match probe.run(|| catch_unwind(AssertUnwindSafe(|| fut.poll(cx)))) {
            Ok(out) => out,
            Err(payload) => {
                let probe = this.probe.take().expect("checked above");
                let panic = crate::actor::run::panic_message(payload.as_ref());
                probe.finish(Some(&ExitReason::Panic(panic)));
                resume_unwind(payload)
            }
        }
    }
}

/// `beam.actor.spawn`.
#[inline]
pub(crate) fn actor_spawned(
    actor: ActorId,
    actor_type: fn() -> &'static str,
    name: Option<&str>,
    parent: Option<ActorId>,
) {
    if Catalog::Spawn.observed() {
        spawned_cold(actor, actor_type(), name, parent);
    }
    tracing::debug!(
        target: "beam",
        actor = %actor,
        actor_type = actor_type(),
        name,
        parent = parent.map(display),
        "actor spawned"
    );
}

#[cold]
#[inline(never)]
fn spawned_cold(actor: ActorId, actor_type: &str, name: Option<&str>, parent: Option<ActorId>) {
    let mut fields = Fields::<4>::new();
    fields.push("actor", Value::Pid(actor));
    fields.push("actor_type", Value::Str(actor_type));
    fields.push_some("name", name.map(Value::Str));
    fields.push_some("parent", parent.map(Value::Pid));
    emit(Catalog::Spawn, &[], &fields);
}

/// `beam.actor.stop`.
#[inline]
pub(crate) fn actor_stopped(actor: ActorId, actor_type: fn() -> &'static str, reason: &ExitReason) {
    if Catalog::Stop.observed() {
        emit(
            Catalog::Stop,
            &[],
            &[
                ("actor", Value::Pid(actor)),
                ("actor_type", Value::Str(actor_type())),
                ("reason", Value::Reason(reason)),
            ],
        );
    }
    if matches!(reason, ExitReason::Panic(_) | ExitReason::Error(_)) {
        tracing::warn!(
            target: "beam",
            actor = %actor,
            actor_type = actor_type(),
            reason = %reason,
            "actor crashed"
        );
    } else {
        tracing::debug!(
            target: "beam",
            actor = %actor,
            actor_type = actor_type(),
            reason = %reason,
            "actor stopped"
        );
    }
}

/// `beam.supervisor.crash`.
pub(crate) fn child_crashed(
    supervisor: ActorId,
    child_id: &str,
    actor: ActorId,
    reason: &ExitReason,
    strategy: &'static str,
) {
    if Catalog::SupervisorCrash.observed() {
        emit(
            Catalog::SupervisorCrash,
            &[],
            &[
                ("supervisor", Value::Pid(supervisor)),
                ("child_id", Value::Str(child_id)),
                ("actor", Value::Pid(actor)),
                ("reason", Value::Reason(reason)),
                ("strategy", Value::Str(strategy)),
            ],
        );
    }
    tracing::info!(
        target: "beam",
        supervisor = %supervisor,
        child_id,
        actor = %actor,
        reason = %reason,
        strategy,
        "child crashed"
    );
}

/// `beam.supervisor.restart`.
pub(crate) fn child_restarted(
    supervisor: ActorId,
    child_id: &str,
    old: Option<ActorId>,
    actor: ActorId,
    strategy: &'static str,
) {
    if Catalog::SupervisorRestart.observed() {
        let mut fields = Fields::<5>::new();
        fields.push("supervisor", Value::Pid(supervisor));
        fields.push("child_id", Value::Str(child_id));
        fields.push("actor", Value::Pid(actor));
        fields.push("strategy", Value::Str(strategy));
        fields.push_some("old_actor", old.map(Value::Pid));
        emit(Catalog::SupervisorRestart, &[], &fields);
    }
    tracing::info!(
        target: "beam",
        supervisor = %supervisor,
        child_id,
        old_actor = old.map(display),
        actor = %actor,
        strategy,
        "child restarted"
    );
}

/// `beam.supervisor.max_restarts`.
pub(crate) fn max_restarts(supervisor: ActorId, restarts: usize, max: u32, period: Duration) {
    if Catalog::SupervisorMaxRestarts.observed() {
        emit(
            Catalog::SupervisorMaxRestarts,
            &[("restarts", Value::U64(restarts as u64))],
            &[
                ("supervisor", Value::Pid(supervisor)),
                ("max_restarts", Value::U64(u64::from(max))),
                ("period", Value::Duration(period)),
            ],
        );
    }
    tracing::error!(
        target: "beam",
        supervisor = %supervisor,
        restarts,
        max_restarts = max,
        period = ?period,
        "restart intensity exceeded: the supervisor stops its children and exits"
    );
}

/// `beam.mailbox.overflow`.
#[cold]
#[inline(never)]
pub(crate) fn mailbox_overflow(actor: ActorId, actor_type: &'static str, capacity: usize) {
    if Catalog::MailboxOverflow.observed() {
        emit(
            Catalog::MailboxOverflow,
            &[],
            &[
                ("actor", Value::Pid(actor)),
                ("actor_type", Value::Str(actor_type)),
                ("capacity", Value::U64(capacity as u64)),
            ],
        );
    }
    tracing::debug!(
        target: "beam",
        actor = %actor,
        actor_type,
        capacity,
        "mailbox full"
    );
}

/// `beam.system.shutdown.stop`.
pub(crate) fn shutdown(duration: Duration, actors: usize, killed: usize) {
    if Catalog::ShutdownStop.observed() {
        emit(
            Catalog::ShutdownStop,
            &[
                ("duration", Value::Duration(duration)),
                ("actors", Value::U64(actors as u64)),
                ("killed", Value::U64(killed as u64)),
            ],
            &[],
        );
    }
    if killed == 0 {
        tracing::info!(target: "beam", ?duration, actors, "system shut down");
    } else {
        tracing::warn!(
            target: "beam",
            ?duration,
            actors,
            killed,
            "system shut down"
        );
    }
}
