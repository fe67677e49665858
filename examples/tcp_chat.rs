//! A TCP chat server as a supervision tree. A supervisor runs the acceptor as a permanent
//! task, and two dynamic supervisors: one for connections, one actor each (temporary, so a
//! closed connection is simply gone), and one for rooms, started on demand and registered
//! under names made at run time (`room:rust`). A connection reads its socket line by line
//! through `ctx.attach_stream` and writes to it with the socket's write half. `/crash`
//! makes a room panic: its supervisor restarts it, empty, under the same name, and the
//! connections that were in it, which monitor it, notice the `Down` and join it again.
//!
//! Commands: `/join <room>`, `/nick <name>`, `/crash`, `/quit`; any other line is said in
//! the room, as `name: text`. Without arguments, the example runs a short scripted demo
//! with loopback clients and exits; with `--serve <addr>` it keeps serving, for `nc`.
//!
//! ```text
//! cargo run --example tcp_chat
//! cargo run --example tcp_chat -- --serve 127.0.0.1:7000
//! ```

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use beam_runtime::prelude::*;
use beam_runtime::supervisor::{ChildError, DynamicSupervisorSpec, SupervisorError};
use beam_runtime::task::TaskActor;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::wrappers::LinesStream;

beam_runtime::names! {
    /// The dynamic supervisor of the rooms.
    pub(crate) ROOMS: DynamicSupervisor = "chat:rooms";
    /// The dynamic supervisor of the connections.
    pub(crate) CONNS: DynamicSupervisor = "chat:conns";
    /// The acceptor task.
    pub(crate) ACCEPTOR: TaskActor = "chat:acceptor";
}

/// The longest room name or nickname accepted.
const MAX_NAME: usize = 24;

/// How long a demo or test client waits for each line before giving up.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the chat server in `system`, accepting connections on `listener`, and returns
/// its top supervisor. The server registers the names [`ROOMS`], [`CONNS`], [`ACCEPTOR`]
/// and `room:<name>` for each room, so a system runs one server.
pub(crate) async fn serve(
    system: &ActorSystem,
    listener: TcpListener,
) -> Result<ActorRef<Supervisor>, SupervisorError> {
    let listener = Arc::new(listener);
    let acceptor_system = system.clone();
    let acceptor = ChildSpec::task("acceptor", move || {
        accept_loop(acceptor_system.clone(), Arc::clone(&listener))
    })
    .name(ACCEPTOR);
    SupervisorSpec::new()
        .child(
            ChildSpec::<DynamicSupervisor>::new(
                "rooms",
                DynamicSupervisorSpec::new().intensity(10, Duration::from_secs(10)),
            )
            .name(ROOMS),
        )
        .child(
            ChildSpec::<DynamicSupervisor>::new("conns", DynamicSupervisorSpec::new()).name(CONNS),
        )
        .child(acceptor)
        .start(system)
        .await
}

/// The acceptor: one temporary `Conn` actor per accepted connection. An accept error
/// panics the task, and its supervisor starts it again on the same listener.
async fn accept_loop(system: ActorSystem, listener: Arc<TcpListener>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => panic!("accept failed: {err}"),
        };
        let started = match system.lookup(CONNS) {
            Ok(conns) => conns.start_temporary::<Conn>(stream).await.map(drop),
            Err(err) => Err(ChildError::NotFound(err.to_string())),
        };
        if let Err(err) = started {
            eprintln!("could not start a connection: {err}");
        }
    }
}

/// The run-time name of room `room`.
fn room_name(room: &str) -> Name<Room> {
    Name::new(format!("room:{room}"))
}

/// Finds room `room`, or starts it under the rooms' supervisor. Two connections may open
/// the same room at once: the second start fails on the name, and the lookup after it
/// finds the room the first one started.
async fn open_room(system: &ActorSystem, room: &str) -> Result<ActorRef<Room>, ChildError> {
    let name = room_name(room);
    if let Some(found) = system.whereis(&name).filter(ActorRef::is_alive) {
        return Ok(found);
    }
    let rooms = system
        .lookup(ROOMS)
        .map_err(|err| ChildError::NotFound(err.to_string()))?;
    let spec = ChildSpec::<Room>::new(format!("room:{room}"), room.to_owned()).name(name.clone());
    match rooms.start_child_spec(spec).await {
        Ok(started) => Ok(started),
        Err(err) => system.whereis(&name).ok_or(err),
    }
}

/// A room name or nickname: 1 to [`MAX_NAME`] letters, digits, `-` or `_`.
fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A member of a room, as the room knows it.
#[derive(Debug)]
struct Member {
    nick: String,
    conn: ActorRef<Conn>,
    monitor: MonitorRef,
}

