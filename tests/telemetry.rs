//! Telemetry and tracing: attaching and detaching handlers, `execute` and spans, every
//! event of the catalog as the runtime emits it, handlers that panic, and the same events
//! seen by a `tracing` subscriber.
//!
//! Handlers are process-wide, so the tests of this file take turns ([`serial`]) and each
//! also keeps to the events of its own actors.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beam_runtime::prelude::*;
use beam_runtime::supervisor::{
    ChildSpec, DynamicSupervisorSpec, Strategy, Supervisor, SupervisorSpec,
};
use beam_runtime::telemetry::{self, Event, EventName, TelemetryError, Value, events};

/// One test at a time: handlers and `tracing`'s level are process-wide.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// A value of an event, owned.
#[derive(Debug, Clone, PartialEq)]
enum Owned {
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
    Duration(Duration),
    Str(String),
    Pid(ActorId),
    Reason(ExitReason),
    Other(String),
}

impl From<Value<'_>> for Owned {
    fn from(value: Value<'_>) -> Self {
        match value {
            Value::U64(n) => Self::U64(n),
            Value::I64(n) => Self::I64(n),
            Value::F64(n) => Self::F64(n),
            Value::Bool(b) => Self::Bool(b),
            Value::Duration(d) => Self::Duration(d),
            Value::Str(s) => Self::Str(s.to_owned()),
            Value::Pid(id) => Self::Pid(id),
            Value::Reason(r) => Self::Reason(r.clone()),
            other => Self::Other(other.to_string()),
        }
    }
}

/// An event as a handler saw it.
#[derive(Debug, Clone)]
struct Seen {
    name: Vec<&'static str>,
    measurements: Vec<(&'static str, Owned)>,
    metadata: Vec<(&'static str, Owned)>,
}

impl Seen {
    fn of(event: &Event<'_>) -> Self {
        Seen {
            name: event.name.to_vec(),
            measurements: event
                .measurements
                .iter()
                .map(|&(k, v)| (k, v.into()))
                .collect(),
            metadata: event.metadata.iter().map(|&(k, v)| (k, v.into())).collect(),
        }
    }

    fn measurement(&self, key: &str) -> Option<&Owned> {
        self.measurements
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    fn meta(&self, key: &str) -> Option<&Owned> {
        self.metadata
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    fn keys(&self) -> Vec<&'static str> {
        self.metadata.iter().map(|(k, _)| *k).collect()
    }

    fn duration(&self) -> Duration {
        match self.measurement("duration") {
            Some(Owned::Duration(d)) => *d,
            other => panic!("no duration in {self:?}: {other:?}"),
        }
    }

    fn about(&self, actor: ActorId) -> bool {
        self.meta("actor") == Some(&Owned::Pid(actor))
    }
}

/// A handler that records the events it is attached to; detached when dropped.
struct Recorder {
    id: &'static str,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Recorder {
    fn attach(id: &'static str, names: &[EventName]) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        telemetry::attach(id, names, move |event| {
            log.lock().unwrap().push(Seen::of(event));
        })
        .unwrap();
        Recorder { id, seen }
    }

    /// Everything seen so far, in order.
    fn all(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The events named `name` about `actor`.
    fn about(&self, name: EventName, actor: ActorId) -> Vec<Seen> {
        self.all()
            .into_iter()
            .filter(|e| e.name == name && e.about(actor))
            .collect()
    }

    /// The names of the events about `actor`, in order.
    fn names_about(&self, actor: ActorId) -> Vec<Vec<&'static str>> {
        self.all()
            .into_iter()
            .filter(|e| e.about(actor))
            .map(|e| e.name)
            .collect()
    }

    /// Checks that `actor`'s events were exactly `names`, and that its first `exception`
    /// event carries `expected` as its reason.
    fn assert_failed(
        &self,
        actor: ActorId,
        names: &[EventName],
        exception: EventName,
        expected: &ExitReason,
    ) {
        assert_eq!(self.names_about(actor), names);
        assert_eq!(reason(&self.about(exception, actor)[0]), *expected);
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        telemetry::detach(self.id);
    }
}

fn reason(e: &Seen) -> ExitReason {
    match e.meta("reason") {
        Some(Owned::Reason(r)) => r.clone(),
        other => panic!("no exit reason in {e:?}: {other:?}"),
    }
}

/// An actor with a handler of each flavour, and ways to fail.
struct Probe {
    n: u64,
}

#[actor]
impl Probe {
    #[call]
    fn get(&self) -> u64 {
        self.n
    }

    #[call]
    async fn slow_get(&self, wait: Duration) -> u64 {
        tokio::time::sleep(wait).await;
        self.n
    }

    #[cast]
    fn add(&mut self, n: u64) {
        self.n += n;
    }

    #[cast]
    async fn slow_add(&mut self, n: u64, wait: Duration) {
        tokio::time::sleep(wait).await;
        self.n += n;
    }

    #[cast]
    fn explode(&mut self) {
        panic!("probe exploded");
    }

    #[cast]
    async fn explode_later(&mut self) {
        tokio::task::yield_now().await;
        panic!("probe exploded later");
    }

    #[cast(crash_on_err)]
    fn check(&mut self, expected: u64) -> Result<(), String> {
        if self.n != expected {
            return Err(format!("expected {expected}, found {}", self.n));
        }
        Ok(())
    }

    #[call(crash_on_err)]
    fn checked_get(&self, expected: u64) -> Result<u64, String> {
        if self.n != expected {
            return Err(format!("expected {expected}"));
        }
        Ok(self.n)
    }

