//! Process groups (duplicate registry keys): join, leave, members, dispatch, broadcast, and
//! the purge of members that exit, whichever way they end.

mod common;

use beam_runtime::prelude::*;
use common::{ENDS, End, end_with};

struct Worker {
    jobs: Vec<u32>,
}

#[actor]
impl Worker {
    #[cast]
    fn work(&mut self, job: u32) {
        self.jobs.push(job);
    }

    #[call]
    fn jobs(&self) -> Vec<u32> {
        self.jobs.clone()
    }

    #[cast(crash_on_err)]
    fn end(&mut self, how: End, ctx: &mut Ctx<Self>) -> Result<(), String> {
        end_with(how, ctx, "worker")
    }
}

/// A worker with a one-message mailbox that never gets to read it.
struct Stuck;

#[actor(mailbox = 1)]
impl Stuck {
    #[init]
    async fn init() -> Self {
        Stuck
    }

    #[cast]
    fn work(&mut self, _job: u32) {}

    #[handle_continue]
    async fn hang(&mut self, _unit: ()) {
        std::future::pending::<()>().await;
    }

    #[cast]
    fn hang_now(&mut self, ctx: &mut Ctx<Self>) {
        ctx.continue_with(());
    }
}

struct Auditor;

#[actor]
impl Auditor {}

beam_runtime::names! {
    /// Every worker.
    WORKERS: Group<Worker> = "workers";
    /// The urgent ones.
    URGENT: Group<Worker> = "urgent";
    /// Auditors under the same text as the workers: another group.
    AUDITORS: Group<Auditor> = "workers";
    /// A name may share a group's text too.
    LEAD: Worker = "workers";
}

async fn worker(system: &ActorSystem) -> ActorRef<Worker> {
    system
        .spawn::<Worker>(Worker { jobs: Vec::new() })
        .await
        .unwrap()
}

