// Without `crash_on_err`, a `#[call]` returning `Result` only replies: an `Err` is an
// answer like any other, spelled out or through an alias, and the actor goes on. A handler
// whose value nobody receives may name `()` through an alias too.
use beam_runtime::prelude::*;

type Parsed = Result<u32, std::num::ParseIntError>;
type Nothing = ();

struct Parser;

#[actor]
impl Parser {
    #[call]
    fn parse(&self, text: String) -> Result<u32, String> {
        text.parse().map_err(|_| format!("not a number: {text}"))
    }

    #[call]
    async fn parse_aliased(&self, text: String) -> Parsed {
        text.parse()
    }

    #[cast]
    fn forget(&mut self) -> Nothing {}

    #[info]
    fn info(&mut self, info: Info) -> Nothing {
        let _ = info;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let system = ActorSystem::new();
    let parser = system.spawn::<Parser>(Parser).await.unwrap();
    assert_eq!(
        parser.parse("x".into()).await.unwrap(),
        Err("not a number: x".to_owned())
    );
    assert!(parser.parse_aliased("y".into()).await.unwrap().is_err());
    parser.forget().unwrap();
    assert_eq!(parser.parse("4".into()).await.unwrap(), Ok(4));
    assert_eq!(parser.parse_aliased("5".into()).await.unwrap(), Ok(5));
    assert!(parser.is_alive());
    system.shutdown().await;
}
