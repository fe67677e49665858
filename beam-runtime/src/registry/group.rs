//! Process groups: [`Group<A>`] keys with any number of members of type `A`.

use std::any::TypeId;

use super::table::{self, Member, Registration};
use super::{Fanout, Group, record, still_held};
use crate::actor::{Actor, ActorId, ActorRef, Process};
use crate::error::{RegistryError, SendError};
use crate::system::ActorSystem;

type Members<A> = table::Members<ActorRef<A>>;

impl<A: Actor> Member for ActorRef<A> {
    fn id(&self) -> ActorId {
        ActorRef::id(self)
    }
}

impl ActorSystem {
    /// Adds `actor` to `group`, until it exits or [`leave`](Self::leave)s; joining a
    /// group it is in already does nothing. An actor may be in any number of groups.
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
    /// struct Worker {
    ///     done: u32,
    /// }
    ///
    /// #[actor]
    /// impl Worker {
    ///     #[cast]
    ///     fn work(&mut self, _job: String) {
    ///         self.done += 1;
    ///     }
    ///
    ///     #[call]
    ///     fn done(&self) -> u32 {
    ///         self.done
    ///     }
    /// }
    ///
    /// beam_runtime::names! {
    ///     /// Every worker.
    ///     WORKERS: Group<Worker> = "workers";
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), beam_runtime::Error> {
    /// let system = ActorSystem::new();
    /// for _ in 0..3 {
    ///     let worker = system.spawn::<Worker>(Worker { done: 0 }).await?;
    ///     system.join(&WORKERS, &worker)?;
    /// }
    /// let job = String::from("index");
    /// let sent = system.broadcast(&WORKERS, |w| w.work(job.clone()));
    /// assert_eq!(sent.delivered, 3);
    /// for worker in system.members(&WORKERS) {
    ///     assert_eq!(worker.done().await?, 1);
    /// }
    /// # system.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn join<A: Actor>(
        &self,
        group: &Group<A>,
        actor: &ActorRef<A>,
    ) -> Result<(), RegistryError> {
        let mut table = self.table();
        if table
            .set::<Members<A>>(&group.key)
            .is_some_and(|set| set.position(actor.id()).is_some())
        {
            return still_held(actor.shared());
        }
        record(
            actor.shared(),
            Registration::Set(TypeId::of::<Members<A>>(), group.key.clone()),
        )?;
        let members = table.set_or_default::<Members<A>>(&group.key);
        members.list_mut().push(actor.clone());
        Ok(())
    }

    /// Removes `actor` from `group`; `false` if it was not a member.
    pub fn leave<A: Actor>(&self, group: &Group<A>, actor: &ActorRef<A>) -> bool {
        let ty = TypeId::of::<Members<A>>();
        let mut table = self.table();
        let Some(removed) = table.remove_member(ty, &group.key, actor.id()) else {
            return false;
        };
        // Under the lock, so that a join made meanwhile keeps its record.
        actor
            .shared()
            .forget(&Registration::Set(ty, group.key.clone()));
        drop(table);
        drop(removed);
        true
    }

    /// The members of `group` now, in the order they joined (none for an unknown group).
    #[must_use]
    pub fn members<A: Actor>(&self, group: &Group<A>) -> Vec<ActorRef<A>> {
        self.dispatch(group, <[ActorRef<A>]>::to_vec)
    }

    /// Calls `f` with the members of `group` now (Elixir's `Registry.dispatch`): a
    /// snapshot taken for the price of one reference count, outside the registry's lock,
    /// so `f` may use the registry and the members freely.
    pub fn dispatch<A: Actor, R>(
        &self,
        group: &Group<A>,
        f: impl FnOnce(&[ActorRef<A>]) -> R,
    ) -> R {
        let snapshot = self
            .table()
            .set::<Members<A>>(&group.key)
            .map(|set| set.list.clone());
        f(snapshot.as_deref().map_or(&[], Vec::as_slice))
    }

    /// Sends a message to every member of `group` with `send` (usually one of their
    /// casts), and counts how it went. Fire-and-forget: a member whose bounded mailbox is
    /// full misses it.
    pub fn broadcast<A: Actor>(
        &self,
        group: &Group<A>,
        mut send: impl FnMut(&ActorRef<A>) -> Result<(), SendError>,
    ) -> Fanout {
        self.dispatch(group, |members| {
            let mut fanout = Fanout::default();
            for member in members {
                fanout.count(send(member));
            }
            fanout
        })
    }
}
