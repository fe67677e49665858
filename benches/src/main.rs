//! `versus`: runs every case of every subject, each in a fresh process, interleaving the
//! subjects over several rounds, and writes `benches/results/`.
//!
//! ```text
//! cargo run -p beam-bench --release --features peers --bin versus            # everything
//! cargo run -p beam-bench --release --bin versus -- --scale 0.01 --rounds 3  # a quick look
//! cargo run -p beam-bench --release --bin versus -- child 3 0 ct 0.001       # one run
//! ```

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use beam_bench::report::{self, Samples};
use beam_bench::{Case, CountingAllocator, Flavor, count_allocations, entries};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        return child(&args[1..]);
    }
    match Options::parse(&args) {
        Ok(options) => match run(&options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("versus: {err}");
                ExitCode::FAILURE
            }
        },
        Err(err) => {
            eprintln!("versus: {err}\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: versus [--scale S] [--rounds N] [--out DIR] [--flavors mt2,ct]";

struct Options {
    scale: f64,
    rounds: usize,
    out: PathBuf,
    flavors: Vec<Flavor>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options {
            scale: 1.0,
            rounds: 5,
            out: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/results")),
            flavors: Flavor::ALL.to_vec(),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || it.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--scale" => {
                    options.scale = value()?.parse().map_err(|_| "--scale takes a number")?;
                }
                "--rounds" => {
                    options.rounds = value()?.parse().map_err(|_| "--rounds takes a count")?;
                }
                "--out" => options.out = PathBuf::from(value()?),
                "--flavors" => {
                    options.flavors = value()?
                        .split(',')
                        .map(|f| Flavor::parse(f).ok_or(format!("unknown flavor {f}")))
                        .collect::<Result<_, _>>()?;
                }
                other => return Err(format!("unknown option {other}")),
            }
        }
        if options.rounds == 0 || options.scale <= 0.0 {
            return Err("--rounds and --scale must be positive".into());
        }
        Ok(options)
    }
}

/// Runs one child process and parses its `metric value` lines.
fn run_child(
    subject: usize,
    case: usize,
    flavor: Flavor,
    scale: f64,
    allocations: bool,
) -> Result<Vec<(String, f64)>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut command = Command::new(exe);
    command.args([
        "child",
        &subject.to_string(),
        &case.to_string(),
        flavor.name(),
        &scale.to_string(),
    ]);
    if allocations {
        command.arg("--allocations");
    }
    let output = command.output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "subject {subject}, case {case}, {}: {}",
            flavor.name(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (metric, value) = line.split_once('\t')?;
            Some((metric.to_owned(), value.parse().ok()?))
        })
        .collect())
}

fn run(options: &Options) -> Result<(), String> {
    let subjects = entries();
    let cases = Case::suite(options.scale);
    let mut samples = Samples::new(cases.iter().map(Case::name).collect(), subjects.clone());
    for &flavor in &options.flavors {
        for (c, case) in cases.iter().enumerate() {
            eprintln!("{} · {}", flavor.name(), case.name());
            for round in 0..options.rounds {
                // Interleave the subjects, starting each round with a different one.
                for k in 0..subjects.len() {
                    let s = (k + round) % subjects.len();
                    for (metric, value) in run_child(s, c, flavor, options.scale, false)? {
                        if metric != "allocs/op" {
                            samples.add(flavor, c, s, &metric, value);
                        }
                    }
                }
            }
            // The allocation pass, for calls and casts: one counted run each.
            if matches!(case, Case::Call { .. } | Case::Cast { .. }) {
                for s in 0..subjects.len() {
                    let small = (options.scale / 10.0).max(1e-4);
                    for (metric, value) in run_child(s, c, flavor, small, true)? {
                        if metric == "allocs/op" {
                            samples.add(flavor, c, s, &metric, value);
                        }
                    }
                }
            }
        }
    }
    std::fs::create_dir_all(&options.out).map_err(|e| e.to_string())?;
    let stamp = stamp(options);
    let table = report::markdown(&samples, &stamp);
    std::fs::write(options.out.join("latest.md"), &table).map_err(|e| e.to_string())?;
    report::chart(&samples, &options.out.join("latest.svg")).map_err(|e| e.to_string())?;
    std::fs::write(options.out.join("latest.tsv"), samples.tsv()).map_err(|e| e.to_string())?;
    println!("{table}");
    eprintln!("wrote {}", options.out.display());
    Ok(())
}

/// Date, machine and versions, for the report's header.
fn stamp(options: &Options) -> String {
    let run = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .unwrap_or_default();
    let versions: Vec<String> = ["tokio", "kameo", "ractor", "actix"]
        .iter()
        .filter_map(|name| {
            let at = lock.find(&format!("name = \"{name}\"\nversion = \""))?;
            let rest = &lock[at..];
            let version = rest.split('"').nth(3)?;
            Some(format!("{name} {version}"))
        })
        .collect();
    format!(
        "Run {} on {cpu} ({cores} cores), {}; beam {}, {}. Scale {}, {} rounds, each case of each \
         subject in a fresh process. Reproduce with \
         `cargo run -p beam-bench --release --features peers --bin versus`.",
        run("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        run("rustc", &["--version"]),
        env!("CARGO_PKG_VERSION"),
        versions.join(", "),
        options.scale,
        options.rounds,
    )
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
