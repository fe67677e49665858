//! The handshake that opens every connection between two nodes: each proves to the other
//! that it holds a cookie they share, without sending it, and both derive the keys that
//! seal the connection's frames (see [`seal`](super::seal)).
//!
//! Three messages, each a frame of at most [`MAX_MESSAGE`] bytes after a two-byte length:
//!
//! 1. `Hello`, from the node that connects (the initiator): its name, incarnation, a fresh
//!    random nonce, and the ids of the keys it accepts, the one it proves first.
//! 2. `Challenge`, from the node that accepted (the responder): its name, incarnation, its
//!    own fresh nonce, the id of the key it chose, and its proof: an HMAC-SHA256 under
//!    that key of everything exchanged so far (the transcript). A responder that shares
//!    no key sends `Reject` instead, and closes.
//! 3. `Proof`, from the initiator, once it checked the responder's proof: its own HMAC of
//!    the transcript, under a label of its own so that neither proof can be reflected.
//!
//! The proofs are checked in constant time. A fresh nonce on each side makes every
//! transcript new, so a recorded exchange cannot be replayed; the transcript includes the
//! list of keys the initiator offered, so an attacker who strips its preferred key out is
//! found out. The session keys are derived with HKDF-SHA256 from the shared key and the
//! transcript, one per direction. Nothing else crosses the connection before both proofs
//! are checked.
//!
//! Crate-private; the nodes use it (and the tests below check it against a wrong cookie,
//! a replay, tampering and garbage).

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use std::time::Duration;

use super::config::{MAX_COOKIES, MAX_NAME_LEN, check_name};
use super::cookie::{CookieKey, KEY_ID_LEN, KeyId, Keyring, hmac};
use super::error::HandshakeError;
use hkdf::Hkdf;
use hmac::Mac;

/// The protocol's magic bytes.
const MAGIC: &[u8; 4] = b"BEAM";

/// The protocol version this node speaks.
pub(crate) const VERSION: u8 = 1;

/// The longest handshake message, in bytes.
pub(crate) const MAX_MESSAGE: usize = 512;

/// The length of a nonce, in bytes.
const NONCE_LEN: usize = 32;

/// The length of a proof, in bytes (HMAC-SHA256).
const PROOF_LEN: usize = 32;

const HELLO: u8 = 1;
const CHALLENGE: u8 = 2;
const PROOF: u8 = 3;
const REJECT: u8 = 4;

/// `Reject`'s one reason: no key in common.
const NO_COMMON_KEY: u8 = 1;

/// Who this node is, for the handshake.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Local<'a> {
    pub(crate) name: &'a str,
    pub(crate) incarnation: u64,
    pub(crate) keyring: &'a Keyring,
}

/// A connection whose peer proved the cookie.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Session {
    /// The peer's name.
    pub(crate) peer: String,
    /// The peer's incarnation (a random number drawn when it started).
    pub(crate) peer_incarnation: u64,
    /// The key that seals what this side sends.
    pub(crate) send_key: [u8; 32],
    /// The key that opens what this side receives.
    pub(crate) recv_key: [u8; 32],
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("peer", &self.peer)
            .field("peer_incarnation", &self.peer_incarnation)
            .finish_non_exhaustive()
    }
}

/// Which side of a connection a node is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// It connected.
    Initiator,
    /// It accepted.
    Responder,
}

/// Runs this node's side of the handshake over `io`, giving up after `timeout`.
pub(crate) async fn run<S>(
    io: &mut S,
    local: Local<'_>,
    role: Role,
    timeout: Duration,
) -> Result<Session, HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let side = async {
        match role {
            Role::Initiator => initiator(io, local).await,
            Role::Responder => responder(io, local).await,
        }
    };
    tokio::time::timeout(timeout, side)
        .await
        .unwrap_or(Err(HandshakeError::Timeout))
}

