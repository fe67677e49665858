//! Timers: an actor schedules its own messages. `send_after` delivers one message later,
//! `send_interval` one every period, and after `cancel_timer` a timer's message is never
//! handled. An idle timeout delivers `Info::Timeout` to the `#[info]` handler when the actor
//! has had nothing to do for a while, once per idle period. Timers belong to their actor and
//! stop with it, with no cleanup to write.
//!
//! ```text
//! cargo run --example timers
//! ```

use std::time::Duration;

use beam_runtime::prelude::*;
use tokio::time::sleep;

/// Reminders: `main` schedules and cancels them through calls.
struct Reminders {
    heard: Vec<String>,
}

#[actor]
impl Reminders {
    /// Sends `text` back to this actor, as a `Remind` message, after `delay`.
    #[call]
    fn remind_in(&self, delay: Duration, text: String, ctx: &mut Ctx<Self>) -> TimerRef {
        ctx.send_after(delay, RemindersMsg::Remind { text })
    }

    /// Cancels a reminder; `true` if it had not fired yet.
    #[call]
    fn cancel(&self, timer: TimerRef, ctx: &mut Ctx<Self>) -> bool {
        ctx.cancel_timer(timer)
    }

    /// Where a reminder lands when its timer fires.
    #[cast]
    fn remind(&mut self, text: String) {
        println!("  [reminders] {text}");
        self.heard.push(text);
    }

    #[call]
    fn heard(&self) -> Vec<String> {
        self.heard.clone()
    }
}

/// A metronome that stops ticking after `limit` beats.
struct Metronome {
    beats: u32,
    limit: u32,
    timer: Option<TimerRef>,
}

#[actor]
impl Metronome {
    #[init]
    fn init(period: Duration, limit: u32, ctx: &mut Ctx<Self>) -> Self {
        let timer = ctx.send_interval(period, || MetronomeMsg::Beat);
        Metronome {
            beats: 0,
            limit,
            timer: Some(timer),
        }
    }

    #[cast]
    fn beat(&mut self, ctx: &mut Ctx<Self>) {
        self.beats += 1;
        println!("  [metronome] beat {}", self.beats);
        if self.beats == self.limit {
            if let Some(timer) = self.timer.take() {
                ctx.cancel_timer(timer);
            }
        }
    }

    #[call]
    fn beats(&self) -> u32 {
        self.beats
    }
}

/// A connection that warns once when it sits idle, and closes when it is idle again.
struct Connection {
    warned: bool,
}

#[actor]
impl Connection {
    #[init]
    fn init(idle: Duration, ctx: &mut Ctx<Self>) -> Self {
        ctx.set_idle_timeout(Some(idle));
        Connection { warned: false }
    }

    /// Any message is activity: it restarts the idle clock.
    #[cast]
    fn touch(&mut self) {
        println!("  [connection] touched");
    }

    #[info]
    fn on_info(&mut self, info: Info, ctx: &mut Ctx<Self>) {
        match info {
            Info::Timeout if !self.warned => {
                println!("  [connection] idle: first warning");
                self.warned = true;
            }
            Info::Timeout => {
                println!("  [connection] idle again: closing");
                ctx.stop();
            }
            _ => {}
        }
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        println!("  [connection] #[terminate] ({reason})");
    }
}

/// A heartbeat that tells a listener about each beat, and stops itself after three
/// without cancelling its interval timer.
struct Heartbeat {
    listener: ActorRef<Listener>,
    beats: u32,
}

#[actor]
impl Heartbeat {
    #[init]
    fn init(listener: ActorRef<Listener>, ctx: &mut Ctx<Self>) -> Self {
        ctx.send_interval(Duration::from_millis(10), || HeartbeatMsg::Beat);
        Heartbeat { listener, beats: 0 }
    }

    #[cast]
    fn beat(&mut self, ctx: &mut Ctx<Self>) {
        self.beats += 1;
        // Stop after three beats, or sooner if the listener is gone.
        if self.listener.heard().is_err() || self.beats == 3 {
            ctx.stop();
        }
    }
}

/// Counts the beats it hears.
struct Listener {
    beats: u32,
}

#[actor]
impl Listener {
    #[cast]
    fn heard(&mut self) {
        self.beats += 1;
    }

    #[call]
    fn beats(&self) -> u32 {
        self.beats
    }
}

#[tokio::main]
async fn main() -> Result<(), beam_runtime::Error> {
    let system = ActorSystem::new();

    println!("1. send_after and cancel_timer");
    let reminders = system
        .spawn::<Reminders>(Reminders { heard: Vec::new() })
        .await?;
    let tea = reminders
        .remind_in(Duration::from_millis(30), "tea is ready".into())
        .await?;
    let dentist = reminders
        .remind_in(Duration::from_millis(20), "dentist".into())
        .await?;
    println!("  remind_in(30 ms, \"tea is ready\") -> {tea:?}");
    println!("  remind_in(20 ms, \"dentist\")      -> {dentist:?}");
    println!("  cancel(dentist) -> {}", reminders.cancel(dentist).await?);
    sleep(Duration::from_millis(60)).await;
    println!("  heard()         -> {:?}", reminders.heard().await?);
    println!(
        "  cancel(tea)     -> {}  (it already fired)",
        reminders.cancel(tea).await?
    );

    println!("\n2. send_interval");
    let metronome = system
        .spawn::<Metronome>((Duration::from_millis(10), 4))
        .await?;
    println!("  a metronome beating every 10 ms, which cancels its interval after 4 beats");
    sleep(Duration::from_millis(100)).await;
    println!("  100 ms later, beats() -> {}", metronome.beats().await?);

    println!("\n3. idle timeout");
    let connection = system
        .spawn::<Connection>(Duration::from_millis(50))
        .await?;
    println!("  a connection with set_idle_timeout(Some(50 ms)), left alone for 170 ms:");
    sleep(Duration::from_millis(170)).await;
    println!("  one warning, not three: the timeout fires once per idle period");
    connection.touch()?;
    sleep(Duration::from_millis(170)).await;
    println!(
        "  connection.exit_reason() -> {:?}",
        connection.exit_reason()
    );

    println!("\n4. timers stop with their actor");
    let listener = system.spawn::<Listener>(Listener { beats: 0 }).await?;
    let heartbeat = system.spawn::<Heartbeat>(listener.clone()).await?;
    println!("  a heartbeat beats every 10 ms and tells a listener; after 3 beats it stops");
    println!("  itself, leaving its interval timer uncancelled. 100 ms later:");
    sleep(Duration::from_millis(100)).await;
    println!("  heartbeat.exit_reason() -> {:?}", heartbeat.exit_reason());
    println!("  listener.beats()        -> {}", listener.beats().await?);

    system.shutdown().await;
    Ok(())
}
