//! `fleet`: N simulated devices update at once through one mosquitto and one
//! `otactl serve` process, both started here on loopback; one job targets
//! every device, one stream carries the image. Prints how long the fleet
//! took, what was delivered, and the CPU time and memory the broker, the
//! service and the devices' process used; checks that every device ends
//! confirmed on the new version and every execution SUCCEEDED, and exits
//! non-zero (naming the devices) if not. Run it with `bench/load/fleet.sh`.

mod checks;
mod devices;
mod report;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use ota_agent::{Config, Protocols};
use ota_agent_bench::firmware::{self, CodeSigner};
use ota_agent_bench::{broker, machine};
use otactl::jobdoc::Protocol;

use devices::{Fleet, FleetConfig};
use report::{Measured, Snapshot};
use serve::OtactlServe;

/// The stream and the job.
const STREAM: &str = "bench-fleet-firmware-1-1-0";
const JOB: &str = "bench-fleet-update-1-1-0";
/// How long the devices may take to start and connect.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// N simulated devices update concurrently through one mosquitto and one
/// `otactl serve` (a separate process), on this machine.
#[derive(Parser, Debug)]
#[command(name = "fleet")]
pub struct Args {
    /// Devices in the fleet.
    #[arg(default_value_t = 200)]
    pub devices: usize,
    /// Size of the image in bytes (the MCUboot image, header and TLVs
    /// included; at most this, less than 1 KiB shorter).
    #[arg(long, default_value_t = 256 * 1024)]
    pub size: usize,
    /// Download over HTTP (pre-signed URLs, range requests) instead of MQTT.
    #[arg(long)]
    pub http: bool,
    /// Block size of the devices.
    #[arg(long, default_value_t = 4096)]
    pub block_size: u32,
    /// Blocks a device asks for per GetStream request.
    #[arg(long, default_value_t = 4)]
    pub blocks_per_request: u32,
    /// Bytes per HTTP range request (a multiple of the block size).
    #[arg(long, default_value_t = 64 * 1024)]
    pub http_range: u32,
    /// How long the update may take, in seconds, before the devices not
    /// done are reported as failed.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Keep mosquitto's default `set_tcp_nodelay false` (Nagle's algorithm
    /// on the broker's sockets) instead of turning it off.
    #[arg(long)]
    pub broker_nagle: bool,
    /// The `otactl` binary (default: next to this one, where `cargo build
    /// --release -p otactl` puts it).
    #[arg(long)]
    pub otactl: Option<PathBuf>,
    /// The command as typed, for the report (the script sets it).
    #[arg(long, hide = true)]
    pub invoked_as: Option<String>,
}

impl Args {
    fn protocol(&self) -> Protocol {
        if self.http {
            Protocol::Http
        } else {
            Protocol::Mqtt
        }
    }

    fn agent_config(&self) -> anyhow::Result<Config> {
        let config = Config {
            block_size: self.block_size,
            blocks_per_request: self.blocks_per_request,
            http_range_size: self.http_range,
            protocols: Protocols {
                mqtt: true,
                http: true,
                prefer_http: false,
            },
            ..Config::default()
        };
        config
            .validate()
            .map_err(|e| anyhow::anyhow!("agent configuration: {e:?}"))?;
        Ok(config)
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("fleet: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The whole run; `Ok(false)` when the checks fail.
fn run(args: &Args) -> anyhow::Result<bool> {
    if args.devices == 0 {
        bail!("a fleet needs at least one device");
    }
    let agent = args.agent_config()?;
    let layout = firmware::layout_for(args.size)?;
    let (v1, v2) = (firmware::version(1, 0), firmware::version(1, 1));
    let factory = firmware::image(v1, args.size)?;
    let update = firmware::image(v2, args.size)?;
    let otactl = match &args.otactl {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("otactl"),
    };
    if !otactl.is_file() {
        bail!(
            "{} not found: build it (cargo build --release -p otactl) or pass --otactl",
            otactl.display()
        );
    }

    machine::print_header(
        &format!("ota-agent fleet load: {} devices, one job", args.devices),
        args.invoked_as.as_deref(),
    );
    report::print_parameters(args, &agent, update.len());

    let broker = broker::start(args.broker_nagle)?;
    let broker_pid = broker.pid();
    let service = OtactlServe::start(&otactl, broker.port())?;
    let dir = tempfile::Builder::new()
        .prefix("ota-bench-fleet-")
        .tempdir()
        .context("a temporary directory")?;
    let signer = CodeSigner::generate();
    let public_key = signer.public_key();

    eprintln!("fleet: starting {} devices", args.devices);
    let starting = Instant::now();
    let fleet = Fleet::start(
        args.devices,
        &FleetConfig {
            broker_port: broker.port(),
            dir: dir.path(),
            public_key: &public_key,
            layout,
            agent,
            factory_image: &factory,
        },
    )?;
    fleet.wait_idle(STARTUP_TIMEOUT)?;
    let startup = starting.elapsed();

    let image_path = dir.path().join("firmware-1.1.0.bin");
    std::fs::write(&image_path, &update).context("writing the image")?;
    let url = service.create_stream(STREAM, &image_path)?;
    let url = args.http.then_some(url.as_str());
    let document = signer.job_document(args.protocol(), STREAM, url, &update)?;

    let before = Snapshot::take(&service, broker_pid)?;
    eprintln!("fleet: every device is idle; creating the job");
    let started = Instant::now();
    service.create_job(JOB, &fleet.things(), document)?;
    let marks = fleet.wait_updated(v2, started, started + Duration::from_secs(args.timeout));
    let ended = Instant::now();
    let after = Snapshot::take(&service, broker_pid)?;

    let measured = Measured {
        things: fleet.things(),
        marks,
        statuses: fleet.devices().iter().map(|d| d.device.status()).collect(),
        executions: service.executions()?,
        before,
        after,
        started,
        ended,
        startup,
        version: v2,
        image_len: update.len(),
        stream: STREAM,
        job: JOB,
        broker_pid,
        service_pid: service.pid(),
    };
    let ok = report::print_results(args, &measured);
    eprintln!("fleet: stopping the devices");
    fleet.stop();
    drop(service);
    drop(broker);
    Ok(ok)
}
