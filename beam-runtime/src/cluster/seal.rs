//! Sealed frames: after the [handshake](super::handshake), every frame of a connection is
//! encrypted and authenticated with ChaCha20-Poly1305 under the key of its direction.
//!
//! The nonce of a frame is its number in its direction (a 64-bit counter, never reused
//! under one key: each connection has fresh keys), so a frame that is cut, changed,
//! dropped, replayed or reordered fails to open, and the connection is closed. Frames are
//! length-delimited (four bytes, big-endian) by tokio-util's codec, whose limit refuses a
//! frame from its length alone, before anything is allocated for it.
//!
//! Crate-private; the connections use it.

use bytes::BytesMut;
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce, Tag};
use tokio_util::codec::LengthDelimitedCodec;

use super::error::FrameError;

/// The bytes a sealed frame has beyond its plaintext: the authentication tag.
pub(crate) const TAG_LEN: usize = 16;

/// The codec of a connection's frames: four-byte big-endian lengths, frames of at most
/// `max_plaintext` bytes once opened.
pub(crate) fn codec(max_plaintext: usize) -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(4)
        .max_frame_length(max_plaintext.saturating_add(TAG_LEN))
        .new_codec()
}

/// The nonce of frame number `counter`.
fn nonce(counter: u64) -> Nonce {
    let mut nonce = [0; 12];
    nonce[4..].copy_from_slice(&counter.to_be_bytes());
    Nonce::from(nonce)
}

/// Seals the frames one side sends.
pub(crate) struct Sealer {
    cipher: ChaCha20Poly1305,
    next: u64,
}

impl Sealer {
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
            next: 0,
        }
    }

    /// Encrypts `frame` in place and appends its tag.
    pub(crate) fn seal(&mut self, frame: &mut BytesMut) -> Result<(), FrameError> {
        let counter = self.next;
        let next = counter.checked_add(1).ok_or(FrameError::NoncesExhausted)?;
        if frame.len() > crate::cluster::config::MAX_MAX_FRAME {
            return Err(FrameError::TooLong {
                len: frame.len(),
                max: crate::cluster::config::MAX_MAX_FRAME,
            });
        }
        // Fails only for inputs of 256 GiB and more, refused above.
        let tag = self
            .cipher
            .encrypt_in_place_detached(&nonce(counter), &[], frame)
            .map_err(|_| FrameError::TooLong {
                len: frame.len(),
                max: crate::cluster::config::MAX_MAX_FRAME,
            })?;
        self.next = next;
        frame.extend_from_slice(&tag);
        Ok(())
    }
}

/// Opens the frames one side receives, in the order they were sealed.
pub(crate) struct Opener {
    cipher: ChaCha20Poly1305,
    next: u64,
}

impl Opener {
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
            next: 0,
        }
    }

    /// Checks and decrypts `frame` in place, leaving its plaintext.
    pub(crate) fn open(&mut self, frame: &mut BytesMut) -> Result<(), FrameError> {
        let Some(body) = frame.len().checked_sub(TAG_LEN) else {
            return Err(FrameError::Unauthentic);
        };
        let counter = self.next;
        let tag = Tag::clone_from_slice(&frame[body..]);
        frame.truncate(body);
        self.cipher
            .decrypt_in_place_detached(&nonce(counter), &[], frame, &tag)
            .map_err(|_| FrameError::Unauthentic)?;
        self.next = counter.checked_add(1).ok_or(FrameError::NoncesExhausted)?;
        Ok(())
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer {{ next: {} }}", self.next)
    }
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Opener {{ next: {} }}", self.next)
    }
}

#[cfg(test)]
mod tests {
    use tokio_util::codec::Decoder;

    use super::*;

    fn pair() -> (Sealer, Opener) {
        let key = [42; 32];
        (Sealer::new(&key), Opener::new(&key))
    }

    fn sealed(sealer: &mut Sealer, text: &[u8]) -> BytesMut {
        let mut frame = BytesMut::from(text);
        sealer.seal(&mut frame).unwrap();
        frame
    }

    #[test]
    fn frames_open_in_order_and_hide_their_text() {
        let (mut sealer, mut opener) = pair();
        for text in [&b"hello"[..], b"", &[0; 1000]] {
            let mut frame = sealed(&mut sealer, text);
            assert_eq!(frame.len(), text.len() + TAG_LEN);
            if !text.is_empty() {
                assert_ne!(&frame[..text.len()], text);
            }
            opener.open(&mut frame).unwrap();
            assert_eq!(&frame[..], text);
        }
    }

    #[test]
    fn a_changed_cut_replayed_or_reordered_frame_fails() {
        let (mut sealer, mut opener) = pair();
        let first = sealed(&mut sealer, b"first");
        let second = sealed(&mut sealer, b"second");
        let mut changed = first.clone();
        changed[0] ^= 1;
        assert_eq!(opener.open(&mut changed), Err(FrameError::Unauthentic));
        let mut cut = BytesMut::from(&first[..TAG_LEN - 1]);
        assert_eq!(opener.open(&mut cut), Err(FrameError::Unauthentic));
        let mut early = second.clone();
        assert_eq!(
            opener.open(&mut early),
            Err(FrameError::Unauthentic),
            "reordered"
        );
        let mut ok = first.clone();
        opener.open(&mut ok).unwrap();
        let mut replayed = first.clone();
        assert_eq!(opener.open(&mut replayed), Err(FrameError::Unauthentic));
        let mut next = second.clone();
        opener.open(&mut next).unwrap();
        assert_eq!(&next[..], b"second");
    }

    #[test]
    fn another_key_opens_nothing() {
        let mut sealer = Sealer::new(&[1; 32]);
        let mut opener = Opener::new(&[2; 32]);
        let mut frame = sealed(&mut sealer, b"secret");
        assert_eq!(opener.open(&mut frame), Err(FrameError::Unauthentic));
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_before_allocating() {
        let mut codec = codec(4096);
        // A header announcing 1 GiB, and a few bytes of it.
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(&(1u32 << 30).to_be_bytes());
        buf.extend_from_slice(&[0; 16]);
        let err = codec.decode(&mut buf).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(buf.capacity() < 1 << 20, "nothing reserved for the frame");
        // At the limit, it is taken.
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&((4096 + TAG_LEN) as u32).to_be_bytes());
        buf.extend_from_slice(&vec![0; 4096 + TAG_LEN]);
        assert_eq!(
            codec.decode(&mut buf).unwrap().unwrap().len(),
            4096 + TAG_LEN
        );
    }
}
