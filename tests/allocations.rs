//! The hot path's allocation budget, counted with a counting global allocator: no heap
//! allocation per cast (even observed by telemetry, or waiting for room), at most one per
//! call (the reply slot), two per spawn, and four for an actor's spawn, one call and stop.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use beam_runtime::prelude::*;
use beam_runtime::telemetry;

struct Counting;

thread_local! {
    /// Allocations made by this thread: the test's runtime is single-threaded, so these
    /// are the runtime's, and none of the test harness's own threads.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the allocator may run while the thread's locals are torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

struct Sink {
    total: u64,
}

#[actor]
impl Sink {
    #[cast]
    fn add(&mut self, n: u64) {
        self.total += n;
    }

    #[call]
    fn total(&self) -> u64 {
        self.total
    }
}

const N: u64 = 10_000;

// One test function, so no other test allocates while this one counts.
#[test]
fn casts_allocate_nothing_calls_once_and_spawns_twice() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let system = ActorSystem::new();
        let sink = system.spawn::<Sink>(Sink { total: 0 }).await.unwrap();

        // Warm up: the mailbox buffers and the timer wheel reach their working size.
        for round in 0..3 {
            for n in 0..N {
                sink.add(n).unwrap();
            }
            assert_eq!(sink.total().await.unwrap(), (round + 1) * N * (N - 1) / 2);
        }

        let before = allocations();
        for n in 0..N {
            sink.add(n).unwrap();
        }
        let per_cast = allocations() - before;
        assert_eq!(per_cast, 0, "{per_cast} allocations for {N} casts");

        // A cast that would wait for room, to a mailbox with room, allocates nothing either.
        sink.total().await.unwrap();
        let before = allocations();
        for n in 0..N {
            sink.waiting().add(n).await.unwrap();
        }
        let per_waiting_cast = allocations() - before;
        assert_eq!(
            per_waiting_cast, 0,
            "{per_waiting_cast} allocations for {N} waiting casts"
        );
        sink.total().await.unwrap();

        let before = allocations();
        for _ in 0..N {
            sink.total().await.unwrap();
        }
        let per_call = allocations() - before;
        eprintln!("{per_call} allocations for {N} calls");
        assert!(
            per_call <= N as usize,
            "{per_call} allocations for {N} calls"
        );

        // Telemetry allocates nothing either: not with a handler on another event, nor
        // when the handlers it calls allocate nothing themselves.
        for events in [
            &[telemetry::events::ACTOR_SPAWN][..],
            &[
                telemetry::events::ACTOR_CAST_START,
                telemetry::events::ACTOR_CAST_STOP,
            ][..],
        ] {
            telemetry::attach("allocations", events, |event| {
                std::hint::black_box(event);
            })
            .unwrap();
            // Warm up: this thread takes its copy of the handlers.
            sink.add(0).unwrap();
            sink.total().await.unwrap();
            let before = allocations();
            for n in 0..N {
                sink.add(n).unwrap();
            }
            sink.total().await.unwrap();
            let with_telemetry = allocations() - before;
            assert!(
                with_telemetry <= 1,
                "{with_telemetry} allocations for {N} casts (and a call) with telemetry on {events:?}"
            );
            assert!(telemetry::detach("allocations"));
        }

        // A spawn allocates the actor's shared part and its task, nothing else (the system's
        // table of actors, split in eight, grows by doubling: a few more in all).
        let mut sinks = Vec::with_capacity(N as usize);
        let before = allocations();
        for _ in 0..N {
            sinks.push(system.spawn::<Sink>(Sink { total: 0 }).await.unwrap());
        }
        let per_spawn = allocations() - before;
        eprintln!("{per_spawn} allocations for {N} spawns");
        assert!(
            per_spawn <= 2 * N as usize + 8 * 16,
            "{per_spawn} allocations for {N} spawns"
        );

        // An actor sent one message at a time takes each by itself, with no second buffer:
        // a spawn, a call and a stop allocate the spawn's two, the call's reply channel and
        // the mailbox's buffer.
        let before = allocations();
        for _ in 0..N {
            let sink = system.spawn::<Sink>(Sink { total: 0 }).await.unwrap();
            sink.total().await.unwrap();
            system.stop(&sink).await;
        }
        let per_life = allocations() - before;
        eprintln!("{per_life} allocations for {N} spawns, calls and stops");
        assert!(
            per_life <= 4 * N as usize,
            "{per_life} allocations for {N} spawns, calls and stops"
        );
        system.shutdown().await;
    });
}
