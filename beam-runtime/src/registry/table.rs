//! The registry's storage: one table per system for names (unique keys) and for groups
//! and topics (duplicate keys), and the record each actor keeps of its own entries so that
//! its exit purges them.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use crate::actor::{ActorId, Process};

/// One entry an actor holds in the registry, kept in its watch state (under its mailbox's
/// lock) so that its exit removes exactly what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Registration {
    /// A unique name.
    Name(Cow<'static, str>),
    /// Membership of a duplicate key: a group or a topic, told apart (with its type) by
    /// the type of the set that holds it.
    Set(TypeId, Cow<'static, str>),
}

/// The actor behind a unique name.
pub(crate) struct NameEntry {
    pub(crate) process: Arc<dyn Process>,
    pub(crate) type_name: &'static str,
}

/// What the table let go of: dropped only once its lock is released, since a topic's
/// handler is user code, and so is the `Drop` of what it captured.
pub(crate) type Garbage = Box<dyn Send>;

/// The members under one duplicate key, for one type (a group's actor type, a topic's
/// event type).
pub(crate) trait Set: Send {
    /// Removes the member `id`, if it is there.
    fn remove(&mut self, id: ActorId) -> Option<Garbage>;
    fn is_empty(&self) -> bool;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// What a duplicate key holds one of per actor.
pub(crate) trait Member: Clone + Send + Sync + 'static {
    fn id(&self) -> ActorId;
}

/// The members under one duplicate key, in the order they registered; copied on write, so
/// that readers take a snapshot for the price of one reference count.
pub(crate) struct Members<T> {
    pub(crate) list: Arc<Vec<T>>,
}

impl<T> Default for Members<T> {
    fn default() -> Self {
        Self {
            list: Arc::default(),
        }
    }
}

impl<T: Member> Members<T> {
    /// Where member `id` is.
    pub(crate) fn position(&self, id: ActorId) -> Option<usize> {
        self.list.iter().position(|m| m.id() == id)
    }

    /// The list to change (copied first if a reader holds it).
    pub(crate) fn list_mut(&mut self) -> &mut Vec<T> {
        Arc::make_mut(&mut self.list)
    }
}

impl<T: Member> Set for Members<T> {
    fn remove(&mut self, id: ActorId) -> Option<Garbage> {
        let at = self.position(id)?;
        Some(Box::new(self.list_mut().remove(at)))
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Every registration of one system.
#[derive(Default)]
pub(crate) struct Table {
    pub(crate) names: HashMap<Cow<'static, str>, NameEntry>,
    /// Keyed by text; each text holds one set per type (usually one in all).
    sets: HashMap<Cow<'static, str>, Vec<Box<dyn Set>>>,
}

impl Table {
    /// The set of type `S` under `key`, if there is one.
    pub(crate) fn set<S: Set + 'static>(&self, key: &str) -> Option<&S> {
        self.sets
            .get(key)?
            .iter()
            .find_map(|set| set.as_any().downcast_ref::<S>())
    }

    /// The set of type `S` under `key`, if there is one.
    pub(crate) fn set_mut<S: Set + 'static>(&mut self, key: &str) -> Option<&mut S> {
        self.sets
            .get_mut(key)?
            .iter_mut()
            .find_map(|set| set.as_any_mut().downcast_mut::<S>())
    }

    /// The set of type `S` under `key`, made empty if there is none.
    #[allow(clippy::ptr_arg)] // cloned into the table, where a static key stays borrowed
    pub(crate) fn set_or_default<S: Set + Default + 'static>(
        &mut self,
        key: &Cow<'static, str>,
    ) -> &mut S {
        if !self.sets.contains_key(&**key) {
            self.sets.insert(key.clone(), Vec::new());
        }
        let sets = self.sets.get_mut(&**key).expect("inserted above");
        let at = match sets.iter().position(|set| set.as_any().is::<S>()) {
            Some(at) => at,
            None => {
                sets.push(Box::new(S::default()));
                sets.len() - 1
            }
        };
        sets[at]
            .as_any_mut()
            .downcast_mut::<S>()
            .expect("found by its type above")
    }

    /// Removes member `id` from the set of type `ty` under `key`, dropping the set (and
    /// the key) once empty; gives back the member, if it was there, to drop unlocked.
    pub(crate) fn remove_member(&mut self, ty: TypeId, key: &str, id: ActorId) -> Option<Garbage> {
        let sets = self.sets.get_mut(key)?;
        let at = sets.iter().position(|set| set.as_any().type_id() == ty)?;
        let removed = sets[at].remove(id);
        if sets[at].is_empty() {
            sets.swap_remove(at);
            if sets.is_empty() {
                self.sets.remove(key);
            }
        }
        removed
    }

    /// Removes the name `key` if actor `id` holds it.
    pub(crate) fn remove_name(&mut self, key: &str, id: ActorId) -> Option<Garbage> {
        if self.names.get(key).is_some_and(|e| e.process.id() == id) {
            let entry = self.names.remove(key)?;
            Some(Box::new(entry.process))
        } else {
            None
        }
    }

    /// Removes what actor `id` held, as it exits; gives back what to drop unlocked.
    pub(crate) fn purge(&mut self, id: ActorId, registrations: Vec<Registration>) -> Vec<Garbage> {
        registrations
            .into_iter()
            .filter_map(|registration| match registration {
                Registration::Name(key) => self.remove_name(&key, id),
                Registration::Set(ty, key) => self.remove_member(ty, &key, id),
            })
            .collect()
    }

    /// How many duplicate keys (groups and topics) are in use.
    pub(crate) fn set_count(&self) -> usize {
        self.sets.values().map(Vec::len).sum()
    }
}
