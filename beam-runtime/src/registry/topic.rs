//! The event bus: [`Topic<E>`] keys, whose subscribers receive every event published.

use std::any::TypeId;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::table::{self, Member, Registration};
use super::{Fanout, Topic, record, still_held};
use crate::actor::{Actor, ActorId, ActorRef, Process};
use crate::error::{RegistryError, SendError};
use crate::system::ActorSystem;

/// How an event reaches one subscriber.
type Deliver<E> = Arc<dyn Fn(E) -> Result<(), SendError> + Send + Sync>;

/// One subscription.
struct Subscriber<E> {
    actor: Arc<dyn Process>,
    deliver: Deliver<E>,
}

impl<E> Clone for Subscriber<E> {
    fn clone(&self) -> Self {
        Self {
            actor: self.actor.clone(),
            deliver: self.deliver.clone(),
        }
    }
}

impl<E: 'static> Member for Subscriber<E> {
    fn id(&self) -> ActorId {
        self.actor.id()
    }
}

type Subscribers<E> = table::Members<Subscriber<E>>;

impl ActorSystem {
    /// Subscribes `actor` to `topic`: every event published there is passed to `handler`
    /// with the actor's ref, usually to send it one of the actor's casts. Subscribing
    /// again replaces the handler. The subscription ends when the actor exits, when it
    /// [`unsubscribe`](Self::unsubscribe)s, or when `handler` panics.
    ///
    /// `handler` runs in the publisher, so it should only send: the actor handles the
    /// event in its own time, and a crash there does not reach the publisher or the
    /// other subscribers.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NoProc`] if `actor` has exited.
    ///
    /// # Examples
    ///
    /// ```
    /// use beam_runtime::prelude::*;
    ///
    /// #[derive(Clone)]
    /// struct Order {
    ///     cents: u64,
    /// }
    ///
    /// struct Ledger {
    ///     total: u64,
    /// }
    ///
    /// #[actor]
    /// impl Ledger {
    ///     #[cast]
    ///     fn record(&mut self, order: Order) {
    ///         self.total += order.cents;
    ///     }
    ///
    ///     #[call]
    ///     fn total(&self) -> u64 {
    ///         self.total
    ///     }
    /// }
    ///
    /// beam_runtime::names! {
    ///     /// Every order placed.
    ///     ORDERS: Topic<Order> = "orders";
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// let system = ActorSystem::new();
    /// let ledger = system.spawn::<Ledger>(Ledger { total: 0 }).await?;
    /// system.subscribe(&ORDERS, &ledger, |ledger, order| ledger.record(order))?;
    ///
    /// system.publish(&ORDERS, Order { cents: 250 });
    /// system.publish(&ORDERS, Order { cents: 100 });
    /// assert_eq!(ledger.total().await?, 350);
    /// # system.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn subscribe<E, A>(
        &self,
        topic: &Topic<E>,
        actor: &ActorRef<A>,
        handler: impl Fn(&ActorRef<A>, E) -> Result<(), SendError> + Send + Sync + 'static,
    ) -> Result<(), RegistryError>
    where
        E: Send + 'static,
        A: Actor,
    {
        let id = actor.id();
        let target = actor.clone();
        let deliver: Deliver<E> = Arc::new(move |event| handler(&target, event));
        // Declared after `deliver`, so dropped first: no user code runs under the lock.
        let mut table = self.table();
        if let Some(set) = table.set_mut::<Subscribers<E>>(&topic.key) {
            if let Some(at) = set.position(id) {
                still_held(actor.shared())?;
                let old = std::mem::replace(&mut set.list_mut()[at].deliver, deliver);
                drop(table);
                discard(old);
                return Ok(());
            }
        }
        record(
            actor.shared(),
            Registration::Set(TypeId::of::<Subscribers<E>>(), topic.key.clone()),
        )?;
        let set = table.set_or_default::<Subscribers<E>>(&topic.key);
        set.list_mut().push(Subscriber {
            actor: actor.shared().clone(),
            deliver,
        });
        Ok(())
    }

    /// Ends `actor`'s subscription to `topic`; `false` if it had none.
    pub fn unsubscribe<E, A>(&self, topic: &Topic<E>, actor: &ActorRef<A>) -> bool
    where
        E: 'static,
        A: Actor,
    {
        self.drop_subscriber(topic, &**actor.shared(), None)
    }

    /// The ids of the actors subscribed to `topic` now, in the order they subscribed.
    #[must_use]
    pub fn subscribers<E: 'static>(&self, topic: &Topic<E>) -> Vec<ActorId> {
        self.table()
            .set::<Subscribers<E>>(&topic.key)
            .map(|set| set.list.iter().map(|s| s.actor.id()).collect())
            .unwrap_or_default()
    }

    /// Passes `event` to every subscriber of `topic` (a clone each, the event itself to
    /// the last), fire-and-forget, and counts how it went. A subscriber whose handler
    /// panics is unsubscribed and counted in [`Fanout::panicked`]; the others still get
    /// the event.
    pub fn publish<E>(&self, topic: &Topic<E>, event: E) -> Fanout
    where
        E: Clone + Send + 'static,
    {
        let Some(subscribers) = self
            .table()
            .set::<Subscribers<E>>(&topic.key)
            .map(|set| set.list.clone())
        else {
            return Fanout::default();
        };
        let mut fanout = Fanout::default();
        let Some((last, rest)) = subscribers.split_last() else {
            return fanout;
        };
        for subscriber in rest {
            self.deliver(topic, subscriber, event.clone(), &mut fanout);
        }
        self.deliver(topic, last, event, &mut fanout);
        fanout
    }

    /// Passes `event` to one subscriber; unsubscribes it if its handler panics.
    fn deliver<E: 'static>(
        &self,
        topic: &Topic<E>,
        subscriber: &Subscriber<E>,
        event: E,
        fanout: &mut Fanout,
    ) {
        match catch_unwind(AssertUnwindSafe(|| (subscriber.deliver)(event))) {
            Ok(sent) => fanout.count(sent),
            Err(_) => {
                fanout.panicked += 1;
                // Only this handler: the actor may have subscribed again meanwhile.
                self.drop_subscriber(topic, &*subscriber.actor, Some(&subscriber.deliver));
            }
        }
    }

    /// Ends the subscription of `actor` to `topic` (if `only` is given, only while its
    /// handler is that one); whether it ended one.
    fn drop_subscriber<E: 'static>(
        &self,
        topic: &Topic<E>,
        actor: &dyn Process,
        only: Option<&Deliver<E>>,
    ) -> bool {
        let ty = TypeId::of::<Subscribers<E>>();
        let mut table = self.table();
        if let Some(only) = only {
            let current = table.set::<Subscribers<E>>(&topic.key).and_then(|set| {
                let at = set.position(actor.id())?;
                Some(Arc::ptr_eq(&set.list[at].deliver, only))
            });
            if current != Some(true) {
                return false;
            }
        }
        let Some(removed) = table.remove_member(ty, &topic.key, actor.id()) else {
            return false;
        };
        // Under the lock, so that a subscription made meanwhile keeps its record.
        actor.forget(&Registration::Set(ty, topic.key.clone()));
        drop(table);
        discard(removed);
        true
    }
}

/// Drops a handler let go of by the table, once unlocked: the `Drop` of what it captured is
/// user code, and a panic there goes no further.
fn discard<T>(handler: T) {
    let _ = catch_unwind(AssertUnwindSafe(move || drop(handler)));
}