    /// Without `crash_on_err`, an `Err` is only the reply.
    #[call]
    fn lenient_get(&self, expected: u64) -> Result<u64, String> {
        if self.n != expected {
            return Err(format!("expected {expected}"));
        }
        Ok(self.n)
    }
}

const MINE: EventName = &["test", "mine"];
const OTHER: EventName = &["test", "other"];

#[tokio::test]
async fn attach_detach_and_duplicate_ids() {
    let _serial = serial().await;
    assert!(!telemetry::has_handlers(MINE));
    telemetry::attach("dup", &[MINE], |_| {}).unwrap();
    assert!(telemetry::has_handlers(MINE));
    assert!(!telemetry::has_handlers(OTHER));
    assert_eq!(
        telemetry::attach("dup", &[OTHER], |_| {}),
        Err(TelemetryError::DuplicateId("dup".into()))
    );
    // The failed attach changed nothing.
    assert!(!telemetry::has_handlers(OTHER));
    let error: beam_runtime::Error = TelemetryError::DuplicateId("dup".into()).into();
    assert_eq!(
        error.to_string(),
        "a telemetry handler is already attached as `dup`"
    );

    assert!(telemetry::detach("dup"));
    assert!(!telemetry::detach("dup"));
    assert!(!telemetry::has_handlers(MINE));
    // The id is free again.
    telemetry::attach("dup", &[OTHER], |_| {}).unwrap();
    assert!(telemetry::has_handlers(OTHER));
    telemetry::detach_all();
    assert!(!telemetry::has_handlers(OTHER));
}

#[tokio::test]
async fn execute_reaches_the_handlers_of_that_event_only_in_attach_order() {
    let _serial = serial().await;
    let order = Arc::new(Mutex::new(Vec::new()));
    for (id, label) in [("first", "first"), ("second", "second")] {
        let order = order.clone();
        telemetry::attach(id, &[MINE, MINE], move |event| {
            assert!(event.is(MINE));
            order.lock().unwrap().push(label);
        })
        .unwrap();
    }
    let both = Recorder::attach("both", &[MINE, OTHER]);

    telemetry::execute(
        MINE,
        &[
            ("count", Value::U64(3)),
            ("took", Value::Duration(Duration::from_millis(2))),
        ],
        &[("who", Value::Str("me")), ("flag", Value::Bool(true))],
    );
    telemetry::execute(&["test", "nobody"], &[], &[]);
    telemetry::execute(
        OTHER,
        &[("delta", Value::I64(-1))],
        &[("ratio", Value::F64(0.5))],
    );

    // Listed twice, attached once.
    assert_eq!(*order.lock().unwrap(), ["first", "second"]);
    let seen = both.all();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].name, MINE);
    assert_eq!(seen[0].measurement("count"), Some(&Owned::U64(3)));
    assert_eq!(
        seen[0].measurement("took"),
        Some(&Owned::Duration(Duration::from_millis(2)))
    );
    assert_eq!(seen[0].meta("who"), Some(&Owned::Str("me".into())));
    assert_eq!(seen[0].meta("flag"), Some(&Owned::Bool(true)));
    assert_eq!(seen[1].name, OTHER);
    assert_eq!(seen[1].measurement("delta"), Some(&Owned::I64(-1)));
    assert_eq!(seen[1].meta("ratio"), Some(&Owned::F64(0.5)));

    assert!(telemetry::detach("first"));
    telemetry::execute(MINE, &[], &[]);
    assert_eq!(*order.lock().unwrap(), ["first", "second", "second"]);
    assert!(telemetry::detach("second"));
}

#[tokio::test]
async fn names_alike_are_still_told_apart() {
    let _serial = serial().await;
    // Same lengths and same first and last bytes: the cheap filter cannot tell them
    // apart, the lookup must.
    const STOP: EventName = &["test", "stop"];
    const SHOP: EventName = &["test", "shop"];
    let rec = Recorder::attach("alike", &[STOP]);
    assert!(telemetry::has_handlers(STOP));
    assert!(!telemetry::has_handlers(SHOP));
    telemetry::execute(SHOP, &[], &[]);
    telemetry::execute(STOP, &[], &[]);
    let seen = rec.all();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].name, STOP);
}

const QUERY: EventName = &["test", "db", "query"];

#[tokio::test]
async fn span_emits_start_then_stop_with_the_duration() {
    let _serial = serial().await;
    let rec = Recorder::attach(
        "span",
        &[
            &["test", "db", "query", "start"],
            &["test", "db", "query", "stop"],
            &["test", "db", "query", "exception"],
        ],
    );
    let rows = telemetry::span(QUERY, &[("table", Value::Str("users"))], || 42);
    assert_eq!(rows, 42);
    let seen = rec.all();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].name, ["test", "db", "query", "start"]);
    assert!(matches!(seen[0].measurement("system_time"), Some(Owned::U64(t)) if *t > 0));
    assert_eq!(seen[0].meta("table"), Some(&Owned::Str("users".into())));
    assert_eq!(seen[1].name, ["test", "db", "query", "stop"]);
    let _ = seen[1].duration();
    assert_eq!(seen[1].meta("table"), Some(&Owned::Str("users".into())));
}

#[tokio::test]
async fn a_panicking_span_emits_the_exception_then_goes_on_panicking() {
    let _serial = serial().await;
    let rec = Recorder::attach(
        "span-panic",
        &[
            &["test", "db", "query", "start"],
            &["test", "db", "query", "stop"],
            &["test", "db", "query", "exception"],
        ],
    );
    let out = catch_unwind(AssertUnwindSafe(|| {
        telemetry::span(QUERY, &[("table", Value::Str("users"))], || -> u32 {
            panic!("the database is gone")
        })
    }));
    let payload = out.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"the database is gone")
    );
    let seen = rec.all();
    let names: Vec<_> = seen.iter().map(|e| e.name.clone()).collect();
    assert_eq!(
        names,
        [
            ["test", "db", "query", "start"],
            ["test", "db", "query", "exception"]
        ]
    );
    let _ = seen[1].duration();
    assert_eq!(seen[1].meta("table"), Some(&Owned::Str("users".into())));
    assert_eq!(
        seen[1].meta("reason"),
        Some(&Owned::Str("the database is gone".into()))
    );
}

