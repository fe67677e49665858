//! The mailbox: a lock around a lazily allocated queue, with the receiver's waker kept
//! under the same lock and woken only when the queue turns non-empty.
//!
//! The receiver takes the whole queue at once (swapping it with its own empty buffer), so a
//! burst of messages costs one lock on the receiving side, and both buffers keep their
//! capacity: in steady state a send allocates nothing. A lone message is taken by itself,
//! so the receiver's buffer is made only once messages come faster than it handles them.
//! A bounded mailbox adds a semaphore whose permits are the free slots.
//!
//! This module is internal; users see it through `#[actor(mailbox = N)]` and
//! [`SpawnBuilder::bounded`](crate::SpawnBuilder::bounded).

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::actor::ActorId;
use crate::exit::ExitReason;
use crate::sched::TaskHandle;
use crate::signal::{Queued, Signal, Verdict, Watch};

/// What the receiver takes the queue into: boxed, and made on first use, so an actor that
/// never receives carries one word instead of a whole queue.
#[allow(clippy::box_collection)] // the box is the point: it keeps the task small
pub(crate) type Batch<M> = Option<Box<VecDeque<M>>>;

/// What [`Mailbox::poll_take`] took.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Take<T> {
    /// The one item queued, as `single` took it.
    One(T),
    /// `single` gave the one item queued back; it is still queued.
    Left,
    /// Every item queued, now in the batch.
    Batch,
}

/// A stop that needs no room in the queue: one asked for while nothing is queued waits in
/// a flag instead (so an idle actor's queue needs no buffer to be stopped), and comes
/// before anything queued after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoneStop {
    Normal,
    Shutdown,
}

/// What a mailbox carries: an item may be a stop that can wait in the flag.
pub(crate) trait Item: Sized {
    /// The stop this item is, if it can wait in the flag.
    fn lone_stop(&self) -> Option<LoneStop>;
    /// The item for a stop taken from the flag.
    fn from_lone_stop(stop: LoneStop) -> Self;
}

/// The largest capacity a bounded mailbox can have.
pub(crate) const MAX_CAPACITY: usize = Semaphore::MAX_PERMITS;

pub(crate) struct Mailbox<M> {
    /// `parking_lot`'s lock: no poisoning to check on every lock and unlock, as no user
    /// code runs under it.
    inner: Mutex<Inner<M>>,
    /// Free slots of a bounded mailbox; `None` when unbounded.
    room: Option<Box<Room>>,
}

/// A bounded mailbox's capacity and free slots.
struct Room {
    free: Semaphore,
    capacity: usize,
}

struct Inner<M> {
    queue: VecDeque<M>,
    waker: Option<Waker>,
    closed: bool,
    /// A stop asked for while the queue was empty (see [`LoneStop`]).
    stop: Option<LoneStop>,
    /// Whether the actor has begun its exit (see [`Watch::receive`]).
    exiting: bool,
    /// How to kill the task that drains the mailbox, from its spawn until it closes.
    abort: Option<TaskHandle>,
    /// Links, monitors and exit trapping of the actor, made on first use.
    watch: Option<Box<Watch>>,
}

