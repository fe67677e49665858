//! Streams attached to an actor: the runtime pulls their items one at a time and hands
//! each to the actor as one of its own messages, with back-pressure (actix's `add_stream`).
//!
//! [`Ctx::attach_stream`] takes any [`Stream`], a closure that turns
//! an item into a message of the actor, and one that makes the message announcing the end
//! of the stream. The actor's receive loop polls the stream itself, between handlers, so:
//!
//! - **Back-pressure**: item `i + 1` is pulled only once the handler for item `i` has
//!   finished (an `async` handler included). A slow actor slows its source down: a socket
//!   is read no faster than its lines are handled, and nothing piles up in the mailbox.
//! - **Fairness**: the attached streams take turns with the mailbox, and with each other,
//!   so neither a busy stream nor a busy mailbox starves the other.
//! - **The end**: when the stream ends, the `on_end` message is handled after the last
//!   item's handler; the stream is then dropped.
//! - **The actor's life**: when the actor begins to stop (however it stops, before
//!   `#[terminate]` runs), its streams are dropped, unfinished. [`Ctx::detach_stream`]
//!   drops one earlier, without its `on_end` message.
//! - **Panics**: a stream whose `poll_next` panics (or whose item or end closure does)
//!   crashes the actor with [`ExitReason::Panic`](crate::ExitReason::Panic), as a panic in
//!   a handler would: the stream is part of the actor's work.
//!
//! Stream items are not mailbox messages: they take no slot of a bounded mailbox, and a
//! supervised actor's restart does not carry the stream over (attach it again in `#[init]`).
//!
//! [`Ctx::attach_stream`]: crate::Ctx::attach_stream
//! [`Ctx::detach_stream`]: crate::Ctx::detach_stream
//!
//! # Examples
//!
//! A line reader: the actor reads a TCP connection line by line, each line handled before
//! the next one is read.
//!
//! ```
//! use beam_runtime::prelude::*;
//! use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use tokio::net::{TcpListener, TcpStream};
//! use tokio::sync::oneshot;
//! use tokio_stream::wrappers::LinesStream;
//!
//! struct LineReader {
//!     lines: Vec<String>,
//!     done: Option<oneshot::Sender<Vec<String>>>,
//! }
//!
//! #[actor]
//! impl LineReader {
//!     #[init]
//!     fn init(conn: TcpStream, done: oneshot::Sender<Vec<String>>, ctx: &mut Ctx<Self>) -> Self {
//!         let lines = LinesStream::new(BufReader::new(conn).lines());
//!         ctx.attach_stream(lines, |line| LineReaderMsg::Line { line }, || LineReaderMsg::Closed);
//!         LineReader { lines: Vec::new(), done: Some(done) }
//!     }
//!
//!     /// One line; a read error crashes the actor.
//!     #[cast(crash_on_err)]
//!     fn line(&mut self, line: std::io::Result<String>) -> std::io::Result<()> {
//!         self.lines.push(line?);
//!         Ok(())
//!     }
//!
//!     /// The peer closed the connection: report, and stop.
//!     #[cast]
//!     fn closed(&mut self, ctx: &mut Ctx<Self>) {
//!         if let Some(done) = self.done.take() {
//!             let _ = done.send(std::mem::take(&mut self.lines));
//!         }
//!         ctx.stop();
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let mut client = TcpStream::connect(listener.local_addr()?).await?;
//! let (conn, _) = listener.accept().await?;
//!
//! let system = ActorSystem::new();
//! let (done, lines) = oneshot::channel();
//! let reader = system.spawn::<LineReader>((conn, done)).await?;
//! client.write_all(b"hello\nworld\n").await?;
//! client.shutdown().await?;
//! assert_eq!(lines.await?, ["hello", "world"]);
//! assert_eq!(reader.wait_for_exit().await, ExitReason::Normal);
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use pin_project_lite::pin_project;

use crate::actor::ActorId;

/// A stream attached to an actor with [`Ctx::attach_stream`](crate::Ctx::attach_stream),
/// to detach it with [`Ctx::detach_stream`](crate::Ctx::detach_stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamRef {
    pub(crate) actor: ActorId,
    pub(crate) id: u64,
}

