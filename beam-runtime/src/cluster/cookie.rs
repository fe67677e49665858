//! Cookies as keys: a node's [`Keyring`] holds the key it proves and the keys it
//! accepts, each derived from a cookie with HKDF-SHA256 and known to peers by a short id.
//!
//! Crate-private: [`NodeConfig`](super::NodeConfig) fills the keyring, the handshake uses
//! it. The cookies themselves are not kept, only the keys derived from them.

use std::fmt;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The salt of the cookie's key derivation: a key is bound to this protocol.
const SALT: &[u8] = b"beam/cookie/v1";

/// The length of a key id, in bytes.
pub(crate) const KEY_ID_LEN: usize = 8;

/// A key id: the first bytes of an HMAC of a fixed label under the key. It tells peers
/// which key to use without saying anything about the key.
pub(crate) type KeyId = [u8; KEY_ID_LEN];

/// A key derived from a cookie, with the cookie's length (to check it is not too short).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct CookieKey {
    id: KeyId,
    key: [u8; 32],
    cookie_len: usize,
}

impl CookieKey {
    /// The key of `cookie`.
    pub(crate) fn derive(cookie: &[u8]) -> Self {
        let mut key = [0; 32];
        Hkdf::<Sha256>::new(Some(SALT), cookie)
            .expand(b"key", &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        let mut mac = hmac(&key);
        mac.update(b"beam/key-id");
        let mut id = [0; KEY_ID_LEN];
        id.copy_from_slice(&mac.finalize().into_bytes()[..KEY_ID_LEN]);
        Self {
            id,
            key,
            cookie_len: cookie.len(),
        }
    }

    /// Its id.
    pub(crate) fn id(&self) -> KeyId {
        self.id
    }

    /// The key itself.
    pub(crate) fn secret(&self) -> &[u8; 32] {
        &self.key
    }
}

impl fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CookieKey({:02x?}, <redacted>)", self.id)
    }
}

/// An HMAC-SHA256 keyed with `key`.
pub(crate) fn hmac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// The keys a node accepts; the first is the one it proves when the peer accepts it.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Keyring {
    keys: Vec<CookieKey>,
}

impl Keyring {
    /// Makes the key of `cookie` the one proven; a key proven before stays accepted.
    pub(crate) fn set_primary(&mut self, cookie: &[u8]) {
        let key = CookieKey::derive(cookie);
        self.keys.retain(|k| k.id != key.id);
        self.keys.insert(0, key);
    }

    /// Accepts the key of `cookie` too (after the others; once).
    pub(crate) fn accept(&mut self, cookie: &[u8]) {
        let key = CookieKey::derive(cookie);
        if !self.keys.iter().any(|k| k.id == key.id) {
            self.keys.push(key);
        }
    }

    /// The key proven, if any.
    pub(crate) fn primary(&self) -> Option<&CookieKey> {
        self.keys.first()
    }

    /// The ids of every key, the one proven first.
    pub(crate) fn ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.keys.iter().map(CookieKey::id)
    }

    /// The key with id `id`, if accepted.
    pub(crate) fn get(&self, id: &KeyId) -> Option<&CookieKey> {
        self.keys.iter().find(|k| &k.id == id)
    }

    /// The key to prove to a peer that accepts the keys `theirs` (in its order of
    /// preference): this node's primary if the peer accepts it, else the first of the
    /// peer's that this node accepts too.
    pub(crate) fn choose(&self, theirs: &[KeyId]) -> Option<&CookieKey> {
        if let Some(primary) = self.primary() {
            if theirs.contains(&primary.id) {
                return Some(primary);
            }
        }
        theirs.iter().find_map(|id| self.get(id))
    }

    /// The length of the shortest cookie, if any.
    pub(crate) fn shortest(&self) -> Option<usize> {
        self.keys.iter().map(|k| k.cookie_len).min()
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_always_derives_the_same_key_and_another_cookie_another() {
        let a = CookieKey::derive(b"correct horse battery staple");
        assert_eq!(a, CookieKey::derive(b"correct horse battery staple"));
        let b = CookieKey::derive(b"correct horse battery stapler");
        assert_ne!(a.id(), b.id());
        assert_ne!(a.secret(), b.secret());
        assert_ne!(&a.secret()[..], b"correct horse battery staple".as_slice());
    }

    #[test]
    fn the_keyring_proves_its_primary_and_accepts_the_rest() {
        let mut ring = Keyring::default();
        ring.set_primary(b"old");
        ring.set_primary(b"new");
        ring.accept(b"old");
        assert_eq!(ring.len(), 2, "the old primary stays accepted, once");
        let new = CookieKey::derive(b"new").id();
        let old = CookieKey::derive(b"old").id();
        assert_eq!(ring.ids().collect::<Vec<_>>(), [new, old]);
        assert_eq!(ring.choose(&[old, new]).map(CookieKey::id), Some(new));
        assert_eq!(ring.choose(&[old]).map(CookieKey::id), Some(old));
        assert_eq!(ring.choose(&[CookieKey::derive(b"other").id()]), None);
    }

    #[test]
    fn debug_shows_no_secret() {
        let mut ring = Keyring::default();
        ring.set_primary(b"s3cret");
        let key = CookieKey::derive(b"s3cret");
        assert_eq!(
            format!("{ring:?}"),
            format!("[CookieKey({:02x?}, <redacted>)]", key.id())
        );
    }
}
