//! An in-memory network, for deterministic tests of what crosses between nodes: nodes
//! listen on and connect to addresses of their own within one process, over tokio's
//! in-memory pipes, and the link between two addresses can be cut (their connections
//! fail at once, new ones are refused) and healed.
//!
//! Crate-private for now; the nodes of the next layer take it in place of TCP.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// How many bytes a pipe buffers in each direction.
const PIPE_BUFFER: usize = 64 * 1024;

/// A network within this process. Cloning it gives another handle to the same network.
#[derive(Clone, Default)]
pub(crate) struct MemoryNet {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    listeners: HashMap<SocketAddr, mpsc::UnboundedSender<(MemoryStream, SocketAddr)>>,
    /// The pairs of addresses whose link is cut, smaller address first.
    cut: HashSet<(SocketAddr, SocketAddr)>,
    /// The live connections: their two ends' addresses and how to sever them.
    live: Vec<(SocketAddr, SocketAddr, CancellationToken)>,
    /// The last port handed out for port 0.
    last_port: u16,
}

/// A pair of addresses in a fixed order, to name the link between them.
fn link(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

impl MemoryNet {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Listens on `addr`; port 0 takes a free port (the listener's
    /// [`addr`](MemoryListener::addr) says which).
    pub(crate) fn listen(&self, mut addr: SocketAddr) -> io::Result<MemoryListener> {
        let mut state = self.state.lock();
        if addr.port() == 0 {
            // The next free port after the last one handed out, wrapping once around.
            let free = (0..u16::MAX).find_map(|_| {
                state.last_port = state.last_port.checked_add(1).unwrap_or(1);
                let candidate = SocketAddr::new(addr.ip(), state.last_port);
                (!state.listeners.contains_key(&candidate)).then_some(candidate)
            });
            addr = free.ok_or_else(|| io::Error::new(io::ErrorKind::AddrInUse, "no free port"))?;
        }
        if state.listeners.contains_key(&addr) {
            return Err(io::Error::new(io::ErrorKind::AddrInUse, addr.to_string()));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        state.listeners.insert(addr, tx);
        Ok(MemoryListener {
            addr,
            incoming: rx,
            net: self.clone(),
        })
    }

    /// Connects from `from` to the listener at `to`; refused if nothing listens there
    /// or the link between the two is cut.
    pub(crate) fn connect(&self, from: SocketAddr, to: SocketAddr) -> io::Result<MemoryStream> {
        let mut state = self.state.lock();
        if state.cut.contains(&link(from, to)) {
            return Err(io::Error::new(io::ErrorKind::ConnectionRefused, "link cut"));
        }
        let Some(listener) = state.listeners.get(&to) else {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                to.to_string(),
            ));
        };
        let (near, far) = tokio::io::duplex(PIPE_BUFFER);
        let token = CancellationToken::new();
        let accepted = MemoryStream::new(far, token.clone());
        if listener.send((accepted, from)).is_err() {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                to.to_string(),
            ));
        }
        state.live.retain(|(_, _, t)| !t.is_cancelled());
        state.live.push((from, to, token.clone()));
        Ok(MemoryStream::new(near, token))
    }

    /// Cuts the link between `a` and `b`: their connections fail at once, both ways,
    /// and new ones are refused until [`heal`](Self::heal).
    pub(crate) fn cut(&self, a: SocketAddr, b: SocketAddr) {
        let mut state = self.state.lock();
        state.cut.insert(link(a, b));
        let key = link(a, b);
        state.live.retain(|(x, y, token)| {
            let hit = link(*x, *y) == key;
            if hit {
                token.cancel();
            }
            !hit
        });
    }

    /// Heals the link between `a` and `b`: new connections are allowed again.
    pub(crate) fn heal(&self, a: SocketAddr, b: SocketAddr) {
        self.state.lock().cut.remove(&link(a, b));
    }

    fn unlisten(&self, addr: SocketAddr) {
        self.state.lock().listeners.remove(&addr);
    }
}

/// An address on loopback with `port`, for tests.
pub(crate) fn addr(port: u16) -> SocketAddr {
    SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port)
}

