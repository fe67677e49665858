//! A guided tour of beam in eight short sections, each showing one idea with its real
//! output: typed calls and casts, call timeouts, typed names, crashes that reach the caller
//! as errors, timers, children that stop with their parent, a supervisor that restarts
//! what crashes, and a graceful shutdown. It is the example to run first, and it finishes
//! in well under a second.
//!
//! ```text
//! cargo run --example tour
//! ```

use std::path::Path;
use std::time::Duration;

use beam_runtime::prelude::*;

/// Prints one indented line of narration, like `println!`.
macro_rules! say {
    ($($arg:tt)*) => {
        println!("   {}", format_args!($($arg)*))
    };
}

// ---------------------------------------------------------------------------------------
// 1. Calls and casts
// ---------------------------------------------------------------------------------------

/// A counter. `#[actor]` gives `ActorRef<Counter>` one typed method per handler.
struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    #[init]
    fn init(start: i64) -> Self {
        Counter { count: start }
    }

    /// A call: the caller waits for the reply.
    #[call]
    fn get(&self) -> i64 {
        self.count
    }

    /// Handlers may be async; they still run one at a time.
    #[call]
    async fn add(&mut self, n: i64) -> i64 {
        self.count += n;
        self.count
    }

    /// A cast: fire and forget.
    #[cast]
    fn set(&mut self, value: i64) {
        self.count = value;
    }
}

