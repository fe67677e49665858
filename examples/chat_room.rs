//! Actor refs travel inside messages. Three chat rooms are registered under names built at
//! run time (`room:1`, `room:2`, ...); twelve users each look their room up by name and
//! join it by sending their own `ActorRef<User>`. Every line a user says goes to the room,
//! which broadcasts it to all its members with casts. At the end, calls prove that every
//! line arrived, and in order from each sender; then a user leaves and the room notices.
//!
//! ```text
//! cargo run --example chat_room
//! ```

use std::collections::HashMap;

use beam_runtime::prelude::*;

const ROOMS: [(u32, &str); 3] = [(1, "rust"), (2, "erlang"), (3, "tea")];
const USERS: [&str; 12] = [
    "ada", "alan", "barbara", "dennis", "edsger", "grace", "joe", "ken", "linus", "margaret",
    "niklaus", "robin",
];
const LINES_EACH: u32 = 5;

/// The name of room `id`: a name made at run time, still typed by the actor it names.
fn room_name(id: u32) -> Name<ChatRoom> {
    Name::new(format!("room:{id}"))
}

/// One line of chat. `seq` counts the sender's lines, so receivers can check their order.
#[derive(Clone)]
struct Line {
    from: String,
    seq: u32,
    text: String,
}

/// A room: the refs of its members, and how many lines it has broadcast.
struct ChatRoom {
    topic: String,
    members: Vec<ActorRef<User>>,
    posts: usize,
}

#[actor]
impl ChatRoom {
    #[init]
    fn init(topic: String) -> Self {
        ChatRoom {
            topic,
            members: Vec::new(),
            posts: 0,
        }
    }

    /// A user joins by sending its own ref.
    #[cast]
    fn join(&mut self, user: ActorRef<User>) {
        self.members.push(user);
    }

    /// Sends `line` to every member, the sender included. A member that has stopped fails
    /// the cast with `SendError::NoProc`, and the room forgets it.
    #[cast]
    fn post(&mut self, line: Line) {
        self.posts += 1;
        self.members
            .retain(|member| member.deliver(line.clone()).is_ok());
    }

    /// How the room is doing.
    #[call]
    fn stats(&self) -> RoomStats {
        RoomStats {
            topic: self.topic.clone(),
            members: self.members.len(),
            posts: self.posts,
        }
    }
}

/// What `ChatRoom::stats` replies.
struct RoomStats {
    topic: String,
    members: usize,
    posts: usize,
}

/// A user: the room it talks to, and what it has heard.
struct User {
    name: String,
    room: ActorRef<ChatRoom>,
    sent: u32,
    received: u32,
    last_heard: Option<String>,
    /// The `seq` expected next from each sender.
    expected: HashMap<String, u32>,
    in_order: bool,
}

#[actor]
impl User {
    /// Finds the room by name and joins it with this actor's own ref.
    #[init]
    fn init(
        name: String,
        room: Name<ChatRoom>,
        ctx: &mut Ctx<Self>,
    ) -> Result<Self, beam_runtime::Error> {
        let room = ctx.system().lookup(&room)?;
        room.join(ctx.me().clone())?;
        Ok(User {
            name,
            room,
            sent: 0,
            received: 0,
            last_heard: None,
            expected: HashMap::new(),
            in_order: true,
        })
    }

    /// Says `text` in the room. A user whose room has closed stops.
    #[cast]
    fn say(&mut self, text: String, ctx: &mut Ctx<Self>) {
        let line = Line {
            from: self.name.clone(),
            seq: self.sent,
            text,
        };
        self.sent += 1;
        if self.room.post(line).is_err() {
            ctx.stop();
        }
    }

    /// A line broadcast by the room.
    #[cast]
    fn deliver(&mut self, line: Line) {
        self.received += 1;
        self.last_heard = Some(format!("{}: {}", line.from, line.text));
        let expected = self.expected.entry(line.from).or_insert(0);
        self.in_order &= line.seq == *expected;
        *expected = line.seq + 1;
    }

