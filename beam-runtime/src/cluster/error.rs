//! The errors of the cluster layer: [`ConfigError`] for a node's settings,
//! [`HandshakeError`] for a connection whose peer did not prove the cookie, [`FrameError`]
//! for what a peer sent that the protocol does not allow, [`ConnectionError`] for a
//! connection that ended.
//!
//! # Examples
//!
//! ```
//! use beam_runtime::cluster::{ConfigError, NodeConfig};
//!
//! let err = NodeConfig::new("a").validate().unwrap_err();
//! assert_eq!(err, ConfigError::NoCookie);
//! assert_eq!(err.to_string(), "no cookie: a node needs one to prove itself to its peers");
//! ```

/// A mistake in a [`NodeConfig`](super::NodeConfig).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A name (of the node, or a role) is empty, too long or has a character it may not.
    #[error("bad {what} {name:?}: {why}")]
    BadName {
        /// What the name names: `"node name"` or `"role"`.
        what: &'static str,
        /// The name as given.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// An address is not of the form `host:port`.
    #[error("bad {setting} address {addr:?}: {why}")]
    BadAddress {
        /// The setting: `"listen"`, `"advertise"` or `"seed"`.
        setting: &'static str,
        /// The address as given.
        addr: String,
        /// What is wrong with it.
        why: String,
    },
    /// No cookie was set.
    #[error("no cookie: a node needs one to prove itself to its peers")]
    NoCookie,
    /// A cookie shorter than [`MIN_COOKIE_LEN`](super::config::MIN_COOKIE_LEN).
    #[error("a cookie of {len} bytes is too short to keep a cluster safe (at least {min})")]
    WeakCookie {
        /// The length of the shortest cookie given.
        len: usize,
        /// The least accepted.
        min: usize,
    },
    /// More cookies than a keyring holds.
    #[error("{count} cookies given, at most {max} are accepted")]
    TooManyCookies {
        /// How many were given.
        count: usize,
        /// The limit, [`MAX_COOKIES`](super::config::MAX_COOKIES).
        max: usize,
    },
    /// A frame limit below [`MIN_MAX_FRAME`](super::config::MIN_MAX_FRAME) or above
    /// [`MAX_MAX_FRAME`](super::config::MAX_MAX_FRAME).
    #[error("frame limit of {bytes} bytes is out of range")]
    BadFrameLimit {
        /// The limit given.
        bytes: usize,
    },
    /// A timeout of zero, which no peer could meet.
    #[error("{setting} must not be zero")]
    ZeroTimeout {
        /// The setting.
        setting: &'static str,
    },
    /// A required environment variable is unset or blank.
    #[error("environment variable {var} is not set")]
    MissingEnv {
        /// The variable.
        var: &'static str,
    },
    /// An environment variable is not valid Unicode.
    #[error("environment variable {var} is not valid Unicode")]
    NotUnicode {
        /// The variable.
        var: &'static str,
    },
}

/// Why a connection was closed before its peer was admitted. Nothing from the peer is
/// delivered, and no membership granted, before the handshake succeeds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The peer does not speak this protocol (or this version of it).
    #[error("the peer does not speak beam's protocol, version {expected}")]
    Protocol {
        /// The version this node speaks.
        expected: u8,
    },
    /// A handshake message was cut short, too long, or out of order.
    #[error("malformed handshake message: {0}")]
    Malformed(&'static str),
    /// The peer accepts none of this node's cookies, or proves one this node does not
    /// accept.
    #[error("no cookie in common with the peer")]
    NoCommonCookie,
    /// The peer's proof of the cookie is wrong: a wrong cookie, or a replayed or
    /// tampered exchange.
    #[error("the peer's proof of the cookie is wrong")]
    BadProof,
    /// The peer has this node's own name: a connection to itself, or two nodes given one
    /// name.
    #[error("the peer has this node's own name")]
    SameName,
    /// The peer's name is not a valid node name.
    #[error("the peer's name is not a valid node name")]
    BadName,
    /// The peer took longer than the handshake timeout.
    #[error("the peer did not complete the handshake in time")]
    Timeout,
    /// The connection failed or closed during the handshake.
    #[error("connection lost during the handshake: {0}")]
    Io(String),
}

/// What a peer sent that the protocol does not allow; the frame is dropped and counted,
/// and the connection closed when it can no longer be trusted (anything that fails
/// authentication). Never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A frame longer than the limit, refused from its length alone.
    #[error("frame of {len} bytes is over the limit of {max}")]
    TooLong {
        /// The length it announced.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A frame shorter than its authentication tag, or that fails authentication: cut,
    /// tampered with, replayed or reordered.
    #[error("frame failed authentication")]
    Unauthentic,
    /// This side has sent or received as many frames as its nonces can count: the
    /// connection must be made anew.
    #[error("connection used up its nonces")]
    NoncesExhausted,
}

/// Why a connection to a peer ended, or could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The peer was not admitted.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The peer sent a frame the protocol does not allow, or one could not be sent.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// Reading or writing the connection failed.
    #[error("connection failed: {0}")]
    Io(String),
    /// An earlier frame failed: the connection is no longer read.
    #[error("the connection failed earlier and is no longer read")]
    Broken,
}

impl From<std::io::Error> for ConnectionError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e.to_string())
    }
}