async fn calls_and_casts(system: &ActorSystem) -> Result<(), beam_runtime::Error> {
    section(1, "Typed calls and casts");
    let counter = system.spawn::<Counter>(10).await?;
    say!("spawned {counter:?}");
    say!("counter.get().await?   -> {}", counter.get().await?);
    say!("counter.add(5).await?  -> {}", counter.add(5).await?);
    say!(
        "counter.set(0)         -> {:?}  (a cast: no reply, returns at once)",
        counter.set(0)
    );
    say!(
        "counter.get().await?   -> {}       (handled after the cast: one sender's messages keep their order)",
        counter.get().await?
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 2. Timeouts
// ---------------------------------------------------------------------------------------

/// An actor that takes its time.
struct Oracle;

#[actor]
impl Oracle {
    /// Answers after thinking for `ms` milliseconds.
    #[call]
    async fn ponder(&self, ms: u64) -> u32 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        42
    }
}

async fn timeouts(system: &ActorSystem) -> Result<(), beam_runtime::Error> {
    section(2, "A call that times out");
    let oracle = system.spawn::<Oracle>(Oracle).await?;
    let answer = oracle.ponder(200).timeout(Duration::from_millis(50)).await;
    say!("oracle.ponder(200).timeout(50 ms).await -> {answer:?}");
    say!("the oracle keeps thinking; its late reply is dropped, and the next call waits its turn:");
    say!(
        "oracle.ponder(0).await?                 -> {}",
        oracle.ponder(0).await?
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 3. Names
// ---------------------------------------------------------------------------------------

beam_runtime::names! {
    /// The visit counter, findable from anywhere in the system.
    VISITS: Counter = "visits";
}

/// Code that was never handed the ref finds the actor by name, with its type.
async fn record_visit(system: &ActorSystem) -> Result<i64, beam_runtime::Error> {
    let visits: ActorRef<Counter> = system.lookup(VISITS)?;
    Ok(visits.add(1).await?)
}

async fn names(system: &ActorSystem) -> Result<(), beam_runtime::Error> {
    section(3, "A named actor");
    let visits = system.spawn::<Counter>(0).name(VISITS).await?;
    say!("spawned {visits:?} as {VISITS:?}");
    say!(
        "record_visit(&system).await? -> {}  (it found the counter by name)",
        record_visit(system).await?
    );
    let taken = system.spawn::<Counter>(0).name(VISITS).await;
    say!("spawning a second \"visits\" -> {taken:?}");
    system.stop(&visits).await;
    say!(
        "after system.stop(&visits), system.whereis(VISITS) -> {:?}",
        system.whereis(VISITS)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 4. Crashes
// ---------------------------------------------------------------------------------------

/// A calculator with a bug it does not guard against.
#[derive(Clone)]
struct Calculator;

#[actor]
impl Calculator {
    #[call]
    fn divide(&self, a: i64, b: i64) -> i64 {
        a / b
    }
}

async fn crashes(system: &ActorSystem) -> Result<(), beam_runtime::Error> {
    section(4, "A crash is a typed error, not a dead program");
    let calc = system.spawn::<Calculator>(Calculator).await?;
    say!("calc.divide(84, 2).await -> {:?}", calc.divide(84, 2).await);
    let crashed = calc.divide(1, 0).await;
    say!("calc.divide(1, 0).await  -> {crashed:?}");
    say!("calc.exit_reason()       -> {:?}", calc.exit_reason());
    say!("calc.divide(84, 2).await -> {:?}", calc.divide(84, 2).await);
    say!("the panic stopped that one actor; the caller and the rest of the system carry on");
    Ok(())
}

/// Replaces the default panic message (a multi-line "thread panicked" report) with one
/// indented line, so the crashes in sections 4 and 7 read as part of the narration.
fn short_panic_messages() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let at = info
            .location()
            .map(|l| {
                let file = Path::new(l.file()).file_name().unwrap_or_default();
                format!(" at {}:{}", file.to_string_lossy(), l.line())
            })
            .unwrap_or_default();
        say!("(panic hook) a handler panicked{at}: {message}");
    }));
}

// ---------------------------------------------------------------------------------------
// 5. Timers
// ---------------------------------------------------------------------------------------

/// An alarm clock: a one-shot alarm, a cancelled one, and a metronome that stops itself.
struct Alarm {
    rang: Vec<String>,
    ticks: u32,
    metronome: Option<TimerRef>,
}

#[actor]
impl Alarm {
    #[init]
    fn init(ctx: &mut Ctx<Self>) -> Self {
        // A timer sends one of the actor's own messages to itself, through its mailbox.
        ctx.send_after(
            Duration::from_millis(30),
            AlarmMsg::Ring {
                label: "tea is ready".to_owned(),
            },
        );
        let snoozed = ctx.send_after(
            Duration::from_millis(20),
            AlarmMsg::Ring {
                label: "snoozed alarm".to_owned(),
            },
        );
        ctx.cancel_timer(snoozed);
        let metronome = ctx.send_interval(Duration::from_millis(10), || AlarmMsg::Tick);
        Alarm {
            rang: Vec::new(),
            ticks: 0,
            metronome: Some(metronome),
        }
    }

    #[cast]
    fn ring(&mut self, label: String) {
        self.rang.push(label);
    }

    #[cast]
    fn tick(&mut self, ctx: &mut Ctx<Self>) {
        self.ticks += 1;
        if self.ticks == 3 {
            if let Some(metronome) = self.metronome.take() {
                ctx.cancel_timer(metronome);
            }
        }
    }

    /// The alarms that rang and the ticks counted so far.
    #[call]
    fn report(&self) -> (Vec<String>, u32) {
        (self.rang.clone(), self.ticks)
    }
}

async fn timers(system: &ActorSystem) -> Result<(), beam_runtime::Error> {
    section(5, "Timers");
    let alarm = system.spawn::<Alarm>(()).await?;
    say!("the alarm's init set three timers, each sending it one of its own messages:");
    say!("  send_after(30 ms, AlarmMsg::Ring {{ .. }})   \"tea is ready\"");
    say!("  send_after(20 ms, AlarmMsg::Ring {{ .. }})   \"snoozed alarm\", cancelled at once");
    say!("  send_interval(10 ms, || AlarmMsg::Tick)    cancelled by the third tick");
    tokio::time::sleep(Duration::from_millis(80)).await;
    say!(
        "80 ms later, alarm.report().await? -> {:?}",
        alarm.report().await?
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 6. Children
// ---------------------------------------------------------------------------------------

/// A team that spawns its workers as children.
struct Team {
    workers: Vec<ActorRef<Worker>>,
}

#[actor]
impl Team {
    #[init]
    async fn init(size: u32, ctx: &mut Ctx<Self>) -> Result<Self, SpawnError> {
        let mut workers = Vec::new();
        for id in 1..=size {
            workers.push(ctx.spawn::<Worker>(id).await?);
        }
        Ok(Team { workers })
    }

    #[call]
    fn workers(&self) -> Vec<ActorRef<Worker>> {
        self.workers.clone()
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        say!("  [team] #[terminate] ({reason}), after its workers");
    }
}

/// A worker with nothing to do but report its end.
struct Worker {
    id: u32,
}

#[actor]
impl Worker {
    #[init]
    fn init(id: u32) -> Self {
        Worker { id }
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        say!("  [worker {}] #[terminate] ({reason})", self.id);
    }
}

async fn children(system: &ActorSystem) -> Result<(), beam_runtime::Error> {
    section(6, "Children stop with their parent");
    let team = system.spawn::<Team>(3).await?;
    let workers = team.workers().await?;
    say!("the team spawned {workers:?}");
    say!("system.stop(&team).await:");
    let reason = system.stop(&team).await;
    say!("-> {reason:?}");
    let alive: Vec<bool> = workers.iter().map(ActorRef::is_alive).collect();
    say!("workers alive: {alive:?}");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 7. Supervision
// ---------------------------------------------------------------------------------------

async fn supervision(system: &ActorSystem) -> Result<(), beam_runtime::Error> {
    section(7, "A supervisor restarts what crashes");
    // The calculator of section 4, now under a supervisor, built from a spec it can
    // restart it from; the handle follows whichever incarnation runs.
    let spec = ChildSpec::<Calculator>::new("calculator", Calculator);
    let calculator = spec.handle();
    let sup = SupervisorSpec::new().child(spec).start(system).await?;
    let first = calculator.running().await.expect("started");
    say!("the supervisor started {first:?}");
    say!("first.divide(1, 0).await -> {:?}", first.divide(1, 0).await);
    let second = calculator.running().await.expect("restarted");
    say!("the supervisor restarted it as {second:?}");
    say!(
        "second.divide(84, 2).await -> {:?}",
        second.divide(84, 2).await
    );
    for child in sup.which_children().await? {
        let running = child.actor.map(|id| id.to_string());
        say!("sup.which_children(): {:?} running {running:?}", child.id);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 8. Shutdown
// ---------------------------------------------------------------------------------------

/// A journal that flushes its lines when it stops. Without `#[init]`, the spawn argument
/// is the actor itself.
struct Journal {
    title: &'static str,
    lines: Vec<String>,
}

#[actor]
impl Journal {
    #[cast]
    fn write(&mut self, line: String) {
        self.lines.push(line);
    }

    #[terminate]
    fn flush(&mut self, reason: &ExitReason) {
        say!(
            "  [{}] #[terminate] ({reason}): flushing {} lines",
            self.title,
            self.lines.len()
        );
    }
}

async fn shutdown(system: &ActorSystem) -> Result<(), beam_runtime::Error> {
    section(
        8,
        "What runs, and a graceful shutdown that runs the #[terminate] hooks",
    );
    let journal = |title| Journal {
        title,
        lines: Vec::new(),
    };
    let audit = system.spawn::<Journal>(journal("audit")).await?;
    let metrics = system.spawn::<Journal>(journal("metrics")).await?;
    for i in 1..=3 {
        audit.write(format!("entry {i}"))?;
        metrics.write(format!("sample {i}"))?;
    }
    say!("wrote 3 lines to each journal with casts; what runs now, from system.tree():");
    for line in system.tree().to_string().lines() {
        say!("  {line}");
    }
    say!("system.health() -> {}", system.health());
    say!("then system.shutdown().await:");
    system.shutdown().await;
    say!(
        "every actor stopped, last started first, each after the messages it had already been sent"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------

#[tokio::main]
async fn main() -> Result<(), beam_runtime::Error> {
    short_panic_messages();
    println!("beam: typed Erlang/OTP-style actors on tokio. A tour in eight steps.");

    let system = ActorSystem::new();
    calls_and_casts(&system).await?;
    timeouts(&system).await?;
    names(&system).await?;
    crashes(&system).await?;
    timers(&system).await?;
    children(&system).await?;
    supervision(&system).await?;
    shutdown(&system).await?;

    println!(
        "\nThat's the tour. Next: `cargo run --example counter`, `chat_room`, `timers`, `supervision`, `pubsub` and `telemetry`."
    );
    Ok(())
}

fn section(n: u32, title: &str) {
    println!("\n{n}. {title}");
}
