//! A connection between two nodes: any byte stream (TCP, or an in-memory pipe in tests),
//! the [handshake](super::handshake) first, then [sealed](super::seal), length-delimited
//! frames in both directions.
//!
//! Nothing is read as a frame before the handshake has succeeded. A frame longer than the
//! limit is refused from its length alone; one that fails to open ends the connection
//! (after it, nothing from the peer can be trusted). Both are typed errors, never panics.
//! A connection splits into a [`FrameWriter`] and a [`FrameReader`], so that a node reads
//! and writes each connection from tasks of its own.
//!
//! Crate-private; the nodes of the next layer use it.

use std::future::poll_fn;
use std::pin::Pin;

use bytes::{BufMut, BytesMut};
use futures_core::Stream;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio_util::codec::FramedRead;

use super::error::{ConnectionError, FrameError};
use super::handshake::{self, Local, Role, Session};
use super::seal::{Opener, Sealer, TAG_LEN, codec};
use std::time::Duration;

/// A connection whose peer proved the cookie.
#[derive(Debug)]
pub(crate) struct Connection<S> {
    session: Session,
    writer: FrameWriter<S>,
    reader: FrameReader<S>,
}

impl<S: AsyncRead + AsyncWrite + Send + 'static> Connection<S> {
    /// Runs the handshake over `io` as `role`, within `timeout`; frames of at most
    /// `max_frame` bytes (before sealing) cross the connection after it.
    pub(crate) async fn open(
        mut io: S,
        local: Local<'_>,
        role: Role,
        timeout: Duration,
        max_frame: usize,
    ) -> Result<Self, ConnectionError>
    where
        S: Unpin,
    {
        let session = handshake::run(&mut io, local, role, timeout).await?;
        let (read, write) = tokio::io::split(io);
        Ok(Self {
            writer: FrameWriter {
                io: write,
                sealer: Sealer::new(&session.send_key),
                max: max_frame,
                buf: BytesMut::new(),
            },
            reader: FrameReader {
                io: FramedRead::new(read, codec(max_frame)),
                opener: Opener::new(&session.recv_key),
                max: max_frame,
                broken: false,
            },
            session,
        })
    }

    /// The peer's name.
    pub(crate) fn peer(&self) -> &str {
        &self.session.peer
    }

    /// The peer's incarnation.
    pub(crate) fn peer_incarnation(&self) -> u64 {
        self.session.peer_incarnation
    }

    /// The two directions, to be driven apart.
    pub(crate) fn split(self) -> (FrameWriter<S>, FrameReader<S>) {
        (self.writer, self.reader)
    }
}

/// The sending half of a [`Connection`].
pub(crate) struct FrameWriter<S> {
    io: WriteHalf<S>,
    sealer: Sealer,
    max: usize,
    /// The frame being written, reused from one frame to the next.
    buf: BytesMut,
}

impl<S: AsyncRead + AsyncWrite> FrameWriter<S> {
    /// Seals and writes one frame. A frame over the limit is refused (and nothing is
    /// written); a failed write means the connection is gone.
    pub(crate) async fn send(&mut self, frame: &[u8]) -> Result<(), ConnectionError> {
        if frame.len() > self.max {
            return Err(FrameError::TooLong {
                len: frame.len(),
                max: self.max,
            }
            .into());
        }
        self.buf.clear();
        self.buf.reserve(4 + frame.len() + TAG_LEN);
        // The length, then the frame sealed in place behind it.
        self.buf.put_u32(0);
        let mut body = self.buf.split_off(4);
        body.extend_from_slice(frame);
        self.sealer.seal(&mut body)?;
        let len = u32::try_from(body.len()).map_err(|_| FrameError::TooLong {
            len: body.len(),
            max: self.max,
        })?;
        self.buf[..4].copy_from_slice(&len.to_be_bytes());
        self.buf.unsplit(body);
        self.io.write_all(&self.buf).await?;
        self.io.flush().await?;
        Ok(())
    }

    /// Closes the sending direction: the peer reads the end of the connection.
    pub(crate) async fn close(&mut self) -> Result<(), ConnectionError> {
        self.io.shutdown().await?;
        Ok(())
    }
}

