//! The generated code names everything by absolute path, so a module that shadows the
//! standard prelude, primitive types, common macros, the runtime's item names and the crate
//! names `core`, `std` and `beam_runtime` (for relative paths) still gets a working actor
//! and working names. The module's own code uses absolute paths for the same reason.

mod shadowed {
    #![allow(dead_code, non_camel_case_types, unused_macros)]

    use ::beam_runtime::prelude::*;

    struct Result;
    struct Ok;
    struct Err;
    struct Option;
    struct Some;
    struct None;
    struct Box;
    struct Vec;
    struct String;
    struct ToString;
    struct ToOwned;
    struct Send;
    struct Sync;
    struct Sized;
    struct Unpin;
    struct Clone;
    struct Copy;
    struct Default;
    struct Debug;
    struct Drop;
    struct Fn;
    struct FnMut;
    struct FnOnce;
    struct From;
    struct Into;
    struct Iterator;
    struct Future;
    struct Formatter;
    struct Actor;
    struct Api;
    struct Call;
    struct Ctx;
    struct Info;
    struct Name;
    struct RawRef;
    struct Reply;
    struct ExitReason;
    struct usize;
    struct str;
    struct bool;
    struct u8;
    struct u64;
    mod core {}
    mod std {}
    mod beam_runtime {}

    macro_rules! panic {
        ($($t:tt)*) => {
            compile_error!("the shadowed `panic!` was used")
        };
    }
    macro_rules! unreachable {
        ($($t:tt)*) => {
            compile_error!("the shadowed `unreachable!` was used")
        };
    }
    macro_rules! format {
        ($($t:tt)*) => {
            compile_error!("the shadowed `format!` was used")
        };
    }
    macro_rules! write {
        ($($t:tt)*) => {
            compile_error!("the shadowed `write!` was used")
        };
    }
    macro_rules! matches {
        ($($t:tt)*) => {
            compile_error!("the shadowed `matches!` was used")
        };
    }

    pub(crate) struct Counter {
        count: ::core::primitive::u64,
        log: ::std::vec::Vec<::std::string::String>,
    }

    pub(crate) enum Step {
        Start,
    }

    #[actor(mailbox = 8)]
    impl Counter {
        #[init]
        async fn init(
            start: ::core::primitive::u64,
            ctx: &mut ::beam_runtime::Ctx<Self>,
        ) -> ::core::result::Result<Self, ::std::string::String> {
            ctx.continue_with(Step::Start);
            ::core::result::Result::Ok(Counter {
                count: start,
                log: ::std::vec::Vec::new(),
            })
        }

        #[call]
        pub(crate) fn get(&self) -> ::core::primitive::u64 {
            self.count
        }

        #[call]
        pub(crate) async fn add(
            &mut self,
            n: ::core::primitive::u64,
            ctx: &mut ::beam_runtime::Ctx<Self>,
        ) -> ::core::option::Option<::core::primitive::u64> {
            let _ = ctx.id();
            self.count = self.count.checked_add(n)?;
            ::core::option::Option::Some(self.count)
        }

        #[call]
        pub(crate) fn log(
            &self,
            reply: ::beam_runtime::Reply<::std::vec::Vec<::std::string::String>>,
        ) {
            let _ = reply.send(self.log.clone());
        }

        #[cast]
        pub(crate) fn note(&mut self, text: ::std::string::String) {
            self.log.push(text);
        }

        #[call(crash_on_err)]
        pub(crate) fn checked(
            &self,
            at_least: ::core::primitive::u64,
        ) -> ::core::result::Result<::core::primitive::u64, ::std::string::String> {
            if self.count < at_least {
                return ::core::result::Result::Err(::std::borrow::ToOwned::to_owned("too low"));
            }
            ::core::result::Result::Ok(self.count)
        }

        #[cast(crash_on_err)]
        pub(crate) fn strict(
            &mut self,
            ok: ::core::primitive::bool,
        ) -> ::core::result::Result<(), &'static ::core::primitive::str> {
            if ok {
                ::core::result::Result::Ok(())
            } else {
                ::core::result::Result::Err("refused")
            }
        }

        #[cast]
        pub(crate) fn me(&mut self, other: ::beam_runtime::ActorRef<Self>) {
            let _ = other;
        }

        #[info]
        fn on_info(&mut self, info: ::beam_runtime::Info) {
            let _ = info;
        }

        #[handle_continue]
        fn resume(&mut self, step: Step) {
            match step {
                Step::Start => self.log.push(::std::borrow::ToOwned::to_owned("started")),
            }
        }

        #[terminate]
        fn terminate(&mut self, reason: &::beam_runtime::ExitReason) {
            let _ = reason;
        }
    }

    ::beam_runtime::names! {
        pub(crate) COUNTER: Counter = "counter";
    }
}

use beam_runtime::ActorSystem;
use shadowed::{COUNTER, Counter};

#[tokio::main]
async fn main() {
    let system = ActorSystem::new();
    let counter = system.spawn::<Counter>(1).name(COUNTER).await.unwrap();
    assert_eq!(counter.add(2).await.unwrap(), Some(3));
    assert_eq!(counter.add(u64::MAX).await.unwrap(), None);
    counter.note("hello".to_owned()).unwrap();
    counter.me(counter.clone()).unwrap();
    assert_eq!(counter.get().await.unwrap(), 3);
    assert_eq!(counter.log().await.unwrap(), ["started", "hello"]);
    assert_eq!(counter.checked(1).await.unwrap(), Ok(3));
    counter.strict(true).unwrap();
    assert!(system.whereis(COUNTER).is_some());
    system.shutdown().await;
}
