// A handler whose value nobody receives has nowhere to put an `Err`: it opts in to
// crashing on it, or returns `()`.
use beam_runtime::prelude::*;

struct Worker;

#[actor]
impl Worker {
    #[cast]
    fn work(&mut self) -> Result<(), String> {
        Ok(())
    }

    #[call]
    fn work_later(&mut self, reply: Reply<u8>) -> Result<(), String> {
        let _ = reply.send(0);
        Ok(())
    }

    #[info]
    fn info(&mut self, info: Info) -> std::io::Result<()> {
        let _ = info;
        Ok(())
    }

    #[handle_continue]
    fn resume(&mut self, step: u8) -> Result<(), String> {
        let _ = step;
        Ok(())
    }
}

fn main() {}
