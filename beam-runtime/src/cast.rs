//! [`Cast`], the future of a cast that waits for room in a bounded mailbox:
//! `r.waiting().name(args).await`, beside the non-blocking `r.name(args)`.
//!
//! A `#[cast]` method of a ref never waits: a full bounded mailbox refuses it at once with
//! [`SendError::Full`]. Through [`ActorRef::waiting`](crate::ActorRef::waiting), the same
//! cast waits until the mailbox has room, for at most [`DEFAULT_CALL_TIMEOUT`] or the time
//! given to [`Cast::timeout`], and then fails with [`SendError::Timeout`] (the message is
//! dropped). Senders waiting for room are served in the order they began to wait. To an
//! unbounded mailbox, or one with room, the cast is sent on the first poll and the future
//! resolves at once, allocating nothing.
//!
//! # Examples
//!
//! ```
//! use beam_runtime::prelude::*;
//! use std::time::Duration;
//!
//! struct Printer {
//!     printed: Vec<u32>,
//! }
//!
//! #[actor(mailbox = 1)]
//! impl Printer {
//!     #[cast]
//!     async fn print(&mut self, page: u32) {
//!         tokio::time::sleep(Duration::from_millis(10)).await;
//!         self.printed.push(page);
//!     }
//!
//!     #[call]
//!     fn printed(&self) -> Vec<u32> {
//!         self.printed.clone()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let system = ActorSystem::new();
//! let printer = system.spawn::<Printer>(Printer { printed: vec![] }).await?;
//! printer.print(1)?; // takes the one slot
//! assert_eq!(printer.print(2), Err(SendError::Full));
//!
//! // Waits until the printer takes page 1 out of its mailbox.
//! printer.waiting().print(2).await?;
//! // Page 2 waits in the mailbox while page 1 prints for 10 ms.
//! let late = printer.waiting().print(3).timeout(Duration::from_millis(1)).await;
//! assert_eq!(late, Err(SendError::Timeout));
//! printer.waiting().print(3).await?;
//! assert_eq!(printer.printed().await?, [1, 2, 3]);
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::sync::{AcquireError, SemaphorePermit};

use crate::actor::actor_ref::{RawRef, short_type_name};
use crate::actor::run::current_actor;
use crate::actor::{Actor, Envelope};
use crate::call::DEFAULT_CALL_TIMEOUT;
use crate::deadline::Deadline;
use crate::error::SendError;

type Acquire<'a> =
    Pin<Box<dyn Future<Output = Result<SemaphorePermit<'a>, AcquireError>> + Send + 'a>>;

pin_project! {
    /// A cast that waits for room in the actor's bounded mailbox; resolves to
    /// `Result<(), SendError>`. Made by the methods of
    /// [`ActorRef::waiting`](crate::ActorRef::waiting).
    ///
    /// Nothing is sent until it is first polled. It fails at once with
    /// [`SendError::NoProc`] if the actor is not alive, or exits while the cast waits; with
    /// [`SendError::Full`] at once if an actor casts to its own full mailbox (it cannot
    /// make room while it waits); with [`SendError::Timeout`] if no room came within
    /// [`DEFAULT_CALL_TIMEOUT`] or the time given to [`timeout`](Self::timeout). Dropping
    /// it before it resolves sends nothing.
    #[must_use = "a waiting cast sends nothing unless awaited"]
    pub struct Cast<'a, A: Actor> {
        target: &'a RawRef<A>,
        msg: Option<A::Msg>,
        // The wait for a slot, once the mailbox was found full (boxed: a rare path).
        room: Option<Acquire<'a>>,
        deadline: Deadline,
    }

    impl<'a, A: Actor> PinnedDrop for Cast<'a, A> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.deadline.clear(this.target.shared.system.deadlines());
        }
    }
}

impl<'a, A: Actor> Cast<'a, A> {
    pub(crate) fn new(target: &'a RawRef<A>, msg: A::Msg) -> Self {
        Self {
            target,
            msg: Some(msg),
            room: None,
            deadline: Deadline::after(DEFAULT_CALL_TIMEOUT),
        }
    }

    /// Waits at most `timeout` for room instead of [`DEFAULT_CALL_TIMEOUT`]
    /// (`Duration::MAX`, or any timeout of 30 years or more, waits for as long as it takes).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        // A cast polled (and moved) already may hold a slot in the deadline table.
        self.deadline.clear(self.target.shared.system.deadlines());
        self.deadline = Deadline::after(timeout);
        self
    }
}

impl<A: Actor> Future for Cast<'_, A> {
    type Output = Result<(), SendError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let shared = &*this.target.shared;
        let table = shared.system.deadlines();
        assert!(this.msg.is_some(), "`Cast` polled after it completed");
        let out = loop {
            match this.room {
                None => match shared.mailbox.try_reserve() {
                    Ok(_) => break Ok(()),
                    Err(SendError::Full) if current_actor() != Some(shared.id) => {
                        let room = shared.mailbox.room().expect("a full mailbox is bounded");
                        *this.room = Some(Box::pin(room.acquire()));
                    }
                    Err(err) => break Err(err),
                },
                Some(acquire) => match acquire.as_mut().poll(cx) {
                    Poll::Ready(Ok(permit)) => {
                        permit.forget();
                        break Ok(());
                    }
                    // The mailbox closed while we waited: the actor is going down.
                    Poll::Ready(Err(_)) => break Err(SendError::NoProc),
                    Poll::Pending => match this.deadline.poll(table, cx) {
                        Poll::Ready(()) => break Err(SendError::Timeout),
                        Poll::Pending => return Poll::Pending,
                    },
                },
            }
        };
        *this.room = None;
        this.deadline.clear(table);
        let msg = this.msg.take().expect("checked above");
        Poll::Ready(match out {
            // Holds its slot now.
            Ok(()) => shared
                .mailbox
                .push(Envelope::Msg(msg))
                .map_err(|_| SendError::NoProc),
            Err(err) => {
                if err != SendError::NoProc {
                    overflow::<A>(this.target);
                }
                Err(err)
            }
        })
    }
}

/// A waiting cast failed for want of room: telemetry's `beam.mailbox.overflow`.
#[cold]
#[inline(never)]
fn overflow<A: Actor>(raw: &RawRef<A>) {
    let shared = &raw.shared;
    crate::telemetry::emit::mailbox_overflow(
        shared.id,
        short_type_name::<A>(),
        shared.mailbox.capacity().unwrap_or(0),
    );
}

impl<A: Actor> fmt::Debug for Cast<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cast")
            .field("target", &self.target)
            .field("waiting", &self.room.is_some())
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}