#[tokio::test(start_paused = true)]
async fn span_async_times_the_future_and_reports_its_panic() {
    let _serial = serial().await;
    let rec = Recorder::attach(
        "span-async",
        &[
            &["test", "fetch", "start"],
            &["test", "fetch", "stop"],
            &["test", "fetch", "exception"],
        ],
    );
    const FETCH: EventName = &["test", "fetch"];
    let body = telemetry::span_async(FETCH, &[("url", Value::Str("/"))], async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        "<html>"
    })
    .await;
    assert_eq!(body, "<html>");
    let seen = rec.all();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].name, ["test", "fetch", "stop"]);
    assert!(seen[1].duration() >= Duration::from_millis(30));

    let task = tokio::spawn(telemetry::span_async(FETCH, &[], async {
        tokio::task::yield_now().await;
        panic!("no route")
    }));
    assert!(task.await.unwrap_err().is_panic());
    let seen = rec.all();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[3].name, ["test", "fetch", "exception"]);
    assert_eq!(seen[3].meta("reason"), Some(&Owned::Str("no route".into())));
}

/// Spawns a child in its `#[init]`.
struct Parent;

#[actor]
impl Parent {
    #[init]
    async fn init(ctx: &mut Ctx<Self>) -> Self {
        ctx.spawn::<Probe>(Probe { n: 0 }).await.unwrap();
        Parent
    }

    #[call]
    fn kids(&self, ctx: &mut Ctx<Self>) -> Vec<ActorId> {
        ctx.children()
    }
}

beam_runtime::names! {
    PARENT: Parent = "telemetry-parent";
}

#[tokio::test]
async fn spawn_names_the_actor_its_type_its_name_and_its_parent() {
    let _serial = serial().await;
    let rec = Recorder::attach("spawn", &[events::ACTOR_SPAWN]);
    let system = ActorSystem::new();
    let parent = system.spawn::<Parent>(()).name(PARENT).await.unwrap();
    let child = parent.kids().await.unwrap()[0];

    let spawned = rec.about(events::ACTOR_SPAWN, parent.id());
    assert_eq!(spawned.len(), 1);
    assert_eq!(spawned[0].keys(), ["actor", "actor_type", "name"]);
    assert_eq!(
        spawned[0].meta("actor_type"),
        Some(&Owned::Str("Parent".into()))
    );
    assert_eq!(
        spawned[0].meta("name"),
        Some(&Owned::Str("telemetry-parent".into()))
    );
    assert!(spawned[0].measurements.is_empty());

    let spawned = rec.about(events::ACTOR_SPAWN, child);
    assert_eq!(spawned.len(), 1);
    assert_eq!(spawned[0].keys(), ["actor", "actor_type", "parent"]);
    assert_eq!(
        spawned[0].meta("actor_type"),
        Some(&Owned::Str("Probe".into()))
    );
    assert_eq!(spawned[0].meta("parent"), Some(&Owned::Pid(parent.id())));
    system.shutdown().await;
}

/// An actor whose `#[init]` does as told.
struct Starter;

#[derive(Debug, Clone, Copy)]
enum Start {
    Ok,
    Err,
    Panic,
}

#[actor]
impl Starter {
    #[init]
    fn init(how: Start) -> Result<Self, String> {
        match how {
            Start::Ok => Ok(Starter),
            Start::Err => Err("no config".into()),
            Start::Panic => panic!("init exploded"),
        }
    }
}

/// The same with an async `#[init]`.
struct SlowStarter;

#[actor]
impl SlowStarter {
    #[init]
    async fn init(how: Start, wait: Duration) -> Result<Self, String> {
        tokio::time::sleep(wait).await;
        match how {
            Start::Ok => Ok(SlowStarter),
            Start::Err => Err("no config".into()),
            Start::Panic => panic!("init exploded"),
        }
    }
}

/// The init event of the one spawn that `rec` saw (spawns failed, so use the spawn event
/// to find the actor).
fn init_events(rec: &Recorder, actor_type: &str) -> Vec<Seen> {
    let spawn = rec
        .all()
        .into_iter()
        .rev()
        .find(|e| {
            e.name == events::ACTOR_SPAWN
                && e.meta("actor_type") == Some(&Owned::Str(actor_type.into()))
        })
        .expect("a spawn");
    let Some(Owned::Pid(actor)) = spawn.meta("actor") else {
        panic!("no actor")
    };
    rec.all()
        .into_iter()
        .filter(|e| e.about(*actor) && e.name != events::ACTOR_SPAWN)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn init_stop_and_exception_for_sync_and_async_init() {
    let _serial = serial().await;
    let rec = Recorder::attach(
        "init",
        &[
            events::ACTOR_SPAWN,
            events::ACTOR_INIT_STOP,
            events::ACTOR_INIT_EXCEPTION,
        ],
    );
    let system = ActorSystem::new();
    let wait = Duration::from_millis(20);

    system.spawn::<Starter>(Start::Ok).await.unwrap();
    let seen = init_events(&rec, "Starter");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].name, events::ACTOR_INIT_STOP);
    assert_eq!(seen[0].keys(), ["actor", "actor_type"]);
    let _ = seen[0].duration();

    let refused = system.spawn::<Starter>(Start::Err).await;
    assert_eq!(refused.unwrap_err(), SpawnError::Init("no config".into()));
    let seen = init_events(&rec, "Starter");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].name, events::ACTOR_INIT_EXCEPTION);
    assert_eq!(reason(&seen[0]), ExitReason::Error("no config".into()));

    let refused = system.spawn::<Starter>(Start::Panic).await;
    assert_eq!(
        refused.unwrap_err(),
        SpawnError::InitPanic("init exploded".into())
    );
    let seen = init_events(&rec, "Starter");
    assert_eq!(seen[0].name, events::ACTOR_INIT_EXCEPTION);
    assert_eq!(reason(&seen[0]), ExitReason::Panic("init exploded".into()));

    system
        .spawn::<SlowStarter>((Start::Ok, wait))
        .await
        .unwrap();
    let seen = init_events(&rec, "SlowStarter");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].name, events::ACTOR_INIT_STOP);
    assert!(seen[0].duration() >= wait);

    let refused = system.spawn::<SlowStarter>((Start::Err, wait)).await;
    assert!(refused.is_err());
    let seen = init_events(&rec, "SlowStarter");
    assert_eq!(seen[0].name, events::ACTOR_INIT_EXCEPTION);
    assert!(seen[0].duration() >= wait);
    assert_eq!(reason(&seen[0]), ExitReason::Error("no config".into()));

    let refused = system.spawn::<SlowStarter>((Start::Panic, wait)).await;
    assert!(refused.is_err());
    let seen = init_events(&rec, "SlowStarter");
    assert_eq!(seen[0].name, events::ACTOR_INIT_EXCEPTION);
    assert_eq!(reason(&seen[0]), ExitReason::Panic("init exploded".into()));
    system.shutdown().await;
}

