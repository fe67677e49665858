//! Refs travel inside messages, and actors call and cast to each other.

use beam_runtime::prelude::*;

struct Player {
    name: &'static str,
    hits: u32,
}

#[actor]
impl Player {
    #[init]
    fn init(name: &'static str) -> Self {
        Player { name, hits: 0 }
    }

    /// Hits the ball back to `from` until `left` reaches zero.
    #[cast]
    fn ball(&mut self, from: ActorRef<Player>, left: u32, ctx: &mut Ctx<Self>) {
        self.hits += 1;
        if left > 0 {
            from.ball(ctx.me().clone(), left - 1).unwrap();
        }
    }

    #[call]
    fn hits(&self) -> (&'static str, u32) {
        (self.name, self.hits)
    }

    /// Asks `other` for its hits: a call from inside a handler.
    #[call]
    async fn ask(&self, other: ActorRef<Player>) -> Result<(&'static str, u32), CallError> {
        other.hits().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actors_pass_refs_and_talk_to_each_other() {
    let system = ActorSystem::new();
    let ping = system.spawn::<Player>("ping").await.unwrap();
    let pong = system.spawn::<Player>("pong").await.unwrap();
    ping.ball(pong.clone(), 9).unwrap();

    // Ten hits in all, alternating; ask until the rally is over.
    loop {
        let (_, a) = ping.hits().await.unwrap();
        let (_, b) = pong.hits().await.unwrap();
        if a + b == 10 {
            assert_eq!((a, b), (5, 5));
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(ping.ask(pong.clone()).await.unwrap(), Ok(("pong", 5)));
    // A two-hop chain: pong asks ping, which is idle.
    assert_eq!(pong.ask(ping.clone()).await.unwrap(), Ok(("ping", 5)));
    system.shutdown().await;
}

/// Reports the actor it runs in, from every place user code runs.
struct Whoami {
    at_init: Option<ActorId>,
}

#[actor]
impl Whoami {
    #[init]
    async fn init() -> Self {
        Whoami {
            at_init: ActorId::current(),
        }
    }

    #[call]
    fn at_init(&self) -> Option<ActorId> {
        self.at_init
    }

    #[call]
    fn now(&self) -> Option<ActorId> {
        ActorId::current()
    }

    /// The id seen in `other`, then here again after the call returned.
    #[call]
    async fn through(&self, other: ActorRef<Whoami>) -> (Option<ActorId>, Option<ActorId>) {
        let there = other.now().await.expect("the other answers");
        (there, ActorId::current())
    }

    #[call]
    fn in_task(&self, ctx: &mut Ctx<Self>) -> Task<Option<ActorId>> {
        ctx.spawn_task(async { ActorId::current() })
            .expect("the task starts")
    }
}

async fn who_is_current(system: &ActorSystem) {
    assert_eq!(ActorId::current(), None);
    let a = system.spawn::<Whoami>(()).await.unwrap();
    let b = system.spawn::<Whoami>(()).await.unwrap();
    assert_eq!(a.at_init().await.unwrap(), Some(a.id()));
    assert_eq!(a.now().await.unwrap(), Some(a.id()));
    assert_eq!(
        ActorId::current(),
        None,
        "restored after a call run in place"
    );
    assert_eq!(
        a.through(b.clone()).await.unwrap(),
        (Some(b.id()), Some(a.id()))
    );
    let task = a.in_task().await.unwrap();
    assert_eq!(
        task.await,
        Ok(None),
        "a task's future is not its actor's code"
    );
    assert_eq!(ActorId::current(), None);
}

#[tokio::test(flavor = "current_thread")]
async fn the_current_actor_is_known_where_its_code_runs() {
    who_is_current(&ActorSystem::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_current_actor_is_known_on_many_threads() {
    who_is_current(&ActorSystem::new()).await;
}
