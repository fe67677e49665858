//! Every supported handler shape in one actor.

use beam_runtime::prelude::*;

struct Shapes {
    n: u64,
}

#[derive(Debug)]
struct Boom;

impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("boom")
    }
}

#[actor(mailbox = 16)]
impl Shapes {
    #[init]
    async fn init(a: u64, b: String, ctx: &mut Ctx<Self>) -> Result<Self, Boom> {
        let _ = (b, ctx.id());
        ctx.continue_with(Step::Load);
        Ok(Shapes { n: a })
    }

    #[call]
    fn sync_ref(&self) -> u64 {
        self.n
    }

    #[call]
    fn sync_mut(&mut self, x: u64, y: u64) -> u64 {
        self.n += x + y;
        self.n
    }

    #[call]
    async fn async_ref(&self) -> u64 {
        self.n
    }

    #[call]
    async fn async_mut_ctx(&mut self, x: u64, ctx: &mut Ctx<Self>) -> ActorId {
        self.n = x;
        ctx.id()
    }

    #[call]
    fn unit_call(&self) {}

    #[call]
    fn returns_self_type(&self) -> Option<ActorRef<Self>> {
        None
    }

    #[call]
    fn deferred(&mut self, x: u64, reply: Reply<u64>) {
        let _ = reply.send(x);
    }

    #[call]
    async fn deferred_ctx(&mut self, reply: Reply<String>, ctx: &mut Ctx<Self>) {
        ctx.stash(ShapesMsg::UnitCast {});
        let _ = reply.send(String::new());
    }

    #[cast]
    fn unit_cast(&mut self) {}

    #[cast]
    async fn async_cast(&self, v: Vec<u8>, ctx: &mut Ctx<Self>) {
        let _ = (v, ctx);
    }

    #[cast]
    fn takes_ref(&mut self, other: ActorRef<Shapes>) {
        let _ = other;
    }

    #[info]
    fn on_info(&mut self, info: Info, ctx: &mut Ctx<Self>) {
        let _ = (info, ctx);
    }

    #[handle_continue]
    async fn resume(&mut self, step: Step) {
        let _ = step;
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason, ctx: &mut Ctx<Self>) {
        let _ = (reason, ctx);
    }

    /// Not a handler: plain methods stay as they are.
    fn helper(&self) -> u64 {
        self.n
    }
}

enum Step {
    Load,
}

#[tokio::main]
async fn main() {
    let system = ActorSystem::new();
    let s = system.spawn::<Shapes>((1, "x".to_owned())).await.unwrap();
    assert_eq!(s.sync_ref().await.unwrap(), 1);
    assert_eq!(s.sync_mut(1, 2).await.unwrap(), 4);
    assert_eq!(s.async_ref().await.unwrap(), 4);
    assert_eq!(s.async_mut_ctx(9).await.unwrap(), s.id());
    s.unit_call().await.unwrap();
    assert!(s.returns_self_type().await.unwrap().is_none());
    assert_eq!(s.deferred(3).await.unwrap(), 3);
    assert_eq!(s.deferred_ctx().await.unwrap(), "");
    s.unit_cast().unwrap();
    s.async_cast(vec![1]).unwrap();
    s.takes_ref(s.clone()).unwrap();
    let _ = Shapes { n: 0 }.helper();
    system.shutdown().await;
}