const HANDLER_EVENTS: &[EventName] = &[
    events::ACTOR_CALL_START,
    events::ACTOR_CALL_STOP,
    events::ACTOR_CALL_EXCEPTION,
    events::ACTOR_CAST_START,
    events::ACTOR_CAST_STOP,
    events::ACTOR_CAST_EXCEPTION,
    events::ACTOR_STOP,
];

#[tokio::test(start_paused = true)]
async fn calls_and_casts_start_and_stop_with_their_durations() {
    let _serial = serial().await;
    let rec = Recorder::attach("handlers", HANDLER_EVENTS);
    let system = ActorSystem::new();
    let probe = system.spawn::<Probe>(Probe { n: 0 }).await.unwrap();
    let id = probe.id();

    probe.add(2).unwrap();
    assert_eq!(probe.get().await.unwrap(), 2);
    let wait = Duration::from_millis(40);
    probe.slow_add(3, wait).unwrap();
    assert_eq!(probe.slow_get(wait).await.unwrap(), 5);

    assert_eq!(
        rec.names_about(id),
        [
            events::ACTOR_CAST_START,
            events::ACTOR_CAST_STOP,
            events::ACTOR_CALL_START,
            events::ACTOR_CALL_STOP,
            events::ACTOR_CAST_START,
            events::ACTOR_CAST_STOP,
            events::ACTOR_CALL_START,
            events::ACTOR_CALL_STOP,
        ]
    );
    let seen = rec.all();
    let handlers: Vec<_> = seen
        .iter()
        .filter(|e| e.about(id))
        .map(|e| e.meta("handler").cloned())
        .collect();
    let h = |s: &str| Some(Owned::Str(s.into()));
    assert_eq!(
        handlers,
        [
            h("add"),
            h("add"),
            h("get"),
            h("get"),
            h("slow_add"),
            h("slow_add"),
            h("slow_get"),
            h("slow_get")
        ]
    );
    let starts = rec.about(events::ACTOR_CALL_START, id);
    assert!(matches!(starts[0].measurement("system_time"), Some(Owned::U64(t)) if *t > 0));
    assert_eq!(starts[0].keys(), ["actor", "actor_type", "handler"]);
    assert_eq!(
        starts[0].meta("actor_type"),
        Some(&Owned::Str("Probe".into()))
    );
    let stops = rec.about(events::ACTOR_CALL_STOP, id);
    assert_eq!(stops[0].keys(), ["actor", "actor_type", "handler"]);
    assert!(stops[1].duration() >= wait);
    let stops = rec.about(events::ACTOR_CAST_STOP, id);
    assert!(stops[1].duration() >= wait);
    system.shutdown().await;
}

#[tokio::test]
async fn a_panicking_cast_is_an_exception_then_the_actor_stops_with_the_panic() {
    let _serial = serial().await;
    let rec = Recorder::attach("cast-panic", HANDLER_EVENTS);
    let system = ActorSystem::new();
    let probe = system.spawn::<Probe>(Probe { n: 0 }).await.unwrap();
    probe.explode().unwrap();
    let panic = ExitReason::Panic("probe exploded".into());
    assert_eq!(probe.wait_for_exit().await, panic);

    assert_eq!(
        rec.names_about(probe.id()),
        [
            events::ACTOR_CAST_START,
            events::ACTOR_CAST_EXCEPTION,
            events::ACTOR_STOP
        ]
    );
    let exception = &rec.about(events::ACTOR_CAST_EXCEPTION, probe.id())[0];
    assert_eq!(
        exception.keys(),
        ["actor", "actor_type", "handler", "reason"]
    );
    assert_eq!(
        exception.meta("handler"),
        Some(&Owned::Str("explode".into()))
    );
    assert_eq!(reason(exception), panic);
    let _ = exception.duration();
    let stop = &rec.about(events::ACTOR_STOP, probe.id())[0];
    assert_eq!(stop.keys(), ["actor", "actor_type", "reason"]);
    assert_eq!(reason(stop), panic);

    // The same from an async handler.
    let probe = system.spawn::<Probe>(Probe { n: 0 }).await.unwrap();
    probe.explode_later().unwrap();
    let panic = ExitReason::Panic("probe exploded later".into());
    assert_eq!(probe.wait_for_exit().await, panic);
    rec.assert_failed(
        probe.id(),
        &[
            events::ACTOR_CAST_START,
            events::ACTOR_CAST_EXCEPTION,
            events::ACTOR_STOP,
        ],
        events::ACTOR_CAST_EXCEPTION,
        &panic,
    );
    system.shutdown().await;
}

