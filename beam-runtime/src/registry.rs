//! Typed names: [`Name<A>`] registers an actor of type `A` and finds it again, checked by
//! the compiler for names declared with [`names!`](crate::names) and at lookup for names
//! built at run time.
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
//! # system.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use crate::actor::ActorId;

/// The name of an actor of type `A`.
///
/// Declare fixed names with [`names!`](crate::names), which makes them constants and
/// rejects duplicates at compile time; build run-time names with [`Name::new`].
pub struct Name<A> {
    key: Cow<'static, str>,
    actor: PhantomData<fn() -> A>,
}

impl<A> Name<A> {
    /// A name known at compile time (what `names!` expands to).
    #[must_use]
    pub const fn from_static(key: &'static str) -> Self {
        Self {
            key: Cow::Borrowed(key),
            actor: PhantomData,
        }
    }

    /// A name made at run time, such as `format!("room:{id}")`.
    #[must_use]
    pub fn new(key: impl Into<Cow<'static, str>>) -> Self {
        Self {
            key: key.into(),
            actor: PhantomData,
        }
    }

    /// The name's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.key
    }
}

impl<A> Clone for Name<A> {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            actor: PhantomData,
        }
    }
}

impl<A> PartialEq for Name<A> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<A> Eq for Name<A> {}

impl<A> Hash for Name<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl<A> fmt::Debug for Name<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Name<{}>({:?})",
            crate::actor::actor_ref::short_type_name::<A>(),
            self.key
        )
    }
}

impl<A> fmt::Display for Name<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
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

/// One registered actor, with its type erased.
pub(crate) struct Entry {
    pub(crate) id: ActorId,
    pub(crate) type_name: &'static str,
    pub(crate) shared: Arc<dyn Any + Send + Sync>,
}