/// A chat room: its members, by the id of their connection. It monitors them, so a
/// connection that goes away leaves the room however it ends.
#[derive(Debug)]
pub(crate) struct Room {
    name: String,
    members: BTreeMap<ActorId, Member>,
}

#[actor]
impl Room {
    #[init]
    fn init(name: String) -> Self {
        Room {
            name,
            members: BTreeMap::new(),
        }
    }

    /// `conn` joins as `nick`; everyone in the room, `conn` included, is told.
    #[cast]
    fn join(&mut self, conn: ActorRef<Conn>, nick: String, ctx: &mut Ctx<Self>) {
        let monitor = ctx.monitor(&conn);
        let line = format!("* {nick} joined {}", self.name);
        let member = Member {
            nick,
            conn,
            monitor,
        };
        if let Some(old) = self.members.insert(member.conn.id(), member) {
            ctx.demonitor(old.monitor);
        }
        self.broadcast(&line);
    }

    /// Connection `id` leaves the room.
    #[cast]
    fn leave(&mut self, id: ActorId, ctx: &mut Ctx<Self>) {
        if let Some(member) = self.members.remove(&id) {
            ctx.demonitor(member.monitor);
            self.left(&member);
        }
    }

    /// Connection `id` now goes by `nick`.
    #[cast]
    fn rename(&mut self, id: ActorId, nick: String) {
        if let Some(member) = self.members.get_mut(&id) {
            let line = format!("* {} is now {nick}", member.nick);
            member.nick = nick;
            self.broadcast(&line);
        }
    }

    /// Connection `id` says `text`: every member gets `nick: text`.
    #[cast]
    fn say(&mut self, id: ActorId, text: String) {
        if let Some(member) = self.members.get(&id) {
            let line = format!("{}: {text}", member.nick);
            self.broadcast(&line);
        }
    }

    /// Panics, on request: the room's supervisor restarts it, with no members.
    #[cast]
    fn crash(&mut self, id: ActorId) {
        let by = self.members.get(&id).map_or("?", |m| m.nick.as_str());
        panic!("room {} crashed on request of {by}", self.name);
    }

    /// The nicknames in the room.
    #[call]
    pub(crate) fn nicks(&self) -> Vec<String> {
        self.members.values().map(|m| m.nick.clone()).collect()
    }

    /// A member's connection exited without leaving.
    #[info]
    fn info(&mut self, info: Info) {
        if let Info::Down { id, .. } = info {
            if let Some(member) = self.members.remove(&id) {
                self.left(&member);
            }
        }
    }
}

impl Room {
    fn left(&mut self, member: &Member) {
        let line = format!("* {} left {}", member.nick, self.name);
        self.broadcast(&line);
    }

    /// Casts `line` to every member; one whose connection has stopped is dropped.
    fn broadcast(&mut self, line: &str) {
        self.members
            .retain(|_, member| member.conn.deliver(line.to_owned()).is_ok());
    }
}

/// The room a connection is in.
#[derive(Debug)]
struct Joined {
    name: String,
    room: ActorRef<Room>,
    monitor: MonitorRef,
}

/// One client connection: reads commands line by line, writes what the room broadcasts.
#[derive(Debug)]
pub(crate) struct Conn {
    nick: String,
    writer: OwnedWriteHalf,
    room: Option<Joined>,
    /// Rejoins in a row of a room that went down; reset by a line said or a `/join`.
    rejoins: u32,
}

#[actor]
impl Conn {
    /// Splits the socket: the read half becomes a stream of lines attached to this actor,
    /// the write half stays here. Greets the client.
    #[init]
    async fn init(stream: TcpStream, ctx: &mut Ctx<Self>) -> io::Result<Self> {
        let nick = format!("guest{}", stream.peer_addr()?.port());
        let (read, writer) = stream.into_split();
        // `Lines` does not bound a line's length: a server open to untrusted clients would
        // read with a limit (tokio-util's `LinesCodec::new_with_max_length`, for one).
        ctx.attach_stream(
            LinesStream::new(BufReader::new(read).lines()),
            |line| ConnMsg::Line { line },
            || ConnMsg::Closed,
        );
        let mut conn = Conn {
            nick,
            writer,
            room: None,
            rejoins: 0,
        };
        let hello = format!(
            "* welcome {}; commands: /join <room>, /nick <name>, /crash, /quit",
            conn.nick
        );
        conn.write(&hello).await?;
        Ok(conn)
    }