#[tokio::test]
async fn a_handler_returning_err_is_an_exception_too() {
    let _serial = serial().await;
    let rec = Recorder::attach("handler-err", HANDLER_EVENTS);
    let system = ActorSystem::new();

    let probe = system.spawn::<Probe>(Probe { n: 1 }).await.unwrap();
    probe.check(1).unwrap();
    probe.check(2).unwrap();
    let failed = ExitReason::Error("expected 2, found 1".into());
    assert_eq!(probe.wait_for_exit().await, failed);
    rec.assert_failed(
        probe.id(),
        &[
            events::ACTOR_CAST_START,
            events::ACTOR_CAST_STOP,
            events::ACTOR_CAST_START,
            events::ACTOR_CAST_EXCEPTION,
            events::ACTOR_STOP,
        ],
        events::ACTOR_CAST_EXCEPTION,
        &failed,
    );

    let probe = system.spawn::<Probe>(Probe { n: 1 }).await.unwrap();
    assert_eq!(
        probe.checked_get(3).await.unwrap(),
        Err("expected 3".to_owned())
    );
    let failed = ExitReason::Error("expected 3".into());
    assert_eq!(probe.wait_for_exit().await, failed);
    rec.assert_failed(
        probe.id(),
        &[
            events::ACTOR_CALL_START,
            events::ACTOR_CALL_EXCEPTION,
            events::ACTOR_STOP,
        ],
        events::ACTOR_CALL_EXCEPTION,
        &failed,
    );
    system.shutdown().await;
}

#[tokio::test]
async fn an_err_replied_without_crash_on_err_is_no_exception() {
    let _serial = serial().await;
    let rec = Recorder::attach("handler-err-reply", HANDLER_EVENTS);
    let system = ActorSystem::new();
    let probe = system.spawn::<Probe>(Probe { n: 1 }).await.unwrap();
    assert_eq!(
        probe.lenient_get(3).await.unwrap(),
        Err("expected 3".to_owned())
    );
    assert_eq!(probe.lenient_get(1).await.unwrap(), Ok(1));
    assert_eq!(system.stop(&probe).await, ExitReason::Normal);
    assert_eq!(
        rec.names_about(probe.id()),
        [
            events::ACTOR_CALL_START,
            events::ACTOR_CALL_STOP,
            events::ACTOR_CALL_START,
            events::ACTOR_CALL_STOP,
            events::ACTOR_STOP,
        ]
    );
    assert_eq!(
        reason(&rec.about(events::ACTOR_STOP, probe.id())[0]),
        ExitReason::Normal
    );
    system.shutdown().await;
}

#[tokio::test]
async fn stop_reports_every_exit_with_its_reason() {
    let _serial = serial().await;
    let rec = Recorder::attach("stop", &[events::ACTOR_STOP]);
    let system = ActorSystem::new();
    let stopped = system.spawn::<Probe>(Probe { n: 0 }).await.unwrap();
    let killed = system.spawn::<Probe>(Probe { n: 0 }).await.unwrap();
    let at_shutdown = system.spawn::<Probe>(Probe { n: 0 }).await.unwrap();

    assert_eq!(system.stop(&stopped).await, ExitReason::Normal);
    killed.kill();
    assert_eq!(killed.wait_for_exit().await, ExitReason::Killed);
    system.shutdown().await;

    for (actor, expected) in [
        (&stopped, ExitReason::Normal),
        (&killed, ExitReason::Killed),
        (&at_shutdown, ExitReason::Shutdown),
    ] {
        let seen = rec.about(events::ACTOR_STOP, actor.id());
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(reason(&seen[0]), expected);
        assert_eq!(
            seen[0].meta("actor_type"),
            Some(&Owned::Str("Probe".into()))
        );
    }
}

/// A supervised worker.
#[derive(Clone)]
struct Worker;

#[actor]
impl Worker {
    #[cast]
    fn crash(&mut self) {
        panic!("worker crashed");
    }

    #[call]
    fn ping(&self) {}
}

#[tokio::test]
async fn supervisors_report_crashes_restarts_and_giving_up() {
    let _serial = serial().await;
    let rec = Recorder::attach(
        "supervisor",
        &[
            events::SUPERVISOR_CRASH,
            events::SUPERVISOR_RESTART,
            events::SUPERVISOR_MAX_RESTARTS,
        ],
    );
    let system = ActorSystem::new();
    let spec = ChildSpec::<Worker>::new("worker", Worker);
    let handle = spec.handle();
    let sup = SupervisorSpec::new()
        .strategy(Strategy::OneForAll)
        .intensity(1, Duration::from_secs(3600))
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    let mine = |e: &Seen| e.meta("supervisor") == Some(&Owned::Pid(sup.id()));

    let first = handle.current().unwrap();
    first.crash().unwrap();
    first.wait_for_exit().await;
    // Handled after the restart.
    sup.count_children().await.unwrap();
    let second = handle.current().unwrap();
    let seen: Vec<Seen> = rec.all().into_iter().filter(mine).collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].name, events::SUPERVISOR_CRASH);
    assert_eq!(seen[0].meta("child_id"), Some(&Owned::Str("worker".into())));
    assert_eq!(seen[0].meta("actor"), Some(&Owned::Pid(first.id())));
    assert_eq!(reason(&seen[0]), ExitReason::Panic("worker crashed".into()));
    assert_eq!(
        seen[0].meta("strategy"),
        Some(&Owned::Str("one_for_all".into()))
    );
    assert_eq!(seen[1].name, events::SUPERVISOR_RESTART);
    assert_eq!(seen[1].meta("child_id"), Some(&Owned::Str("worker".into())));
    assert_eq!(seen[1].meta("old_actor"), Some(&Owned::Pid(first.id())));
    assert_eq!(seen[1].meta("actor"), Some(&Owned::Pid(second.id())));

    // One restart in the period is allowed; the second crash is one too many.
    second.crash().unwrap();
    assert_eq!(sup.wait_for_exit().await, ExitReason::Shutdown);
    let seen: Vec<Seen> = rec.all().into_iter().filter(mine).collect();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(seen[2].name, events::SUPERVISOR_CRASH);
    assert_eq!(seen[2].meta("actor"), Some(&Owned::Pid(second.id())));
    assert_eq!(seen[3].name, events::SUPERVISOR_MAX_RESTARTS);
    assert_eq!(seen[3].measurement("restarts"), Some(&Owned::U64(2)));
    assert_eq!(seen[3].meta("max_restarts"), Some(&Owned::U64(1)));
    assert_eq!(
        seen[3].meta("period"),
        Some(&Owned::Duration(Duration::from_secs(3600)))
    );
    system.shutdown().await;
}

