//! A supervision tree that heals itself, narrated: a shop whose inventory, payment and
//! session actors crash on purpose and come back.
//!
//! ```text
//! shop                 one_for_one, at most 3 restarts in 5 s
//! ├── inventory        a worker, registered as "inventory"
//! ├── payments         rest_for_one, at most 1 restart in 5 s
//! │   ├── gateway      a worker
//! │   └── ledger       a worker that depends on the gateway
//! └── sessions         a dynamic supervisor: one temporary worker per customer
//! ```
//!
//! ```text
//! cargo run --example supervision
//! ```

use std::time::Duration;

use beam_runtime::prelude::*;
use beam_runtime::supervisor::{DynamicSupervisorSpec, Restart, Strategy};

/// Prints one indented line of narration, like `println!`.
macro_rules! say {
    ($($arg:tt)*) => {
        println!("   {}", format_args!($($arg)*))
    };
}

beam_runtime::names! {
    /// The stock keeper, whichever incarnation is running.
    INVENTORY: Inventory = "inventory";
}

/// Keeps stock counts. Its state is lost when it crashes: a restart starts from the spec.
#[derive(Clone)]
struct Inventory {
    stock: u32,
}

#[actor]
impl Inventory {
    #[cast]
    fn reserve(&mut self, n: u32) {
        self.stock = self.stock.saturating_sub(n);
    }

    /// A bad record: the inventory cannot go on.
    #[cast(crash_on_err)]
    fn corrupt(&mut self) -> Result<(), String> {
        Err("stock record corrupted".into())
    }

    #[call]
    fn stock(&self) -> u32 {
        self.stock
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        say!("  [inventory] stopping ({reason})");
    }
}

/// A payment step: the gateway talks to the bank, the ledger records what it did.
#[derive(Clone)]
struct Step {
    name: &'static str,
}

#[actor]
impl Step {
    #[cast]
    fn fail(&mut self) {
        panic!("{} lost its connection", self.name);
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        say!("  [{}] stopping ({reason})", self.name);
    }
}

/// One customer's session.
#[derive(Clone)]
struct Session {
    customer: String,
}

#[actor]
impl Session {
    #[call]
    fn customer(&self) -> String {
        self.customer.clone()
    }

    #[cast]
    fn crash(&mut self) {
        panic!("session of {} hit a bug", self.customer);
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), beam_runtime::Error> {
    short_panic_messages();
    let system = ActorSystem::new();
    println!("beam: a supervision tree that heals itself.");

    // -----------------------------------------------------------------------------------
    section(1, "Build the tree");
    let inventory =
        ChildSpec::<Inventory>::new("inventory", Inventory { stock: 100 }).name(INVENTORY);
    let gateway = ChildSpec::<Step>::new("gateway", Step { name: "gateway" });
    let gateway_handle = gateway.handle();
    let ledger = ChildSpec::<Step>::new("ledger", Step { name: "ledger" });
    let ledger_handle = ledger.handle();
    let payments = SupervisorSpec::new()
        .strategy(Strategy::RestForOne)
        .child(gateway)
        .child(ledger);
    let payments = ChildSpec::<Supervisor>::new("payments", payments);
    let payments_handle = payments.handle();
    let sessions = ChildSpec::<DynamicSupervisor>::new(
        "sessions",
        DynamicSupervisorSpec::new().max_children(100),
    );
    let sessions_handle = sessions.handle();
    let shop = SupervisorSpec::new()
        .intensity(3, Duration::from_secs(5))
        .child(inventory)
        .child(payments)
        .child(sessions)
        .start(&system)
        .await?;
    for child in shop.which_children().await? {
        let id = child.actor.map(|id| id.to_string()).unwrap_or_default();
        say!("{:<10} {:<11} {id}", child.id, format!("{:?}", child.kind));
    }

    // -----------------------------------------------------------------------------------
    section(
        2,
        "The inventory crashes; messages sent meanwhile are not lost",
    );
    let before = system.whereis(INVENTORY).expect("registered");
    before.reserve(10)?;
    before.corrupt()?;
    before.reserve(5)?;
    before.reserve(5)?;
    say!("sent reserve(10), corrupt(), reserve(5), reserve(5) to {before:?}");
    let reason = before.wait_for_exit().await;
    say!("it exited: {reason}");
    let after = system.whereis(INVENTORY).expect("registered again");
    say!("the name now points to {after:?}");
    say!(
        "its stock: {} (a fresh 100, less the two reserves queued behind the crash)",
        after.stock().await?
    );

    // -----------------------------------------------------------------------------------
    section(
        3,
        "The gateway crashes: rest_for_one restarts it and the ledger after it",
    );
    let gateway = gateway_handle.current().expect("running");
    let ledger = ledger_handle.current().expect("running");
    gateway.fail()?;
    gateway.wait_for_exit().await;
    let (new_gateway, new_ledger) = (
        gateway_handle.running().await.expect("restarted"),
        ledger_handle.running().await.expect("restarted"),
    );
    say!("gateway {} -> {}", gateway.id(), new_gateway.id());
    say!("ledger  {} -> {}", ledger.id(), new_ledger.id());
    say!(
        "inventory untouched: {}",
        system.whereis(INVENTORY).expect("running").id()
    );

    // -----------------------------------------------------------------------------------
    section(
        4,
        "Again at once: too many restarts for payments, so it escalates",
    );
    let payments = payments_handle.current().expect("running");
    new_gateway.fail()?;
    new_gateway.wait_for_exit().await;
    let reason = payments.wait_for_exit().await;
    say!("payments gave up: {reason} (its limit is 1 restart in 5 s)");
    let payments_again = payments_handle.running().await.expect("restarted");
    say!(
        "the shop restarted the whole payments subtree: {} -> {}",
        payments.id(),
        payments_again.id()
    );
    let gateway = gateway_handle.running().await.expect("restarted");
    say!("with a new gateway {} and ledger", gateway.id());

    // -----------------------------------------------------------------------------------
    section(5, "Sessions come and go under a dynamic supervisor");
    let sessions = sessions_handle.current().expect("running");
    let mut customers = Vec::new();
    for name in ["ann", "bob", "cy"] {
        let spec = ChildSpec::<Session>::new(
            name,
            Session {
                customer: name.into(),
            },
        )
        .restart(Restart::Temporary);
        customers.push(sessions.start_child_spec(spec).await?);
    }
    say!(
        "{} sessions running",
        sessions.count_children().await?.active
    );
    customers[1].crash()?;
    customers[1].wait_for_exit().await;
    say!(
        "bob's session crashed; temporary, so it is gone: {} running",
        sessions.count_children().await?.active
    );
    let receipt = sessions
        .spawn_task(async { "receipt for ann".to_string() })
        .await?;
    say!("a task under the same supervisor: {:?}", receipt.await?);
    say!("ann is still served: {}", customers[0].customer().await?);

    // -----------------------------------------------------------------------------------
    section(
        6,
        "Shutdown stops the tree from the leaves, last started first",
    );
    system.shutdown().await;
    say!("shop alive: {}", shop.is_alive());
    Ok(())
}

fn section(n: u32, title: &str) {
    println!("\n{n}. {title}");
}

/// One indented line per panic instead of the default report.
fn short_panic_messages() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        say!("(panic) {message}");
    }));
}
