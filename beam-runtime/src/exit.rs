//! Why an actor stopped: [`ExitReason`], the value every exit carries.
//!
//! # Examples
//!
//! ```
//! use beam_runtime::ExitReason;
//!
//! let reason = ExitReason::Panic("index out of bounds".into());
//! assert!(!reason.is_normal());
//! assert_eq!(reason.to_string(), "panic: index out of bounds");
//! ```

use std::fmt;

/// Why an actor stopped, after Erlang/OTP's exit reasons.
///
/// `Normal` and `Shutdown` are orderly stops; the others are failures. The enum is
/// `#[non_exhaustive]`: later releases add reasons (for example a lost connection to a
/// remote node).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExitReason {
    /// The actor finished its work: it stopped itself or was stopped with `ActorSystem::stop`.
    Normal,
    /// The actor was asked to stop by its parent or by `ActorSystem::shutdown`.
    Shutdown,
    /// The actor was killed without running its `#[terminate]` hook (for example when it
    /// overran a shutdown timeout).
    Killed,
    /// A handler, `#[init]` or `#[terminate]` panicked with this message.
    Panic(String),
    /// The actor stopped itself with this error.
    Error(String),
    /// The actor did not exist (for example it had already stopped).
    NoProc,
}

impl ExitReason {
    /// `true` for the orderly reasons, [`ExitReason::Normal`] and [`ExitReason::Shutdown`].
    #[must_use]
    pub fn is_normal(&self) -> bool {
        matches!(self, Self::Normal | Self::Shutdown)
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Normal => f.write_str("normal"),
            Self::Shutdown => f.write_str("shutdown"),
            Self::Killed => f.write_str("killed"),
            Self::Panic(msg) => write!(f, "panic: {msg}"),
            Self::Error(msg) => write!(f, "error: {msg}"),
            Self::NoProc => f.write_str("no such actor"),
        }
    }
}