#[tokio::test]
async fn dynamic_supervisors_report_crashes_and_restarts() {
    let _serial = serial().await;
    let rec = Recorder::attach(
        "dynamic",
        &[events::SUPERVISOR_CRASH, events::SUPERVISOR_RESTART],
    );
    let system = ActorSystem::new();
    let sup = DynamicSupervisorSpec::new().start(&system).await.unwrap();
    let worker = sup.start_child::<Worker>(Worker).await.unwrap();
    worker.crash().unwrap();
    worker.wait_for_exit().await;
    let infos = sup.which_children().await.unwrap();
    let restarted = infos[0].actor.unwrap();

    let seen: Vec<Seen> = rec
        .all()
        .into_iter()
        .filter(|e| e.meta("supervisor") == Some(&Owned::Pid(sup.id())))
        .collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].name, events::SUPERVISOR_CRASH);
    assert_eq!(seen[0].meta("child_id"), Some(&Owned::Str("Worker".into())));
    assert_eq!(
        seen[0].meta("strategy"),
        Some(&Owned::Str("one_for_one".into()))
    );
    assert_eq!(seen[1].name, events::SUPERVISOR_RESTART);
    assert_eq!(seen[1].meta("old_actor"), Some(&Owned::Pid(worker.id())));
    assert_eq!(seen[1].meta("actor"), Some(&Owned::Pid(restarted)));
    system.shutdown().await;
}

#[tokio::test]
async fn a_cast_to_a_full_mailbox_is_an_overflow() {
    let _serial = serial().await;
    let rec = Recorder::attach("overflow", &[events::MAILBOX_OVERFLOW]);
    let system = ActorSystem::new();
    let probe = system
        .spawn::<Probe>(Probe { n: 0 })
        .bounded(1)
        .await
        .unwrap();
    // On this one thread the actor does not run between the two casts.
    probe.add(1).unwrap();
    assert_eq!(probe.add(1), Err(SendError::Full));

    let seen = rec.about(events::MAILBOX_OVERFLOW, probe.id());
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].keys(), ["actor", "actor_type", "capacity"]);
    assert_eq!(seen[0].meta("capacity"), Some(&Owned::U64(1)));
    assert_eq!(
        seen[0].meta("actor_type"),
        Some(&Owned::Str("Probe".into()))
    );
    assert_eq!(probe.get().await.unwrap(), 1);
    system.shutdown().await;
}

/// Overruns the shutdown timeout.
struct Stubborn;

#[actor]
impl Stubborn {
    #[terminate]
    async fn terminate(&mut self) {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_reports_its_duration_and_the_actors_stopped_and_killed() {
    let _serial = serial().await;
    let rec = Recorder::attach("shutdown", &[events::SYSTEM_SHUTDOWN_STOP]);
    let system = ActorSystem::new();
    system.spawn::<Probe>(Probe { n: 0 }).await.unwrap();
    system.spawn::<Stubborn>(Stubborn).await.unwrap();
    let timeout = Duration::from_millis(100);
    assert_eq!(system.shutdown_with(timeout).await.unwrap_err().killed, 1);
    let seen = rec.all();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].name, events::SYSTEM_SHUTDOWN_STOP);
    assert_eq!(seen[0].measurement("actors"), Some(&Owned::U64(2)));
    assert_eq!(seen[0].measurement("killed"), Some(&Owned::U64(1)));
    assert!(seen[0].duration() >= timeout);
    assert!(seen[0].metadata.is_empty());
}

#[tokio::test]
async fn a_panicking_handler_is_detached_and_hurts_no_one() {
    let _serial = serial().await;
    let calls = Arc::new(Mutex::new(0));
    let count = calls.clone();
    telemetry::attach("bad", &[events::ACTOR_CALL_STOP, MINE], move |_| {
        *count.lock().unwrap() += 1;
        panic!("a bad handler");
    })
    .unwrap();
    let good = Recorder::attach("good", &[events::ACTOR_CALL_STOP]);

    let system = ActorSystem::new();
    let probe = system.spawn::<Probe>(Probe { n: 7 }).await.unwrap();
    assert_eq!(probe.get().await.unwrap(), 7);
    assert_eq!(*calls.lock().unwrap(), 1);
    // Detached from every event it was attached to; the others still run.
    assert!(!telemetry::detach("bad"));
    assert!(!telemetry::has_handlers(MINE));
    assert_eq!(probe.get().await.unwrap(), 7);
    assert!(probe.is_alive());
    assert_eq!(*calls.lock().unwrap(), 1);
    assert_eq!(good.about(events::ACTOR_CALL_STOP, probe.id()).len(), 2);

    // Nor does a panic reach code that executes or spans.
    telemetry::attach("bad again", &[MINE], |_| panic!("still bad")).unwrap();
    telemetry::execute(MINE, &[], &[]);
    assert!(!telemetry::has_handlers(MINE));
    system.shutdown().await;
}