async fn initiator<S>(io: &mut S, local: Local<'_>) -> Result<Session, HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let nonce_i = nonce()?;
    let offered: Vec<KeyId> = local.keyring.ids().collect();
    let mut hello = header(HELLO);
    hello.extend_from_slice(&nonce_i);
    hello.extend_from_slice(&local.incarnation.to_be_bytes());
    put_name(&mut hello, local.name)?;
    let count =
        u8::try_from(offered.len()).map_err(|_| HandshakeError::Malformed("too many keys"))?;
    hello.push(count);
    for id in &offered {
        hello.extend_from_slice(id);
    }
    write_message(io, &hello).await?;

    let challenge = read_message(io).await?;
    let mut r = Reader::new(&challenge);
    match r.header()? {
        CHALLENGE => {}
        REJECT => {
            return match r.u8()? {
                NO_COMMON_KEY => Err(HandshakeError::NoCommonCookie),
                _ => Err(HandshakeError::Malformed("unknown reject reason")),
            };
        }
        _ => return Err(HandshakeError::Malformed("expected a challenge")),
    }
    let nonce_r: [u8; NONCE_LEN] = r.array()?;
    let incarnation_r = u64::from_be_bytes(r.array()?);
    let name_r = r.name()?;
    if name_r == local.name {
        return Err(HandshakeError::SameName);
    }
    let key_id: KeyId = r.array()?;
    let proof_r: [u8; PROOF_LEN] = r.array()?;
    r.end()?;
    // Only a key this node offered may be chosen.
    let key = offered
        .contains(&key_id)
        .then(|| local.keyring.get(&key_id))
        .flatten()
        .ok_or(HandshakeError::NoCommonCookie)?;
    let transcript = Transcript {
        name_i: local.name,
        incarnation_i: local.incarnation,
        name_r: &name_r,
        incarnation_r,
        nonce_i: &nonce_i,
        nonce_r: &nonce_r,
        key_id: &key_id,
        offered: &offered,
    }
    .bytes();
    verify(key, b"responder", &transcript, &proof_r)?;

    let mut proof = header(PROOF);
    proof.extend_from_slice(&prove(key, b"initiator", &transcript));
    write_message(io, &proof).await?;
    let (i2r, r2i) = session_keys(key, &transcript);
    Ok(Session {
        peer: name_r,
        peer_incarnation: incarnation_r,
        send_key: i2r,
        recv_key: r2i,
    })
}

async fn responder<S>(io: &mut S, local: Local<'_>) -> Result<Session, HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let hello = read_message(io).await?;
    let mut r = Reader::new(&hello);
    if r.header()? != HELLO {
        return Err(HandshakeError::Malformed("expected a hello"));
    }
    let nonce_i: [u8; NONCE_LEN] = r.array()?;
    let incarnation_i = u64::from_be_bytes(r.array()?);
    let name_i = r.name()?;
    if name_i == local.name {
        return Err(HandshakeError::SameName);
    }
    let count = usize::from(r.u8()?);
    if count == 0 || count > MAX_COOKIES {
        return Err(HandshakeError::Malformed("bad number of keys"));
    }
    let mut offered = Vec::with_capacity(count);
    for _ in 0..count {
        offered.push(r.array::<KEY_ID_LEN>()?);
    }
    r.end()?;
    let Some(key) = local.keyring.choose(&offered) else {
        let mut reject = header(REJECT);
        reject.push(NO_COMMON_KEY);
        // The peer learns only that it holds none of this node's cookies.
        let _ = write_message(io, &reject).await;
        return Err(HandshakeError::NoCommonCookie);
    };
    let nonce_r = nonce()?;
    let key_id = key.id();
    let transcript = Transcript {
        name_i: &name_i,
        incarnation_i,
        name_r: local.name,
        incarnation_r: local.incarnation,
        nonce_i: &nonce_i,
        nonce_r: &nonce_r,
        key_id: &key_id,
        offered: &offered,
    }
    .bytes();
    let mut challenge = header(CHALLENGE);
    challenge.extend_from_slice(&nonce_r);
    challenge.extend_from_slice(&local.incarnation.to_be_bytes());
    put_name(&mut challenge, local.name)?;
    challenge.extend_from_slice(&key_id);
    challenge.extend_from_slice(&prove(key, b"responder", &transcript));
    write_message(io, &challenge).await?;

    let proof = read_message(io).await?;
    let mut r = Reader::new(&proof);
    if r.header()? != PROOF {
        return Err(HandshakeError::Malformed("expected a proof"));
    }
    let proof_i: [u8; PROOF_LEN] = r.array()?;
    r.end()?;
    verify(key, b"initiator", &transcript, &proof_i)?;
    let (i2r, r2i) = session_keys(key, &transcript);
    Ok(Session {
        peer: name_i,
        peer_incarnation: incarnation_i,
        send_key: r2i,
        recv_key: i2r,
    })
}

