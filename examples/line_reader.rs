//! Streams into actors: a TCP line reader. Each accepted connection gets an actor that
//! attaches the connection's lines with `ctx.attach_stream`: the actor reads the next line
//! only once it has handled the previous one, so a slow handler slows the reading down
//! instead of piling lines up in memory. When the peer closes the connection, the stream's
//! end arrives as one more message, and the actor stops; if the actor stops first, the
//! connection is dropped with it.
//!
//! ```text
//! cargo run --example line_reader
//! ```

use std::time::Duration;

use beam_runtime::prelude::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::wrappers::LinesStream;

/// One connection: counts the words of each line it reads.
struct LineReader {
    peer: String,
    lines: usize,
    words: usize,
}

#[actor]
impl LineReader {
    #[init]
    fn init(conn: TcpStream, ctx: &mut Ctx<Self>) -> Self {
        let peer = conn
            .peer_addr()
            .map_or_else(|_| "?".to_owned(), |a| a.to_string());
        let lines = LinesStream::new(BufReader::new(conn).lines());
        ctx.attach_stream(
            lines,
            |line| LineReaderMsg::Line { line },
            || LineReaderMsg::Closed,
        );
        LineReader {
            peer,
            lines: 0,
            words: 0,
        }
    }

    /// One line. Slow on purpose: the next line is not read until this returns. A read
    /// error is returned, and so crashes the actor with it.
    #[cast(crash_on_err)]
    async fn line(&mut self, line: std::io::Result<String>) -> std::io::Result<()> {
        let line = line?;
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.lines += 1;
        self.words += line.split_whitespace().count();
        println!("{}: line {}: {line:?}", self.peer, self.lines);
        Ok(())
    }

    /// The peer closed the connection.
    #[cast]
    fn closed(&mut self, ctx: &mut Ctx<Self>) {
        println!(
            "{}: closed after {} lines, {} words",
            self.peer, self.lines, self.words
        );
        ctx.stop();
    }

    #[call]
    fn counts(&self) -> (usize, usize) {
        (self.lines, self.words)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = ActorSystem::new();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;

    // A client that writes everything at once and closes.
    let client = tokio::spawn(async move {
        let mut conn = TcpStream::connect(addr).await?;
        conn.write_all(b"the quick brown fox\njumps over\nthe lazy dog\n")
            .await?;
        conn.shutdown().await
    });

    let (conn, _) = listener.accept().await?;
    let reader = system.spawn::<LineReader>(conn).await?;
    client.await??;
    // The client is done; the reader is still working through its lines.
    println!("while reading: {:?} (lines, words)", reader.counts().await?);
    println!("the reader exited: {}", reader.wait_for_exit().await);
    system.shutdown().await;
    Ok(())
}