/// The receiving half of a [`Connection`].
pub(crate) struct FrameReader<S> {
    io: FramedRead<ReadHalf<S>, tokio_util::codec::LengthDelimitedCodec>,
    opener: Opener,
    max: usize,
    /// Set once a frame failed: nothing after it can be trusted.
    broken: bool,
}

impl<S: AsyncRead + AsyncWrite> FrameReader<S> {
    /// The next frame, opened; `Ok(None)` when the peer closed the connection. After an
    /// error, every later call fails too.
    pub(crate) async fn recv(&mut self) -> Result<Option<BytesMut>, ConnectionError> {
        if self.broken {
            return Err(ConnectionError::Broken);
        }
        let next = poll_fn(|cx| Pin::new(&mut self.io).poll_next(cx)).await;
        let out = match next {
            None => return Ok(None),
            Some(Ok(mut frame)) => match self.opener.open(&mut frame) {
                Ok(()) => return Ok(Some(frame)),
                Err(e) => ConnectionError::Frame(e),
            },
            // The codec refuses an oversized frame from its header.
            Some(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                ConnectionError::Frame(FrameError::TooLong {
                    len: announced(self.io.read_buffer()),
                    max: self.max,
                })
            }
            Some(Err(e)) => ConnectionError::from(e),
        };
        self.broken = true;
        Err(out)
    }
}

/// The length a frame's header announces, if the buffer still holds it (for the error).
fn announced(buf: &BytesMut) -> usize {
    match buf.get(..4) {
        Some(head) => {
            let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            len.saturating_sub(TAG_LEN)
        }
        None => 0,
    }
}