impl<M> Mailbox<M> {
    pub(crate) fn new(capacity: Option<usize>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                waker: None,
                closed: false,
                stop: None,
                exiting: false,
                abort: None,
                watch: None,
            }),
            room: capacity.map(|capacity| {
                Box::new(Room {
                    free: Semaphore::new(capacity),
                    capacity,
                })
            }),
        }
    }

    pub(crate) fn room(&self) -> Option<&Semaphore> {
        self.room.as_deref().map(|room| &room.free)
    }

    /// The capacity of a bounded mailbox.
    pub(crate) fn capacity(&self) -> Option<usize> {
        self.room.as_deref().map(|room| room.capacity)
    }

    /// How many messages wait: for a bounded mailbox, those holding a slot (until handled);
    /// for an unbounded one, those the receiver has not taken in yet.
    pub(crate) fn len(&self) -> usize {
        match self.room.as_deref() {
            Some(room) => room.capacity.saturating_sub(room.free.available_permits()),
            None => {
                let inner = self.inner.lock();
                inner.queue.len() + usize::from(inner.stop.is_some())
            }
        }
    }

    /// Appends `item`, bypassing the capacity (system messages and messages that already
    /// hold a slot). Gives the item back if the mailbox is closed.
    #[inline]
    pub(crate) fn push(&self, item: M) -> Result<(), M> {
        self.append(item, None)
    }

    /// Appends a stop request as [`push`](Self::push) does; one that finds nothing queued
    /// waits in the flag instead (see [`LoneStop`]), so the queue needs no buffer for it.
    pub(crate) fn push_stop(&self, item: M) -> Result<(), M>
    where
        M: Item,
    {
        let lone = item.lone_stop();
        self.append(item, lone)
    }

    /// [`push_stop`](Self::push_stop) for a stopper that kills the actor at `by`: an exit
    /// that ends after that ends `Killed` (see [`close`](Self::close)).
    pub(crate) fn push_stop_by(&self, item: M, by: Instant) -> Result<(), M>
    where
        M: Item,
    {
        {
            let mut inner = self.inner.lock();
            if !inner.closed {
                let watch = inner.watch.get_or_insert_default();
                watch.stop_by = Some(watch.stop_by.map_or(by, |earlier| earlier.min(by)));
            }
        }
        self.push_stop(item)
    }

    /// Queues `item` (into the flag if it is the stop `lone` and nothing is queued), and
    /// wakes the receiver.
    #[inline]
    fn append(&self, item: M, lone: Option<LoneStop>) -> Result<(), M> {
        let mut inner = self.inner.lock();
        if inner.closed {
            return Err(item);
        }
        match lone {
            Some(stop) if inner.queue.is_empty() && inner.stop.is_none() => {
                inner.stop = Some(stop);
            }
            _ => inner.queue.push_back(item),
        }
        let waker = inner.waker.take();
        drop(inner);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Takes one slot of a bounded mailbox without waiting. `Ok(false)` means unbounded.
    pub(crate) fn try_reserve(&self) -> Result<bool, crate::SendError> {
        match &self.room {
            None => Ok(false),
            Some(room) => match room.free.try_acquire() {
                Ok(permit) => {
                    permit.forget();
                    Ok(true)
                }
                Err(tokio::sync::TryAcquireError::NoPermits) => Err(crate::SendError::Full),
                Err(tokio::sync::TryAcquireError::Closed) => Err(crate::SendError::NoProc),
            },
        }
    }

    /// Gives back the slot of a message the actor has taken out.
    pub(crate) fn release(&self) {
        if let Some(room) = &self.room {
            room.free.add_permits(1);
        }
    }

    /// Takes what is queued, or registers the waker: a lone item is handed to `single`,
    /// which takes it ([`Take::One`]) or gives it back to stay queued ([`Take::Left`]),
    /// and two or more move into `out` ([`Take::Batch`]; `out` must be empty, and is made
    /// on first use). So an actor that gets one message at a time (a call, a stop, the one
    /// request of a short-lived actor) never needs `out`, and its queue keeps its buffer.
    #[inline]
    pub(crate) fn poll_take<T>(
        &self,
        cx: &mut Context<'_>,
        out: &mut Batch<M>,
        single: impl FnOnce(M) -> Result<T, M>,
    ) -> Poll<Take<T>>
    where
        M: Item,
    {
        debug_assert!(out.as_ref().is_none_or(|out| out.is_empty()));
        let mut inner = self.inner.lock();
        // Asked for before anything still queued.
        if let Some(stop) = inner.stop.take() {
            return Poll::Ready(match single(M::from_lone_stop(stop)) {
                Ok(taken) => Take::One(taken),
                Err(_) => {
                    inner.stop = Some(stop);
                    Take::Left
                }
            });
        }
        if inner.queue.len() > 1 {
            std::mem::swap(&mut inner.queue, out.get_or_insert_default());
            return Poll::Ready(Take::Batch);
        }
        let Some(item) = inner.queue.pop_front() else {
            match &inner.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => inner.waker = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        };
        Poll::Ready(match single(item) {
            Ok(taken) => Take::One(taken),
            Err(item) => {
                inner.queue.push_front(item);
                Take::Left
            }
        })
    }

    /// Queues messages before the actor is running (a supervised actor's new incarnation
    /// inherits them); each takes a slot of a bounded mailbox, as it did in the old one.
    pub(crate) fn seed(&self, items: impl IntoIterator<Item = M>) {
        let mut inner = self.inner.lock();
        let before = inner.queue.len();
        inner.queue.extend(items);
        let added = inner.queue.len() - before;
        drop(inner);
        if let Some(room) = &self.room {
            room.free.forget_permits(added);
        }
    }

    /// Records how to kill the draining task; dropped at once if the mailbox is already
    /// closed (the task has finished), used at once if an exit signal already doomed it.
    pub(crate) fn set_abort(&self, abort: TaskHandle) {
        let mut inner = self.inner.lock();
        if inner.closed {
            return;
        }
        if inner.watch.as_ref().is_some_and(|w| w.doom.is_some()) {
            drop(inner);
            abort.abort();
        } else {
            inner.abort = Some(abort);
        }
    }

    /// Kills the draining task if it runs on scheduler `sched`, whose runtime goes away
    /// (see [`crate::sched`]).
    pub(crate) fn abort(&self, sched: usize) {
        let abort = self
            .inner
            .lock()
            .abort
            .take_if(|abort| abort.sched() == sched);
        if let Some(abort) = abort {
            abort.abort();
        }
    }

    /// Runs `f` on the actor's watch state (made on first use); `None` once the mailbox is
    /// closed (the actor has exited).
    pub(crate) fn watch<R>(&self, f: impl FnOnce(&mut Watch) -> R) -> Option<R> {
        let mut inner = self.inner.lock();
        if inner.closed {
            return None;
        }
        let watch = inner.watch.get_or_insert_default();
        let out = f(watch);
        if watch.is_empty() {
            inner.watch = None;
        }
        Some(out)
    }

    /// Runs `f` on the actor's watch state if it has any (and is alive).
    pub(crate) fn unwatch(&self, f: impl FnOnce(&mut Watch)) {
        let mut inner = self.inner.lock();
        if let Some(watch) = inner.watch.as_deref_mut() {
            f(watch);
            if watch.is_empty() {
                inner.watch = None;
            }
        }
    }

    /// Reads the actor's watch state (the default when it has none).
    pub(crate) fn watched<R>(&self, f: impl FnOnce(&Watch) -> R) -> R {
        match self.inner.lock().watch.as_deref() {
            Some(watch) => f(watch),
            None => f(&Watch::default()),
        }
    }

    /// The actor has begun its exit: exit signals no longer change its reason.
    pub(crate) fn begin_exit(&self) {
        self.inner.lock().exiting = true;
    }

    /// The reason an exit signal killed the actor with, if one did.
    pub(crate) fn take_doom(&self) -> Option<ExitReason> {
        self.inner.lock().watch.as_mut()?.doom.take()
    }

    /// Delivers `signal` to the actor `me` that drains this mailbox: queues what it handles
    /// as a message (made by `wrap`), or kills its task (it is dropped at its next
    /// scheduling point, and publishes the reason). `false` if the actor is gone.
    pub(crate) fn signal(
        &self,
        me: ActorId,
        signal: Signal,
        wrap: impl FnOnce(Queued) -> M,
    ) -> bool {
        let mut inner = self.inner.lock();
        if inner.closed {
            return false;
        }
        let exiting = inner.exiting;
        let verdict = match inner.watch.as_deref_mut() {
            Some(watch) => watch.receive(me, signal, exiting),
            None => Watch::default().receive(me, signal, exiting),
        };
        match verdict {
            Verdict::Ignore => {}
            Verdict::Queue(queued) => {
                inner.queue.push_back(wrap(queued));
                let waker = inner.waker.take();
                drop(inner);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            Verdict::Die(reason) => {
                let watch = inner.watch.get_or_insert_default();
                // The first reason wins; a task not spawned yet is killed by `set_abort`.
                watch.doom.get_or_insert(reason);
                let abort = inner.abort.take();
                drop(inner);
                if let Some(abort) = abort {
                    abort.abort();
                }
            }
        }
        true
    }

    /// Closes the mailbox: later pushes and signals fail. Returns what was still queued and
    /// the actor's watch state, whose links and monitors are owed the exit (and which
    /// holds the deadline of the stops asked for with one).
    pub(crate) fn close(&self) -> (VecDeque<M>, Option<Box<Watch>>) {
        if let Some(room) = &self.room {
            room.free.close();
        }
        let mut inner = self.inner.lock();
        inner.closed = true;
        inner.stop = None;
        inner.waker = None;
        // Taken out so a dead actor's refs do not keep its task's memory.
        let abort = inner.abort.take();
        let queue = std::mem::take(&mut inner.queue);
        let watch = inner.watch.take();
        drop(inner);
        drop(abort);
        (queue, watch)
    }

    /// Whether nothing is queued.
    pub(crate) fn is_empty(&self) -> bool {
        let inner = self.inner.lock();
        inner.queue.is_empty() && inner.stop.is_none()
    }

    /// Whether the actor has exited.
    pub(crate) fn is_closed(&self) -> bool {
        self.inner.lock().closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    impl Item for u8 {
        fn lone_stop(&self) -> Option<LoneStop> {
            (*self == STOP).then_some(LoneStop::Normal)
        }

        fn from_lone_stop(_: LoneStop) -> Self {
            STOP
        }
    }

    /// The test items' stop.
    const STOP: u8 = 0;

    struct CountWake(AtomicUsize);
    impl Wake for CountWake {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_once_on_empty_to_non_empty_and_keeps_order() {
        let mb = Mailbox::new(None);
        let count = Arc::new(CountWake(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut out = None;
        assert!(mb.poll_take(&mut cx, &mut out, Ok::<_, u8>).is_pending());
        mb.push(1).unwrap();
        mb.push(2).unwrap();
        mb.push(3).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            mb.poll_take(&mut cx, &mut out, Ok::<_, u8>),
            Poll::Ready(Take::Batch)
        );
        assert_eq!(*out.unwrap(), [1, 2, 3]);
    }

    #[test]
    fn a_lone_item_is_taken_by_itself_or_left_queued() {
        let mb = Mailbox::new(None);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut out = None;
        mb.push(1).unwrap();
        assert_eq!(
            mb.poll_take(&mut cx, &mut out, |n| if n == 2 { Ok(n) } else { Err(n) }),
            Poll::Ready(Take::Left)
        );
        assert_eq!(
            mb.poll_take(&mut cx, &mut out, |n| if n == 1 { Ok(n) } else { Err(n) }),
            Poll::Ready(Take::One(1))
        );
        assert!(out.is_none(), "no batch for a lone item");
        assert!(mb.poll_take(&mut cx, &mut out, Ok::<_, u8>).is_pending());
    }

    #[test]
    fn a_stop_on_an_empty_queue_waits_in_the_flag_and_comes_first() {
        let mb = Mailbox::new(None);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut out = None;
        mb.push_stop(STOP).unwrap();
        mb.push(1).unwrap();
        mb.push(2).unwrap();
        assert_eq!(mb.len(), 3);
        // Left in the flag by a taker that wants no stop, then taken first.
        assert_eq!(
            mb.poll_take(&mut cx, &mut out, |n| if n == STOP {
                Err(n)
            } else {
                Ok(n)
            }),
            Poll::Ready(Take::Left)
        );
        assert_eq!(
            mb.poll_take(&mut cx, &mut out, Ok::<_, u8>),
            Poll::Ready(Take::One(STOP))
        );
        assert_eq!(
            mb.poll_take(&mut cx, &mut out, Ok::<_, u8>),
            Poll::Ready(Take::Batch)
        );
        assert_eq!(*out.take().unwrap(), [1, 2]);

        // Behind queued messages, a stop is queued like them.
        let mb = Mailbox::new(None);
        mb.push(1).unwrap();
        mb.push_stop(STOP).unwrap();
        assert_eq!(mb.close().0, [1, STOP]);

        // An idle mailbox stopped needs no buffer; closing drops the flag.
        let mb: Mailbox<u8> = Mailbox::new(None);
        mb.push_stop(STOP).unwrap();
        assert!(!mb.is_empty());
        assert_eq!(mb.inner.lock().queue.capacity(), 0);
        assert!(mb.close().0.is_empty());
        assert!(mb.is_empty());
        assert_eq!(mb.push_stop(STOP), Err(STOP));
    }

    #[test]
    fn closed_mailbox_rejects_and_returns_leftovers() {
        let mb = Mailbox::new(None);
        mb.push(1).unwrap();
        assert_eq!(mb.close().0, [1]);
        assert!(mb.is_closed());
        assert_eq!(mb.push(2), Err(2));
    }

    #[test]
    fn bounded_mailbox_counts_slots() {
        let mb: Mailbox<u8> = Mailbox::new(Some(2));
        assert_eq!(mb.try_reserve(), Ok(true));
        assert_eq!(mb.try_reserve(), Ok(true));
        assert_eq!(mb.try_reserve(), Err(crate::SendError::Full));
        mb.release();
        assert_eq!(mb.try_reserve(), Ok(true));
        mb.close();
        assert_eq!(mb.try_reserve(), Err(crate::SendError::NoProc));
    }
}
