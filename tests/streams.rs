//! Streams attached to actors: back-pressure, the end message, turns with the mailbox and
//! with each other, detaching, panics, and the stream dropped with the actor.

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};
use std::time::Duration;

use beam_runtime::prelude::*;
use common::{ENDS, End, end_with};
use futures_core::Stream;
use tokio::sync::mpsc;

type Items = Pin<Box<dyn Stream<Item = usize> + Send>>;

/// `left` items, always ready, counting how many were pulled.
struct Counted {
    pulled: Arc<AtomicUsize>,
    left: usize,
}

impl Stream for Counted {
    type Item = usize;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<usize>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        Poll::Ready(Some(self.pulled.fetch_add(1, SeqCst) + 1))
    }
}

/// A stream that sets its flag when dropped.
struct Flagged<S> {
    inner: S,
    dropped: Arc<AtomicBool>,
}

impl<S: Stream + Unpin> Stream for Flagged<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

impl<S> Drop for Flagged<S> {
    fn drop(&mut self) {
        self.dropped.store(true, SeqCst);
    }
}

/// A stream that never gives anything.
struct Never;

impl Stream for Never {
    type Item = usize;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<usize>> {
        Poll::Pending
    }
}

/// A stream that panics when polled.
struct Broken;

impl Stream for Broken {
    type Item = usize;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<usize>> {
        panic!("the stream broke")
    }
}

#[derive(Default)]
struct Log {
    events: Vec<String>,
    /// The pull counter of the stream under test, read by the slow handler.
    pulled: Arc<AtomicUsize>,
    /// The counter when each slow item's handler started and when it finished.
    pulls: Vec<(usize, usize)>,
    attached: Vec<StreamRef>,
    detached: Vec<bool>,
    /// Where the end of each stream is announced.
    ended: Option<mpsc::UnboundedSender<&'static str>>,
    /// The flag of a stream, and where `#[terminate]` says whether it was set then.
    watched: Option<(Arc<AtomicBool>, Arc<AtomicBool>)>,
}

#[actor]
impl Log {
    /// Attaches `items`; a slow stream's items go to the async `item`, others to `fast`.
    #[cast]
    fn attach(&mut self, tag: &'static str, items: Items, slow: bool, ctx: &mut Ctx<Self>) {
        let stream = ctx.attach_stream(
            items,
            move |n| match slow {
                true => LogMsg::Item { tag, n },
                false => LogMsg::Fast { tag, n },
            },
            move || LogMsg::End { tag },
        );
        self.attached.push(stream);
    }

    /// Handles an item over several scheduling rounds.
    #[cast]
    async fn item(&mut self, tag: &'static str, n: usize) {
        let before = self.pulled.load(SeqCst);
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        self.pulls.push((before, self.pulled.load(SeqCst)));
        self.events.push(format!("{tag}{n}"));
    }

    #[cast]
    fn fast(&mut self, tag: &'static str, n: usize) {
        self.events.push(format!("{tag}{n}"));
    }

    #[cast]
    fn end(&mut self, tag: &'static str) {
        self.events.push(format!("{tag} end"));
        if let Some(ended) = &self.ended {
            let _ = ended.send(tag);
        }
    }

    #[cast]
    fn tick(&mut self, n: usize) {
        self.events.push(format!("t{n}"));
    }

    #[cast]
    fn detach_all(&mut self, ctx: &mut Ctx<Self>) {
        for stream in std::mem::take(&mut self.attached) {
            self.detached.push(ctx.detach_stream(stream));
            self.detached.push(ctx.detach_stream(stream));
        }
    }

    #[cast(crash_on_err)]
    fn finish(&mut self, how: End, ctx: &mut Ctx<Self>) -> Result<(), String> {
        end_with(how, ctx, "log")
    }

    #[call]
    fn events(&self) -> Vec<String> {
        self.events.clone()
    }

    #[call]
    fn pulls(&self) -> Vec<(usize, usize)> {
        self.pulls.clone()
    }

    #[call]
    fn detached(&self, ctx: &mut Ctx<Self>) -> (Vec<bool>, usize) {
        (self.detached.clone(), ctx.stream_count())
    }

