//! Telemetry: named events with measurements and metadata, emitted by the runtime and by
//! your own code, delivered to the handlers you attach, after Erlang's `:telemetry`.
//!
//! Handlers are process-wide: [`attach`] one under an id for a list of event names, and it
//! runs synchronously, on the emitting thread, for every event with one of those names
//! until you [`detach`] it. The runtime emits the events of the [`events`] catalog (spawns,
//! `#[init]`, every call and cast with its duration, exits, supervisor crashes and
//! restarts, mailbox overflows, shutdown); your code emits its own with [`execute`],
//! [`span`] and [`span_async`].
//!
//! - **Zero cost when nothing listens.** Before building an event, the emitter reads one
//!   relaxed atomic; with no handler attached to the event, that is all it does: no
//!   allocation, no lock, no clock. An actor makes that check for its handlers, with
//!   `tracing`'s own level check, once each time it wakes up, not per message. Emitting
//!   to attached handlers allocates nothing either.
//! - **Handlers cannot hurt the emitter.** A handler that panics is detached (as
//!   `:telemetry` does) and the panic stops there: the actor, supervisor or code that
//!   emitted goes on. Handlers never run while the runtime holds a lock, so a handler may
//!   send messages, attach and detach handlers, or emit events itself. It should be quick:
//!   it runs inside the actor (or the caller) that emitted.
//! - **The same events go to `tracing`.** Each handler runs in a `beam.handle` span (TRACE)
//!   with the actor's id, its type, the handler's name and kind, `#[init]` in a
//!   `beam.init` span, and the lifecycle events are `tracing` events with target `beam`, so
//!   a `tracing-subscriber` user sees them with no extra code; the catalog below gives
//!   each one's level.
//!
//! # The catalog
//!
//! Durations are [`Value::Duration`]; actors are [`Value::Pid`] (displayed `<0.N>`);
//! `actor_type` is the actor type's name without its path; `reason` of the runtime's
//! events is a [`Value::Reason`].
//!
//! | Event | Measurements | Metadata | `tracing` |
//! | --- | --- | --- | --- |
//! | [`beam.actor.spawn`](events::ACTOR_SPAWN) | none | `actor`, `actor_type`, `name` (if registered), `parent` (if a child) | DEBUG `actor spawned` |
//! | [`beam.actor.init.stop`](events::ACTOR_INIT_STOP) | `duration` | `actor`, `actor_type` | span `beam.init` |
//! | [`beam.actor.init.exception`](events::ACTOR_INIT_EXCEPTION) | `duration` | `actor`, `actor_type`, `reason` (`Panic` or `Error`) | span `beam.init` |
//! | [`beam.actor.call.start`](events::ACTOR_CALL_START) | `system_time` | `actor`, `actor_type`, `handler` | span `beam.handle` |
//! | [`beam.actor.call.stop`](events::ACTOR_CALL_STOP) | `duration` | `actor`, `actor_type`, `handler` | span `beam.handle` |
//! | [`beam.actor.call.exception`](events::ACTOR_CALL_EXCEPTION) | `duration` | `actor`, `actor_type`, `handler`, `reason` (`Panic` or `Error`) | span `beam.handle` |
//! | [`beam.actor.cast.start`](events::ACTOR_CAST_START) | `system_time` | `actor`, `actor_type`, `handler` | span `beam.handle` |
//! | [`beam.actor.cast.stop`](events::ACTOR_CAST_STOP) | `duration` | `actor`, `actor_type`, `handler` | span `beam.handle` |
//! | [`beam.actor.cast.exception`](events::ACTOR_CAST_EXCEPTION) | `duration` | `actor`, `actor_type`, `handler`, `reason` (`Panic` or `Error`) | span `beam.handle` |
//! | [`beam.actor.stop`](events::ACTOR_STOP) | none | `actor`, `actor_type`, `reason` | WARN `actor crashed` for `Panic` and `Error`, DEBUG `actor stopped` otherwise |
//! | [`beam.supervisor.crash`](events::SUPERVISOR_CRASH) | none | `supervisor`, `child_id`, `actor`, `reason`, `strategy` | INFO `child crashed` |
//! | [`beam.supervisor.restart`](events::SUPERVISOR_RESTART) | none | `supervisor`, `child_id`, `old_actor` (if it ran), `actor`, `strategy` | INFO `child restarted` |
//! | [`beam.supervisor.max_restarts`](events::SUPERVISOR_MAX_RESTARTS) | `restarts` | `supervisor`, `max_restarts`, `period` | ERROR `restart intensity exceeded` |
//! | [`beam.mailbox.overflow`](events::MAILBOX_OVERFLOW) | none | `actor`, `actor_type`, `capacity` | DEBUG `mailbox full` |
//! | [`beam.system.shutdown.stop`](events::SYSTEM_SHUTDOWN_STOP) | `duration`, `actors`, `killed` | none | INFO `system shut down` (WARN if any was killed) |
//!
//! A handler's `exception` is a panic, or a handler that failed: one that returned `Err`
//! (or stopped its actor with [`ExitReason::Error`]); `reason` is the reason the actor is
//! about to exit with. `system_time` is nanoseconds since the Unix epoch. `strategy` is
//! `one_for_one`, `one_for_all` or `rest_for_one`. `actors` counts the top-level actors the
//! shutdown stopped (their children stop with them), `killed` those it had to kill.
//! Every actor that starts emits `beam.actor.init.stop`, with an `#[init]` or not.
//! Handlers of `#[info]` and `#[handle_continue]` run in spans but emit no telemetry
//! event. A handler interrupted by a kill emits no `stop`.
//!
//! # Examples
//!
//! ```
//! use beam_runtime::prelude::*;
//! use beam_runtime::telemetry::{self, Value, events};
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//!
//! struct Counter(u64);
//!
//! #[actor]
//! impl Counter {
//!     #[call]
//!     fn bump(&mut self) -> u64 {
//!         self.0 += 1;
//!         self.0
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let durations = Arc::new(Mutex::new(Vec::<(String, Duration)>::new()));
//! let seen = durations.clone();
//! telemetry::attach("call-durations", &[events::ACTOR_CALL_STOP], move |event| {
//!     if let (Some(Value::Str(handler)), Some(Value::Duration(d))) =
//!         (event.metadata("handler"), event.measurement("duration"))
//!     {
//!         seen.lock().unwrap().push((handler.to_owned(), d));
//!     }
//! })?;
//!
//! let system = ActorSystem::new();
//! let counter = system.spawn::<Counter>(Counter(0)).await?;
//! assert_eq!(counter.bump().await?, 1);
//! assert!(durations.lock().unwrap().iter().any(|(handler, _)| handler == "bump"));
//!
//! // Your own events, and spans around your own code.
//! const QUERY: telemetry::EventName = &["myapp", "db", "query"];
//! telemetry::execute(&["myapp", "cache", "miss"], &[("count", Value::U64(1))], &[]);
//! let rows = telemetry::span(QUERY, &[("table", Value::Str("users"))], || 42);
//! assert_eq!(rows, 42);
//!
//! assert!(telemetry::detach("call-durations"));
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwapOption;
use pin_project_lite::pin_project;
use tokio::time::Instant;

