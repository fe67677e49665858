//! Code generation, one file per generated item: the message enum, the typed methods of
//! `ActorRef`, and the `names!` constants.

pub(crate) mod actor_ref;
pub(crate) mod message;
pub(crate) mod registry;