    #[terminate]
    fn terminate(&mut self) {
        if let Some((flag, seen)) = &self.watched {
            seen.store(flag.load(SeqCst), SeqCst);
        }
    }
}

/// A log actor that announces stream ends on the returned channel.
async fn spawn_log(
    system: &ActorSystem,
    pulled: Arc<AtomicUsize>,
) -> (ActorRef<Log>, mpsc::UnboundedReceiver<&'static str>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let log = Log {
        pulled,
        ended: Some(tx),
        ..Log::default()
    };
    (system.spawn::<Log>(log).await.unwrap(), rx)
}

async fn items_are_pulled_only_after_the_previous_handler_finished() {
    let system = ActorSystem::new();
    let pulled = Arc::new(AtomicUsize::new(0));
    let (log, mut ended) = spawn_log(&system, pulled.clone()).await;
    let items = Counted {
        pulled: pulled.clone(),
        left: 5,
    };
    log.attach("a", Box::pin(items), true).unwrap();
    assert_eq!(ended.recv().await, Some("a"));
    // Item `i` was the last one pulled while its handler ran, start to finish.
    assert_eq!(
        log.pulls().await.unwrap(),
        [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]
    );
    assert_eq!(
        log.events().await.unwrap(),
        ["a1", "a2", "a3", "a4", "a5", "a end"]
    );
    assert_eq!(pulled.load(SeqCst), 5);
    system.shutdown().await;
}

