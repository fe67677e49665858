//! The registry: typed keys under which actors are found again. One mechanism, two modes:
//!
//! - **unique** keys, [`Name<A>`]: one actor of type `A` per name, as Erlang's registered
//!   names ([`ActorSystem::lookup`], [`ActorSystem::register`], or
//!   [`SpawnBuilder::name`](crate::SpawnBuilder::name) at spawn);
//! - **duplicate** keys, where any number of actors register under the same key:
//!   - [`Group<A>`], a process group of actors of type `A`, as Erlang's `pg`:
//!     [`join`](ActorSystem::join), [`leave`](ActorSystem::leave),
//!     [`members`](ActorSystem::members), [`broadcast`](ActorSystem::broadcast) and
//!     [`dispatch`](ActorSystem::dispatch);
//!   - [`Topic<E>`], an event bus for events of type `E`, as `gen_event`: actors of any
//!     type [`subscribe`](ActorSystem::subscribe) with the handler that receives `E`,
//!     and [`publish`](ActorSystem::publish) is fire-and-forget.
//!
//! Declare fixed keys with [`names!`](crate::names) (each mode has its own namespace, and
//! duplicates do not compile), or build them at run time (`Name::new(format!(..))`). Every
//! registration is removed when its actor exits, before anyone waiting for the exit wakes
//! (and before its links and monitors hear of it), so a restarted actor can take its name
//! back at once. Registering an actor that has exited fails with
//! [`RegistryError::NoProc`].
//!
//! **Groups or topics?** A group holds actors of one type and hands you their typed refs:
//! any of their calls and casts, to one member or all (a pool of workers, the sessions
//! in a room). A topic carries one event type to actors of any types, each of which chose
//! at subscription how the event reaches it (usually one of its casts): the publisher
//! knows nothing of the subscribers (audit logs, metrics, cache invalidation). A key is
//! typed: `Group::<Worker>::new("jobs")` and `Group::<Auditor>::new("jobs")` are two
//! groups, as `Topic::<Order>::new("orders")` and `Topic::<Refund>::new("orders")` are two
//! topics.
//!
//! # Examples
//!
//! ```
//! use beam_runtime::prelude::*;
//!
//! struct Room {
//!     topic: String,
//! }
//!
//! #[actor]
//! impl Room {
//!     #[call]
//!     fn topic(&self) -> String {
//!         self.topic.clone()
//!     }
//! }
//!
//! struct Lobby;
//!
//! #[actor]
//! impl Lobby {}
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), beam_runtime::Error> {
//! let system = ActorSystem::new();
//! let id = 7;
//! let name = Name::<Room>::new(format!("room:{id}"));
//! system.spawn::<Room>(Room { topic: "rust".into() }).name(&name).await?;
//!
//! let room = system.lookup(&name)?;
//! assert_eq!(room.topic().await?, "rust");
//!
//! // The same key with another type is an error value, not a panic.
//! let wrong = system.lookup(&Name::<Lobby>::new("room:7"));
//! assert!(matches!(wrong, Err(LookupError::WrongType { .. })));
//!
//! // Duplicate keys: every room in one group.
//! let rooms = Group::<Room>::new("rooms");
//! system.join(&rooms, &room)?;
//! let other = system.spawn::<Room>(Room { topic: "otp".into() }).await?;
//! system.join(&rooms, &other)?;
//! assert_eq!(system.members(&rooms).len(), 2);
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod group;
mod table;
mod topic;

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use crate::actor::{Actor, ActorRef, Shared};
use crate::error::{LookupError, RegistryError};
use crate::system::ActorSystem;

pub(crate) use table::{NameEntry, Registration, Table};

/// Defines a typed registry key: its constructors, accessors and the traits that look only
/// at its text.
macro_rules! key_type {
    ($(#[$doc:meta])* $key:ident<$param:ident>, $phantom:ty, $label:literal) => {
        $(#[$doc])*
        pub struct $key<$param> {
            key: Cow<'static, str>,
            marker: PhantomData<$phantom>,
        }

        impl<$param> $key<$param> {
            /// A key known at compile time (what [`names!`](crate::names) expands to).
            #[must_use]
            pub const fn from_static(key: &'static str) -> Self {
                Self {
                    key: Cow::Borrowed(key),
                    marker: PhantomData,
                }
            }

            /// A key made at run time, such as `format!("room:{id}")`.
            #[must_use]
            pub fn new(key: impl Into<Cow<'static, str>>) -> Self {
                Self {
                    key: key.into(),
                    marker: PhantomData,
                }
            }

            /// The key's text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.key
            }
        }

        impl<$param> Clone for $key<$param> {
            fn clone(&self) -> Self {
                Self {
                    key: self.key.clone(),
                    marker: PhantomData,
                }
            }
        }

        impl<$param> PartialEq for $key<$param> {
            fn eq(&self, other: &Self) -> bool {
                self.key == other.key
            }
        }

        impl<$param> Eq for $key<$param> {}

        impl<$param> Hash for $key<$param> {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.key.hash(state);
            }
        }

        impl<$param> fmt::Debug for $key<$param> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    concat!($label, "<{}>({:?})"),
                    crate::actor::actor_ref::short_type_name::<$param>(),
                    self.key
                )
            }
        }

        impl<$param> fmt::Display for $key<$param> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.key)
            }
        }
    };
}