/// What both proofs cover.
struct Transcript<'a> {
    name_i: &'a str,
    incarnation_i: u64,
    name_r: &'a str,
    incarnation_r: u64,
    nonce_i: &'a [u8; NONCE_LEN],
    nonce_r: &'a [u8; NONCE_LEN],
    key_id: &'a KeyId,
    offered: &'a [KeyId],
}

impl Transcript<'_> {
    /// The transcript as bytes, every variable-length part prefixed with its length.
    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"beam/handshake/v1");
        for (name, incarnation) in [
            (self.name_i, self.incarnation_i),
            (self.name_r, self.incarnation_r),
        ] {
            out.extend_from_slice(&(name.len() as u64).to_be_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&incarnation.to_be_bytes());
        }
        out.extend_from_slice(self.nonce_i);
        out.extend_from_slice(self.nonce_r);
        out.extend_from_slice(self.key_id);
        out.extend_from_slice(&(self.offered.len() as u64).to_be_bytes());
        for id in self.offered {
            out.extend_from_slice(id);
        }
        out
    }
}

/// The proof of `key` over `transcript`, for the side `label`.
fn prove(key: &CookieKey, label: &[u8], transcript: &[u8]) -> [u8; PROOF_LEN] {
    let mut mac = hmac(key.secret());
    mac.update(label);
    mac.update(transcript);
    mac.finalize().into_bytes().into()
}

/// Checks a proof in constant time.
fn verify(
    key: &CookieKey,
    label: &[u8],
    transcript: &[u8],
    proof: &[u8; PROOF_LEN],
) -> Result<(), HandshakeError> {
    let mut mac = hmac(key.secret());
    mac.update(label);
    mac.update(transcript);
    mac.verify_slice(proof)
        .map_err(|_| HandshakeError::BadProof)
}

/// The session keys: initiator to responder, and back.
fn session_keys(key: &CookieKey, transcript: &[u8]) -> ([u8; 32], [u8; 32]) {
    let salt = Sha256::digest(transcript);
    let hkdf = Hkdf::<Sha256>::new(Some(salt.as_slice()), key.secret());
    let mut i2r = [0; 32];
    let mut r2i = [0; 32];
    hkdf.expand(b"beam/session/i2r", &mut i2r)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    hkdf.expand(b"beam/session/r2i", &mut r2i)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    (i2r, r2i)
}

/// A fresh random nonce.
fn nonce() -> Result<[u8; NONCE_LEN], HandshakeError> {
    let mut nonce = [0; NONCE_LEN];
    getrandom::fill(&mut nonce)
        .map_err(|e| HandshakeError::Io(format!("the system's random source failed: {e}")))?;
    Ok(nonce)
}

/// The start of every message: magic, version, kind.
fn header(kind: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(kind);
    out
}

/// Appends a name with its one-byte length.
fn put_name(out: &mut Vec<u8>, name: &str) -> Result<(), HandshakeError> {
    let len = u8::try_from(name.len()).map_err(|_| HandshakeError::Malformed("name too long"))?;
    out.push(len);
    out.extend_from_slice(name.as_bytes());
    Ok(())
}

