//! The side-by-side benchmark suite: every [`Subject`] (raw tokio, beam, and with the
//! `peers` feature kameo, ractor and actix) runs the same [`Case`]s, each in a fresh
//! process, and the `versus` binary compares them.
//!
//! # Examples
//!
//! One case of one subject, as the runner's child processes do it:
//!
//! ```
//! use beam_bench::{Case, Flavor, Subject, subjects::raw::RawUnbounded};
//!
//! let outcome = RawUnbounded::run(Flavor::CurrentThread, Case::Call { n: 1_000 });
//! assert!(outcome.get("ns/op").unwrap() > 0.0);
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub mod report;
pub mod subjects;

/// Which tokio scheduler a case runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flavor {
    /// A multi-thread runtime with 2 workers.
    MultiThread,
    /// A `current_thread` runtime.
    CurrentThread,
}

impl Flavor {
    /// Both flavors, in report order.
    pub const ALL: [Flavor; 2] = [Flavor::MultiThread, Flavor::CurrentThread];

    /// The short name used on the command line and in reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Flavor::MultiThread => "mt2",
            Flavor::CurrentThread => "ct",
        }
    }

    /// The flavor with this short name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// One benchmark scenario with its sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Case {
    /// `n` sequential calls from one caller to one actor.
    Call {
        /// Calls.
        n: u64,
    },
    /// `n` sequential calls to an actor that calls a second actor before replying.
    Chain2 {
        /// Calls.
        n: u64,
    },
    /// `n` casts from one producer to one actor, ended by a call so all are handled.
    Cast {
        /// Casts.
        n: u64,
    },
    /// `producers` tasks each casting `per_producer` messages to one actor, then a call.
    Contention {
        /// Producer tasks.
        producers: u64,
        /// Casts per producer.
        per_producer: u64,
    },
    /// `n` casts spread round-robin over `actors` actors, then a call to each.
    RoundRobin {
        /// Actors.
        actors: u64,
        /// Casts in all.
        n: u64,
    },
    /// `pairs` pairs of actors bouncing a message `rounds` times each, in parallel.
    PingPong {
        /// Pairs.
        pairs: u64,
        /// Round trips per pair.
        rounds: u64,
    },
    /// Spawn `n` idle actors, measure memory, then stop them all.
    Idle {
        /// Actors.
        n: u64,
    },
    /// `n` times: spawn an actor, call it once, stop it.
    Churn {
        /// Cycles.
        n: u64,
    },
    /// Skynet: a tree of actors, each with 10 children, down to `leaves` leaves, summing
    /// the leaves' numbers back up.
    Skynet {
        /// Leaves (a power of 10).
        leaves: u64,
    },
    /// `n` times: a supervised worker fails (its handler returns an error), and the time
    /// until the restarted worker answers its first call.
    Restart {
        /// Crashes.
        n: u64,
    },
    /// `children` workers under one supervisor all fail at once; the time until every one
    /// is restarted and has answered a call.
    CrashBurst {
        /// Workers.
        children: u64,
    },
    /// `rounds` times: one of `children` workers under a one_for_all supervisor fails; the
    /// time until all are restarted and have answered a call.
    OneForAll {
        /// Workers.
        children: u64,
        /// Crashes.
        rounds: u64,
    },
}

impl Case {
    /// The case's row name in reports.
    #[must_use]
    pub fn name(&self) -> String {
        match *self {
            Case::Call { .. } => "call".into(),
            Case::Chain2 { .. } => "call, 2 hops".into(),
            Case::Cast { .. } => "cast".into(),
            Case::Contention { producers, .. } => format!("cast, {producers} producers"),
            Case::RoundRobin { actors, .. } => format!("cast round-robin, {actors} actors"),
            Case::PingPong { pairs, .. } => format!("ping-pong, {pairs} pairs"),
            Case::Idle { .. } => "idle actors".into(),
            Case::Churn { .. } => "spawn, call, stop".into(),
            Case::Skynet { .. } => "skynet".into(),
            Case::Restart { .. } => "crash to restarted answer".into(),
            Case::CrashBurst { children } => format!("burst of {children} crashes"),
            Case::OneForAll { children, .. } => format!("one_for_all, {children} children"),
        }
    }

    /// The full suite at `scale` (1.0 is the published size; smaller runs faster).
    #[must_use]
    pub fn suite(scale: f64) -> Vec<Case> {
        let n = |full: f64| ((full * scale).round() as u64).max(10);
        vec![
            Case::Call { n: n(1e6) },
            Case::Chain2 { n: n(5e5) },
            Case::Cast { n: n(1e7) },
            Case::Contention {
                producers: 2,
                per_producer: n(1e6),
            },
            Case::Contention {
                producers: 8,
                per_producer: n(2.5e5),
            },
            Case::Contention {
                producers: 64,
                per_producer: n(3e4),
            },
            Case::RoundRobin {
                actors: 100,
                n: n(1e7),
            },
            Case::PingPong {
                pairs: 4,
                rounds: n(2.5e5),
            },
            Case::Idle { n: n(1e6) },
            Case::Churn { n: n(1e5) },
            Case::Skynet {
                leaves: if scale >= 1.0 { 1_000_000 } else { 10_000 },
            },
            Case::Restart { n: n(1e5) },
            Case::CrashBurst { children: n(1e4) },
            Case::OneForAll {
                children: 100,
                rounds: n(1e3),
            },
        ]
    }

