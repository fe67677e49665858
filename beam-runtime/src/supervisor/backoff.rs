//! Restart backoff: how long a supervisor waits before it restarts a child that exited.

use std::time::Duration;

/// A delay between a child's exit and its restart: none (OTP's behaviour and the default),
/// fixed, or exponential up to a cap, with optional jitter.
///
/// The delay grows with the child's restarts in a row: a restart counts as "in a row"
/// when the child's previous restart is at most the supervisor's intensity period old;
/// otherwise it is the first again. The restart still counts in the restart intensity
/// when it is decided, at the exit, not when it happens after the wait.
///
/// Set one for all the children of a supervisor with
/// [`SupervisorSpec::backoff`](super::SupervisorSpec::backoff), or for one child with
/// [`ChildSpec::backoff`](super::ChildSpec::backoff).
///
/// # Examples
///
/// ```
/// use beam_runtime::supervisor::Backoff;
/// use std::time::Duration;
///
/// let backoff = Backoff::exponential(Duration::from_millis(100), Duration::from_secs(1));
/// let delays: Vec<Duration> = (1..=6).map(|n| backoff.delay(n)).collect();
/// assert_eq!(
///     delays,
///     [100, 200, 400, 800, 1000, 1000].map(Duration::from_millis)
/// );
/// assert_eq!(Backoff::fixed(Duration::from_secs(2)).delay(9), Duration::from_secs(2));
/// assert_eq!(Backoff::none().delay(1), Duration::ZERO);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Backoff {
    kind: Kind,
    /// The fraction of each delay that jitter may take off, in `0.0..=1.0`.
    jitter: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Kind {
    #[default]
    None,
    Fixed(Duration),
    Exponential {
        base: Duration,
        max: Duration,
    },
}

impl Backoff {
    /// No delay: a child restarts as soon as it exits.
    #[must_use]
    pub const fn none() -> Self {
        Self {
            kind: Kind::None,
            jitter: 0.0,
        }
    }

    /// The same delay before every restart.
    #[must_use]
    pub const fn fixed(delay: Duration) -> Self {
        Self {
            kind: Kind::Fixed(delay),
            jitter: 0.0,
        }
    }

    /// `base` before the first restart in a row, doubled for each one after, and never
    /// more than `max` (a `max` below `base` caps every delay at `max`).
    #[must_use]
    pub const fn exponential(base: Duration, max: Duration) -> Self {
        Self {
            kind: Kind::Exponential { base, max },
            jitter: 0.0,
        }
    }

    /// Takes a random part of up to `fraction` off each delay, so that children that fail
    /// together do not restart together: with `0.25`, a delay of 1 s becomes one between
    /// 750 ms and 1 s (the cap is never exceeded). `fraction` is clamped to `0.0..=1.0`;
    /// NaN means no jitter.
    ///
    /// The randomness comes from a small generator built in (splitmix64), seeded from the
    /// supervisor's and the child's ids, the restart's number and the system clock: good
    /// enough to spread restarts, not for anything secret.
    #[must_use]
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        self
    }

    /// The delay before the `attempt`-th restart in a row (1 for the first), without
    /// jitter.
    #[must_use]
    pub fn delay(&self, attempt: u32) -> Duration {
        match self.kind {
            Kind::None => Duration::ZERO,
            Kind::Fixed(delay) => delay,
            Kind::Exponential { base, max } => 1u32
                .checked_shl(attempt.saturating_sub(1))
                .and_then(|factor| base.checked_mul(factor))
                .unwrap_or(Duration::MAX)
                .min(max),
        }
    }

    /// The delay before the `attempt`-th restart in a row, with jitter drawn from `seed`.
    pub(crate) fn jittered(&self, attempt: u32, seed: u64) -> Duration {
        let delay = self.delay(attempt);
        if self.jitter == 0.0 || delay.is_zero() {
            return delay;
        }
        // A uniform draw in [0, 1) from the top 53 bits.
        #[allow(clippy::cast_precision_loss, reason = "53 bits fit an f64 exactly")]
        let unit = (splitmix64(seed) >> 11) as f64 / (1u64 << 53) as f64;
        delay.mul_f64(1.0 - self.jitter * unit)
    }

    /// Whether restarts wait at all.
    pub(crate) fn is_none(&self) -> bool {
        match self.kind {
            Kind::None => true,
            Kind::Fixed(delay) => delay.is_zero(),
            Kind::Exponential { base, max } => base.is_zero() || max.is_zero(),
        }
    }
}

/// One step of splitmix64: a well-mixed 64-bit value from any seed.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for the jitter of one restart.
pub(crate) fn seed(supervisor: u64, child: u64, attempt: u32) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    supervisor.rotate_left(32) ^ child.rotate_left(16) ^ u64::from(attempt) ^ u64::from(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_its_fraction_and_under_the_delay() {
        let backoff = Backoff::fixed(Duration::from_secs(1)).jitter(0.25);
        let mut seen = std::collections::HashSet::new();
        for seed in 0..1000 {
            let delay = backoff.jittered(1, seed);
            assert!(delay <= Duration::from_secs(1), "{delay:?}");
            assert!(delay >= Duration::from_millis(750), "{delay:?}");
            seen.insert(delay);
        }
        assert!(seen.len() > 900, "the draws spread");
    }

    #[test]
    fn bad_fractions_are_clamped() {
        let d = Duration::from_secs(1);
        assert_eq!(Backoff::fixed(d).jitter(f64::NAN).jittered(1, 7), d);
        assert_eq!(Backoff::fixed(d).jitter(-3.0).jittered(1, 7), d);
        assert!(Backoff::fixed(d).jitter(9.0).jittered(1, 7) <= d);
    }

    #[test]
    fn exponential_saturates_instead_of_overflowing() {
        let backoff = Backoff::exponential(Duration::from_secs(1), Duration::MAX);
        assert_eq!(backoff.delay(u32::MAX), Duration::MAX);
        assert_eq!(backoff.delay(0), Duration::from_secs(1));
        let capped = Backoff::exponential(Duration::from_secs(5), Duration::from_secs(2));
        assert_eq!(capped.delay(1), Duration::from_secs(2));
    }
}