#[tokio::test]
async fn handlers_may_emit_attach_and_detach() {
    let _serial = serial().await;
    let inner = Recorder::attach("inner", &[OTHER]);
    telemetry::attach("outer", &[MINE], |event| {
        telemetry::execute(OTHER, event.measurements, event.metadata);
        telemetry::attach("from a handler", &[QUERY], |_| {}).unwrap();
        assert!(telemetry::detach("from a handler"));
        assert!(telemetry::detach("outer"));
    })
    .unwrap();
    telemetry::execute(MINE, &[("n", Value::U64(1))], &[]);
    telemetry::execute(MINE, &[("n", Value::U64(2))], &[]);
    let seen = inner.all();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].measurement("n"), Some(&Owned::U64(1)));
}

mod tracing_layer {
    //! A `tracing` layer that records spans and events with their fields.

    use std::fmt;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id};
    use tracing::{Event, Level, Subscriber};
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::Context;
    use tracing_subscriber::registry::LookupSpan;

    #[derive(Debug, Clone)]
    pub(crate) struct Record {
        pub(crate) kind: &'static str,
        pub(crate) name: String,
        pub(crate) target: String,
        pub(crate) level: Level,
        pub(crate) fields: Vec<(String, String)>,
        /// For events: the names of the spans they are in, innermost last.
        pub(crate) scope: Vec<String>,
    }

    impl Record {
        pub(crate) fn field(&self, name: &str) -> Option<&str> {
            self.fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        }
    }

    struct Fields(Vec<(String, String)>);

    impl Visit for Fields {
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.push((field.name().to_owned(), value.to_owned()));
        }

        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.0.push((field.name().to_owned(), format!("{value:?}")));
        }
    }

    #[derive(Clone, Default)]
    pub(crate) struct Recording(pub(crate) Arc<Mutex<Vec<Record>>>);

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recording {
        fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
            let mut fields = Fields(Vec::new());
            attrs.record(&mut fields);
            let meta = attrs.metadata();
            self.0.lock().unwrap().push(Record {
                kind: "span",
                name: meta.name().to_owned(),
                target: meta.target().to_owned(),
                level: *meta.level(),
                fields: fields.0,
                scope: Vec::new(),
            });
        }

        fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
            let mut fields = Fields(Vec::new());
            event.record(&mut fields);
            let scope = ctx
                .event_scope(event)
                .map(|scope| scope.from_root().map(|s| s.name().to_owned()).collect())
                .unwrap_or_default();
            let meta = event.metadata();
            self.0.lock().unwrap().push(Record {
                kind: "event",
                name: fields
                    .0
                    .iter()
                    .find(|(k, _)| k == "message")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                target: meta.target().to_owned(),
                level: *meta.level(),
                fields: fields.0,
                scope,
            });
        }
    }
}

/// Logs from inside a handler.
struct Chatty;

#[actor]
impl Chatty {
    #[call]
    fn hello(&self) -> &'static str {
        tracing::info!("hello from a handler");
        "hi"
    }

    #[cast]
    async fn boom(&mut self) {
        tokio::task::yield_now().await;
        panic!("chatty exploded");
    }
}

#[tokio::test]
async fn tracing_sees_handler_spans_with_the_actor_and_the_lifecycle_events() {
    use tracing_subscriber::layer::SubscriberExt;

    let _serial = serial().await;
    let recording = tracing_layer::Recording::default();
    let subscriber = tracing_subscriber::registry().with(recording.clone());
    let _default = tracing::subscriber::set_default(subscriber);

    let system = ActorSystem::new();
    let chatty = system.spawn::<Chatty>(Chatty).await.unwrap();
    assert_eq!(chatty.hello().await.unwrap(), "hi");
    chatty.boom().unwrap();
    chatty.wait_for_exit().await;
    system.shutdown().await;

    let records = recording.0.lock().unwrap().clone();
    let id = chatty.id().to_string();
    let mine = |r: &&tracing_layer::Record| r.field("actor") == Some(id.as_str());

    let spans: Vec<_> = records
        .iter()
        .filter(|r| r.kind == "span" && r.name == "beam.handle")
        .filter(mine)
        .collect();
    assert_eq!(spans.len(), 2, "{records:#?}");
    assert_eq!(spans[0].target, "beam");
    assert_eq!(spans[0].level, tracing::Level::TRACE);
    assert_eq!(spans[0].field("actor_type"), Some("Chatty"));
    assert_eq!(spans[0].field("handler"), Some("hello"));
    assert_eq!(spans[0].field("kind"), Some("call"));
    assert_eq!(spans[1].field("handler"), Some("boom"));
    assert_eq!(spans[1].field("kind"), Some("cast"));

    // The handler's own event is inside its span.
    let hello = records
        .iter()
        .find(|r| r.kind == "event" && r.name == "hello from a handler")
        .expect("the handler's event");
    assert_eq!(hello.scope, ["beam.handle"]);

    let events: Vec<_> = records
        .iter()
        .filter(|r| r.kind == "event" && r.target == "beam")
        .filter(mine)
        .collect();
    let names: Vec<_> = events.iter().map(|r| (r.level, r.name.as_str())).collect();
    assert_eq!(
        names,
        [
            (tracing::Level::DEBUG, "actor spawned"),
            (tracing::Level::WARN, "actor crashed")
        ]
    );
    assert_eq!(events[0].field("actor_type"), Some("Chatty"));
    assert_eq!(events[1].field("reason"), Some("panic: chatty exploded"));
    assert!(
        records
            .iter()
            .any(|r| r.kind == "event" && r.target == "beam" && r.name == "system shut down")
    );
}