use crate::actor::ActorId;
use crate::exit::ExitReason;

pub(crate) mod emit;

/// The name of an event: its segments, such as `&["beam", "actor", "spawn"]` (written
/// `beam.actor.spawn` in the docs).
pub type EventName = &'static [&'static str];

/// The events the runtime emits; see the [module documentation](self) for what each
/// carries.
pub mod events {
    use super::EventName;

    /// An actor was spawned (before its `#[init]` runs).
    pub const ACTOR_SPAWN: EventName = &["beam", "actor", "spawn"];
    /// An actor's `#[init]` succeeded.
    pub const ACTOR_INIT_STOP: EventName = &["beam", "actor", "init", "stop"];
    /// An actor's `#[init]` panicked or returned `Err`.
    pub const ACTOR_INIT_EXCEPTION: EventName = &["beam", "actor", "init", "exception"];
    /// A `#[call]` handler starts.
    pub const ACTOR_CALL_START: EventName = &["beam", "actor", "call", "start"];
    /// A `#[call]` handler returned.
    pub const ACTOR_CALL_STOP: EventName = &["beam", "actor", "call", "stop"];
    /// A `#[call]` handler panicked or failed.
    pub const ACTOR_CALL_EXCEPTION: EventName = &["beam", "actor", "call", "exception"];
    /// A `#[cast]` handler starts.
    pub const ACTOR_CAST_START: EventName = &["beam", "actor", "cast", "start"];
    /// A `#[cast]` handler returned.
    pub const ACTOR_CAST_STOP: EventName = &["beam", "actor", "cast", "stop"];
    /// A `#[cast]` handler panicked or failed.
    pub const ACTOR_CAST_EXCEPTION: EventName = &["beam", "actor", "cast", "exception"];
    /// An actor exited, with its exit reason.
    pub const ACTOR_STOP: EventName = &["beam", "actor", "stop"];
    /// A supervisor's child crashed: it exited with a reason other than `Normal` or
    /// `Shutdown`, or with any reason that gets it restarted (as OTP reports a permanent
    /// child's exit, such as a supervisor child that gave up with `Shutdown`); or a
    /// restart of it failed in `#[init]` (`actor` is then the incarnation that did not
    /// start).
    pub const SUPERVISOR_CRASH: EventName = &["beam", "supervisor", "crash"];
    /// A supervisor restarted a child (after its exit, or with a sibling's).
    pub const SUPERVISOR_RESTART: EventName = &["beam", "supervisor", "restart"];
    /// A supervisor's restart intensity was exceeded: it stops its children and exits.
    pub const SUPERVISOR_MAX_RESTARTS: EventName = &["beam", "supervisor", "max_restarts"];
    /// A cast found a bounded mailbox full and failed (with `SendError::Full`, or with
    /// `SendError::Timeout` when it waited for room in vain).
    pub const MAILBOX_OVERFLOW: EventName = &["beam", "mailbox", "overflow"];
    /// [`ActorSystem::shutdown`](crate::ActorSystem::shutdown) finished.
    pub const SYSTEM_SHUTDOWN_STOP: EventName = &["beam", "system", "shutdown", "stop"];

