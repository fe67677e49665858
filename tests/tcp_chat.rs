//! The `tcp_chat` example driven over loopback by real clients: joining, broadcasting,
//! nicknames, a room's crash and restart, leaving, and bad input. Every read is bounded
//! by the example client's timeout and waits for the line expected.

#[allow(dead_code)]
#[path = "../examples/tcp_chat.rs"]
mod tcp_chat;

use std::net::SocketAddr;

use beam_runtime::prelude::*;
use tcp_chat::{ACCEPTOR, Client, ROOMS, Room};
use tokio::net::TcpListener;

type TestResult = Result<(), Box<dyn std::error::Error>>;

async fn start() -> Result<(ActorSystem, SocketAddr), Box<dyn std::error::Error>> {
    let system = ActorSystem::new();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tcp_chat::serve(&system, listener).await?;
    Ok((system, addr))
}

/// Connects a client and gives it a nickname.
async fn client(addr: SocketAddr, nick: &'static str) -> std::io::Result<Client> {
    let mut client = Client::connect(nick, addr).await?;
    client.send(&format!("/nick {nick}")).await?;
    let before = client.expect(&format!("* you are now {nick}")).await?;
    assert_eq!(before, Vec::<String>::new());
    Ok(client)
}

/// Two clients meet in a room; a third, in another room, hears nothing of theirs.
async fn join_broadcast_nick_quit() -> TestResult {
    let (system, addr) = start().await?;
    let mut ann = client(addr, "ann").await?;
    let mut bob = client(addr, "bob").await?;
    let mut cy = client(addr, "cy").await?;

    ann.send("/join rust").await?;
    assert!(ann.expect("* ann joined rust").await?.is_empty());
    bob.send("/join rust").await?;
    assert!(bob.expect("* bob joined rust").await?.is_empty());
    assert!(ann.expect("* bob joined rust").await?.is_empty());
    cy.send("/join tea").await?;
    assert!(cy.expect("* cy joined tea").await?.is_empty());

    ann.send("hello bob").await?;
    assert!(bob.expect("ann: hello bob").await?.is_empty());
    assert!(ann.expect("ann: hello bob").await?.is_empty());

    // A new nickname is announced to the room and used from then on.
    bob.send("/nick robert").await?;
    assert!(bob.expect("* you are now robert").await?.is_empty());
    assert!(ann.expect("* bob is now robert").await?.is_empty());
    bob.send("hi").await?;
    assert!(ann.expect("robert: hi").await?.is_empty());

    // cy's own line is the first it hears: nothing said in rust reached tea.
    cy.send("tea time").await?;
    assert!(cy.expect("cy: tea time").await?.is_empty());

    let rust = system.lookup(&Name::<Room>::new("room:rust"))?;
    assert_eq!(rust.nicks().await?, ["ann", "robert"]);

    bob.send("/quit").await?;
    // Before the bye, bob may read the room's last broadcasts to him, in order; the
    // stream of his lines and his mailbox take turns, so how many is not fixed.
    let before = bob.expect("* bye").await?;
    let broadcasts = ["* bob is now robert", "robert: hi"];
    assert!(
        before.len() <= 2 && before.iter().zip(broadcasts).all(|(l, b)| l == b),
        "{before:?}"
    );
    bob.expect_closed().await?;
    assert!(ann.expect("* robert left rust").await?.is_empty());
    assert_eq!(rust.nicks().await?, ["ann"]);
    system.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn join_broadcast_nick_quit_current_thread() -> TestResult {
    join_broadcast_nick_quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_broadcast_nick_quit_multi_thread() -> TestResult {
    join_broadcast_nick_quit().await
}

/// `/crash` panics the room; its supervisor restarts it, empty, under the same name, and
/// the members, who monitor it, rejoin the new incarnation and talk again.
async fn crash_and_recovery() -> TestResult {
    let (system, addr) = start().await?;
    let mut ann = client(addr, "ann").await?;
    let mut bob = client(addr, "bob").await?;
    ann.send("/join rust").await?;
    ann.expect("* ann joined rust").await?;
    bob.send("/join rust").await?;
    bob.expect("* bob joined rust").await?;
    ann.expect("* bob joined rust").await?;
    let name = Name::<Room>::new("room:rust");
    let first = system.lookup(&name)?;

    bob.send("/crash").await?;
    let down = "* room rust went down (panic: room rust crashed on request of bob); rejoining";
    for client in [&mut ann, &mut bob] {
        assert!(client.expect(down).await?.is_empty());
        client
            .expect(&format!("* {} joined rust", client.name()))
            .await?;
    }
    let exit = first.wait_for_exit().await;
    assert!(matches!(exit, ExitReason::Panic(_)), "{exit:?}");

    // One room, a new incarnation under the old name, holding only those who rejoined.
    let second = system.lookup(&name)?;
    assert_ne!(second.id(), first.id());
    let mut nicks = second.nicks().await?;
    nicks.sort();
    assert_eq!(nicks, ["ann", "bob"]);
    let rooms = system.lookup(ROOMS)?;
    assert_eq!(rooms.count_children().await?.active, 1);

    bob.send("still there?").await?;
    ann.expect("bob: still there?").await?;
    bob.expect("bob: still there?").await?;
    system.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn crash_and_recovery_current_thread() -> TestResult {
    crash_and_recovery().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_and_recovery_multi_thread() -> TestResult {
    crash_and_recovery().await
}

/// A client that just closes its socket leaves its room: the room monitors it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_socket_leaves_the_room() -> TestResult {
    let (system, addr) = start().await?;
    let mut ann = client(addr, "ann").await?;
    let mut bob = client(addr, "bob").await?;
    ann.send("/join rust").await?;
    ann.expect("* ann joined rust").await?;
    bob.send("/join rust").await?;
    bob.expect("* bob joined rust").await?;
    ann.expect("* bob joined rust").await?;
    drop(bob);
    assert!(ann.expect("* bob left rust").await?.is_empty());
    system.shutdown().await;
    Ok(())
}

/// Bad commands get an answer, and the connection keeps working.
#[tokio::test]
async fn bad_input_is_answered() -> TestResult {
    let (system, addr) = start().await?;
    let mut ann = client(addr, "ann").await?;
    let long = "x".repeat(25);
    let cases = [
        ("hello?".to_owned(), "* join a room first: /join <room>"),
        ("/crash".to_owned(), "* join a room first: /join <room>"),
        (
            "/join".to_owned(),
            "* usage: /join <room> (letters, digits, - or _)",
        ),
        (
            "/join a b".to_owned(),
            "* usage: /join <room> (letters, digits, - or _)",
        ),
        (
            format!("/join {long}"),
            "* usage: /join <room> (letters, digits, - or _)",
        ),
        (
            "/nick :)".to_owned(),
            "* usage: /nick <name> (letters, digits, - or _)",
        ),
        (
            "/nick".to_owned(),
            "* usage: /nick <name> (letters, digits, - or _)",
        ),
        ("/frob".to_owned(), "* unknown command /frob"),
    ];
    for (line, answer) in cases {
        ann.send(&line).await?;
        assert!(ann.expect(answer).await?.is_empty(), "after {line:?}");
    }
    assert!(system.registered().iter().all(|n| !n.starts_with("room:")));
    ann.send("/join ok_room-1").await?;
    assert!(ann.expect("* ann joined ok_room-1").await?.is_empty());
    ann.send("/join ok_room-1").await?;
    assert!(ann.expect("* already in ok_room-1").await?.is_empty());
    system.shutdown().await;
    Ok(())
}

/// The acceptor is a permanent task: killed, it is started again on the same listener,
/// and the connections already open are not touched.
async fn acceptor_restart() -> TestResult {
    let (system, addr) = start().await?;
    let mut ann = client(addr, "ann").await?;
    ann.send("/join rust").await?;
    ann.expect("* ann joined rust").await?;

    let first = system.lookup(ACCEPTOR)?;
    system.exit(&first, ExitReason::Killed);
    assert_eq!(first.wait_for_exit().await, ExitReason::Killed);
    let mut bob = client(addr, "bob").await?;
    bob.send("/join rust").await?;
    assert!(bob.expect("* bob joined rust").await?.is_empty());
    assert!(ann.expect("* bob joined rust").await?.is_empty());
    let second = system.lookup(ACCEPTOR)?;
    assert_ne!(second.id(), first.id());
    system.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn acceptor_restart_current_thread() -> TestResult {
    acceptor_restart().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptor_restart_multi_thread() -> TestResult {
    acceptor_restart().await
}
