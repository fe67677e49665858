//! Nodes of a beam cluster (the `cluster` feature): configuration, and the security of
//! the connections between nodes.
//!
//! A node is an [`ActorSystem`](crate::ActorSystem) that other nodes can reach. Nodes
//! prove to each other that they share a cookie before anything else crosses a
//! connection, and seal every frame after that. What this module has today:
//!
//! - [`NodeConfig`]: a node's name, listen and advertise addresses, seeds, roles and
//!   cookies, built in code or read from `BEAM_NODE`, `BEAM_LISTEN`, `BEAM_ADVERTISE`,
//!   `BEAM_SEEDS`, `BEAM_ROLES` and `BEAM_COOKIE`, each mistake a [`ConfigError`];
//! - the connection handshake: mutual proof of a shared cookie (HMAC-SHA256 over a
//!   transcript with a fresh nonce from each side, checked in constant time, so no
//!   exchange can be replayed), a keyring of accepted cookies for rotation without
//!   downtime, and session keys derived with HKDF-SHA256, one per direction;
//! - sealed frames: ChaCha20-Poly1305 with per-direction counters as nonces, and a frame
//!   limit checked from the length alone, before allocating; a connection (over TCP or
//!   any byte stream) that runs the handshake first and then reads and writes sealed
//!   frames, each direction on its own, every failure a typed [`ConnectionError`];
//! - for tests, an in-memory network whose links can be cut and healed.
//!
//! Starting a node (`ActorSystem::start_node`), membership and failure detection, remote
//! refs, remote monitors and links, and global names are not in this release.
//!
//! The layer sits above the runtime: nothing in the rest of the crate depends on it, and
//! without the `cluster` feature none of it (nor its dependencies) is compiled.
//!
//! # Examples
//!
//! ```
//! use beam_runtime::cluster::{ConfigError, NodeConfig};
//!
//! let config = NodeConfig::new("a")
//!     .listen("127.0.0.1:0")
//!     .cookie("correct horse battery staple")
//!     .accept_cookie("the previous cookie");
//! assert_eq!(config.validate(), Ok(()));
//! assert_eq!(config.cookie_count(), 2);
//!
//! let bad = NodeConfig::new("a b").cookie("c").validate();
//! assert!(matches!(bad, Err(ConfigError::BadName { .. })));
//! ```

pub mod config;
#[allow(dead_code)] // Used by the nodes of the next layer; tested here.
mod conn;
mod cookie;
pub mod error;
#[allow(dead_code)] // Used by the connections of the next layer; tested here.
mod handshake;
#[allow(dead_code)] // Likewise.
mod memory;
#[allow(dead_code)] // Likewise.
mod seal;

pub use config::NodeConfig;
pub use error::{ConfigError, ConnectionError, FrameError, HandshakeError};
