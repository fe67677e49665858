//! The event bus: typed topics, subscriptions with the handler that receives the event,
//! fire-and-forget publishing, and subscribers that stop, crash or fail to take the event.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use beam_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq)]
struct Order {
    id: u32,
    cents: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct Refund {
    id: u32,
}

/// Keeps every order it is told of.
struct Ledger {
    orders: Vec<u32>,
}

#[actor]
impl Ledger {
    #[cast]
    fn record(&mut self, order: Order) {
        self.orders.push(order.id);
    }

    #[call]
    fn orders(&self) -> Vec<u32> {
        self.orders.clone()
    }
}

/// Another actor type on the same topic; crashes on an order of 0 cents.
struct Mailer {
    sent: u32,
}

#[actor(mailbox = 2)]
impl Mailer {
    #[cast]
    fn confirm(&mut self, order_id: u32, cents: u64) {
        assert!(cents > 0, "no mail for order {order_id}");
        self.sent += 1;
    }

    #[call]
    fn sent(&self) -> u32 {
        self.sent
    }
}

beam_runtime::names! {
    /// Orders placed.
    ORDERS: Topic<Order> = "orders";
    /// Refunds, under the same text: another topic.
    REFUNDS: Topic<Refund> = "orders";
}

fn order(id: u32, cents: u64) -> Order {
    Order { id, cents }
}

async fn ledger(system: &ActorSystem) -> ActorRef<Ledger> {
    let ledger = system
        .spawn::<Ledger>(Ledger { orders: Vec::new() })
        .await
        .unwrap();
    system
        .subscribe(&ORDERS, &ledger, |l, order| l.record(order))
        .unwrap();
    ledger
}

async fn mailer(system: &ActorSystem) -> ActorRef<Mailer> {
    let mailer = system.spawn::<Mailer>(Mailer { sent: 0 }).await.unwrap();
    system
        .subscribe(&ORDERS, &mailer, |m, order| {
            m.confirm(order.id, order.cents)
        })
        .unwrap();
    mailer
}

#[tokio::test]
async fn every_subscriber_of_any_type_gets_every_event_in_order() {
    let system = ActorSystem::new();
    assert_eq!(
        system.publish(&ORDERS, order(0, 1)),
        beam_runtime::Fanout::default()
    );
    let a = ledger(&system).await;
    let b = ledger(&system).await;
    let m = mailer(&system).await;
    assert_eq!(system.subscribers(&ORDERS), [a.id(), b.id(), m.id()]);
    assert!(system.subscribers(&REFUNDS).is_empty());
    assert_eq!(system.publish(&REFUNDS, Refund { id: 1 }).attempted(), 0);
    for id in 1..=2 {
        let sent = system.publish(&ORDERS, order(id, 100));
        assert_eq!(sent.delivered, 3);
    }
    assert_eq!(a.orders().await.unwrap(), [1, 2]);
    assert_eq!(b.orders().await.unwrap(), [1, 2]);
    assert_eq!(m.sent().await.unwrap(), 2);
    system.shutdown().await;
}

#[tokio::test]
async fn subscribing_again_replaces_the_handler_and_unsubscribe_ends_it() {
    let system = ActorSystem::new();
    let a = ledger(&system).await;
    // Replaced: each event arrives once, through the new handler.
    system
        .subscribe(&ORDERS, &a, |l, order| {
            l.record(Order {
                id: order.id * 10,
                ..order
            })
        })
        .unwrap();
    assert_eq!(system.subscribers(&ORDERS), [a.id()]);
    system.publish(&ORDERS, order(1, 5));
    assert_eq!(a.orders().await.unwrap(), [10]);

    assert!(system.unsubscribe(&ORDERS, &a));
    assert!(!system.unsubscribe(&ORDERS, &a));
    assert_eq!(system.publish(&ORDERS, order(2, 5)).attempted(), 0);
    assert_eq!(a.orders().await.unwrap(), [10]);
    system.shutdown().await;
}

#[tokio::test]
async fn a_subscriber_that_stops_is_dropped() {
    let system = ActorSystem::new();
    let a = ledger(&system).await;
    let b = ledger(&system).await;
    system.stop(&a).await;
    assert_eq!(system.subscribers(&ORDERS), [b.id()]);
    assert_eq!(system.publish(&ORDERS, order(1, 5)).delivered, 1);
    assert_eq!(
        system.subscribe(&ORDERS, &a, |l, o| l.record(o)),
        Err(RegistryError::NoProc)
    );
    assert_eq!(b.orders().await.unwrap(), [1]);
    system.shutdown().await;
}

#[tokio::test]
async fn a_crashing_subscriber_does_not_affect_the_others() {
    let system = ActorSystem::new();
    let first = ledger(&system).await;
    let m = mailer(&system).await;
    let last = ledger(&system).await;
    // The mailer panics on this one, in its own actor.
    assert_eq!(system.publish(&ORDERS, order(1, 0)).delivered, 3);
    assert!(matches!(m.wait_for_exit().await, ExitReason::Panic(_)));
    assert_eq!(system.subscribers(&ORDERS), [first.id(), last.id()]);
    assert_eq!(system.publish(&ORDERS, order(2, 5)).delivered, 2);
    assert_eq!(first.orders().await.unwrap(), [1, 2]);
    assert_eq!(last.orders().await.unwrap(), [1, 2]);
    system.shutdown().await;
}

#[tokio::test]
async fn a_panicking_delivery_handler_is_unsubscribed_and_the_publisher_unharmed() {
    let system = ActorSystem::new();
    let first = ledger(&system).await;
    let fragile = system
        .spawn::<Ledger>(Ledger { orders: Vec::new() })
        .await
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    system
        .subscribe(&ORDERS, &fragile, move |l, order| {
            counted.fetch_add(1, Ordering::SeqCst);
            assert!(order.id != 2, "cannot take order 2");
            l.record(order)
        })
        .unwrap();
    let last = ledger(&system).await;

    assert_eq!(system.publish(&ORDERS, order(1, 5)).delivered, 3);
    let sent = system.publish(&ORDERS, order(2, 5));
    assert_eq!((sent.delivered, sent.panicked), (2, 1));
    assert_eq!(system.subscribers(&ORDERS), [first.id(), last.id()]);
    assert_eq!(system.publish(&ORDERS, order(3, 5)).delivered, 2);
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // The subscriber's actor itself is fine, and may subscribe again.
    assert_eq!(fragile.orders().await.unwrap(), [1]);
    system
        .subscribe(&ORDERS, &fragile, |l, o| l.record(o))
        .unwrap();
    assert_eq!(system.publish(&ORDERS, order(4, 5)).delivered, 3);
    assert_eq!(fragile.orders().await.unwrap(), [1, 4]);
    assert_eq!(first.orders().await.unwrap(), [1, 2, 3, 4]);
    system.shutdown().await;
}

#[tokio::test]
async fn a_full_subscriber_misses_the_event_and_is_counted() {
    let system = ActorSystem::new();
    let a = ledger(&system).await;
    let m = mailer(&system).await; // a mailbox of 2, not read until we yield
    let mut full = 0;
    for id in 1..=4 {
        full += system.publish(&ORDERS, order(id, 5)).full;
    }
    assert_eq!(full, 2);
    assert_eq!(m.sent().await.unwrap(), 2);
    assert_eq!(a.orders().await.unwrap(), [1, 2, 3, 4]);
    system.shutdown().await;
}

/// Uses the registry from its `Drop`: a handler capturing one must be dropped outside the
/// registry's lock, whether it is replaced, unsubscribed or purged by an exit.
struct TouchesRegistry(ActorSystem, Arc<AtomicUsize>);

impl Drop for TouchesRegistry {
    fn drop(&mut self) {
        let _ = self.0.subscribers(&ORDERS);
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_handler_is_dropped_outside_the_registry_lock() {
    let system = ActorSystem::new();
    let dropped = Arc::new(AtomicUsize::new(0));
    let handler = |system: &ActorSystem, dropped: &Arc<AtomicUsize>| {
        let guard = TouchesRegistry(system.clone(), dropped.clone());
        move |l: &ActorRef<Ledger>, order: Order| {
            let _ = &guard;
            l.record(order)
        }
    };
    let a = ledger(&system).await;
    // Replaced, unsubscribed, then purged by the exit.
    system
        .subscribe(&ORDERS, &a, handler(&system, &dropped))
        .unwrap();
    system
        .subscribe(&ORDERS, &a, handler(&system, &dropped))
        .unwrap();
    assert!(system.unsubscribe(&ORDERS, &a));
    system
        .subscribe(&ORDERS, &a, handler(&system, &dropped))
        .unwrap();
    system.stop(&a).await;
    assert_eq!(dropped.load(Ordering::SeqCst), 3);
    assert!(system.subscribers(&ORDERS).is_empty());
    system.shutdown().await;
}

#[tokio::test]
async fn a_panicking_handler_replaced_meanwhile_leaves_the_new_subscription() {
    let system = ActorSystem::new();
    let a = ledger(&system).await;
    let inner = system.clone();
    system
        .subscribe(&ORDERS, &a, move |l, order| {
            // Subscribes again with a working handler, then panics.
            inner.subscribe(&ORDERS, l, |l, o| l.record(o)).unwrap();
            panic!("the old handler fails on order {}", order.id);
        })
        .unwrap();
    let sent = system.publish(&ORDERS, order(1, 5));
    assert_eq!(sent.panicked, 1);
    assert_eq!(system.subscribers(&ORDERS), [a.id()]);
    assert_eq!(system.publish(&ORDERS, order(2, 5)).delivered, 1);
    assert_eq!(a.orders().await.unwrap(), [2]);
    system.shutdown().await;
}