/// What one poll of an attached stream gave.
pub(crate) enum Pulled<M> {
    /// An item, as its message.
    Item(M),
    /// The end, as the `on_end` message.
    End(M),
}

/// A stream with its two closures, seen without its types.
pub(crate) trait Attached<M>: Send {
    fn poll_pull(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Pulled<M>>;
}

pin_project! {
    struct Attachment<S, F, E> {
        #[pin]
        stream: S,
        to_msg: F,
        on_end: Option<E>,
    }
}

impl<S, F, E, M> Attached<M> for Attachment<S, F, E>
where
    S: Stream + Send,
    F: FnMut(S::Item) -> M + Send,
    E: FnOnce() -> M + Send,
{
    fn poll_pull(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Pulled<M>> {
        let this = self.project();
        Poll::Ready(match ready!(this.stream.poll_next(cx)) {
            Some(item) => Pulled::Item((this.to_msg)(item)),
            None => {
                let on_end = this.on_end.take().expect("an ended stream is not polled");
                Pulled::End(on_end())
            }
        })
    }
}

type Boxed<M> = Pin<Box<dyn Attached<M>>>;

/// A stream taken out of the set, to drop.
pub(crate) type Detached<M> = (u64, Boxed<M>);

/// The streams attached to one actor.
pub(crate) struct Streams<M> {
    next: u64,
    /// Where the next look starts, so that a busy stream does not starve the others.
    cursor: usize,
    /// Whether the streams go before the mailbox at the next look.
    first: bool,
    list: Vec<Detached<M>>,
}

impl<M> Default for Streams<M> {
    fn default() -> Self {
        Self {
            next: 0,
            cursor: 0,
            first: false,
            list: Vec::new(),
        }
    }
}

impl<M: 'static> Streams<M> {
    pub(crate) fn attach<S, F, E>(
        &mut self,
        actor: ActorId,
        stream: S,
        to_msg: F,
        on_end: E,
    ) -> StreamRef
    where
        S: Stream + Send + 'static,
        F: FnMut(S::Item) -> M + Send + 'static,
        E: FnOnce() -> M + Send + 'static,
    {
        self.next += 1;
        let attachment = Attachment {
            stream,
            to_msg,
            on_end: Some(on_end),
        };
        self.list.push((self.next, Box::pin(attachment)));
        StreamRef {
            actor,
            id: self.next,
        }
    }
}

impl<M> Streams<M> {
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// Takes out the stream `id`, if attached.
    pub(crate) fn detach(&mut self, id: u64) -> Option<Detached<M>> {
        let at = self.list.iter().position(|(i, _)| *i == id)?;
        Some(self.list.remove(at))
    }

    /// Takes out every stream.
    pub(crate) fn take_all(&mut self) -> Vec<Detached<M>> {
        std::mem::take(&mut self.list)
    }

    /// Whether the streams go first at this look (every other look).
    pub(crate) fn take_turn(&mut self) -> bool {
        self.first = !self.first;
        self.first && !self.list.is_empty()
    }

    /// Polls each stream once, from the cursor on, until one gives something: an item's
    /// message, or an end's message together with the ended stream (for the caller to
    /// drop). A panic unwinds to the caller.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<(M, Option<Detached<M>>)> {
        let n = self.list.len();
        for i in 0..n {
            let at = (self.cursor + i) % n;
            match self.list[at].1.as_mut().poll_pull(cx) {
                Poll::Pending => {}
                Poll::Ready(Pulled::Item(msg)) => {
                    self.cursor = at + 1;
                    return Poll::Ready((msg, None));
                }
                Poll::Ready(Pulled::End(msg)) => {
                    self.cursor = at;
                    return Poll::Ready((msg, Some(self.list.remove(at))));
                }
            }
        }
        Poll::Pending
    }
}

impl<M> fmt::Debug for Streams<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streams")
            .field("attached", &self.list.len())
            .finish()
    }
}