    /// One line from the client. A read or write error crashes the connection.
    #[cast(crash_on_err)]
    async fn line(&mut self, line: io::Result<String>, ctx: &mut Ctx<Self>) -> io::Result<()> {
        let line = line?;
        let line = line.trim();
        let (command, arg) = line.split_once(' ').unwrap_or((line, ""));
        let arg = arg.trim();
        match command {
            "" => Ok(()),
            "/join" if self.room.as_ref().is_some_and(|joined| joined.name == arg) => {
                self.write(&format!("* already in {arg}")).await
            }
            "/join" if valid_name(arg) => {
                self.rejoins = 0;
                self.join(arg.to_owned(), ctx).await
            }
            "/join" => {
                self.write("* usage: /join <room> (letters, digits, - or _)")
                    .await
            }
            "/nick" if valid_name(arg) => {
                self.nick = arg.to_owned();
                if let Some(joined) = &self.room {
                    let _ = joined.room.rename(ctx.id(), self.nick.clone());
                }
                self.write(&format!("* you are now {arg}")).await
            }
            "/nick" => {
                self.write("* usage: /nick <name> (letters, digits, - or _)")
                    .await
            }
            "/quit" => {
                self.write("* bye").await?;
                ctx.stop();
                Ok(())
            }
            "/crash" => match &self.room {
                Some(joined) => {
                    let _ = joined.room.crash(ctx.id());
                    Ok(())
                }
                None => self.write("* join a room first: /join <room>").await,
            },
            _ if command.starts_with('/') => {
                self.write(&format!("* unknown command {command}")).await
            }
            _ => match &self.room {
                Some(joined) => {
                    self.rejoins = 0;
                    let _ = joined.room.say(ctx.id(), line.to_owned());
                    Ok(())
                }
                None => self.write("* join a room first: /join <room>").await,
            },
        }
    }

    /// The client closed the connection.
    #[cast]
    fn closed(&mut self, ctx: &mut Ctx<Self>) {
        ctx.stop();
    }

    /// A line the room broadcasts. A client that cannot be written to is gone: stop.
    #[cast]
    async fn deliver(&mut self, line: String, ctx: &mut Ctx<Self>) {
        if self.write(&line).await.is_err() {
            ctx.stop();
        }
    }

    /// The room went down (it crashed, or its supervisor stopped it): join it again, which
    /// finds its restarted incarnation or starts it anew.
    #[info(crash_on_err)]
    async fn info(&mut self, info: Info, ctx: &mut Ctx<Self>) -> io::Result<()> {
        let Info::Down {
            monitor, reason, ..
        } = info
        else {
            return Ok(());
        };
        let Some(joined) = self.room.take_if(|joined| joined.monitor == monitor) else {
            return Ok(());
        };
        self.rejoins += 1;
        if self.rejoins > 3 {
            let line = format!("* room {} is down ({reason}); giving up", joined.name);
            return self.write(&line).await;
        }
        let line = format!("* room {} went down ({reason}); rejoining", joined.name);
        self.write(&line).await?;
        self.join(joined.name, ctx).await
    }
}

impl Conn {
    /// Writes one line to the client.
    async fn write(&mut self, line: &str) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.writer.write_all(&bytes).await
    }

    /// Leaves the current room, if any, and joins `room`, watching it.
    async fn join(&mut self, room: String, ctx: &mut Ctx<Self>) -> io::Result<()> {
        if let Some(old) = self.room.take() {
            ctx.demonitor(old.monitor);
            let _ = old.room.leave(ctx.id());
        }
        let system = ctx.system().clone();
        match open_room(&system, &room).await {
            Ok(found) => {
                let monitor = ctx.monitor(&found);
                // If the room is already gone, the monitor's `Down` rejoins.
                let _ = found.join(ctx.me().clone(), self.nick.clone());
                self.room = Some(Joined {
                    name: room,
                    room: found,
                    monitor,
                });
                Ok(())
            }
            Err(err) => self.write(&format!("* cannot open {room}: {err}")).await,
        }
    }
}

/// A line-based client, for the demo and the tests: prints what it sends and sees.
#[derive(Debug)]
pub(crate) struct Client {
    name: &'static str,
    lines: Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
}

impl Client {
    /// Connects to `addr` and reads the greeting.
    pub(crate) async fn connect(name: &'static str, addr: SocketAddr) -> io::Result<Self> {
        let (read, writer) = TcpStream::connect(addr).await?.into_split();
        let mut client = Client {
            name,
            lines: BufReader::new(read).lines(),
            writer,
        };
        let hello = client.next_line().await?;
        if hello.starts_with("* welcome ") {
            Ok(client)
        } else {
            Err(io::Error::other(format!("unexpected greeting {hello:?}")))
        }
    }

