//! What accepting a download costs the agent, per KiB, against the floor:
//! SHA-256 of the same bytes alone. Instructions are counted by valgrind's
//! callgrind, which is deterministic; see `run.sh` and `README.md`.
//!
//! Modes:
//!
//! - `agent --size S --block B --per-request N [--order in-order|reversed]`:
//!   build an S-byte MCUboot image, start an agent (block size B, N blocks
//!   per GetStream request), give it the job, then feed every block message
//!   through [`measure::block_cost_agent`]: in order, or with each request's
//!   blocks last first (so all but one are read back from the slot to be
//!   hashed). Then check that every block was accepted, that the agent's
//!   digest is the file's and that the slot holds the file.
//! - `sha --size S --block B`: SHA-256 of the same file in B-byte chunks,
//!   through [`measure::block_cost_sha`], with the `sha2` the core uses.
//! - `report --size S --out DIR`: run both modes under callgrind for each
//!   configuration of the table, counting only inside the measured
//!   functions, and print the table. The callgrind files stay in DIR.

mod fixture;
mod measure;
mod port;
mod report;

use fixture::Image;
use measure::BenchAgent;
use ota_agent::{Config, Instant, Protocols};
use port::BenchPlatform;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage:
  block-cost agent  --size BYTES --block BYTES --per-request N [--order in-order|reversed]
  block-cost sha    --size BYTES --block BYTES
  block-cost report --size BYTES --out DIR";

/// The time the port passes in (nothing in a download waits for a deadline).
const NOW: Instant = Instant::from_millis(1_000);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("block-cost: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (mode, options) = args.split_first().ok_or(USAGE)?;
    let opts = Options::parse(options)?;
    let size = opts.number("size")?;
    if size < fixture::MIN_FILE_SIZE {
        return Err(format!(
            "--size must be at least {}",
            fixture::MIN_FILE_SIZE
        ));
    }
    match mode.as_str() {
        "agent" => {
            let reversed = match opts.get("order").unwrap_or("in-order") {
                "in-order" => false,
                "reversed" => true,
                other => return Err(format!("unknown order {other:?}\n{USAGE}")),
            };
            agent(
                size,
                opts.number("block")?,
                opts.number("per-request")?,
                reversed,
            )
        }
        "sha" => sha(size, opts.number("block")?),
        "report" => {
            let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
            let out = PathBuf::from(opts.get("out").ok_or(USAGE)?);
            std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
            report::run(&exe, size, &out)
        }
        _ => Err(USAGE.into()),
    }
}

/// `--name value` pairs.
struct Options<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Options<'a> {
    fn parse(args: &'a [String]) -> Result<Self, String> {
        let mut pairs = Vec::new();
        for pair in args.chunks(2) {
            match pair {
                [name, value] if name.starts_with("--") => pairs.push((&name[2..], value.as_str())),
                _ => return Err(USAGE.into()),
            }
        }
        Ok(Options(pairs))
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.0.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
    }

    fn number(&self, name: &str) -> Result<usize, String> {
        let value = self.get(name).ok_or(USAGE)?;
        value
            .parse()
            .map_err(|_| format!("--{name}: not a number: {value:?}"))
    }
}

/// The `agent` mode.
fn agent(size: usize, block: usize, per_request: usize, reversed: bool) -> Result<(), String> {
    let image = Image::new(size);
    // First the agent, whose configuration check refuses a bad B or N.
    let mut agent = started_transfer(&image, block, per_request)?;
    let messages = image.blocks(block, per_request, reversed);
    let topic = fixture::data_topic();

    let accepted = measure::block_cost_agent(&mut agent, NOW, &topic, &messages);

    let total = messages.len();
    if accepted != total {
        return Err(format!("the agent accepted {accepted} of {total} blocks"));
    }
    let platform = agent.platform_ref();
    if !platform.verifier.matched {
        return Err("the agent's digest is not the file's SHA-256".into());
    }
    if platform.slot.contents()[..size] != image.file[..] {
        return Err("the slot does not hold the file".into());
    }
    println!("agent: {total} blocks of {block} bytes accepted, digest and slot match");
    Ok(())
}

/// An agent that was offered the job and is waiting for its first blocks.
fn started_transfer(image: &Image, block: usize, per_request: usize) -> Result<BenchAgent, String> {
    let config = Config {
        block_size: block as u32,
        blocks_per_request: per_request as u32,
        protocols: Protocols {
            mqtt: true,
            http: false,
            prefer_http: false,
        },
        ..Config::default()
    };
    let platform = BenchPlatform::new(image.file.len(), image.digest);
    let mut agent = BenchAgent::new(config, fixture::THING, platform)
        .map_err(|e| format!("configuration refused: {e:?}"))?;
    agent
        .start(NOW)
        .map_err(|e| format!("start refused: {e:?}"))?;
    drain(&mut agent);
    let document = image.job_document();
    agent.handle_message(
        NOW,
        fixture::topic("jobs/$next/get/accepted"),
        document.as_bytes(),
    );
    drain(&mut agent);
    match agent.progress() {
        Some((0, _)) => Ok(agent),
        _ => Err(format!(
            "the agent did not start the download (state {:?})",
            agent.state()
        )),
    }
}

/// Take everything the agent has to send and to tell.
fn drain(agent: &mut BenchAgent) {
    while agent
        .poll_transmit(|transmit| {
            black_box(transmit);
        })
        .is_some()
    {}
    while let Some(event) = agent.poll_event() {
        black_box(event);
    }
}

/// The `sha` mode.
fn sha(size: usize, block: usize) -> Result<(), String> {
    if block == 0 {
        return Err("--block must not be 0".into());
    }
    let image = Image::new(size);

    let digest = measure::block_cost_sha(&image.file, block);

    if digest != image.digest {
        return Err("chunked SHA-256 differs from the one-shot SHA-256".into());
    }
    println!("sha: {size} bytes in {block}-byte chunks");
    Ok(())
}