key_type! {
    /// The unique name of an actor of type `A`.
    ///
    /// Declare fixed names with [`names!`](crate::names), which makes them constants and
    /// rejects duplicates at compile time; build run-time names with [`Name::new`].
    Name<A>, fn() -> A, "Name"
}

key_type! {
    /// A process group of actors of type `A`: a duplicate key any number of them join
    /// (see the [module documentation](self)).
    ///
    /// Declare fixed groups in [`names!`](crate::names) as `GROUP: Group<Worker> = "text";`
    /// or build them at run time with [`Group::new`].
    Group<A>, fn() -> A, "Group"
}

key_type! {
    /// A topic that carries events of type `E` to the actors subscribed to it (see the
    /// [module documentation](self)).
    ///
    /// Declare fixed topics in [`names!`](crate::names) as `TOPIC: Topic<Event> = "text";`
    /// or build them at run time with [`Topic::new`].
    Topic<E>, fn(E), "Topic"
}

/// What can name an actor of type [`Actor`](Self::Actor): a [`Name<A>`] or a reference to
/// one. Lets `spawn(..).name(COUNTER)` and `whereis(&name)` take either.
pub trait IntoName {
    /// The actor type the name is for.
    type Actor;
    /// The name's text.
    fn key(&self) -> &str;
    /// The name's text, owned.
    fn into_key(self) -> Cow<'static, str>;
}

impl<A> IntoName for Name<A> {
    type Actor = A;
    fn key(&self) -> &str {
        &self.key
    }
    fn into_key(self) -> Cow<'static, str> {
        self.key
    }
}

impl<A> IntoName for &Name<A> {
    type Actor = A;
    fn key(&self) -> &str {
        &self.key
    }
    fn into_key(self) -> Cow<'static, str> {
        self.key.clone()
    }
}

/// How a fan-out went: a [`broadcast`](ActorSystem::broadcast) to a group or a
/// [`publish`](ActorSystem::publish) to a topic. Sends are fire-and-forget: a member whose
/// mailbox is full misses the message, one that has just exited is skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Fanout {
    /// Members the message was queued for.
    pub delivered: usize,
    /// Members whose bounded mailbox was full ([`SendError::Full`](crate::SendError::Full)).
    pub full: usize,
    /// Members that had exited ([`SendError::NoProc`](crate::SendError::NoProc)).
    pub gone: usize,
    /// Topic subscribers whose delivery handler panicked; they are unsubscribed.
    pub panicked: usize,
}

impl Fanout {
    /// How many members were tried.
    #[must_use]
    pub fn attempted(&self) -> usize {
        self.delivered + self.full + self.gone + self.panicked
    }

    /// Whether every member tried got the message.
    #[must_use]
    pub fn all_delivered(&self) -> bool {
        self.delivered == self.attempted()
    }

    fn count(&mut self, sent: Result<(), crate::SendError>) {
        match sent {
            Ok(()) => self.delivered += 1,
            Err(crate::SendError::Full | crate::SendError::Timeout) => self.full += 1,
            Err(crate::SendError::NoProc) => self.gone += 1,
        }
    }
}

/// Records `registration` on `actor` (atomically with its exit: `NoProc` once it has
/// exited). Call with the table locked, so that the exit's purge comes after.
fn record<A: Actor>(actor: &Shared<A>, registration: Registration) -> Result<(), RegistryError> {
    actor
        .mailbox
        .watch(|w| w.registry.push(registration))
        .ok_or(RegistryError::NoProc)
}