#[tokio::test]
async fn tracing_sees_supervisor_events() {
    use tracing_subscriber::layer::SubscriberExt;

    let _serial = serial().await;
    let recording = tracing_layer::Recording::default();
    let subscriber = tracing_subscriber::registry().with(recording.clone());
    let _default = tracing::subscriber::set_default(subscriber);

    let system = ActorSystem::new();
    let spec = ChildSpec::<Worker>::new("worker", Worker);
    let handle = spec.handle();
    let sup = SupervisorSpec::new()
        .intensity(0, Duration::from_secs(3600))
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    handle.current().unwrap().crash().unwrap();
    assert_eq!(sup.wait_for_exit().await, ExitReason::Shutdown);
    system.shutdown().await;

    let records = recording.0.lock().unwrap().clone();
    let sup_id = sup.id().to_string();
    let names: Vec<_> = records
        .iter()
        .filter(|r| r.kind == "event" && r.field("supervisor") == Some(sup_id.as_str()))
        .map(|r| (r.level, r.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (tracing::Level::INFO, "child crashed"),
            (
                tracing::Level::ERROR,
                "restart intensity exceeded: the supervisor stops its children and exits"
            )
        ]
    );
}

#[tokio::test]
async fn a_subscriber_that_filters_beam_out_gets_no_span() {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;

    let _serial = serial().await;
    let recording = tracing_layer::Recording::default();
    let filter =
        tracing_subscriber::filter::Targets::new().with_target("elsewhere", tracing::Level::TRACE);
    let subscriber = tracing_subscriber::registry().with(recording.clone().with_filter(filter));
    let _default = tracing::subscriber::set_default(subscriber);

    let system = ActorSystem::new();
    let chatty = system.spawn::<Chatty>(Chatty).await.unwrap();
    assert_eq!(chatty.hello().await.unwrap(), "hi");
    tracing::trace!(target: "elsewhere", "seen");
    system.shutdown().await;

    let records = recording.0.lock().unwrap().clone();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].name, "seen");
}

#[tokio::test]
async fn a_supervisor_that_gives_up_is_a_crash_for_its_parent() {
    let _serial = serial().await;
    let rec = Recorder::attach("gives-up", &[events::SUPERVISOR_CRASH]);
    let system = ActorSystem::new();
    let worker = ChildSpec::<Worker>::new("worker", Worker);
    let handle = worker.handle();
    let inner = ChildSpec::<Supervisor>::new(
        "inner",
        SupervisorSpec::new()
            .intensity(0, Duration::from_secs(5))
            .child(worker),
    );
    let inner_handle = inner.handle();
    let top = SupervisorSpec::new()
        .child(inner)
        .start(&system)
        .await
        .unwrap();
    let gave_up = inner_handle.current().unwrap();
    handle.current().unwrap().crash().unwrap();
    assert_eq!(gave_up.wait_for_exit().await, ExitReason::Shutdown);
    // Handled after the inner supervisor's restart.
    top.count_children().await.unwrap();
    let seen: Vec<Seen> = rec
        .all()
        .into_iter()
        .filter(|e| e.meta("supervisor") == Some(&Owned::Pid(top.id())))
        .collect();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].meta("child_id"), Some(&Owned::Str("inner".into())));
    assert_eq!(seen[0].meta("actor"), Some(&Owned::Pid(gave_up.id())));
    assert_eq!(reason(&seen[0]), ExitReason::Shutdown);
    system.shutdown().await;
}

#[tokio::test]
async fn a_restart_whose_init_fails_is_a_crash_too() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static BROKEN: AtomicBool = AtomicBool::new(false);

    /// A worker that cannot start while `BROKEN` is set.
    struct Fragile;

    #[actor]
    impl Fragile {
        #[init]
        fn init() -> Result<Self, &'static str> {
            if BROKEN.load(Ordering::SeqCst) {
                Err("broken")
            } else {
                Ok(Fragile)
            }
        }

        #[cast]
        fn crash(&mut self) {
            panic!("fragile crashed");
        }
    }

    let _serial = serial().await;
    let rec = Recorder::attach("init-fails", &[events::SUPERVISOR_CRASH]);
    let system = ActorSystem::new();
    let spec = ChildSpec::<Fragile>::from_fn("fragile", || ());
    let handle = spec.handle();
    let sup = SupervisorSpec::new()
        .intensity(1, Duration::from_secs(5))
        .child(spec)
        .start(&system)
        .await
        .unwrap();
    let first = handle.current().unwrap();
    BROKEN.store(true, Ordering::SeqCst);
    first.crash().unwrap();
    // The restart fails, which is one restart too many.
    assert_eq!(sup.wait_for_exit().await, ExitReason::Shutdown);
    let seen: Vec<Seen> = rec
        .all()
        .into_iter()
        .filter(|e| e.meta("supervisor") == Some(&Owned::Pid(sup.id())))
        .collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        reason(&seen[0]),
        ExitReason::Panic("fragile crashed".into())
    );
    assert_eq!(
        seen[1].meta("child_id"),
        Some(&Owned::Str("fragile".into()))
    );
    assert_eq!(reason(&seen[1]), ExitReason::Error("broken".into()));
    let Some(Owned::Pid(attempted)) = seen[1].meta("actor") else {
        panic!("no actor in {:?}", seen[1]);
    };
    assert_ne!(*attempted, first.id(), "the incarnation that did not start");
    system.shutdown().await;
}
