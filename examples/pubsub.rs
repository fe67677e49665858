//! Process groups and topics: a newsroom.
//!
//! Reporters form a group: the editor broadcasts an assignment to all of them, or picks
//! one. Their stories go out on a topic that actors of different types subscribe to, each
//! with its own handler. A subscriber that crashes, or that stops, drops out; the others
//! carry on.
//!
//! Run with `cargo run --example pubsub`.

use beam_runtime::prelude::*;

/// What the reporters publish.
#[derive(Debug, Clone)]
struct Story {
    by: String,
    headline: String,
}

struct Reporter {
    name: String,
    filed: u32,
}

#[actor]
impl Reporter {
    /// Writes up the assignment and publishes it.
    #[cast]
    fn assign(&mut self, topic: String, ctx: &mut Ctx<Self>) {
        self.filed += 1;
        let story = Story {
            by: self.name.clone(),
            headline: format!("{topic}: take {} by {}", self.filed, self.name),
        };
        let sent = ctx.system().publish(&STORIES, story);
        println!(
            "  {} filed a story, read by {} subscriber(s)",
            self.name, sent.delivered
        );
    }

    #[call]
    fn name(&self) -> String {
        self.name.clone()
    }
}

/// Keeps every story.
struct Archive {
    stories: Vec<Story>,
}

#[actor]
impl Archive {
    #[cast]
    fn keep(&mut self, story: Story) {
        self.stories.push(story);
    }

    #[call]
    fn count(&self) -> usize {
        self.stories.len()
    }
}

/// Prints headlines; cannot cope with one about the weather.
struct Ticker;

#[actor]
impl Ticker {
    #[cast(crash_on_err)]
    fn show(&mut self, headline: String) -> Result<(), String> {
        if headline.starts_with("weather") {
            return Err("the ticker chokes on the weather".into());
        }
        println!("  ticker: {headline}");
        Ok(())
    }
}

/// Counts stories per reporter.
struct Stats {
    by_reporter: std::collections::BTreeMap<String, u32>,
}

#[actor]
impl Stats {
    #[cast]
    fn count(&mut self, by: String) {
        *self.by_reporter.entry(by).or_default() += 1;
    }

    #[call]
    fn table(&self) -> Vec<(String, u32)> {
        self.by_reporter.clone().into_iter().collect()
    }
}

beam_runtime::names! {
    /// Every reporter on duty.
    DESK: Group<Reporter> = "desk";
    /// Every story filed.
    STORIES: Topic<Story> = "stories";
}

#[tokio::main]
async fn main() -> Result<(), beam_runtime::Error> {
    let system = ActorSystem::new();

    println!("the newsroom opens:");
    let archive = system.spawn::<Archive>(Archive { stories: vec![] }).await?;
    let ticker = system.spawn::<Ticker>(Ticker).await?;
    let stats = system
        .spawn::<Stats>(Stats {
            by_reporter: Default::default(),
        })
        .await?;
    // Each subscriber says how a story reaches it: one of its own casts.
    system.subscribe(&STORIES, &archive, |a, story| a.keep(story))?;
    system.subscribe(&STORIES, &ticker, |t, story| t.show(story.headline))?;
    system.subscribe(&STORIES, &stats, |s, story| s.count(story.by))?;

    for name in ["ada", "joe", "rob"] {
        let reporter = system
            .spawn::<Reporter>(Reporter {
                name: name.into(),
                filed: 0,
            })
            .await?;
        system.join(&DESK, &reporter)?;
    }
    println!("  {} reporters at the desk", system.members(&DESK).len());

    println!("\nthe editor broadcasts an assignment:");
    let sent = system.broadcast(&DESK, |r| r.assign("elections".into()));
    println!(
        "  assignment delivered to {} of {}",
        sent.delivered,
        sent.attempted()
    );
    settle(&archive, 3).await?;

    println!("\nthe editor picks the first reporter for the weather:");
    let first = system.dispatch(&DESK, |desk| desk.first().cloned());
    if let Some(reporter) = first {
        reporter.assign("weather".into())?;
        println!("  sent to {}", reporter.name().await?);
    }
    let reason = ticker.wait_for_exit().await;
    println!("  the ticker crashed ({reason}); it is off the topic:");
    println!(
        "  {} subscriber(s) left, the archive holds {} stories",
        system.subscribers(&STORIES).len(),
        archive.count().await?
    );

    println!("\nrob goes home; he leaves the desk by exiting:");
    for reporter in system.members(&DESK) {
        if reporter.name().await? == "rob" {
            system.stop(&reporter).await;
        }
    }
    println!("  {} reporters at the desk", system.members(&DESK).len());
    system.broadcast(&DESK, |r| r.assign("sports".into()));
    settle(&archive, 6).await?;

    println!("\nstories per reporter:");
    for (by, count) in stats.table().await? {
        println!("  {by}: {count}");
    }
    system.shutdown().await;
    Ok(())
}

/// Waits until the archive holds `n` stories: each reporter publishes from its own actor,
/// so the archive hears of them a moment after the broadcast.
async fn settle(archive: &ActorRef<Archive>, n: usize) -> Result<(), beam_runtime::Error> {
    while archive.count().await? < n {
        tokio::task::yield_now().await;
    }
    Ok(())
}
