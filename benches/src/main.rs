//! `versus`: runs every case of every subject, each in a fresh process, interleaving the
//! subjects over several rounds, and writes `benches/results/`.
//!
//! ```text
//! cargo run -p beam-bench --release --features peers --bin versus            # everything
//! cargo run -p beam-bench --release --bin versus -- --scale 0.01 --rounds 3  # a quick look
//! cargo run -p beam-bench --release --bin versus -- child 3 0 ct 0.001       # one run
//! ```

use std::process::{Command, ExitCode};

use beam_bench::{Case, CountingAllocator, Flavor, count_allocations, entries};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        return child(&args[1..]);
    }
    eprintln!("the runner comes next; use `versus child <subject> <case> <flavor> <scale>`");
    let _ = Command::new("true");
    ExitCode::FAILURE
}

/// One run in this process: prints `metric value` lines.
fn child(args: &[String]) -> ExitCode {
    let usage = "usage: versus child <subject index> <case index> <mt2|ct> <scale> [--allocations]";
    let parsed = (|| {
        let subject = *entries().get(args.first()?.parse::<usize>().ok()?)?;
        let scale: f64 = args.get(3)?.parse().ok()?;
        let case = *Case::suite(scale).get(args.get(1)?.parse::<usize>().ok()?)?;
        let flavor = Flavor::parse(args.get(2)?)?;
        let allocations = args.get(4).map(String::as_str) == Some("--allocations");
        Some((subject, case, flavor, allocations))
    })();
    let Some((subject, case, flavor, allocations)) = parsed else {
        eprintln!("{usage}");
        return ExitCode::FAILURE;
    };
    count_allocations(allocations);
    let outcome = (subject.run)(flavor, case);
    for (metric, value) in outcome.0 {
        println!("{metric}\t{value}");
    }
    ExitCode::SUCCESS
}
