//! The expansion is clean under strict lints: nothing generated is undocumented, unused,
//! needlessly qualified or unreachably public.

#![deny(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unused_qualifications,
    unused,
    rust_2018_idioms
)]

use beam_runtime::prelude::*;

/// Counts.
#[derive(Debug)]
pub struct Counter {
    count: i64,
}

/// What `#[handle_continue]` picks up after `init`.
#[derive(Debug)]
pub enum Step {
    /// Doubles the count.
    Double,
}

/// Why `init` can fail.
#[derive(Debug)]
pub struct Negative;

impl std::fmt::Display for Negative {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("negative start")
    }
}

#[actor(mailbox = 32)]
impl Counter {
    /// Starts at `start`, which must not be negative.
    #[init]
    pub fn init(start: i64, ctx: &mut Ctx<Self>) -> Result<Self, Negative> {
        if start < 0 {
            return Err(Negative);
        }
        ctx.continue_with(Step::Double);
        Ok(Counter { count: start })
    }

    /// The count.
    #[call]
    pub fn get(&self) -> i64 {
        self.count
    }

    /// Adds `n` and answers with the new count.
    #[call]
    pub async fn add(&mut self, n: i64) -> i64 {
        self.count += n;
        self.count
    }

    /// The count, if it is at least `min`; an `Err` stops the actor.
    #[call(crash_on_err)]
    pub fn at_least(&self, min: i64) -> Result<i64, Negative> {
        if self.count < min {
            return Err(Negative);
        }
        Ok(self.count)
    }

    /// Fails, and so stops the actor, on a negative value.
    #[cast(crash_on_err)]
    pub fn check(&mut self, value: i64) -> Result<(), Negative> {
        if value < 0 {
            return Err(Negative);
        }
        Ok(())
    }

    /// Answers later, through the reply port.
    #[call]
    pub fn get_later(&self, reply: Reply<i64>) {
        let _ = reply.send(self.count);
    }

    /// Sets the count.
    #[cast]
    pub fn set(&mut self, value: i64, ctx: &mut Ctx<Self>) {
        self.count = value;
        if value < 0 {
            ctx.stop();
        }
    }

    #[info]
    fn on_info(&mut self, info: Info) {
        let _ = info;
    }

    #[handle_continue]
    fn resume(&mut self, step: Step) {
        match step {
            Step::Double => self.count *= 2,
        }
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        let _ = reason;
    }
}

beam_runtime::names! {
    /// The one shared counter.
    pub COUNTER: Counter = "counter";
    pub(crate) OTHER: Counter = "other";
}

#[tokio::main]
async fn main() {
    let system = ActorSystem::new();
    let counter = system.spawn::<Counter>(2).name(COUNTER).await.unwrap();
    assert_eq!(counter.get().await.unwrap(), 4);
    assert_eq!(counter.add(1).await.unwrap(), 5);
    counter.set(7).unwrap();
    counter.check(1).unwrap();
    assert_eq!(counter.at_least(0).await.unwrap().ok(), Some(7));
    assert_eq!(counter.get_later().await.unwrap(), 7);
    let failed = system.spawn::<Counter>(-1).name(OTHER).await;
    assert!(failed.is_err());
    system.shutdown().await;
}
