//! A borrow inside `fn(&str)` or `Fn(&str)` belongs to the callee, so such arguments are
//! owned and may travel in a message.

use beam_runtime::prelude::*;

type Keep = Box<dyn Fn(&str) -> bool + Send>;

struct Filter {
    keep: Keep,
}

#[actor]
impl Filter {
    #[cast]
    fn set(&mut self, keep: Box<dyn Fn(&str) -> bool + Send>) {
        self.keep = keep;
    }

    #[cast]
    fn set_fn(&mut self, keep: fn(&str) -> bool) {
        self.keep = Box::new(keep);
    }

    #[call]
    fn check(&self, text: String) -> bool {
        (self.keep)(&text)
    }
}

#[tokio::main]
async fn main() {
    let system = ActorSystem::new();
    let filter = system
        .spawn::<Filter>(Filter {
            keep: Box::new(|_| true),
        })
        .await
        .unwrap();
    assert!(filter.check("a".to_owned()).await.unwrap());
    filter.set(Box::new(|s| s.len() > 3)).unwrap();
    assert!(!filter.check("abc".to_owned()).await.unwrap());
    filter.set_fn(str::is_empty).unwrap();
    assert!(filter.check(String::new()).await.unwrap());
    system.shutdown().await;
}