fn groups_and_topics(system: &ActorSystem) -> String {
    let debug = format!("{system:?}");
    let at = debug
        .find("groups_and_topics: ")
        .expect("the field is shown");
    debug[at..]
        .split([',', ' ', '}'])
        .nth(1)
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn members_are_listed_in_join_order_and_joining_twice_changes_nothing() {
    let system = ActorSystem::new();
    assert!(system.members(&WORKERS).is_empty());
    let a = worker(&system).await;
    let b = worker(&system).await;
    system.join(&WORKERS, &b).unwrap();
    system.join(&WORKERS, &a).unwrap();
    system.join(&WORKERS, &b).unwrap();
    assert_eq!(system.members(&WORKERS), [b.clone(), a.clone()]);

    // Many groups at once, and groups of other types under the same text.
    system.join(&URGENT, &a).unwrap();
    assert_eq!(system.members(&URGENT), std::slice::from_ref(&a));
    assert!(system.members(&AUDITORS).is_empty());
    let auditor = system.spawn::<Auditor>(Auditor).await.unwrap();
    system.join(&AUDITORS, &auditor).unwrap();
    assert_eq!(system.members(&AUDITORS), [auditor]);
    assert_eq!(system.members(&WORKERS).len(), 2);
    system.register(LEAD, &a).unwrap();
    assert_eq!(system.whereis(LEAD), Some(a.clone()));

    // Leaving.
    assert!(system.leave(&WORKERS, &b));
    assert!(!system.leave(&WORKERS, &b));
    assert_eq!(system.members(&WORKERS), std::slice::from_ref(&a));
    assert!(system.leave(&URGENT, &a));
    assert!(system.members(&URGENT).is_empty());
    // A run-time key is the same group as a constant with its text.
    let dynamic = Group::<Worker>::new(String::from("workers"));
    assert_eq!(system.members(&dynamic), [a]);
    assert_eq!(format!("{dynamic:?}"), "Group<Worker>(\"workers\")");
    system.shutdown().await;
    assert_eq!(groups_and_topics(&system), "0");
}

#[tokio::test]
async fn a_member_is_removed_from_all_its_groups_however_it_exits() {
    let system = ActorSystem::new();
    let stays = worker(&system).await;
    system.join(&WORKERS, &stays).unwrap();
    for how in ENDS {
        let member = worker(&system).await;
        system.join(&WORKERS, &member).unwrap();
        system.join(&URGENT, &member).unwrap();
        member.end(how).unwrap();
        let reason = member.wait_for_exit().await;
        let expected = match how {
            End::Normal => matches!(reason, ExitReason::Normal),
            End::Shutdown => matches!(reason, ExitReason::Shutdown),
            End::Killed => matches!(reason, ExitReason::Killed),
            End::Panic => matches!(reason, ExitReason::Panic(_)),
            End::Error => matches!(reason, ExitReason::Error(_)),
        };
        assert!(expected, "{how:?}: {reason}");
        // Gone by the time waiters wake.
        assert_eq!(
            system.members(&WORKERS),
            std::slice::from_ref(&stays),
            "{how:?}"
        );
        assert!(system.members(&URGENT).is_empty(), "{how:?}");
        assert_eq!(system.join(&WORKERS, &member), Err(RegistryError::NoProc));
        assert_eq!(
            system.members(&WORKERS),
            std::slice::from_ref(&stays),
            "{how:?}"
        );
    }
    assert_eq!(groups_and_topics(&system), "1");
    system.stop(&stays).await;
    assert_eq!(groups_and_topics(&system), "0");
}

#[tokio::test]
async fn broadcast_reaches_every_member_and_counts_the_ones_it_missed() {
    let system = ActorSystem::new();
    let workers = [
        worker(&system).await,
        worker(&system).await,
        worker(&system).await,
    ];
    for w in &workers {
        system.join(&WORKERS, w).unwrap();
    }
    for job in 1..=3 {
        let sent = system.broadcast(&WORKERS, |w| w.work(job));
        assert_eq!(sent.delivered, 3);
        assert!(sent.all_delivered());
    }
    for w in &workers {
        assert_eq!(w.jobs().await.unwrap(), [1, 2, 3]);
    }

    // A full bounded mailbox misses the message; the others still get it.
    let stuck_group = Group::<Stuck>::new("stuck");
    let stuck = system.spawn::<Stuck>(()).await.unwrap();
    let idle = system.spawn::<Stuck>(()).await.unwrap();
    system.join(&stuck_group, &stuck).unwrap();
    system.join(&stuck_group, &idle).unwrap();
    stuck.hang_now().unwrap();
    tokio::task::yield_now().await;
    stuck.work(0).unwrap(); // fills its one slot
    let sent = system.broadcast(&stuck_group, |s| s.work(1));
    assert_eq!((sent.delivered, sent.full, sent.gone), (1, 1, 0));
    assert!(!sent.all_delivered());
    assert_eq!(sent.attempted(), 2);

    // A member that exits while a broadcast holds its snapshot is counted as gone.
    let sent = system.dispatch(&WORKERS, |members| {
        members[0].kill();
        let mut gone = 0;
        for m in members {
            if m.work(9) == Err(SendError::NoProc) {
                gone += 1;
            }
        }
        gone
    });
    assert!(sent <= 1);
    stuck.kill(); // it would hold the shutdown until its timeout
    system.shutdown().await;
}

#[tokio::test]
async fn dispatch_runs_outside_the_registry_lock() {
    let system = ActorSystem::new();
    let a = worker(&system).await;
    system.join(&WORKERS, &a).unwrap();
    let seen = system.dispatch(&WORKERS, |members| {
        // Using the registry from inside does not deadlock.
        let b = members[0].clone();
        system.join(&URGENT, &b).unwrap();
        assert!(system.leave(&WORKERS, &b));
        members.len()
    });
    assert_eq!(seen, 1);
    assert!(system.members(&WORKERS).is_empty());
    assert_eq!(system.members(&URGENT), [a]);
    system.shutdown().await;
}

/// Joins racing with exits on two worker threads never leave a dead member behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_racing_an_exit_leaves_no_dead_member() {
    let system = ActorSystem::new();
    let mut joined = 0;
    for _ in 0..500 {
        let member = worker(&system).await;
        let killer = {
            let member = member.clone();
            tokio::spawn(async move { member.kill() })
        };
        if system.join(&WORKERS, &member).is_ok() {
            joined += 1;
        }
        killer.await.unwrap();
        member.wait_for_exit().await;
        assert!(system.members(&WORKERS).is_empty());
    }
    // Some joins won the race: the purge had work to do.
    assert!(joined > 0);
    assert_eq!(groups_and_topics(&system), "0");
    system.shutdown().await;
}
