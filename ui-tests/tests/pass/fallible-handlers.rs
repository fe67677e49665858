// Handlers marked `crash_on_err`: a `Result` spelled out, under another path or through an
// alias, sync or async, with or without ctx. An `Err` stops the actor with its text.
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
    #[cast(crash_on_err)]
    fn write(&mut self, bytes: Vec<u8>) -> std::io::Result<()> {
        let _ = bytes;
        Ok(())
    }

    #[cast(crash_on_err)]
    async fn flush(&mut self, ctx: &mut Ctx<Self>) -> Result<(), String> {
        let _ = ctx.id();
        Ok(())
    }

    #[cast(crash_on_err)]
    fn compact(&mut self) -> Outcome<()> {
        Err(Problem)
    }

    #[call(crash_on_err)]
    fn read(&self) -> Outcome<Vec<u8>> {
        Ok(Vec::new())
    }

    #[call(crash_on_err)]
    async fn size(&self) -> Result<usize, String> {
        Ok(0)
    }

    #[call(crash_on_err)]
    fn read_later(&self, reply: Reply<u8>) -> Result<(), Problem> {
        let _ = reply.send(0);
        Ok(())
    }

    #[info(crash_on_err)]
    fn info(&mut self, info: Info) -> Result<(), &'static str> {
        match info {
            Info::Exit { .. } | Info::Down { .. } => Err("a neighbour died"),
            _ => Ok(()),
        }
    }

    #[handle_continue(crash_on_err)]
    async fn later(&mut self, step: u8) -> Outcome<()> {
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
    let _: Result<Result<usize, String>, CallError> = store.size().await;
    let _: Result<u8, CallError> = store.read_later().await;
    store.compact().unwrap();
    assert_eq!(
        store.wait_for_exit().await,
        ExitReason::Error("problem".into())
    );
    system.shutdown().await;
}