    /// Every event above, in catalog order.
    pub const ALL: &[EventName] = &[
        ACTOR_SPAWN,
        ACTOR_INIT_STOP,
        ACTOR_INIT_EXCEPTION,
        ACTOR_CALL_START,
        ACTOR_CALL_STOP,
        ACTOR_CALL_EXCEPTION,
        ACTOR_CAST_START,
        ACTOR_CAST_STOP,
        ACTOR_CAST_EXCEPTION,
        ACTOR_STOP,
        SUPERVISOR_CRASH,
        SUPERVISOR_RESTART,
        SUPERVISOR_MAX_RESTARTS,
        MAILBOX_OVERFLOW,
        SYSTEM_SHUTDOWN_STOP,
    ];
}

/// The catalog's events by position in [`events::ALL`]: each has a bit in
/// [`CATALOG`], set while a handler is attached to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Catalog {
    Spawn,
    InitStop,
    InitException,
    CallStart,
    CallStop,
    CallException,
    CastStart,
    CastStop,
    CastException,
    Stop,
    SupervisorCrash,
    SupervisorRestart,
    SupervisorMaxRestarts,
    MailboxOverflow,
    ShutdownStop,
}

const CATALOG_LEN: usize = events::ALL.len();

impl Catalog {
    pub(crate) const fn bit(self) -> u64 {
        1 << self as u32
    }

    fn name(self) -> EventName {
        events::ALL[self as usize]
    }
}

