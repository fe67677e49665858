//! `#[actor(msg = ..)]` names the message enum, which the actor can send itself.

use std::time::Duration;

use beam_runtime::prelude::*;

struct Alarm {
    rung: Vec<u32>,
}

#[actor(msg = Bell)]
impl Alarm {
    #[call]
    fn arm(&mut self, after: Duration, ctx: &mut Ctx<Self>) {
        ctx.send_after(after, Bell::Ring { times: 2 });
        ctx.send_after(after * 2, Bell::Silence);
    }

    #[cast]
    fn ring(&mut self, times: u32) {
        self.rung.push(times);
    }

    #[cast]
    fn silence(&mut self) {
        self.rung.push(0);
    }

    #[call]
    fn rung(&self) -> Vec<u32> {
        self.rung.clone()
    }
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() {
    let system = ActorSystem::new();
    let alarm = system
        .spawn::<Alarm>(Alarm { rung: Vec::new() })
        .await
        .unwrap();
    alarm.arm(Duration::from_secs(1)).await.unwrap();
    assert!(alarm.rung().await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(alarm.rung().await.unwrap(), [2, 0]);

    let msg: Bell = Bell::Ring { times: 1 };
    assert_eq!(format!("{msg:?}"), "Bell::Ring { .. }");
    system.shutdown().await;
}