/// A listener of a [`MemoryNet`]; dropping it stops listening.
pub(crate) struct MemoryListener {
    addr: SocketAddr,
    incoming: mpsc::UnboundedReceiver<(MemoryStream, SocketAddr)>,
    net: MemoryNet,
}

impl MemoryListener {
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The next connection and the address it came from.
    pub(crate) async fn accept(&mut self) -> io::Result<(MemoryStream, SocketAddr)> {
        self.incoming
            .recv()
            .await
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "network gone"))
    }
}

impl Drop for MemoryListener {
    fn drop(&mut self) {
        self.net.unlisten(self.addr);
    }
}

/// One end of a connection of a [`MemoryNet`]: a pipe that fails with
/// [`io::ErrorKind::ConnectionReset`] once its link is cut.
pub(crate) struct MemoryStream {
    pipe: DuplexStream,
    cut: Pin<Box<WaitForCancellationFutureOwned>>,
    token: CancellationToken,
}

impl MemoryStream {
    fn new(pipe: DuplexStream, token: CancellationToken) -> Self {
        Self {
            pipe,
            cut: Box::pin(token.clone().cancelled_owned()),
            token,
        }
    }

    /// `Err` once the link is cut; registers the waker for it otherwise.
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if self.token.is_cancelled() || self.cut.as_mut().poll(cx).is_ready() {
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "link cut"));
        }
        Ok(())
    }
}

impl AsyncRead for MemoryStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.pipe).poll_read(cx, buf)
    }
}

impl AsyncWrite for MemoryStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.pipe).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.pipe).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.pipe).poll_shutdown(cx))?;
        Poll::Ready(Ok(()))
    }
}

impl std::fmt::Debug for MemoryNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock();
        f.debug_struct("MemoryNet")
            .field("listeners", &state.listeners.len())
            .field("cut", &state.cut)
            .field("live", &state.live.len())
            .finish()
    }
}

impl std::fmt::Debug for MemoryListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryListener")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for MemoryStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStream")
            .field("cut", &self.token.is_cancelled())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn nodes_connect_and_talk_by_address() {
        let net = MemoryNet::new();
        let mut listener = net.listen(addr(0)).unwrap();
        let to = listener.addr();
        assert_ne!(to.port(), 0);
        assert_eq!(net.listen(to).unwrap_err().kind(), io::ErrorKind::AddrInUse);
        let mut client = net.connect(addr(9000), to).unwrap();
        let (mut server, from) = listener.accept().await.unwrap();
        assert_eq!(from, addr(9000));
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        assert_eq!(
            net.connect(addr(9000), addr(9999)).unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused,
            "nothing listens there"
        );
        drop(listener);
        assert!(net.connect(addr(9000), to).is_err(), "no longer listening");
    }

    #[tokio::test]
    async fn a_cut_fails_live_connections_at_once_and_refuses_new_ones_until_healed() {
        let net = MemoryNet::new();
        let mut listener = net.listen(addr(0)).unwrap();
        let to = listener.addr();
        let mut client = net.connect(addr(9000), to).unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        // A read waiting when the cut comes fails then.
        let waiting = tokio::spawn(async move {
            let mut buf = [0; 1];
            server.read(&mut buf).await
        });
        tokio::task::yield_now().await;
        net.cut(to, addr(9000));
        let read = waiting.await.unwrap();
        assert_eq!(read.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(
            client.write_all(b"x").await.unwrap_err().kind(),
            io::ErrorKind::ConnectionReset
        );
        assert_eq!(
            net.connect(addr(9000), to).unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused
        );
        // Other links are untouched.
        let mut other = net.connect(addr(9001), to).unwrap();
        other.write_all(b"y").await.unwrap();
        net.heal(addr(9000), to);
        let mut again = net.connect(addr(9000), to).unwrap();
        again.write_all(b"z").await.unwrap();
        let (_, from) = listener.accept().await.unwrap();
        assert_eq!(from, addr(9001));
        let (mut healed, from) = listener.accept().await.unwrap();
        assert_eq!(from, addr(9000));
        let mut buf = [0; 1];
        healed.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"z");
    }
}