#[tokio::test]
async fn back_pressure_current_thread() {
    items_are_pulled_only_after_the_previous_handler_finished().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_pressure_multi_thread() {
    items_are_pulled_only_after_the_previous_handler_finished().await;
}

async fn several_streams_are_each_delivered_in_order() {
    let system = ActorSystem::new();
    let (log, mut ended) = spawn_log(&system, Arc::default()).await;
    for (tag, slow) in [("a", true), ("b", false), ("c", true)] {
        let items = Counted {
            pulled: Arc::default(),
            left: 4,
        };
        log.attach(tag, Box::pin(items), slow).unwrap();
    }
    let mut ends = Vec::new();
    for _ in 0..3 {
        ends.push(ended.recv().await.unwrap());
    }
    ends.sort_unstable();
    assert_eq!(ends, ["a", "b", "c"]);
    let events = log.events().await.unwrap();
    assert_eq!(events.len(), 15);
    for tag in ["a", "b", "c"] {
        let mine: Vec<&str> = events
            .iter()
            .map(String::as_str)
            .filter(|e| e.starts_with(tag))
            .collect();
        let expected: Vec<String> = (1..=4)
            .map(|n| format!("{tag}{n}"))
            .chain([format!("{tag} end")])
            .collect();
        assert_eq!(mine, expected);
    }
    system.shutdown().await;
}

#[tokio::test]
async fn several_streams_current_thread() {
    several_streams_are_each_delivered_in_order().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_streams_multi_thread() {
    several_streams_are_each_delivered_in_order().await;
}

#[tokio::test]
async fn streams_take_turns_with_each_other() {
    let system = ActorSystem::new();
    let (log, mut ended) = spawn_log(&system, Arc::default()).await;
    let (a, rx_a) = mpsc::unbounded_channel();
    let (b, rx_b) = mpsc::unbounded_channel();
    let rx_a = tokio_stream::wrappers::UnboundedReceiverStream::new(rx_a);
    let rx_b = tokio_stream::wrappers::UnboundedReceiverStream::new(rx_b);
    log.attach("a", Box::pin(rx_a), false).unwrap();
    log.attach("b", Box::pin(rx_b), false).unwrap();
    log.events().await.unwrap();
    // Both streams have items ready before the actor looks again.
    for n in 1..=3 {
        a.send(n).unwrap();
        b.send(n).unwrap();
    }
    drop((a, b));
    ended.recv().await.unwrap();
    ended.recv().await.unwrap();
    assert_eq!(
        log.events().await.unwrap(),
        ["a1", "b1", "a2", "b2", "a3", "b3", "a end", "b end"]
    );
    system.shutdown().await;
}

#[tokio::test]
async fn a_busy_mailbox_does_not_starve_a_stream() {
    let system = ActorSystem::new();
    let (log, mut ended) = spawn_log(&system, Arc::default()).await;
    let (tx, rx) = mpsc::unbounded_channel();
    let rx = tokio_stream::wrappers::UnboundedReceiverStream::new(rx);
    log.attach("s", Box::pin(rx), false).unwrap();
    log.events().await.unwrap();
    // A hundred casts are queued before the stream's item is ready; the actor has not run
    // since (a current-thread runtime runs it only when this test awaits).
    for n in 0..100 {
        log.tick(n).unwrap();
    }
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(ended.recv().await, Some("s"));
    let events = log.events().await.unwrap();
    assert_eq!(events.len(), 102);
    let at = |e: &str| events.iter().position(|x| x == e).unwrap();
    assert!(at("s1") <= 1, "the item waited behind casts: {events:?}");
    assert!(at("s end") <= 3, "the end waited behind casts: {events:?}");
}

#[tokio::test]
async fn a_busy_stream_does_not_starve_the_mailbox() {
    let system = ActorSystem::new();
    let (log, _ended) = spawn_log(&system, Arc::default()).await;
    let items = Counted {
        pulled: Arc::default(),
        left: 10_000,
    };
    log.attach("a", Box::pin(items), false).unwrap();
    // The call is queued behind the attach; the stream is always ready.
    let seen = log.events().await.unwrap();
    assert!(
        seen.len() <= 2,
        "the call waited behind {} items",
        seen.len()
    );
    system.shutdown().await;
}

async fn the_stream_is_dropped_when_the_actor_stops() {
    let system = ActorSystem::new();
    for how in ENDS {
        let dropped = Arc::new(AtomicBool::new(false));
        let seen_at_terminate = Arc::new(AtomicBool::new(false));
        let log = Log {
            watched: Some((dropped.clone(), seen_at_terminate.clone())),
            ..Log::default()
        };
        let log = system.spawn::<Log>(log).await.unwrap();
        let stream = Flagged {
            inner: Never,
            dropped: dropped.clone(),
        };
        log.attach("a", Box::pin(stream), false).unwrap();
        log.events().await.unwrap();
        assert!(!dropped.load(SeqCst));
        log.finish(how).unwrap();
        let reason = log.wait_for_exit().await;
        assert!(dropped.load(SeqCst), "not dropped after {how:?} ({reason})");
        if how != End::Killed {
            // `#[terminate]` runs after the stream is gone.
            assert!(seen_at_terminate.load(SeqCst), "{how:?}");
        }
    }
    system.shutdown().await;
}

#[tokio::test]
async fn dropped_with_the_actor_current_thread() {
    the_stream_is_dropped_when_the_actor_stops().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_with_the_actor_multi_thread() {
    the_stream_is_dropped_when_the_actor_stops().await;
}

#[tokio::test]
async fn detaching_drops_the_stream_without_its_end() {
    let system = ActorSystem::new();
    let (log, mut ended) = spawn_log(&system, Arc::default()).await;
    let dropped = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::unbounded_channel();
    let stream = Flagged {
        inner: tokio_stream::wrappers::UnboundedReceiverStream::new(rx),
        dropped: dropped.clone(),
    };
    log.attach("a", Box::pin(stream), false).unwrap();
    tx.send(1).unwrap();
    assert_eq!(log.events().await.unwrap(), ["a1"]);
    assert_eq!(log.detached().await.unwrap(), (vec![], 1));
    log.detach_all().unwrap();
    // Detached once; the second time, it was gone.
    assert_eq!(log.detached().await.unwrap(), (vec![true, false], 0));
    assert!(dropped.load(SeqCst));
    assert!(tx.send(2).is_err(), "the receiver is gone");
    assert_eq!(log.events().await.unwrap(), ["a1"]);
    assert!(ended.try_recv().is_err(), "no end message after a detach");
    system.shutdown().await;
}

#[tokio::test]
async fn a_stream_of_another_actor_is_not_detached() {
    let system = ActorSystem::new();
    let (a, _) = spawn_log(&system, Arc::default()).await;
    let (b, _) = spawn_log(&system, Arc::default()).await;
    a.attach("a", Box::pin(Never), false).unwrap();
    a.events().await.unwrap();
    // `b` detaches every stream it attached: none; `a`'s stays.
    b.detach_all().unwrap();
    assert_eq!(a.detached().await.unwrap(), (vec![], 1));
    system.shutdown().await;
}

#[tokio::test]
async fn a_panicking_stream_crashes_the_actor() {
    let system = ActorSystem::new();
    let (log, _) = spawn_log(&system, Arc::default()).await;
    log.attach("a", Box::pin(Broken), false).unwrap();
    assert_eq!(
        log.wait_for_exit().await,
        ExitReason::Panic("the stream broke".into())
    );
    system.shutdown().await;
}

struct Mapper;

#[actor]
impl Mapper {
    #[init]
    fn init(ctx: &mut Ctx<Self>) -> Self {
        let items = Counted {
            pulled: Arc::default(),
            left: 3,
        };
        ctx.attach_stream(
            items,
            |n| match n {
                2 => panic!("no twos"),
                n => MapperMsg::Got { n },
            },
            || MapperMsg::Got { n: 0 },
        );
        Mapper
    }

    #[cast]
    fn got(&mut self, n: usize) {
        assert_eq!(n, 1);
    }
}

#[tokio::test]
async fn a_panicking_item_closure_crashes_the_actor() {
    let system = ActorSystem::new();
    let mapper = system.spawn::<Mapper>(()).await.unwrap();
    assert_eq!(
        mapper.wait_for_exit().await,
        ExitReason::Panic("no twos".into())
    );
    system.shutdown().await;
}

/// Reads lines from a TCP connection; each line's handler takes a few scheduling rounds.
struct LineReader {
    lines: Vec<String>,
    done: Option<tokio::sync::oneshot::Sender<Vec<String>>>,
}

#[actor]
impl LineReader {
    #[init]
    fn init(
        conn: tokio::net::TcpStream,
        done: tokio::sync::oneshot::Sender<Vec<String>>,
        ctx: &mut Ctx<Self>,
    ) -> Self {
        use tokio::io::AsyncBufReadExt;
        let lines = tokio::io::BufReader::new(conn).lines();
        ctx.attach_stream(
            tokio_stream::wrappers::LinesStream::new(lines),
            |line| LineReaderMsg::Line { line },
            || LineReaderMsg::Closed,
        );
        LineReader {
            lines: Vec::new(),
            done: Some(done),
        }
    }

    #[cast(crash_on_err)]
    async fn line(&mut self, line: std::io::Result<String>) -> std::io::Result<()> {
        tokio::task::yield_now().await;
        self.lines.push(line?);
        Ok(())
    }

    #[cast]
    fn closed(&mut self, ctx: &mut Ctx<Self>) {
        if let Some(done) = self.done.take() {
            let _ = done.send(std::mem::take(&mut self.lines));
        }
        ctx.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcp_line_reader() {
    use tokio::io::AsyncWriteExt;
    let run = async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = tokio::spawn(async move {
            let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
            for n in 0..200 {
                client
                    .write_all(format!("line {n}\n").as_bytes())
                    .await
                    .unwrap();
            }
            client.shutdown().await.unwrap();
        });
        let (conn, _) = listener.accept().await.unwrap();
        let system = ActorSystem::new();
        let (done, lines) = tokio::sync::oneshot::channel();
        let reader = system.spawn::<LineReader>((conn, done)).await.unwrap();
        let lines = lines.await.unwrap();
        let expected: Vec<String> = (0..200).map(|n| format!("line {n}")).collect();
        assert_eq!(lines, expected);
        assert_eq!(reader.wait_for_exit().await, ExitReason::Normal);
        writer.await.unwrap();
        system.shutdown().await;
    };
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the line reader finished in time");
}