/// For a registration `actor` holds already: `Ok` while it runs, `NoProc` once it has
/// exited (its purge is then on the way).
fn still_held<A: Actor>(actor: &Shared<A>) -> Result<(), RegistryError> {
    match actor.mailbox.is_closed() {
        true => Err(RegistryError::NoProc),
        false => Ok(()),
    }
}

impl ActorSystem {
    /// Removes everything a departing actor held.
    pub(crate) fn purge(&self, id: crate::ActorId, registrations: Vec<Registration>) {
        if !registrations.is_empty() {
            let garbage = self.table().purge(id, registrations);
            // A topic handler's captures may run user code as they drop: unlocked.
            let _ = crate::actor::run::drop_remains(id, garbage);
        }
    }

    /// The live actor registered under `name`, if there is one of the name's type.
    #[must_use]
    pub fn whereis<N: IntoName>(&self, name: N) -> Option<ActorRef<N::Actor>>
    where
        N::Actor: Actor,
    {
        self.lookup(name).ok()
    }

    /// The live actor registered under `name`; an error says whether there is none or one of
    /// another type.
    pub fn lookup<N: IntoName>(&self, name: N) -> Result<ActorRef<N::Actor>, LookupError>
    where
        N::Actor: Actor,
    {
        let key = name.key();
        let table = self.table();
        let entry = table
            .names
            .get(key)
            .ok_or_else(|| LookupError::NotFound(key.to_owned()))?;
        match entry
            .process
            .clone()
            .into_any()
            .downcast::<Shared<N::Actor>>()
        {
            Ok(shared) => Ok(ActorRef::from_shared(shared)),
            Err(_) => Err(LookupError::WrongType {
                name: key.to_owned(),
                expected: std::any::type_name::<N::Actor>(),
                found: entry.type_name,
            }),
        }
    }

    /// The names registered now, in no particular order.
    #[must_use]
    pub fn registered(&self) -> Vec<String> {
        self.table().names.keys().map(|k| k.to_string()).collect()
    }

    /// Registers a running actor under `name` until it exits or
    /// [`unregister`](Self::unregister) removes it; registering it again under the same
    /// name does nothing. An actor may hold several names.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NameTaken`] if another live actor holds the name,
    /// [`RegistryError::NoProc`] if `actor` has exited.
    ///
    /// # Examples
    ///
    /// ```
    /// use beam_runtime::prelude::*;
    ///
    /// struct Cache;
    ///
    /// #[actor]
    /// impl Cache {}
    ///
    /// beam_runtime::names! {
    ///     CACHE: Cache = "cache";
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// let system = ActorSystem::new();
    /// let cache = system.spawn::<Cache>(Cache).await?;
    /// system.register(CACHE, &cache)?;
    /// assert_eq!(system.whereis(CACHE), Some(cache.clone()));
    /// assert!(system.unregister(CACHE));
    /// assert_eq!(system.whereis(CACHE), None);
    /// # system.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn register<N>(&self, name: N, actor: &ActorRef<N::Actor>) -> Result<(), RegistryError>
    where
        N: IntoName,
        N::Actor: Actor,
    {
        self.register_name(name.into_key(), actor.shared().clone())
    }

    /// Registers `shared` under `key` (by spawn, or by [`register`](Self::register)).
    pub(crate) fn register_name<A: Actor>(
        &self,
        key: Cow<'static, str>,
        shared: Arc<Shared<A>>,
    ) -> Result<(), RegistryError> {
        let mut table = self.table();
        if let Some(holder) = table.names.get(&key) {
            if holder.process.id() != shared.id {
                return Err(RegistryError::NameTaken(key.into_owned()));
            }
            return still_held(&shared);
        }
        record(&shared, Registration::Name(key.clone()))?;
        table.names.insert(
            key,
            NameEntry {
                process: shared,
                type_name: std::any::type_name::<A>(),
            },
        );
        Ok(())
    }

    /// Removes the name's registration, whichever actor of the name's type holds it;
    /// `false` if none does. The actor keeps running.
    pub fn unregister<N>(&self, name: N) -> bool
    where
        N: IntoName,
        N::Actor: Actor,
    {
        let key = name.key();
        let mut table = self.table();
        let Some(entry) = table.names.get(key) else {
            return false;
        };
        if !entry.process.clone().into_any().is::<Shared<N::Actor>>() {
            return false;
        }
        let Some(entry) = table.names.remove(key) else {
            return false;
        };
        // Under the lock, so that a registration made meanwhile keeps its record.
        entry
            .process
            .forget(&Registration::Name(Cow::Owned(key.to_owned())));
        drop(table);
        drop(entry);
        true
    }
}