impl<S> std::fmt::Debug for FrameWriter<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameWriter")
            .field("sealer", &self.sealer)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl<S> std::fmt::Debug for FrameReader<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameReader")
            .field("opener", &self.opener)
            .field("max", &self.max)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, DuplexStream, duplex};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::cluster::cookie::Keyring;

    const TIME: Duration = Duration::from_secs(10);
    const MAX: usize = 4096;

    /// Node `a` (incarnation 1) or `b` (incarnation 2).
    fn local<'a>(name: &'a str, keyring: &'a Keyring) -> Local<'a> {
        Local {
            name,
            incarnation: if name == "a" { 1 } else { 2 },
            keyring,
        }
    }

    /// Node `b`'s side of a connection.
    async fn responder<S>(io: S, ring: &Keyring) -> Result<Connection<S>, ConnectionError>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        Connection::open(io, local("b", ring), Role::Responder, TIME, MAX).await
    }

    fn keyring() -> Keyring {
        let mut ring = Keyring::default();
        ring.set_primary(b"correct horse battery staple");
        ring
    }

    async fn pair<S>(a: S, b: S) -> (Connection<S>, Connection<S>)
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let ring = keyring();
        let (x, y) = tokio::join!(
            Connection::open(a, local("a", &ring), Role::Initiator, TIME, MAX),
            responder(b, &ring)
        );
        (x.unwrap(), y.unwrap())
    }

    #[tokio::test]
    async fn frames_cross_both_ways_in_order_over_tcp_on_loopback() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let (client, (server, _)) = (client.unwrap(), server.unwrap());
        client.set_nodelay(true).unwrap();
        let (a, b) = pair(client, server).await;
        assert_eq!((a.peer(), a.peer_incarnation()), ("b", 2));
        assert_eq!((b.peer(), b.peer_incarnation()), ("a", 1));
        let (mut a_out, mut a_in) = a.split();
        let (mut b_out, mut b_in) = b.split();
        for n in 0..100u32 {
            a_out.send(&n.to_be_bytes()).await.unwrap();
        }
        b_out.send(&[7; MAX]).await.unwrap();
        for n in 0..100u32 {
            assert_eq!(b_in.recv().await.unwrap().unwrap()[..], n.to_be_bytes());
        }
        assert_eq!(a_in.recv().await.unwrap().unwrap()[..], [7; MAX]);
        a_out.close().await.unwrap();
        assert_eq!(b_in.recv().await.unwrap(), None, "the peer closed");
    }

    #[tokio::test]
    async fn a_cut_link_ends_the_connection_on_both_sides() {
        use crate::cluster::memory::{MemoryNet, addr};
        let net = MemoryNet::new();
        let mut listener = net.listen(addr(0)).unwrap();
        let to = listener.addr();
        let client = net.connect(addr(9000), to).unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (a, b) = pair(client, server).await;
        let (mut a_out, mut a_in) = a.split();
        let (_b_out, mut b_in) = b.split();
        a_out.send(b"before").await.unwrap();
        assert_eq!(&b_in.recv().await.unwrap().unwrap()[..], b"before");
        net.cut(addr(9000), to);
        assert!(matches!(b_in.recv().await, Err(ConnectionError::Io(_))));
        assert!(matches!(a_in.recv().await, Err(ConnectionError::Io(_))));
        assert!(matches!(
            a_out.send(b"after").await,
            Err(ConnectionError::Io(_))
        ));
    }

    #[tokio::test]
    async fn a_frame_over_the_limit_is_refused_on_both_sides() {
        let (a, b) = duplex(1 << 16);
        let (a, b) = pair(a, b).await;
        let (mut a_out, _a_in) = a.split();
        assert_eq!(
            a_out.send(&[0; MAX + 1]).await,
            Err(ConnectionError::Frame(FrameError::TooLong {
                len: MAX + 1,
                max: MAX
            }))
        );
        // The sender refused it: the connection still works.
        a_out.send(b"fine").await.unwrap();
        let (_b_out, mut b_in) = b.split();
        assert_eq!(&b_in.recv().await.unwrap().unwrap()[..], b"fine");
    }

    /// A connection whose peer is driven by hand after a real handshake: returns the
    /// responder's reader and the raw stream of the initiator, and the initiator's keys.
    async fn raw_peer() -> (FrameReader<DuplexStream>, DuplexStream, Session) {
        let ring = keyring();
        let (mut a, b) = duplex(1 << 16);
        let (session, conn) = tokio::join!(
            handshake::run(&mut a, local("a", &ring), Role::Initiator, TIME),
            responder(b, &ring)
        );
        let (_, reader) = conn.unwrap().split();
        (reader, a, session.unwrap())
    }

    #[tokio::test]
    async fn an_oversized_header_from_the_peer_is_an_error_without_allocating() {
        let (mut reader, mut raw, _) = raw_peer().await;
        raw.write_all(&(1u32 << 31).to_be_bytes()).await.unwrap();
        raw.write_all(&[0; 64]).await.unwrap();
        let err = reader.recv().await.unwrap_err();
        assert!(
            matches!(
                err,
                ConnectionError::Frame(FrameError::TooLong { max: MAX, .. })
            ),
            "{err:?}"
        );
        assert_eq!(reader.recv().await, Err(ConnectionError::Broken));
    }

    #[tokio::test]
    async fn an_unsealed_or_tampered_frame_ends_the_connection() {
        let (mut reader, mut raw, session) = raw_peer().await;
        // A well-formed frame sealed under the right key, with one byte changed.
        let mut sealer = Sealer::new(&session.send_key);
        let mut body = BytesMut::from(&b"hello"[..]);
        sealer.seal(&mut body).unwrap();
        body[0] ^= 1;
        raw.write_all(&(body.len() as u32).to_be_bytes())
            .await
            .unwrap();
        raw.write_all(&body).await.unwrap();
        assert_eq!(
            reader.recv().await,
            Err(ConnectionError::Frame(FrameError::Unauthentic))
        );
        assert_eq!(reader.recv().await, Err(ConnectionError::Broken));

        // Plain bytes, never sealed.
        let (mut reader, mut raw, _) = raw_peer().await;
        raw.write_all(&5u32.to_be_bytes()).await.unwrap();
        raw.write_all(b"hello").await.unwrap();
        assert_eq!(
            reader.recv().await,
            Err(ConnectionError::Frame(FrameError::Unauthentic))
        );
    }

    #[tokio::test]
    async fn nothing_is_read_before_the_handshake() {
        // A peer that skips the handshake and sends a frame: the responder reads it as a
        // handshake message, refuses it, and never hands it over.
        let ring = keyring();
        let (mut a, b) = duplex(1 << 16);
        a.write_all(&4u16.to_be_bytes()).await.unwrap();
        a.write_all(b"data").await.unwrap();
        let out = responder(b, &ring).await;
        assert!(matches!(out, Err(ConnectionError::Handshake(_))), "{out:?}");
        let mut rest = Vec::new();
        drop(out);
        // The responder closed without writing anything back.
        a.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }
}