async fn write_message<S: AsyncWrite + Unpin>(
    io: &mut S,
    msg: &[u8],
) -> Result<(), HandshakeError> {
    debug_assert!(msg.len() <= MAX_MESSAGE);
    let len =
        u16::try_from(msg.len()).map_err(|_| HandshakeError::Malformed("message too long"))?;
    let mut frame = Vec::with_capacity(2 + msg.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(msg);
    io.write_all(&frame).await.map_err(io_error)?;
    io.flush().await.map_err(io_error)
}

/// Reads one message, refusing one longer than [`MAX_MESSAGE`] from its length alone.
async fn read_message<S: AsyncRead + Unpin>(io: &mut S) -> Result<Vec<u8>, HandshakeError> {
    let mut len = [0; 2];
    io.read_exact(&mut len).await.map_err(io_error)?;
    let len = usize::from(u16::from_be_bytes(len));
    if len > MAX_MESSAGE {
        return Err(HandshakeError::Malformed("message too long"));
    }
    let mut msg = vec![0; len];
    io.read_exact(&mut msg).await.map_err(io_error)?;
    Ok(msg)
}

fn io_error(e: std::io::Error) -> HandshakeError {
    HandshakeError::Io(e.to_string())
}

/// Reads the fields of a message, each checked against what is left.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(msg: &'a [u8]) -> Self {
        Self { rest: msg }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], HandshakeError> {
        if self.rest.len() < n {
            return Err(HandshakeError::Malformed("message cut short"));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, HandshakeError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], HandshakeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Magic and version, then the message's kind.
    fn header(&mut self) -> Result<u8, HandshakeError> {
        if self.take(MAGIC.len())? != MAGIC || self.u8()? != VERSION {
            return Err(HandshakeError::Protocol { expected: VERSION });
        }
        self.u8()
    }

    /// A node name, held to the rules of [`NodeConfig`](crate::cluster::NodeConfig).
    fn name(&mut self) -> Result<String, HandshakeError> {
        let len = usize::from(self.u8()?);
        let name = std::str::from_utf8(self.take(len)?).map_err(|_| HandshakeError::BadName)?;
        check_name("node name", name, MAX_NAME_LEN).map_err(|_| HandshakeError::BadName)?;
        Ok(name.to_owned())
    }

    fn end(&self) -> Result<(), HandshakeError> {
        match self.rest.is_empty() {
            true => Ok(()),
            false => Err(HandshakeError::Malformed("trailing bytes")),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{DuplexStream, duplex};

    use super::*;

    /// Long enough for any test that does not test the timeout.
    const TIME: Duration = Duration::from_secs(60);

    async fn initiate(
        io: &mut DuplexStream,
        local: Local<'_>,
        timeout: Duration,
    ) -> Result<Session, HandshakeError> {
        run(io, local, Role::Initiator, timeout).await
    }

    async fn respond(
        io: &mut DuplexStream,
        local: Local<'_>,
        timeout: Duration,
    ) -> Result<Session, HandshakeError> {
        run(io, local, Role::Responder, timeout).await
    }

    fn ring(primary: &str, accepted: &[&str]) -> Keyring {
        let mut ring = Keyring::default();
        ring.set_primary(primary.as_bytes());
        for cookie in accepted {
            ring.accept(cookie.as_bytes());
        }
        ring
    }

    async fn both(
        ring_i: &Keyring,
        ring_r: &Keyring,
    ) -> (
        Result<Session, HandshakeError>,
        Result<Session, HandshakeError>,
    ) {
        let (mut a, mut b) = duplex(4096);
        let i = Local {
            name: "a",
            incarnation: 1,
            keyring: ring_i,
        };
        let r = Local {
            name: "b",
            incarnation: 2,
            keyring: ring_r,
        };
        tokio::join!(
            async {
                let out = initiate(&mut a, i, TIME).await;
                drop(a);
                out
            },
            async {
                let out = respond(&mut b, r, TIME).await;
                drop(b);
                out
            }
        )
    }

    #[tokio::test]
    async fn nodes_with_the_same_cookie_agree_on_keys_one_per_direction() {
        let ring = ring("correct horse battery staple", &[]);
        let (i, r) = both(&ring, &ring).await;
        let (i, r) = (i.unwrap(), r.unwrap());
        assert_eq!((i.peer.as_str(), i.peer_incarnation), ("b", 2));
        assert_eq!((r.peer.as_str(), r.peer_incarnation), ("a", 1));
        assert_eq!(i.send_key, r.recv_key);
        assert_eq!(i.recv_key, r.send_key);
        assert_ne!(i.send_key, i.recv_key);
        let (again, _) = both(&ring, &ring).await;
        assert_ne!(
            again.unwrap().send_key,
            i.send_key,
            "fresh keys per connection"
        );
    }

    #[tokio::test]
    async fn a_wrong_cookie_is_never_admitted() {
        let (i, r) = both(&ring("right", &[]), &ring("wrong", &[])).await;
        assert_eq!(i, Err(HandshakeError::NoCommonCookie));
        assert_eq!(r, Err(HandshakeError::NoCommonCookie));
    }

    #[tokio::test]
    async fn a_cookie_accepted_on_both_sides_admits_during_a_rotation() {
        // `a` has moved to the new cookie; `b` still proves the old one.
        let (i, r) = both(&ring("new", &["old"]), &ring("old", &["new"])).await;
        let (i, r) = (i.unwrap(), r.unwrap());
        assert_eq!(i.send_key, r.recv_key);
        // Only accepted on one side: still in common.
        let (i, r) = both(&ring("new", &[]), &ring("old", &["new"])).await;
        assert!(i.is_ok() && r.is_ok());
    }

    /// Runs the responder against messages written by hand.
    async fn respond_to(messages: &[Vec<u8>]) -> Result<Session, HandshakeError> {
        let ring = ring("c", &[]);
        let (mut peer, mut ours): (DuplexStream, DuplexStream) = duplex(8192);
        for msg in messages {
            peer.write_all(msg).await.unwrap();
        }
        // The end of what the peer says; it still reads what it is sent.
        peer.shutdown().await.unwrap();
        let out = respond(
            &mut ours,
            Local {
                name: "b",
                incarnation: 2,
                keyring: &ring,
            },
            TIME,
        )
        .await;
        drop(peer);
        out
    }

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut out = (body.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }

    #[tokio::test]
    async fn garbage_is_a_typed_error() {
        assert!(matches!(
            respond_to(&[framed(b"GET / HTTP/1.1")]).await,
            Err(HandshakeError::Protocol { expected: VERSION })
        ));
        assert!(matches!(
            respond_to(&[vec![0xff, 0xff]]).await,
            Err(HandshakeError::Malformed("message too long"))
        ));
        let mut cut = header(HELLO);
        cut.extend_from_slice(&[0; 10]);
        assert!(matches!(
            respond_to(&[framed(&cut)]).await,
            Err(HandshakeError::Malformed("message cut short"))
        ));
        assert!(matches!(respond_to(&[]).await, Err(HandshakeError::Io(_))));
    }

    /// A hello from `a` offering the key of cookie `c`.
    fn hello(nonce: [u8; NONCE_LEN]) -> Vec<u8> {
        let mut hello = header(HELLO);
        hello.extend_from_slice(&nonce);
        hello.extend_from_slice(&1u64.to_be_bytes());
        put_name(&mut hello, "a").unwrap();
        hello.push(1);
        hello.extend_from_slice(&CookieKey::derive(b"c").id());
        hello
    }

    /// Runs a handshake between `a` and `b` (both with cookie `c`) through a relay that
    /// passes each message through `tamper` (with its number, from 0) and records it.
    async fn relayed(
        mut tamper: impl FnMut(usize, &mut Vec<u8>),
    ) -> (
        Result<Session, HandshakeError>,
        Result<Session, HandshakeError>,
        Vec<Vec<u8>>,
    ) {
        let ring = ring("c", &[]);
        let (mut a, mut near) = duplex(4096);
        let (mut far, mut b) = duplex(4096);
        let local_i = Local {
            name: "a",
            incarnation: 1,
            keyring: &ring,
        };
        let local_r = Local {
            name: "b",
            incarnation: 2,
            keyring: &ring,
        };
        let relay = async {
            let mut seen = Vec::new();
            // Hello, challenge, proof: alternately from each side.
            for n in 0..3 {
                let (from, to) = match n % 2 {
                    0 => (&mut near, &mut far),
                    _ => (&mut far, &mut near),
                };
                let Ok(mut msg) = read_message(from).await else {
                    break;
                };
                tamper(n, &mut msg);
                seen.push(msg.clone());
                if write_message(to, &msg).await.is_err() {
                    break;
                }
            }
            drop((near, far));
            seen
        };
        let (i, r, seen) = tokio::join!(
            async {
                let out = initiate(&mut a, local_i, TIME).await;
                drop(a);
                out
            },
            async {
                let out = respond(&mut b, local_r, TIME).await;
                drop(b);
                out
            },
            relay
        );
        (i, r, seen)
    }

    #[tokio::test]
    async fn a_relay_that_changes_nothing_changes_nothing() {
        let (i, r, seen) = relayed(|_, _| {}).await;
        assert_eq!(i.unwrap().send_key, r.unwrap().recv_key);
        assert_eq!(seen.len(), 3);
    }

    #[tokio::test]
    async fn a_proof_without_the_cookie_is_refused() {
        // Knowing the key id is not knowing the key: any proof fails.
        let mut forged = header(PROOF);
        forged.extend_from_slice(&[7; PROOF_LEN]);
        assert_eq!(
            respond_to(&[framed(&hello([1; NONCE_LEN])), framed(&forged)]).await,
            Err(HandshakeError::BadProof)
        );
    }

    #[tokio::test]
    async fn a_recorded_exchange_cannot_be_replayed() {
        let (i, r, seen) = relayed(|_, _| {}).await;
        assert!(i.is_ok() && r.is_ok());
        // The responder draws a new nonce: the recorded proof no longer fits.
        assert_eq!(
            respond_to(&[framed(&seen[0]), framed(&seen[2])]).await,
            Err(HandshakeError::BadProof)
        );
    }

    #[tokio::test]
    async fn a_tampered_exchange_fails() {
        // The responder's incarnation, in the challenge.
        let (i, r, _) = relayed(|n, msg| {
            if n == 1 {
                msg[6 + NONCE_LEN] ^= 1;
            }
        })
        .await;
        assert_eq!(i, Err(HandshakeError::BadProof));
        assert!(
            matches!(r, Err(HandshakeError::Io(_))),
            "the responder never gets a proof: {r:?}"
        );
        // The initiator's nonce, in the hello: the responder's proof covers what it saw.
        let (i, r, _) = relayed(|n, msg| {
            if n == 0 {
                msg[6] ^= 1;
            }
        })
        .await;
        assert_eq!(i, Err(HandshakeError::BadProof));
        assert!(matches!(r, Err(HandshakeError::Io(_))), "{r:?}");
        // The initiator's proof.
        let (i, r, _) = relayed(|n, msg| {
            if n == 2 {
                let last = msg.len() - 1;
                msg[last] ^= 1;
            }
        })
        .await;
        assert!(i.is_ok(), "the initiator finished first");
        assert_eq!(r, Err(HandshakeError::BadProof));
    }

    /// Runs the initiator (`a`, cookie `c`) against a responder that sends `challenge`
    /// whatever the hello says.
    async fn initiate_against(challenge: Vec<u8>) -> Result<Session, HandshakeError> {
        let ring = ring("c", &[]);
        let (mut ours, mut peer) = duplex(8192);
        let peer = tokio::spawn(async move {
            let _hello = read_message(&mut peer).await;
            write_message(&mut peer, &challenge).await.unwrap();
            // Whatever the initiator does next, the peer reads it to the end.
            while read_message(&mut peer).await.is_ok() {}
        });
        let local = Local {
            name: "a",
            incarnation: 1,
            keyring: &ring,
        };
        let out = initiate(&mut ours, local, TIME).await;
        drop(ours);
        peer.await.unwrap();
        out
    }

    /// A challenge from `name` choosing the key of cookie `c`, with `proof`.
    fn challenge(name: &str, proof: [u8; PROOF_LEN]) -> Vec<u8> {
        let mut challenge = header(CHALLENGE);
        challenge.extend_from_slice(&[3; NONCE_LEN]);
        challenge.extend_from_slice(&2u64.to_be_bytes());
        put_name(&mut challenge, name).unwrap();
        challenge.extend_from_slice(&CookieKey::derive(b"c").id());
        challenge.extend_from_slice(&proof);
        challenge
    }

    #[tokio::test]
    async fn a_responder_without_the_cookie_is_not_admitted() {
        // It can name the key (the id is public) but not prove it.
        assert_eq!(
            initiate_against(challenge("b", [9; PROOF_LEN])).await,
            Err(HandshakeError::BadProof)
        );
        // A key the initiator did not offer.
        let mut other = challenge("b", [9; PROOF_LEN]);
        let at = other.len() - PROOF_LEN - KEY_ID_LEN;
        other[at..at + KEY_ID_LEN].copy_from_slice(&CookieKey::derive(b"other").id());
        assert_eq!(
            initiate_against(other).await,
            Err(HandshakeError::NoCommonCookie)
        );
    }

    #[tokio::test]
    async fn a_peer_with_this_nodes_name_or_a_bad_name_is_refused() {
        assert_eq!(
            initiate_against(challenge("a", [0; PROOF_LEN])).await,
            Err(HandshakeError::SameName)
        );
        assert_eq!(
            initiate_against(challenge("b\n", [0; PROOF_LEN])).await,
            Err(HandshakeError::BadName)
        );
        let ring = ring("c", &[]);
        let (i, r) = {
            let (mut a, mut b) = duplex(4096);
            let local = Local {
                name: "a",
                incarnation: 1,
                keyring: &ring,
            };
            tokio::join!(
                async {
                    let out = initiate(&mut a, local, TIME).await;
                    drop(a);
                    out
                },
                async {
                    let out = respond(&mut b, local, TIME).await;
                    drop(b);
                    out
                }
            )
        };
        assert_eq!(r, Err(HandshakeError::SameName), "a connection to itself");
        assert!(matches!(i, Err(HandshakeError::Io(_))), "{i:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_times_out() {
        let ring = ring("c", &[]);
        let (mut ours, _silent) = duplex(4096);
        let local = Local {
            name: "b",
            incarnation: 2,
            keyring: &ring,
        };
        let start = tokio::time::Instant::now();
        let out = respond(&mut ours, local, Duration::from_secs(5)).await;
        assert_eq!(out, Err(HandshakeError::Timeout));
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        let out = initiate(
            &mut ours,
            Local { name: "a", ..local },
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(out, Err(HandshakeError::Timeout));
    }

    #[test]
    fn the_session_keys_do_not_show_in_debug() {
        let session = Session {
            peer: "b".into(),
            peer_incarnation: 2,
            send_key: [0xab; 32],
            recv_key: [0xcd; 32],
        };
        assert_eq!(
            format!("{session:?}"),
            "Session { peer: \"b\", peer_incarnation: 2, .. }"
        );
    }

    #[test]
    fn the_transcript_separates_its_fields() {
        let ids = [[0; KEY_ID_LEN]];
        let t = |name_i, name_r| {
            Transcript {
                name_i,
                incarnation_i: 0,
                name_r,
                incarnation_r: 0,
                nonce_i: &[0; NONCE_LEN],
                nonce_r: &[0; NONCE_LEN],
                key_id: &[0; KEY_ID_LEN],
                offered: &ids,
            }
            .bytes()
        };
        assert_ne!(t("ab", "c"), t("a", "bc"));
        let base = Transcript {
            name_i: "a",
            incarnation_i: 0,
            name_r: "b",
            incarnation_r: 0,
            nonce_i: &[0; NONCE_LEN],
            nonce_r: &[0; NONCE_LEN],
            key_id: &[0; KEY_ID_LEN],
            offered: &ids,
        };
        let swapped = Transcript {
            name_i: "b",
            name_r: "a",
            ..base
        };
        let more = [[0; KEY_ID_LEN], [1; KEY_ID_LEN]];
        let offered = Transcript {
            offered: &more,
            ..base
        };
        let nonce = Transcript {
            nonce_r: &[1; NONCE_LEN],
            ..base
        };
        let all = [
            base.bytes(),
            swapped.bytes(),
            offered.bytes(),
            nonce.bytes(),
        ];
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                assert_ne!(x, y);
            }
        }
    }
}
