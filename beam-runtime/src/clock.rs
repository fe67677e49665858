//! A coarse clock for the call path: milliseconds read from an atomic that a background
//! thread keeps current while calls read it, so timing a call costs two atomic loads
//! instead of two reads of the system clock.
//!
//! The thread (`beam-clock`, one per process) starts on the first read, stores the time
//! every millisecond, and parks after a while without readers; a read that finds it parked
//! wakes it and reads the system clock itself. Readings never run ahead of the time, but
//! lag it by up to about two milliseconds, and by more when the machine is so loaded that
//! the thread is not scheduled. A wait timed from a lagging reading looks longer than it
//! was: on a machine that starves the thread for longer than a call's timeout, a reply
//! that came within it can be judged late.
//!
//! Crate-private: [`Call`](crate::Call) uses it to tell whether a callee run in place
//! answered within the call's timeout.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// The time in milliseconds since [`epoch`], shifted left by one; the low bit is set
/// while the clock thread is parked (the value is then stale).
static TICKS: AtomicU64 = AtomicU64::new(PARKED);

/// Set by a reader that found the clock thread parked (or not started), cleared by the
/// clock thread each [`QUIET_TICKS`] ticks: the thread parks when it finds it cleared, so
/// it runs at least `QUIET_TICKS` ticks after each wake, and a process that keeps reading
/// wakes it again about every `2 * QUIET_TICKS` ms (the reads in between cost two loads).
static READ: AtomicBool = AtomicBool::new(false);

/// The low bit of [`TICKS`].
const PARKED: u64 = 1;

/// How many ticks without a reader the clock thread waits before it parks.
const QUIET_TICKS: u32 = 64;

/// The clock's zero.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Milliseconds since the clock's zero at `at`.
fn millis(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch()).as_millis()).unwrap_or(u64::MAX >> 1)
}

/// The clock thread, started on first use; `None` if it could not be started (then every
/// read reads the system clock).
fn ticker() -> Option<&'static Thread> {
    static TICKER: OnceLock<Option<Thread>> = OnceLock::new();
    TICKER
        .get_or_init(|| {
            thread::Builder::new()
                .name("beam-clock".into())
                .spawn(tick)
                .ok()
                .map(|handle| handle.thread().clone())
        })
        .as_ref()
}

/// The clock thread's loop.
fn tick() {
    let mut quiet = 0;
    loop {
        TICKS.store(millis(Instant::now()) << 1, Ordering::Release);
        thread::sleep(Duration::from_millis(1));
        quiet += 1;
        if quiet < QUIET_TICKS {
            continue;
        }
        quiet = 0;
        if READ.swap(false, Ordering::SeqCst) {
            continue;
        }
        // No reader for a while: flag the value stale, then park unless a reader came
        // meanwhile. A reader sets `READ` before it looks at the flag, so either this
        // sees its `READ` or it sees the flag and unparks this thread.
        TICKS.store((millis(Instant::now()) << 1) | PARKED, Ordering::SeqCst);
        if !READ.load(Ordering::SeqCst) {
            thread::park();
        }
    }
}

/// Milliseconds since the clock's zero, at most about a millisecond behind the time,
/// wrapping around every 49 days (take differences with `wrapping_sub`).
#[inline]
pub(crate) fn now_ms() -> u32 {
    let ticks = TICKS.load(Ordering::Acquire);
    if ticks & PARKED != 0 {
        return wake();
    }
    // Truncated on purpose: only differences count.
    #[allow(clippy::cast_possible_truncation)]
    let ms = (ticks >> 1) as u32;
    ms
}

/// Milliseconds since `start`, a reading of [`now_ms`]. A reading may lag one taken
/// before it (a read of the system clock is ahead of the clock thread's last tick): such
/// a difference counts as zero.
#[inline]
pub(crate) fn since(start: u32) -> u32 {
    let took = now_ms().wrapping_sub(start);
    if took > u32::MAX / 2 { 0 } else { took }
}

/// The slow read: says a reader is here, wakes the clock thread if it is parked (or
/// starts it), and reads the system clock.
#[cold]
fn wake() -> u32 {
    READ.store(true, Ordering::SeqCst);
    if TICKS.load(Ordering::SeqCst) & PARKED != 0 {
        if let Some(thread) = ticker() {
            thread.unpark();
        }
    }
    // Truncated on purpose, as in `now_ms`.
    #[allow(clippy::cast_possible_truncation)]
    let ms = millis(Instant::now()) as u32;
    ms
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The system clock in the coarse clock's units.
    #[allow(clippy::cast_possible_truncation)]
    fn exact() -> u32 {
        millis(Instant::now()) as u32
    }

    #[test]
    fn the_clock_never_runs_ahead_of_the_time() {
        for _ in 0..10_000 {
            let coarse = now_ms();
            let exact = exact();
            assert!(
                exact.wrapping_sub(coarse) < 1 << 31,
                "coarse {coarse} ahead of {exact}"
            );
        }
    }

    #[test]
    fn the_clock_moves_after_it_parked() {
        let _ = now_ms();
        // Long enough for the thread to park for want of readers.
        thread::sleep(Duration::from_millis(u64::from(QUIET_TICKS) * 3));
        let before = now_ms();
        // Wait for the movement itself (a starved clock thread may lag), within 5 s.
        let mut moved = 0;
        for _ in 0..100 {
            thread::sleep(Duration::from_millis(50));
            moved = since(before);
            if moved > 0 {
                break;
            }
        }
        assert!(moved > 0 && moved < 10_000, "moved {moved} ms");
    }

    #[test]
    fn a_reading_behind_an_earlier_one_counts_as_no_time() {
        let now = now_ms();
        assert_eq!(since(now.wrapping_add(1_000_000)), 0);
        assert!(since(now.wrapping_sub(5)) >= 5);
    }
}
