//! `ota-sim`: run many seeds of the fault simulation, print what was
//! injected and what happened, and a replay command for any failing seed.
//!
//! ```text
//! cargo run --release -p ota-agent-sim -- --seeds 100000 [--start N] [--threads T]
//! cargo run --release -p ota-agent-sim -- --seed 1234 --trace
//! ```

use ota_agent_sim::{replay, run_seed, Outcome, Scenario, Status};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

struct Args {
    start: u64,
    seeds: u64,
    seed: Option<u64>,
    trace: bool,
    threads: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        start: 0,
        seeds: 1000,
        seed: None,
        trace: false,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(format!("{name} needs a number"))
        };
        match flag.as_str() {
            "--seeds" => a.seeds = value("--seeds")?,
            "--start" => a.start = value("--start")?,
            "--seed" => a.seed = Some(value("--seed")?),
            "--threads" => a.threads = value("--threads")?.max(1) as usize,
            "--trace" => a.trace = true,
            "-h" | "--help" => {
                return Err(
                    "usage: ota-sim [--seeds N] [--start S] [--threads T] | --seed S [--trace]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn replay_one(seed: u64, trace: bool) -> ExitCode {
    let sc = Scenario::from_seed(seed);
    println!("{sc}");
    let (o, steps) = replay(sc);
    if trace {
        for s in steps {
            println!("{s}");
        }
    }
    println!(
        "end {} ms: job {:?} ({}), device runs {:?} confirmed={}, blocks {} sent {}, {:?}",
        o.end, o.status, o.reason, o.version, o.confirmed, o.blocks.0, o.blocks.1, o.counters
    );
    for v in &o.violations {
        println!("VIOLATION: {v}");
    }
    if o.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[derive(Default)]
struct Totals {
    runs: u64,
    succeeded: u64,
    failed: u64,
    canceled: u64,
    other: u64,
    lost: u64,
    duplicated: u64,
    reordered: u64,
    disconnects: u64,
    power_cuts: u64,
    truncated: u64,
    resumes: u64,
    reboots: u64,
    blocks: u64,
    sent: u64,
    failing: Vec<(u64, String)>,
}

impl Totals {
    fn add(&mut self, o: &Outcome) {
        self.runs += 1;
        match o.status {
            Status::Succeeded => self.succeeded += 1,
            Status::Failed => self.failed += 1,
            Status::Canceled => self.canceled += 1,
            _ => self.other += 1,
        }
        let c = &o.counters;
        self.lost += c.lost;
        self.duplicated += c.duplicated;
        self.reordered += c.reordered;
        self.disconnects += c.disconnects;
        self.power_cuts += c.power_cuts;
        self.truncated += c.truncated;
        self.resumes += c.resumes;
        self.reboots += c.reboots;
        self.blocks += o.blocks.0 as u64;
        self.sent += o.blocks.1;
        if let Some(v) = o.violations.first() {
            self.failing.push((o.seed, v.clone()));
        }
    }
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(seed) = args.seed {
        return replay_one(seed, args.trace);
    }
    let started = Instant::now();
    let next = AtomicU64::new(args.start);
    let end = args.start + args.seeds;
    let totals = Mutex::new(Totals::default());
    std::thread::scope(|s| {
        for _ in 0..args.threads {
            s.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= end {
                    return;
                }
                let o = run_seed(seed);
                totals.lock().unwrap_or_else(|e| e.into_inner()).add(&o);
            });
        }
    });
    let t = totals.into_inner().unwrap_or_else(|e| e.into_inner());
    println!(
        "seeds {}..{} ({} runs) in {:.1} s",
        args.start,
        end,
        t.runs,
        started.elapsed().as_secs_f64()
    );
    println!(
        "jobs: {} SUCCEEDED, {} FAILED, {} CANCELED, {} other",
        t.succeeded, t.failed, t.canceled, t.other
    );
    println!(
        "faults injected: {} messages lost, {} duplicated, {} reordered, {} disconnects/broker restarts, \
         {} power cuts, {} truncated HTTP bodies",
        t.lost, t.duplicated, t.reordered, t.disconnects, t.power_cuts, t.truncated
    );
    println!(
        "device: {} reboots, {} resumes from a record; blocks: {} in files, {} sent by the service",
        t.reboots, t.resumes, t.blocks, t.sent
    );
    let mut failing = t.failing;
    failing.sort_unstable();
    for (seed, why) in failing.iter().take(20) {
        println!("FAILED seed {seed}: {why}\n  replay: cargo run --release -p ota-agent-sim -- --seed {seed} --trace");
    }
    if failing.is_empty() {
        println!("all invariants held");
        ExitCode::SUCCESS
    } else {
        println!("{} seeds broke an invariant", failing.len());
        ExitCode::FAILURE
    }
}