    /// The name this client prints.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// Sends one line.
    pub(crate) async fn send(&mut self, line: &str) -> io::Result<()> {
        println!("{:>5} > {line}", self.name);
        self.writer.write_all(format!("{line}\n").as_bytes()).await
    }

    /// The next line from the server, within [`READ_TIMEOUT`].
    pub(crate) async fn next_line(&mut self) -> io::Result<String> {
        match tokio::time::timeout(READ_TIMEOUT, self.lines.next_line()).await {
            Ok(Ok(Some(line))) => {
                println!("{:>5} < {line}", self.name);
                Ok(line)
            }
            Ok(Ok(None)) => Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(io::ErrorKind::TimedOut.into()),
        }
    }

    /// Reads lines until `want` arrives, and returns the lines read before it.
    pub(crate) async fn expect(&mut self, want: &str) -> io::Result<Vec<String>> {
        let mut before = Vec::new();
        loop {
            let line = self.next_line().await?;
            if line == want {
                return Ok(before);
            }
            before.push(line);
        }
    }

    /// Waits until the server closes the connection; fails on any line before that.
    pub(crate) async fn expect_closed(&mut self) -> io::Result<()> {
        match tokio::time::timeout(READ_TIMEOUT, self.lines.next_line()).await {
            Ok(Ok(None)) => Ok(()),
            Ok(Ok(Some(line))) => Err(io::Error::other(format!("unexpected line {line:?}"))),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(io::ErrorKind::TimedOut.into()),
        }
    }
}

/// The scripted demo: two clients meet in a room, one crashes it, both come back; then
/// the acceptor is killed, and a third client still gets in.
async fn demo(system: &ActorSystem, addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let mut ann = Client::connect("ann", addr).await?;
    let mut bob = Client::connect("bob", addr).await?;
    ann.send("/nick ann").await?;
    ann.expect("* you are now ann").await?;
    bob.send("/nick bob").await?;
    bob.expect("* you are now bob").await?;

    ann.send("/join rust").await?;
    ann.expect("* ann joined rust").await?;
    bob.send("/join rust").await?;
    bob.expect("* bob joined rust").await?;
    ann.expect("* bob joined rust").await?;
    ann.send("hello bob").await?;
    bob.expect("ann: hello bob").await?;

    println!("\nbob crashes the room; its supervisor restarts it, empty\n");
    bob.send("/crash").await?;
    for client in [&mut ann, &mut bob] {
        let rejoined = format!("* {} joined rust", client.name());
        client.expect(&rejoined).await?;
    }
    bob.send("still there?").await?;
    ann.expect("bob: still there?").await?;

    bob.send("/quit").await?;
    bob.expect("* bye").await?;
    bob.expect_closed().await?;
    ann.expect("* bob left rust").await?;

    println!("\nthe acceptor is killed; its supervisor starts it again on the same listener\n");
    let acceptor = system.lookup(ACCEPTOR)?;
    system.exit(&acceptor, ExitReason::Killed);
    let mut cy = Client::connect("cy", addr).await?;
    cy.send("/join rust").await?;
    let joined = cy.next_line().await?;
    ann.expect(&joined).await?;
    Ok(())
}

/// Prints a panic as one line, where the default hook would print two and a hint.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("?");
        eprintln!("(panic: {message})");
    }));
}

/// Prints `problem` and the usage, and exits.
fn usage(problem: &str) -> ! {
    eprintln!("tcp_chat: {problem}\nusage: tcp_chat [--serve <addr>]");
    std::process::exit(2);
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let serve_at = match args.as_slice() {
        [] => None,
        [flag, addr] if flag == "--serve" => match addr.parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(err) => usage(&format!(
                "{addr:?} is not an address like 127.0.0.1:7000: {err}"
            )),
        },
        _ => usage("unexpected arguments"),
    };
    quiet_panics();
    let system = ActorSystem::new();
    let listener = TcpListener::bind(serve_at.unwrap_or(([127, 0, 0, 1], 0).into())).await?;
    let addr = listener.local_addr()?;
    serve(&system, listener).await?;

    if serve_at.is_some() {
        println!("serving on {addr}; try `nc {} {}`", addr.ip(), addr.port());
        std::future::pending::<()>().await;
    }
    println!("serving on {addr}\n");
    demo(&system, addr).await?;
    system.shutdown().await;
    Ok(())
}
