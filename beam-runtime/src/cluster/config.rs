//! [`NodeConfig`]: what a node is called, where it listens, whom it asks to join, and the
//! cookies it proves and accepts.
//!
//! # Examples
//!
//! ```
//! use beam_runtime::cluster::NodeConfig;
//!
//! let config = NodeConfig::new("a")
//!     .listen("127.0.0.1:0")
//!     .seed("127.0.0.1:4370")
//!     .role("web")
//!     .cookie("correct horse battery staple");
//! assert_eq!(config.validate(), Ok(()));
//! assert_eq!(config.name(), "a");
//! // The cookie never shows in `Debug`.
//! assert!(!format!("{config:?}").contains("horse"));
//!
//! assert!(NodeConfig::new("a").validate().is_err(), "no cookie");
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use super::cookie::Keyring;
use super::error::ConfigError;

/// The environment variable that names the node ([`NodeConfig::from_env`]).
pub const ENV_NODE: &str = "BEAM_NODE";
/// The environment variable with the address to listen on.
pub const ENV_LISTEN: &str = "BEAM_LISTEN";
/// The environment variable with the address peers should use, if not the listen address.
pub const ENV_ADVERTISE: &str = "BEAM_ADVERTISE";
/// The environment variable with the seed addresses, separated by commas.
pub const ENV_SEEDS: &str = "BEAM_SEEDS";
/// The environment variable with the node's roles, separated by commas.
pub const ENV_ROLES: &str = "BEAM_ROLES";
/// The environment variable with the cookie the node proves; further cookies it accepts
/// (while the cluster rotates to a new one) follow it, separated by commas.
pub const ENV_COOKIE: &str = "BEAM_COOKIE";

/// The address a node listens on unless told otherwise: loopback, any free port.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:0";

/// The longest frame a node accepts from a peer unless told otherwise (8 MiB): a longer
/// one is refused from its length alone, before anything is allocated for it.
pub const DEFAULT_MAX_FRAME: usize = 8 * 1024 * 1024;

/// How long a peer has to prove its cookie unless told otherwise.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest node name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// The longest role name, in bytes.
pub const MAX_ROLE_LEN: usize = 64;

/// How many cookies a keyring holds at most (the one proven and those accepted).
pub const MAX_COOKIES: usize = 8;

/// The configuration of a node: built with its methods, or read from the environment
/// with [`from_env`](Self::from_env). Nothing is checked until [`validate`](Self::validate)
/// (which starting a node calls): each mistake is a [`ConfigError`].
///
/// A node needs a name (letters, digits, `-`, `_` and `.`; at most [`MAX_NAME_LEN`]
/// bytes) and a cookie: a secret shared by the nodes of a cluster, which every
/// connection proves on both sides before anything else crosses it. The cookie never
/// crosses the network and never shows in `Debug`. It must be at least
/// [`MIN_COOKIE_LEN`] bytes; make it long and random, since whoever records a handshake
/// can test guesses against it offline.
///
/// Rotating the cookie without downtime: give every node the new cookie as an accepted
/// one ([`accept_cookie`](Self::accept_cookie)), restart them one by one; then make it
/// the proven one ([`cookie`](Self::cookie)) with the old one accepted; then drop the old
/// one. At every step any two nodes share a cookie.
#[derive(Clone)]
pub struct NodeConfig {
    name: String,
    listen: String,
    advertise: Option<String>,
    seeds: Vec<String>,
    roles: BTreeSet<String>,
    keyring: Keyring,
    max_frame: usize,
    handshake_timeout: Duration,
}