    /// How many operations the case performs, for per-operation figures.
    #[must_use]
    pub fn ops(&self) -> u64 {
        match *self {
            Case::Call { n } | Case::Chain2 { n } | Case::Cast { n } => n,
            Case::Contention {
                producers,
                per_producer,
            } => producers * per_producer,
            Case::RoundRobin { n, .. } => n,
            Case::PingPong { pairs, rounds } => pairs * rounds,
            Case::Idle { n } | Case::Churn { n } => n,
            Case::Skynet { leaves } => leaves,
            Case::Restart { n } => n,
            Case::CrashBurst { children } => children,
            Case::OneForAll { rounds, .. } => rounds,
        }
    }
}

/// The figures of one run of one case: `(metric, value)` pairs such as `("ns/op", 41.0)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome(pub Vec<(String, f64)>);

impl Outcome {
    /// The value of `metric`, if measured.
    #[must_use]
    pub fn get(&self, metric: &str) -> Option<f64> {
        self.0.iter().find(|(m, _)| m == metric).map(|(_, v)| *v)
    }

    /// Adds a figure.
    pub fn push(&mut self, metric: &str, value: f64) {
        self.0.push((metric.to_owned(), value));
    }
}

/// Something measured: raw tokio channels, beam, or another actor framework.
pub trait Subject {
    /// The name in reports.
    const NAME: &'static str;
    /// Whether its mailboxes are bounded, which decides the raw-tokio baseline it is
    /// compared with.
    const BOUNDED: bool;

    /// Runs `case` on a fresh runtime of `flavor` and returns its figures. For a case with
    /// a timed section, the figures come from [`Meter`]: `ns/op` and `allocs/op`; for
    /// [`Case::Idle`], `spawn ns/actor`, `bytes/actor` and `stop ns/actor`.
    fn run(flavor: Flavor, case: Case) -> Outcome;
}

/// One subject as the runner sees it.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// [`Subject::NAME`].
    pub name: &'static str,
    /// [`Subject::BOUNDED`].
    pub bounded: bool,
    /// Whether it is a baseline (raw tokio) rather than an actor framework.
    pub baseline: bool,
    /// Whether it is beam itself.
    pub ours: bool,
    /// [`Subject::run`].
    pub run: fn(Flavor, Case) -> Outcome,
}

fn entry<S: Subject>(baseline: bool, ours: bool) -> Entry {
    Entry {
        name: S::NAME,
        bounded: S::BOUNDED,
        baseline,
        ours,
        run: S::run,
    }
}

/// Every subject compiled in, in report order: the baselines, beam, then the peers enabled
/// by features.
#[must_use]
pub fn entries() -> Vec<Entry> {
    #[allow(unused_mut)]
    let mut all = vec![
        entry::<subjects::raw::RawBounded>(true, false),
        entry::<subjects::raw::RawUnbounded>(true, false),
        entry::<subjects::beam::BeamBounded>(false, true),
        entry::<subjects::beam::BeamUnbounded>(false, true),
    ];
    #[cfg(feature = "kameo")]
    all.push(entry::<subjects::kameo::Kameo>(false, false));
    #[cfg(feature = "ractor")]
    all.push(entry::<subjects::ractor::Ractor>(false, false));
    #[cfg(feature = "actix")]
    all.push(entry::<subjects::actix::Actix>(false, false));
    all
}

/// Builds a tokio runtime of `flavor` and runs `make()` in a spawned task (so the caller is
/// an ordinary task on a worker, never the thread blocked in `block_on`).
pub fn on_tokio<F, Fut>(flavor: Flavor, make: F) -> Outcome
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let rt = match flavor {
        Flavor::MultiThread => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
        Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    }
    .expect("a tokio runtime");
    let fut = make();
    rt.block_on(async move { tokio::spawn(fut).await.expect("the case's task") })
}

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting allocations while a [`Meter`] runs with counting on
/// (the allocation pass); otherwise it only forwards.
#[derive(Debug)]
pub struct CountingAllocator;

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract, which we pass on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `realloc`'s contract, which we pass on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Turns allocation counting on for this process (the allocation pass).
pub fn count_allocations(on: bool) {
    COUNTING.store(on, Ordering::Relaxed);
}

/// Times a section and counts the heap allocations made in it (by any thread).
#[derive(Debug)]
pub struct Meter {
    start: Instant,
    allocations: u64,
}

impl Meter {
    /// Starts measuring.
    #[must_use]
    pub fn start() -> Self {
        Self {
            allocations: ALLOCATIONS.load(Ordering::Relaxed),
            start: Instant::now(),
        }
    }

    /// Time since [`start`](Self::start).
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Stops measuring `ops` operations: `ns/op` and `allocs/op`.
    #[must_use]
    pub fn stop(self, ops: u64) -> Outcome {
        let elapsed = self.start.elapsed();
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - self.allocations;
        let ops = ops.max(1) as f64;
        Outcome(vec![
            ("ns/op".into(), elapsed.as_nanos() as f64 / ops),
            ("allocs/op".into(), allocations as f64 / ops),
        ])
    }
}

/// Resident memory of this process in bytes (Linux `/proc/self/statm`; 0 elsewhere).
#[must_use]
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// The figures of [`Case::Idle`] from its three measurements.
#[must_use]
pub fn idle_outcome(n: u64, spawn: Duration, bytes: u64, stop: Duration) -> Outcome {
    let n = n.max(1) as f64;
    Outcome(vec![
        ("spawn ns/actor".into(), spawn.as_nanos() as f64 / n),
        ("bytes/actor".into(), bytes as f64 / n),
        ("stop ns/actor".into(), stop.as_nanos() as f64 / n),
    ])
}
