// Handlers that may fail: any path ending in `Result`, sync or async, with or without ctx.
use beam_runtime::prelude::*;
use std::fmt;

type Outcome<T> = Result<T, Problem>;

#[derive(Debug)]
struct Problem;

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("problem")
    }
}

struct Store;

#[actor]
impl Store {
    #[cast]
    fn write(&mut self, bytes: Vec<u8>) -> std::io::Result<()> {
        let _ = bytes;
        Ok(())
    }

    #[cast]
    async fn flush(&mut self, ctx: &mut Ctx<Self>) -> Result<(), String> {
        let _ = ctx.id();
        Ok(())
    }

    #[call]
    fn read(&self) -> Outcome<Vec<u8>> {
        Ok(Vec::new())
    }

    #[call]
    fn read_later(&self, reply: Reply<u8>) -> Result<(), Problem> {
        let _ = reply.send(0);
        Ok(())
    }

    #[info]
    fn info(&mut self, info: Info) -> Result<(), &'static str> {
        match info {
            Info::Exit { .. } | Info::Down { .. } => Err("a neighbour died"),
            _ => Ok(()),
        }
    }

    #[handle_continue]
    async fn later(&mut self, step: u8) -> Result<(), Problem> {
        let _ = step;
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let system = ActorSystem::new();
    let store = system.spawn::<Store>(Store).await.unwrap();
    store.write(vec![1]).unwrap();
    store.flush().unwrap();
    let _: Result<Outcome<Vec<u8>>, CallError> = store.read().await;
    let _: Result<u8, CallError> = store.read_later().await;
    system.shutdown().await;
}
