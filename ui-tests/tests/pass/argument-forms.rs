//! Argument and handler forms that must keep working: `mut` and `_`-prefixed arguments,
//! raw identifiers, `'static` borrows, `Self` in argument and reply types, and argument names
//! that look like the generated code's own locals.

use beam_runtime::prelude::*;

struct Node {
    seen: Vec<String>,
}

#[actor]
impl Node {
    #[cast]
    fn push(&mut self, mut text: String, _unused: u8) {
        text.push('!');
        self.seen.push(text);
    }

    #[call]
    fn r#type(&self) -> &'static str {
        "node"
    }

    #[call]
    fn r#match(&self, r#in: &'static str) -> bool {
        self.seen.iter().any(|s| s == r#in)
    }

    #[call]
    fn echo(&self, other: Option<ActorRef<Self>>) -> Option<ActorRef<Self>> {
        other
    }

    #[call]
    fn locals(
        &mut self,
        __reply: u8,
        __ctx: u8,
        __msg: u8,
        __value: u8,
        __raw: u8,
        __args: u8,
        f: u8,
    ) -> u32 {
        [__reply, __ctx, __msg, __value, __raw, __args, f]
            .iter()
            .map(|&b| u32::from(b))
            .sum()
    }

    #[cast]
    fn reply(&mut self, reply: String) {
        self.seen.push(reply);
    }
}

#[tokio::main]
async fn main() {
    let system = ActorSystem::new();
    let node = system
        .spawn::<Node>(Node { seen: Vec::new() })
        .await
        .unwrap();
    node.push("hi".to_owned(), 0).unwrap();
    node.reply("yo".to_owned()).unwrap();
    assert_eq!(node.r#type().await.unwrap(), "node");
    assert!(node.r#match("hi!").await.unwrap());
    assert!(node.r#match("yo").await.unwrap());
    assert_eq!(
        node.echo(Some(node.clone())).await.unwrap(),
        Some(node.clone())
    );
    assert_eq!(node.locals(1, 2, 3, 4, 5, 6, 7).await.unwrap(), 28);
    system.shutdown().await;
}