impl NodeConfig {
    /// A node called `name`, listening on [`DEFAULT_LISTEN`], with no seeds, no roles and
    /// no cookie yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            listen: DEFAULT_LISTEN.to_owned(),
            advertise: None,
            seeds: Vec::new(),
            roles: BTreeSet::new(),
            keyring: Keyring::default(),
            max_frame: DEFAULT_MAX_FRAME,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// A node configured from the environment: [`ENV_NODE`] (required), [`ENV_LISTEN`],
    /// [`ENV_ADVERTISE`], [`ENV_SEEDS`], [`ENV_ROLES`] and [`ENV_COOKIE`] (required;
    /// the first cookie is proven, the others accepted). Lists are separated by commas;
    /// blank entries are skipped. The methods of the result override what it read.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingEnv`] if `BEAM_NODE` or `BEAM_COOKIE` is unset or blank,
    /// [`ConfigError::NotUnicode`] if a variable is not valid Unicode; what
    /// [`validate`](Self::validate) finds wrong in the values.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|key| match std::env::var(key) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::NotUnicode { var: key }),
        })
    }

    /// [`from_env`](Self::from_env) with the variables read by `var`.
    pub(crate) fn from_vars(
        var: impl Fn(&'static str) -> Result<Option<String>, ConfigError>,
    ) -> Result<Self, ConfigError> {
        let required = |key: &'static str| match var(key)? {
            Some(value) if !value.trim().is_empty() => Ok(value),
            _ => Err(ConfigError::MissingEnv { var: key }),
        };
        let list = |key: &'static str| -> Result<Vec<String>, ConfigError> {
            Ok(var(key)?.map_or_else(Vec::new, |value| split_list(&value)))
        };
        let mut config = Self::new(required(ENV_NODE)?.trim());
        if let Some(listen) = var(ENV_LISTEN)?.filter(|v| !v.trim().is_empty()) {
            config = config.listen(listen.trim());
        }
        if let Some(advertise) = var(ENV_ADVERTISE)?.filter(|v| !v.trim().is_empty()) {
            config = config.advertise(advertise.trim());
        }
        for seed in list(ENV_SEEDS)? {
            config = config.seed(seed);
        }
        for role in list(ENV_ROLES)? {
            config = config.role(role);
        }
        // Cookies are taken as they are (spaces included), split on commas only.
        let cookies = required(ENV_COOKIE)?;
        let mut cookies = cookies.split(',').filter(|c| !c.is_empty());
        if let Some(primary) = cookies.next() {
            config = config.cookie(primary);
        }
        for accepted in cookies {
            config = config.accept_cookie(accepted);
        }
        config.validate()?;
        Ok(config)
    }

    /// Listens on `addr` (`host:port`; port 0 picks a free one): default
    /// [`DEFAULT_LISTEN`].
    #[must_use]
    pub fn listen(mut self, addr: impl fmt::Display) -> Self {
        self.listen = addr.to_string();
        self
    }

    /// Tells peers to reach this node at `addr` (`host:port`) rather than at its listen
    /// address: for a node behind NAT, or listening on `0.0.0.0`.
    #[must_use]
    pub fn advertise(mut self, addr: impl fmt::Display) -> Self {
        self.advertise = Some(addr.to_string());
        self
    }

    /// Joins the cluster through the node at `addr` (`host:port`); several seeds may be
    /// given, and one that answers is enough. A node without seeds starts a cluster.
    #[must_use]
    pub fn seed(mut self, addr: impl fmt::Display) -> Self {
        let addr = addr.to_string();
        if !self.seeds.contains(&addr) {
            self.seeds.push(addr);
        }
        self
    }

    /// Gives the node a role (for placement and readiness by role); a node may have
    /// several.
    #[must_use]
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.roles.insert(role.into());
        self
    }

    /// Sets the cookie this node proves to its peers (and accepts from them); a cookie
    /// set before becomes an accepted one.
    #[must_use]
    pub fn cookie(mut self, cookie: impl AsRef<[u8]>) -> Self {
        self.keyring.set_primary(cookie.as_ref());
        self
    }

    /// Also accepts peers that prove `cookie` (while a cluster rotates its cookie).
    #[must_use]
    pub fn accept_cookie(mut self, cookie: impl AsRef<[u8]>) -> Self {
        self.keyring.accept(cookie.as_ref());
        self
    }

    /// Refuses frames longer than `bytes` from peers (default [`DEFAULT_MAX_FRAME`]):
    /// the connection that sent one is closed. Messages this node sends are held to the
    /// same limit.
    #[must_use]
    pub fn max_frame_len(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// How long a peer has to prove its cookie before its connection is closed (default
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`]).
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The node's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The address it listens on, as given.
    #[must_use]
    pub fn listen_addr(&self) -> &str {
        &self.listen
    }

    /// The address it tells peers to use, if set apart from the listen address.
    #[must_use]
    pub fn advertise_addr(&self) -> Option<&str> {
        self.advertise.as_deref()
    }

    /// The seed addresses, in the order given.
    #[must_use]
    pub fn seeds(&self) -> &[String] {
        &self.seeds
    }

    /// The node's roles, sorted.
    #[must_use]
    pub fn roles(&self) -> &BTreeSet<String> {
        &self.roles
    }

    /// How many cookies the node accepts (the one it proves included).
    #[must_use]
    pub fn cookie_count(&self) -> usize {
        self.keyring.len()
    }

    /// The frame length limit.
    #[must_use]
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// The handshake timeout.
    #[must_use]
    pub fn handshake_time(&self) -> Duration {
        self.handshake_timeout
    }

    /// The cookies, for the handshake.
    #[allow(dead_code)] // The nodes' connections, which use it, are the next layer.
    pub(crate) fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Checks every setting; the first mistake found is the error.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the setting and what is wrong with it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name("node name", &self.name, MAX_NAME_LEN)?;
        check_addr("listen", &self.listen)?;
        if let Some(advertise) = &self.advertise {
            check_addr("advertise", advertise)?;
            if port_of(advertise) == Some(0) {
                return Err(ConfigError::BadAddress {
                    setting: "advertise",
                    addr: advertise.clone(),
                    why: "port 0 cannot be reached".into(),
                });
            }
        }
        for seed in &self.seeds {
            check_addr("seed", seed)?;
            if port_of(seed) == Some(0) {
                return Err(ConfigError::BadAddress {
                    setting: "seed",
                    addr: seed.clone(),
                    why: "port 0 cannot be reached".into(),
                });
            }
        }
        for role in &self.roles {
            check_name("role", role, MAX_ROLE_LEN)?;
        }
        if self.keyring.is_empty() {
            return Err(ConfigError::NoCookie);
        }
        if let Some(len) = self.keyring.shortest().filter(|&len| len < MIN_COOKIE_LEN) {
            return Err(ConfigError::WeakCookie {
                len,
                min: MIN_COOKIE_LEN,
            });
        }
        if self.keyring.len() > MAX_COOKIES {
            return Err(ConfigError::TooManyCookies {
                count: self.keyring.len(),
                max: MAX_COOKIES,
            });
        }
        if self.max_frame < MIN_MAX_FRAME || self.max_frame > MAX_MAX_FRAME {
            return Err(ConfigError::BadFrameLimit {
                bytes: self.max_frame,
            });
        }
        if self.handshake_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout {
                setting: "handshake_timeout",
            });
        }
        Ok(())
    }
}

/// The smallest frame limit allowed: room for the protocol's own messages.
pub const MIN_MAX_FRAME: usize = 4096;

/// The largest frame limit allowed: a sealed frame's length must fit the four-byte
/// length field.
pub const MAX_MAX_FRAME: usize = u32::MAX as usize - super::seal::TAG_LEN;

/// The shortest cookie accepted, in bytes. A cookie is the cluster's only secret: anyone
/// who sees one handshake can test guesses against it offline, so use a long random one
/// (32 random bytes, hex-encoded, say); this limit only catches the obvious mistakes.
pub const MIN_COOKIE_LEN: usize = 16;

impl fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeConfig")
            .field("name", &self.name)
            .field("listen", &self.listen)
            .field("advertise", &self.advertise)
            .field("seeds", &self.seeds)
            .field("roles", &self.roles)
            .field(
                "cookies",
                &format_args!("<{} redacted>", self.keyring.len()),
            )
            .field("max_frame", &self.max_frame)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

/// The entries of a comma-separated list, trimmed, blank ones skipped.
fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks a node or role name: 1 to `max` bytes of letters, digits, `-`, `_`, `.`.
pub(crate) fn check_name(what: &'static str, name: &str, max: usize) -> Result<(), ConfigError> {
    let why = if name.is_empty() {
        Some("it is empty".to_owned())
    } else if name.len() > max {
        Some(format!("it is longer than {max} bytes"))
    } else {
        name.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .map(|c| format!("{c:?} is not a letter, a digit, '-', '_' or '.'"))
    };
    match why {
        Some(why) => Err(ConfigError::BadName {
            what,
            name: name.to_owned(),
            why,
        }),
        None => Ok(()),
    }
}

/// Checks the form of a `host:port` address (the host is resolved when the node starts).
fn check_addr(setting: &'static str, addr: &str) -> Result<(), ConfigError> {
    let bad = |why: &str| ConfigError::BadAddress {
        setting,
        addr: addr.to_owned(),
        why: why.to_owned(),
    };
    if addr.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(());
    }
    let Some((host, port)) = addr.rsplit_once(':') else {
        return Err(bad("expected host:port"));
    };
    if port.parse::<u16>().is_err() {
        return Err(bad("the port is not a number from 0 to 65535"));
    }
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(bad("the host is empty"));
    }
    let bracketed = addr.starts_with('[');
    if host.contains(':') && (!bracketed || host.parse::<std::net::Ipv6Addr>().is_err()) {
        return Err(bad("an IPv6 address is written [addr]:port"));
    }
    if !host.contains(':')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    {
        return Err(bad("the host is not a valid name"));
    }
    Ok(())
}

/// The port of an address that [`check_addr`] accepted.
fn port_of(addr: &str) -> Option<u16> {
    addr.rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const COOKIE: &str = "a cookie of some length";

    fn vars(pairs: &[(&'static str, &str)]) -> NodeConfig {
        try_vars(pairs).expect("valid")
    }

    fn try_vars(pairs: &[(&'static str, &str)]) -> Result<NodeConfig, ConfigError> {
        let map: HashMap<&str, String> = pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        NodeConfig::from_vars(|key| Ok(map.get(key).cloned()))
    }

    #[test]
    fn the_environment_sets_every_field() {
        let config = vars(&[
            (ENV_NODE, " web-1 "),
            (ENV_LISTEN, "0.0.0.0:4370"),
            (ENV_ADVERTISE, "10.0.0.7:4370"),
            (ENV_SEEDS, "10.0.0.1:4370, ,node-b.internal:4370,"),
            (ENV_ROLES, "web,api"),
            (
                ENV_COOKIE,
                "a new secret long enough,the old secret long enough",
            ),
        ]);
        assert_eq!(config.name(), "web-1");
        assert_eq!(config.listen_addr(), "0.0.0.0:4370");
        assert_eq!(config.advertise_addr(), Some("10.0.0.7:4370"));
        assert_eq!(config.seeds(), ["10.0.0.1:4370", "node-b.internal:4370"]);
        assert_eq!(
            config
                .roles()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["api", "web"]
        );
        assert_eq!(config.cookie_count(), 2);
        assert!(config.keyring().primary().is_some());
    }

    #[test]
    fn the_environment_needs_a_name_and_a_cookie() {
        assert_eq!(
            try_vars(&[(ENV_COOKIE, COOKIE)]).unwrap_err(),
            ConfigError::MissingEnv { var: ENV_NODE }
        );
        assert_eq!(
            try_vars(&[(ENV_NODE, "a"), (ENV_COOKIE, "  ")]).unwrap_err(),
            ConfigError::MissingEnv { var: ENV_COOKIE }
        );
        let defaults = vars(&[(ENV_NODE, "a"), (ENV_COOKIE, COOKIE)]);
        assert_eq!(defaults.listen_addr(), DEFAULT_LISTEN);
        assert!(defaults.seeds().is_empty());
    }

    #[test]
    fn a_bad_value_in_the_environment_is_the_error() {
        let err = try_vars(&[
            (ENV_NODE, "a"),
            (ENV_COOKIE, COOKIE),
            (ENV_SEEDS, "nowhere"),
        ]);
        assert!(matches!(
            err,
            Err(ConfigError::BadAddress {
                setting: "seed",
                ..
            })
        ));
    }

    #[test]
    fn names_and_roles_are_checked() {
        let with_cookie = |name: &str| NodeConfig::new(name).cookie(COOKIE).validate();
        assert_eq!(with_cookie("node_a-1.eu"), Ok(()));
        for bad in ["", "a b", "é", "a/b", &"x".repeat(MAX_NAME_LEN + 1)] {
            assert!(
                matches!(
                    with_cookie(bad),
                    Err(ConfigError::BadName {
                        what: "node name",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        let role = NodeConfig::new("a")
            .cookie(COOKIE)
            .role("no spaces")
            .validate();
        assert!(matches!(
            role,
            Err(ConfigError::BadName { what: "role", .. })
        ));
    }

    #[test]
    fn addresses_are_checked_by_form() {
        let listen = |addr: &str| NodeConfig::new("a").cookie(COOKIE).listen(addr).validate();
        for good in [
            "127.0.0.1:0",
            "[::1]:4370",
            "localhost:4370",
            "node-a.svc:1",
        ] {
            assert_eq!(listen(good), Ok(()), "{good}");
        }
        for bad in [
            "127.0.0.1",
            "host:",
            "host:70000",
            ":4370",
            "::1:4370",
            "a b:1",
        ] {
            assert!(
                matches!(
                    listen(bad),
                    Err(ConfigError::BadAddress {
                        setting: "listen",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        let seed = NodeConfig::new("a")
            .cookie(COOKIE)
            .seed("10.0.0.1:0")
            .validate();
        assert!(matches!(
            seed,
            Err(ConfigError::BadAddress {
                setting: "seed",
                ..
            })
        ));
    }

    #[test]
    fn a_node_needs_a_cookie_and_sane_limits() {
        assert_eq!(NodeConfig::new("a").validate(), Err(ConfigError::NoCookie));
        let mut many = NodeConfig::new("a").cookie(COOKIE);
        for i in 1..=MAX_COOKIES {
            many = many.accept_cookie(format!("{COOKIE}{i}"));
        }
        assert!(matches!(
            many.validate(),
            Err(ConfigError::TooManyCookies { .. })
        ));
        let weak = NodeConfig::new("a").cookie("secret").validate();
        assert_eq!(
            weak,
            Err(ConfigError::WeakCookie {
                len: 6,
                min: MIN_COOKIE_LEN
            })
        );
        let weak = NodeConfig::new("a")
            .cookie(COOKIE)
            .accept_cookie("old")
            .validate();
        assert!(
            matches!(weak, Err(ConfigError::WeakCookie { len: 3, .. })),
            "accepted ones too"
        );
        let huge = NodeConfig::new("a")
            .cookie(COOKIE)
            .max_frame_len(u32::MAX as usize);
        assert!(matches!(
            huge.validate(),
            Err(ConfigError::BadFrameLimit { .. })
        ));
        let tiny = NodeConfig::new("a")
            .cookie(COOKIE)
            .max_frame_len(16)
            .validate();
        assert_eq!(tiny, Err(ConfigError::BadFrameLimit { bytes: 16 }));
        let zero = NodeConfig::new("a")
            .cookie(COOKIE)
            .handshake_timeout(Duration::ZERO)
            .validate();
        assert!(matches!(zero, Err(ConfigError::ZeroTimeout { .. })));
    }

    #[test]
    fn a_seed_given_twice_counts_once() {
        let config = NodeConfig::new("a").seed("h:1").seed("h:1").seed("h:2");
        assert_eq!(config.seeds(), ["h:1", "h:2"]);
    }
}
