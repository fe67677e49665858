// Through an alias the same: the type is checked, so a hidden `Result` does not compile
// without `crash_on_err` either.
use beam_runtime::prelude::*;

type Outcome = Result<(), String>;

struct Worker;

#[actor]
impl Worker {
    #[cast]
    fn work(&mut self) -> Outcome {
        Ok(())
    }

    #[call]
    fn work_later(&mut self, reply: Reply<u8>) -> Outcome {
        let _ = reply.send(0);
        Ok(())
    }

    #[info]
    fn info(&mut self, info: Info) -> Outcome {
        let _ = info;
        Ok(())
    }

    #[handle_continue]
    async fn resume(&mut self, step: u8) -> Outcome {
        let _ = step;
        Ok(())
    }
}

fn main() {}