/// A measurement or a piece of metadata of an [`Event`].
///
/// `#[non_exhaustive]`: later releases may add kinds of values.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// An unsigned count.
    U64(u64),
    /// A signed number.
    I64(i64),
    /// A floating-point number.
    F64(f64),
    /// A flag.
    Bool(bool),
    /// A duration (the runtime's events measure time with these).
    Duration(Duration),
    /// Text.
    Str(&'a str),
    /// An actor, like a pid in Erlang (displayed `<0.N>`).
    Pid(ActorId),
    /// An exit reason.
    Reason(&'a ExitReason),
}

impl<'a> Value<'a> {
    /// The number, if this is a [`Value::U64`].
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Self::U64(n) => Some(n),
            _ => None,
        }
    }

    /// The duration, if this is a [`Value::Duration`].
    #[must_use]
    pub fn as_duration(&self) -> Option<Duration> {
        match *self {
            Self::Duration(d) => Some(d),
            _ => None,
        }
    }

    /// The text, if this is a [`Value::Str`].
    #[must_use]
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The actor, if this is a [`Value::Pid`].
    #[must_use]
    pub fn as_actor(&self) -> Option<ActorId> {
        match *self {
            Self::Pid(id) => Some(id),
            _ => None,
        }
    }

    /// The exit reason, if this is a [`Value::Reason`].
    #[must_use]
    pub fn as_reason(&self) -> Option<&'a ExitReason> {
        match *self {
            Self::Reason(reason) => Some(reason),
            _ => None,
        }
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::U64(n) => write!(f, "{n}"),
            Self::I64(n) => write!(f, "{n}"),
            Self::F64(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Duration(d) => write!(f, "{d:?}"),
            Self::Str(s) => f.write_str(s),
            Self::Pid(id) => write!(f, "{id}"),
            Self::Reason(reason) => write!(f, "{reason}"),
        }
    }
}

/// `From` for each kind of [`Value`]: `("count", 3u64.into())`.
macro_rules! value_from {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(
            impl<'a> From<$t> for Value<'a> {
                fn from(v: $t) -> Self {
                    Self::$variant(v)
                }
            }
        )*
    };
}

value_from! {
    u64 => U64,
    i64 => I64,
    f64 => F64,
    bool => Bool,
    Duration => Duration,
    &'a str => Str,
    ActorId => Pid,
    &'a ExitReason => Reason,
}

/// Keyed values: an event's measurements or metadata.
pub type Fields<'a> = [(&'static str, Value<'a>)];

/// One event, as handlers receive it: borrowed from the emitter, valid during the call.
///
/// # Examples
///
/// ```
/// use beam_runtime::telemetry::{Event, Value};
///
/// let event = Event::new(
///     &["myapp", "job", "done"],
///     &[("items", Value::U64(3))],
///     &[("queue", Value::Str("mail"))],
/// );
/// assert!(event.is(&["myapp", "job", "done"]));
/// assert_eq!(event.measurement("items"), Some(Value::U64(3)));
/// assert_eq!(event.metadata("queue").and_then(|v| v.as_str()), Some("mail"));
/// assert_eq!(event.to_string(), "myapp.job.done items=3 queue=mail");
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Event<'a> {
    /// The event's name.
    pub name: &'a [&'static str],
    /// Its numbers, such as `duration`.
    pub measurements: &'a Fields<'a>,
    /// What it is about, such as `actor`.
    pub metadata: &'a Fields<'a>,
}

impl<'a> Event<'a> {
    /// An event, for [`execute`] or to test a handler.
    #[must_use]
    pub fn new(
        name: &'a [&'static str],
        measurements: &'a Fields<'a>,
        metadata: &'a Fields<'a>,
    ) -> Self {
        Self {
            name,
            measurements,
            metadata,
        }
    }

    /// Whether the event is called `name`.
    #[must_use]
    pub fn is(&self, name: &[&str]) -> bool {
        self.name == name
    }

    /// The measurement under `key`, if any.
    #[must_use]
    pub fn measurement(&self, key: &str) -> Option<Value<'a>> {
        find(self.measurements, key)
    }

    /// The metadata under `key`, if any.
    #[must_use]
    pub fn metadata(&self, key: &str) -> Option<Value<'a>> {
        find(self.metadata, key)
    }
}

fn find<'a>(fields: &'a Fields<'a>, key: &str) -> Option<Value<'a>> {
    fields.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
}

/// `beam.actor.spawn key=value ...`: the name joined with dots, then the measurements and
/// the metadata.
impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name.join("."))?;
        for (key, value) in self.measurements.iter().chain(self.metadata) {
            write!(f, " {key}={value}")?;
        }
        Ok(())
    }
}

/// Why a handler could not be attached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// A handler is already attached under this id.
    #[error("a telemetry handler is already attached as `{0}`")]
    DuplicateId(String),
}

