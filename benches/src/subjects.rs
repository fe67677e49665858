//! The subjects: raw tokio channels (the baseline), beam, and with the `peers` feature the
//! other actor frameworks. Each implements every [`Case`](crate::Case) the same way: one
//! actor (or task) per role, a `u64` counter as state, `u64` messages.

pub mod beam;
pub mod raw;

#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "kameo")]
pub mod kameo;
#[cfg(feature = "ractor")]
pub mod ractor;