    /// How many lines this user has received, and whether each sender's came in order.
    #[call]
    fn inbox(&self) -> (u32, bool) {
        (self.received, self.in_order)
    }

    /// The last line this user received, as `sender: text`.
    #[call]
    fn last_heard(&self) -> Option<String> {
        self.last_heard.clone()
    }
}

/// A user as `main` keeps track of it.
struct Member {
    room: u32,
    name: &'static str,
    user: ActorRef<User>,
}

#[tokio::main]
async fn main() -> Result<(), beam_runtime::Error> {
    let system = ActorSystem::new();

    for (id, topic) in ROOMS {
        system
            .spawn::<ChatRoom>(topic.to_owned())
            .name(room_name(id))
            .await?;
    }
    println!(
        "opened {} rooms, room:1 to room:{}",
        ROOMS.len(),
        ROOMS.len()
    );

    // Each user joins its room during init, so every join is queued before anyone speaks.
    let mut members = Vec::new();
    for (i, name) in USERS.into_iter().enumerate() {
        let (room, _) = ROOMS[i % ROOMS.len()];
        let user = system
            .spawn::<User>((name.to_owned(), room_name(room)))
            .await?;
        members.push(Member { room, name, user });
    }
    println!(
        "{} users joined, each by sending its room its own ActorRef<User>",
        members.len()
    );

    for Member { name, user, .. } in &members {
        for n in 1..=LINES_EACH {
            user.say(format!("{name}'s line {n}"))?;
        }
    }
    println!(
        "every user said {LINES_EACH} lines: a cast to the user, who casts to the room, who casts to each member\n"
    );

    // All of that is still in flight. A mailbox is a queue: a message is handled after the
    // ones already in it when it arrived. So we follow the casts' path with calls:
    // 1. a call to a user returns once it has handled its `say`s, so its posts are queued;
    settle(&members).await?;
    for (id, _) in ROOMS {
        // 2. a call to a room then returns once it has broadcast those posts;
        show_room(&system, id).await?;
        // 3. a call to a user then returns once it has handled every line sent to it.
        for Member { name, user, .. } in members.iter().filter(|m| m.room == id) {
            let (received, in_order) = user.inbox().await?;
            let order = if in_order { "in order" } else { "OUT OF ORDER" };
            println!("  {name:<9} received {received} lines, each sender's {order}");
        }
    }

    // A ref does not keep its actor alive. When joe stops, his room finds out the next time
    // it casts to him.
    let joe = members
        .iter()
        .find(|m| m.name == "joe")
        .expect("joe is a user");
    system.stop(&joe.user).await;
    println!("\njoe stopped");
    let speaker = members
        .iter()
        .find(|m| m.room == joe.room && m.name != "joe")
        .expect("joe has company");
    speaker.user.say("where did joe go?".to_owned())?;
    settle(&members).await?;
    show_room(&system, joe.room).await?;
    for Member { name, user, .. } in members.iter().filter(|m| m.room == joe.room) {
        match user.last_heard().await {
            Ok(line) => println!("  {name:<9} last heard {:?}", line.unwrap_or_default()),
            Err(err) => println!("  {name:<9} {err}"),
        }
    }

    system.shutdown().await;
    Ok(())
}

/// Prints how room `id` is doing, after it has handled the messages sent to it so far.
async fn show_room(system: &ActorSystem, id: u32) -> Result<(), beam_runtime::Error> {
    let name = room_name(id);
    let stats = system.lookup(&name)?.stats().await?;
    println!(
        "{name} \"{}\": {} members, {} lines",
        stats.topic, stats.members, stats.posts
    );
    Ok(())
}

/// Waits until every user still alive has handled the messages sent to it so far.
async fn settle(members: &[Member]) -> Result<(), CallError> {
    for Member { user, .. } in members {
        match user.inbox().await {
            Ok(_) | Err(CallError::NoProc) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