type HandlerFn = dyn Fn(&Event<'_>) + Send + Sync;

/// An attached handler.
struct Attached {
    id: Cow<'static, str>,
    events: Vec<Box<[&'static str]>>,
    handler: Box<HandlerFn>,
}

/// The handlers by event, rebuilt at each attach and detach; emitters take a snapshot.
struct Table {
    catalog: [Vec<Arc<Attached>>; CATALOG_LEN],
    /// By [`name_hash`]: the names of that hash, each with its handlers.
    by_hash: HashMap<u64, Vec<Named>, BuildHasherDefault<Identity>>,
}

type Named = (Box<[&'static str]>, Vec<Arc<Attached>>);

impl Table {
    fn handlers(&self, name: &[&str], hash: u64) -> Option<&[Arc<Attached>]> {
        let named = self.by_hash.get(&hash)?;
        let (_, handlers) = named.iter().find(|(n, _)| **n == *name)?;
        Some(handlers)
    }
}

/// The hasher of keys that are hashes already.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Every attached handler, in attach order; held while the table is rebuilt.
static ATTACHED: Mutex<Vec<Arc<Attached>>> = Mutex::new(Vec::new());
/// The table emitters read, without a lock; `None` while nothing is attached.
static TABLE: ArcSwapOption<Table> = ArcSwapOption::const_empty();
/// A bit per catalog event with at least one handler: the runtime's check.
static CATALOG: AtomicU64 = AtomicU64::new(0);
/// A bit per [`filter_bit`] of every name with at least one handler: [`execute`]'s check.
static FILTER: AtomicU64 = AtomicU64::new(0);

fn attached() -> MutexGuard<'static, Vec<Arc<Attached>>> {
    // No user code runs under this lock.
    ATTACHED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `f` on the current table, unless nothing is attached.
fn with_table(f: impl FnOnce(&Table)) {
    if let Some(table) = TABLE.load().as_deref() {
        f(table);
    }
}

/// A cheap hash of a name, from each segment's length and first and last bytes: the key
/// of [`Table::by_hash`], and through [`filter_bit`] a filter that lets [`execute`]
/// return after one load for a name no handler is attached to (unless another name
/// shares its bit).
#[inline]
fn name_hash(name: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for segment in name {
        let bytes = segment.as_bytes();
        let first = bytes.first().copied().unwrap_or(0) as u64;
        let last = bytes.last().copied().unwrap_or(0) as u64;
        h = (h ^ (bytes.len() as u64 | first << 16 | last << 24)).wrapping_mul(0x0100_0000_01b3);
    }
    h ^ (h >> 29)
}

/// The bit of [`FILTER`] for a [`name_hash`].
#[inline]
fn filter_bit(hash: u64) -> u64 {
    1 << (hash >> 58)
}

/// Rebuilds the table from `attached` and publishes it, then the bits.
fn publish(attached: &[Arc<Attached>]) {
    let mut catalog: [Vec<Arc<Attached>>; CATALOG_LEN] = Default::default();
    let mut by_hash: HashMap<u64, Vec<Named>, BuildHasherDefault<Identity>> = HashMap::default();
    let (mut catalog_bits, mut filter_bits) = (0, 0);
    for handler in attached {
        for name in &handler.events {
            if let Some(i) = events::ALL.iter().position(|e| **e == **name) {
                catalog[i].push(handler.clone());
                catalog_bits |= 1 << i;
            }
            let hash = name_hash(name);
            filter_bits |= filter_bit(hash);
            let named = by_hash.entry(hash).or_default();
            match named.iter_mut().find(|(n, _)| n == name) {
                Some((_, handlers)) => handlers.push(handler.clone()),
                None => named.push((name.clone(), vec![handler.clone()])),
            }
        }
    }
    let table = (!attached.is_empty()).then(|| Arc::new(Table { catalog, by_hash }));
    TABLE.store(table);
    CATALOG.store(catalog_bits, Ordering::Relaxed);
    FILTER.store(filter_bits, Ordering::Relaxed);
}

/// Attaches `handler` under `id` to the events named in `events`: from now on it runs for
/// each of them, on the emitting thread, until [`detach`]ed. Fails if a handler is already
/// attached under `id`.
///
/// A handler that panics is detached and its panic goes no further. It should be quick and
/// must not block: it runs inside the actor, supervisor or code that emits. An event
/// emitted on another thread while the handler is detached may still reach it once.
///
/// # Examples
///
/// ```
/// use beam_runtime::telemetry::{self, TelemetryError, events};
///
/// telemetry::attach("spawns", &[events::ACTOR_SPAWN], |event| println!("{event}")).unwrap();
/// assert_eq!(
///     telemetry::attach("spawns", &[events::ACTOR_STOP], |_| {}),
///     Err(TelemetryError::DuplicateId("spawns".into()))
/// );
/// assert!(telemetry::has_handlers(events::ACTOR_SPAWN));
/// assert!(telemetry::detach("spawns"));
/// assert!(!telemetry::has_handlers(events::ACTOR_SPAWN));
/// ```
pub fn attach<F>(
    id: impl Into<Cow<'static, str>>,
    events: &[&[&'static str]],
    handler: F,
) -> Result<(), TelemetryError>
where
    F: Fn(&Event<'_>) + Send + Sync + 'static,
{
    let id = id.into();
    let mut names: Vec<Box<[&'static str]>> = Vec::with_capacity(events.len());
    for name in events {
        if !names.iter().any(|n| **n == **name) {
            names.push((*name).into());
        }
    }
    let mut attached = attached();
    if attached.iter().any(|a| a.id == id) {
        return Err(TelemetryError::DuplicateId(id.into_owned()));
    }
    attached.push(Arc::new(Attached {
        id,
        events: names,
        handler: Box::new(handler),
    }));
    publish(&attached);
    Ok(())
}

/// Detaches the handler attached under `id`; `false` if there was none. Once it returns,
/// the handler is not called again for events emitted afterwards; the handler itself (with
/// what it captured) is dropped once the emissions already running with it are done.
pub fn detach(id: &str) -> bool {
    let mut attached = attached();
    let before = attached.len();
    attached.retain(|a| a.id != id);
    let found = attached.len() != before;
    if found {
        publish(&attached);
    }
    found
}

/// Detaches every handler (for tests: handlers are process-wide).
pub fn detach_all() {
    let mut attached = attached();
    attached.clear();
    publish(&attached);
}

/// Detaches exactly this handler, if still attached (a panicking one).
fn detach_handler(handler: &Arc<Attached>) {
    let mut attached = attached();
    let before = attached.len();
    attached.retain(|a| !Arc::ptr_eq(a, handler));
    if attached.len() != before {
        publish(&attached);
    }
}

/// Whether any handler is attached to the event `name`.
#[must_use]
pub fn has_handlers(name: &[&'static str]) -> bool {
    let hash = name_hash(name);
    if FILTER.load(Ordering::Relaxed) & filter_bit(hash) == 0 {
        return false;
    }
    let mut found = false;
    with_table(|t| found = t.handlers(name, hash).is_some());
    found
}

/// Emits the event `name` to the handlers attached to it, synchronously, in attach order.
/// With no handler attached to `name`, it returns after one atomic load (and, when other
/// events have handlers, a hash of the name): build the values inline and they cost
/// nothing either.
///
/// # Examples
///
/// ```
/// use beam_runtime::telemetry::{self, Value};
///
/// telemetry::execute(
///     &["myapp", "request", "done"],
///     &[("bytes", Value::U64(512))],
///     &[("route", Value::Str("/users"))],
/// );
/// ```
#[inline]
pub fn execute(name: &[&'static str], measurements: &Fields<'_>, metadata: &Fields<'_>) {
    let filter = FILTER.load(Ordering::Relaxed);
    if filter == 0 {
        return;
    }
    let hash = name_hash(name);
    if filter & filter_bit(hash) == 0 {
        return;
    }
    execute_slow(name, hash, measurements, metadata);
}

#[cold]
#[inline(never)]
fn execute_slow(
    name: &[&'static str],
    hash: u64,
    measurements: &Fields<'_>,
    metadata: &Fields<'_>,
) {
    with_table(|table| {
        if let Some(handlers) = table.handlers(name, hash) {
            run_all(handlers, &Event::new(name, measurements, metadata));
        }
    });
}

/// Runs each handler on `event`; detaches those that panic.
fn run_all(handlers: &[Arc<Attached>], event: &Event<'_>) {
    for handler in handlers {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| (handler.handler)(event))) {
            detach_handler(handler);
            let panic = crate::actor::run::panic_message(payload.as_ref());
            tracing::warn!(
                target: "beam",
                handler = %handler.id,
                event = %event.name.join("."),
                panic = %panic,
                "telemetry handler panicked and was detached"
            );
            // Its `Drop` is user code too.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
        }
    }
}

/// Emits a catalog event from the runtime; call after [`Catalog::observed`].
#[cold]
#[inline(never)]
pub(crate) fn emit(event: Catalog, measurements: &Fields<'_>, metadata: &Fields<'_>) {
    with_table(|table| {
        let handlers = &table.catalog[event as usize];
        if !handlers.is_empty() {
            run_all(handlers, &Event::new(event.name(), measurements, metadata));
        }
    });
}

impl Catalog {
    /// Whether a handler is attached to this event: the runtime's check, one load.
    #[inline]
    pub(crate) fn observed(self) -> bool {
        CATALOG.load(Ordering::Relaxed) & self.bit() != 0
    }
}

/// Whether a handler is attached to any event among `bits`.
#[inline]
pub(crate) fn any_observed(bits: u64) -> bool {
    CATALOG.load(Ordering::Relaxed) & bits != 0
}

/// Nanoseconds since the Unix epoch, for `system_time`.
pub(crate) fn system_time() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Calls `f` with `name` followed by `suffix`, on the stack for names of usual length.
fn with_suffix<R>(
    name: &[&'static str],
    suffix: &'static str,
    f: impl FnOnce(&[&'static str]) -> R,
) -> R {
    const ON_STACK: usize = 15;
    if name.len() < ON_STACK {
        let mut buf = [""; ON_STACK + 1];
        buf[..name.len()].copy_from_slice(name);
        buf[name.len()] = suffix;
        f(&buf[..=name.len()])
    } else {
        let mut owned = name.to_vec();
        owned.push(suffix);
        f(&owned)
    }
}

/// Emits `name` + `suffix`.
fn execute_suffixed(
    name: &[&'static str],
    suffix: &'static str,
    measurements: &Fields<'_>,
    metadata: &Fields<'_>,
) {
    with_suffix(name, suffix, |full| execute(full, measurements, metadata));
}

/// Emits `name` + `exception` with the panic's message as `reason` after `metadata`.
fn execute_exception(
    name: &[&'static str],
    duration: Duration,
    metadata: &Fields<'_>,
    panic: &str,
) {
    let mut meta = metadata.to_vec();
    meta.push(("reason", Value::Str(panic)));
    execute_suffixed(
        name,
        "exception",
        &[("duration", Value::Duration(duration))],
        &meta,
    );
}

/// Runs `f` between two events, as `:telemetry.span`: `name` + `start` (measurement
/// `system_time`, nanoseconds since the Unix epoch), then `name` + `stop` (measurement
/// `duration`), both with `metadata`. If `f` panics, `name` + `exception` is emitted
/// instead of `stop` (measurement `duration`; metadata `metadata` and `reason`, the panic's
/// message) and the panic goes on. With no handler attached to any event, it just calls
/// `f`.
///
/// # Examples
///
/// ```
/// use beam_runtime::telemetry::{self, Value, EventName};
///
/// const RESIZE: EventName = &["myapp", "image", "resize"];
/// let pixels = telemetry::span(RESIZE, &[("format", Value::Str("png"))], || 640 * 480);
/// assert_eq!(pixels, 307_200);
/// ```
pub fn span<R>(name: &[&'static str], metadata: &Fields<'_>, f: impl FnOnce() -> R) -> R {
    if FILTER.load(Ordering::Relaxed) == 0 {
        return f();
    }
    let start = Instant::now();
    execute_suffixed(
        name,
        "start",
        &[("system_time", Value::U64(system_time()))],
        metadata,
    );
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(out) => {
            execute_suffixed(
                name,
                "stop",
                &[("duration", Value::Duration(start.elapsed()))],
                metadata,
            );
            out
        }
        Err(payload) => {
            let panic = crate::actor::run::panic_message(payload.as_ref());
            execute_exception(name, start.elapsed(), metadata, &panic);
            resume_unwind(payload)
        }
    }
}

/// [`span`] for a future: `name` + `start` at its first poll, `name` + `stop` when it
/// completes (the `duration` runs from the first poll), `name` + `exception` if a poll
/// panics (and the panic goes on). A future dropped before it completes emits no `stop`.
/// With no handler attached to any event at the first poll, it emits nothing.
///
/// # Examples
///
/// ```
/// use beam_runtime::telemetry::{self, EventName, Value};
///
/// const FETCH: EventName = &["myapp", "fetch"];
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let body = telemetry::span_async(FETCH, &[("url", Value::Str("/index"))], async {
///     "<html>"
/// })
/// .await;
/// assert_eq!(body, "<html>");
/// # }
/// ```
pub fn span_async<'a, F: Future>(
    name: &'a [&'static str],
    metadata: &'a Fields<'a>,
    fut: F,
) -> SpanFuture<'a, F> {
    SpanFuture {
        name,
        metadata,
        stage: SpanStage::New,
        fut,
    }
}

#[derive(Debug, Clone, Copy)]
enum SpanStage {
    New,
    Observed(Instant),
    Unobserved,
    Done,
}

pin_project! {
    /// The future [`span_async`] returns: the inner future, between telemetry events.
    #[must_use = "futures do nothing unless polled"]
    pub struct SpanFuture<'a, F> {
        name: &'a [&'static str],
        metadata: &'a Fields<'a>,
        stage: SpanStage,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for SpanFuture<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if let SpanStage::New = this.stage {
            *this.stage = if FILTER.load(Ordering::Relaxed) == 0 {
                SpanStage::Unobserved
            } else {
                let start = Instant::now();
                execute_suffixed(
                    this.name,
                    "start",
                    &[("system_time", Value::U64(system_time()))],
                    this.metadata,
                );
                SpanStage::Observed(start)
            };
        }
        let start = match *this.stage {
            SpanStage::Observed(start) => start,
            SpanStage::Unobserved => {
                let out = std::task::ready!(this.fut.poll(cx));
                *this.stage = SpanStage::Done;
                return Poll::Ready(out);
            }
            SpanStage::New | SpanStage::Done => panic!("`SpanFuture` polled after it completed"),
        };
        let fut = this.fut;
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => {
                *this.stage = SpanStage::Done;
                execute_suffixed(
                    this.name,
                    "stop",
                    &[("duration", Value::Duration(start.elapsed()))],
                    this.metadata,
                );
                Poll::Ready(out)
            }
            Err(payload) => {
                *this.stage = SpanStage::Done;
                let panic = crate::actor::run::panic_message(payload.as_ref());
                execute_exception(this.name, start.elapsed(), this.metadata, &panic);
                resume_unwind(payload)
            }
        }
    }
}

impl<F> fmt::Debug for SpanFuture<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanFuture")
            .field("name", &self.name)
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_order_matches_the_bits() {
        let all = [
            Catalog::Spawn,
            Catalog::InitStop,
            Catalog::InitException,
            Catalog::CallStart,
            Catalog::CallStop,
            Catalog::CallException,
            Catalog::CastStart,
            Catalog::CastStop,
            Catalog::CastException,
            Catalog::Stop,
            Catalog::SupervisorCrash,
            Catalog::SupervisorRestart,
            Catalog::SupervisorMaxRestarts,
            Catalog::MailboxOverflow,
            Catalog::ShutdownStop,
        ];
        assert_eq!(all.len(), events::ALL.len());
        for (i, event) in all.into_iter().enumerate() {
            assert_eq!(event as usize, i);
            assert_eq!(event.name(), events::ALL[i]);
        }
    }

    #[test]
    fn suffixes_long_names_too() {
        let long: Vec<&'static str> = vec!["x"; 20];
        with_suffix(&long, "stop", |full| {
            assert_eq!(full.len(), 21);
            assert_eq!(full[20], "stop");
        });
        with_suffix(&["a", "b"], "start", |full| {
            assert_eq!(full, ["a", "b", "start"])
        });
    }
}
