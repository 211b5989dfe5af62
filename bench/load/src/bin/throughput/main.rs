//! `throughput`: how fast one device updates on loopback, against the raw
//! floor. For 1 and 16 MiB images, over MQTT streams with 1, 4 and 16 blocks
//! of 4 KiB per request and over HTTP with 4 and 64 KiB ranges, a fresh
//! simulated device is updated through mosquitto and the OTA service; beside
//! each case, in the same run, the same bytes cross the same broker or HTTP
//! server between plain clients with no agent. Prints one table of medians.
//! Run it with `bench/load/throughput.sh`.

mod agent;
mod cases;
mod raw_http;
mod raw_mqtt;
mod report;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};
use clap::Parser;
use ota_agent_bench::firmware::{self, CodeSigner};
use ota_agent_bench::{broker, machine};
use otactl::service::{Service, ServiceConfig};

use cases::{Case, BLOCK_SIZE};
use report::Row;

/// Time to update one device on loopback, per data plane and request size,
/// against plain clients moving the same bytes through the same servers.
#[derive(Parser, Debug)]
#[command(name = "throughput")]
pub struct Args {
    /// Image sizes in MiB (each image is at most this, less than 1 KiB
    /// shorter).
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    pub sizes_mib: Vec<usize>,
    /// Runs of each case (the table shows medians).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// How long one update may take, in seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Keep mosquitto's default `set_tcp_nodelay false` (Nagle's algorithm
    /// on the broker's sockets) instead of turning it off.
    #[arg(long)]
    pub broker_nagle: bool,
    /// The command as typed, for the report (the script sets it).
    #[arg(long, hide = true)]
    pub invoked_as: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("throughput: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    if args.runs == 0 || args.sizes_mib.is_empty() || args.sizes_mib.contains(&0) {
        bail!("give at least one run and sizes of at least 1 MiB");
    }
    machine::print_header(
        "ota-agent end-to-end throughput on loopback, against the raw floor",
        args.invoked_as.as_deref(),
    );
    report::print_parameters(args);

    let broker = broker::start(args.broker_nagle)?;
    let service = Service::start(ServiceConfig::new("127.0.0.1", broker.port()))?;
    let signer = CodeSigner::generate();
    let dir = tempfile::Builder::new()
        .prefix("ota-bench-throughput-")
        .tempdir()
        .context("a temporary directory")?;
    let (v1, v2) = (firmware::version(1, 0), firmware::version(1, 1));
    let mut rows = Vec::new();
    for &mib in &args.sizes_mib {
        let size = mib * 1024 * 1024;
        let update = firmware::image(v2, size)?;
        let factory = firmware::image(v1, size)?;
        let stream = format!("bench-throughput-{mib}m");
        service.create_stream(&stream, [(0u8, update.clone())])?;
        let bench = agent::Bench {
            service: service.api(),
            broker_port: broker.port(),
            dir: dir.path(),
            signer: &signer,
            layout: firmware::layout_for(size)?,
            factory: &factory,
            image: &update,
            version: v2,
            stream: &stream,
            timeout: Duration::from_secs(args.timeout),
        };
        let expires = SystemTime::now() + Duration::from_secs(24 * 3600);
        let url = service.presigned_url(&stream, 0, expires);
        let file: Arc<[u8]> = update.clone().into();
        let _responder = raw_mqtt::Responder::start(broker.port(), file, BLOCK_SIZE as usize)?;
        let mut requester = raw_mqtt::Requester::connect(broker.port())?;
        let len = update.len();
        eprintln!("throughput: {mib} MiB: raw streams");
        let mqtt_stream = repeat(args.runs, || requester.stream(len, BLOCK_SIZE as usize))?;
        let http_whole = repeat(args.runs, || raw_http::whole(&url, len))?;
        for case in Case::ALL {
            let mut row = Row::new(mib, len, case);
            row.stream = match case {
                Case::Mqtt { .. } => mqtt_stream.clone(),
                Case::Http { .. } => http_whole.clone(),
            };
            // Agent and raw runs alternate, so that both see the same machine.
            for r in 1..=args.runs {
                eprintln!("throughput: {mib} MiB, {case}: run {r} of {}", args.runs);
                let name = format!("tp-{mib}m-{}-{r}", case.tag());
                row.agent.push(bench.run(case, &name)?);
                row.raw.push(match case {
                    Case::Mqtt { blocks_per_request } => {
                        requester.paced(len, BLOCK_SIZE as usize, blocks_per_request)?
                    }
                    Case::Http { range } => raw_http::ranges(&url, len, range as usize)?,
                });
            }
            rows.push(row);
        }
    }
    report::print_results(&rows);
    Ok(())
}

/// `measure` run `runs` times.
fn repeat(
    runs: usize,
    mut measure: impl FnMut() -> anyhow::Result<Duration>,
) -> anyhow::Result<Vec<Duration>> {
    (0..runs).map(|_| measure()).collect()
}
