//! `otactl demo`: a complete over-the-air update on this machine, told step
//! by step: an MQTT broker, the local OTA service, a simulated device on
//! firmware 1.0.0, a signed 1.1.0, the job, the download, the checks, the
//! activation, the reboot through the simulated MCUboot, the self test and
//! the commit. Options make it go wrong in instructive ways. The exit code
//! is 0 only when every check of the chosen scenario holds.

mod checks;
mod story;

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use ota_agent::mcuboot::ImageVersion;
use ota_agent::{Event, State, Statistics};
use ota_agent_host::device::firmware::{Firmware, SelfTest};
use ota_agent_host::image::{self, ImageOptions};
use ota_agent_host::mqtt::Backoff;
use ota_agent_host::{Device, DeviceConfig, DeviceEvent, Layout};
use otactl::jobdoc::{FileEntry, JobDocument, Protocol};
use otactl::keys;
use otactl::service::{EmbeddedBroker, Execution, JobStatus, Service, ServiceApi, ServiceConfig};
use p256::ecdsa::SigningKey;

use super::device::{show_version, split_host_port};
use super::parse_int;
use checks::{show_statistics, Expected, Observed};
use story::Story;

const THING: &str = "demo-device";
const JOB: &str = "demo-update-1-1-0";
const STREAM: &str = "demo-firmware-1-1-0";
const BLOCK_SIZE: u32 = 4096;
/// How long the whole update may take before the demo gives up.
const DEADLINE: Duration = Duration::from_secs(90);
/// Where in the download `--power-cut` strikes.
const POWER_CUT_PERCENT: u32 = 40;

/// Arguments of `otactl demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Use this MQTT broker instead of starting one in-process.
    #[arg(long, value_name = "HOST:PORT")]
    broker: Option<String>,
    /// Download over HTTP (a pre-signed URL) instead of MQTT streams.
    #[arg(long)]
    http: bool,
    /// Ship a 1.1.0 whose self test fails: the device rolls back to 1.0.0.
    #[arg(long)]
    fail_self_test: bool,
    /// Sign 1.1.0 with a key the device does not trust: it refuses the image.
    #[arg(long)]
    bad_signature: bool,
    /// Cut the power mid-download; the device resumes from its record.
    #[arg(long, conflicts_with = "http")]
    power_cut: bool,
    /// Blocks the device asks for per MQTT request.
    #[arg(long, default_value_t = 4, value_parser = parse_int::<u32>)]
    blocks_per_request: u32,
    /// Size of the firmware payload in bytes.
    #[arg(long, default_value = "262144", value_parser = parse_int::<u32>)]
    size: u32,
}

/// Run the demo.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let mut story = Story::new();
    println!("otactl demo: an over-the-air firmware update, end to end, on this machine");
    let scenario = describe(args);
    println!("scenario: {scenario}");

    story.step("Start an MQTT broker");
    let (broker, host, port) = match &args.broker {
        Some(address) => {
            let (host, port) = split_host_port(address)?;
            story.detail(&format!("using the broker at {host}:{port}"));
            (None, host, port)
        }
        None => {
            let (broker, port) = EmbeddedBroker::start(None)?;
            story.detail(&format!("embedded broker on 127.0.0.1:{port}"));
            (Some(broker), "127.0.0.1".to_owned(), port)
        }
    };

    story.step("Start the OTA service (AWS IoT Jobs, MQTT streams, pre-signed HTTP)");
    let service = Service::start(ServiceConfig::new(&host, port)).context("the OTA service")?;
    story.detail(&format!(
        "file server on http://127.0.0.1:{}",
        service.http_port()
    ));

    story.step("Generate the keys");
    let code_key = keys::generate();
    let boot_key = keys::generate();
    let public = keys::public_key_sec1(code_key.verifying_key());
    story.detail(&format!(
        "code-signing key (the device trusts it): {}...",
        &keys::to_hex(&public)[..24]
    ));
    story.detail("MCUboot image key (the bootloader's; images carry its signature TLV)");

    let dir = tempfile::Builder::new()
        .prefix("otactl-demo-")
        .tempdir()
        .context("a temporary directory")?;
    let layout = layout_for(args.size)?;
    let v1 = version("1.0.0")?;
    let v2 = version("1.1.0")?;
    let old = build(v1, Firmware::new(SelfTest::Pass), args.size, &boot_key)?;

    story.step("Power on the device with firmware 1.0.0");
    let flash_path = dir.path().join("demo-device.flash");
    story.detail(&format!("flash file {}", flash_path.display()));
    let mut config = DeviceConfig::new(THING, &host, port, &flash_path, &public);
    config.layout = layout;
    config.factory_image = Some(old.clone());
    config.activation_delay = Duration::from_millis(500);
    config.power_off_time = Duration::from_millis(300);
    config.mqtt.reconnect = Backoff {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(2),
    };
    config.agent.block_size = BLOCK_SIZE;
    config.agent.blocks_per_request = args.blocks_per_request;
    config.agent.http_range_size = 16 * BLOCK_SIZE;
    config.agent.request_timeout_ms = 2000;
    config.agent.self_test_timeout_ms = 10_000;
    config.agent.status_every_blocks = 16;
    config.agent.resume_every_blocks = 4;
    if let Err(e) = config.agent.validate() {
        bail!("--blocks-per-request {}: {e:?}", args.blocks_per_request);
    }
    let (tx, events) = mpsc::channel();
    let device = Device::start(config, move |e| {
        let _ = tx.send(e.clone());
    })
    .context("starting the device")?;
    wait_idle(&mut story, &device, &events)?;

    story.step(&format!(
        "Build firmware 1.1.0 ({} bytes of payload) and sign it",
        args.size
    ));
    let self_test = if args.fail_self_test {
        story.detail("this 1.1.0 is broken: its own self test fails");
        SelfTest::Fail
    } else {
        SelfTest::Pass
    };
    let new = build(v2, Firmware::new(self_test), args.size, &boot_key)?;
    let signer: SigningKey = if args.bad_signature {
        story.detail("signed with a key the device does NOT trust (an attacker's)");
        keys::generate()
    } else {
        code_key.clone()
    };
    story.detail(&format!(
        "MCUboot image {} bytes; code signature sig-sha256-ecdsa (ECDSA P-256 over SHA-256)",
        new.len()
    ));

    story.step("Create the stream and the job in the service");
    let protocol = if args.http {
        Protocol::Http
    } else {
        Protocol::Mqtt
    };
    let api = service.api().clone();
    api.create_stream(STREAM, [(0u8, new.clone())])?;
    let mut entry = FileEntry::signed("/firmware", 0, &new, &signer)?;
    if args.http {
        entry = entry.with_url(&api.file_url(STREAM, 0));
    }
    let document = JobDocument::new(&[protocol], Some(STREAM), vec![entry])?;
    api.create_job(&[THING], JOB, serde_json::to_value(&document)?)?;
    story.detail(&format!(
        "job {JOB} for {THING}: {protocol} from stream {STREAM}, {} blocks of {BLOCK_SIZE} bytes",
        (new.len() as u32).div_ceil(BLOCK_SIZE)
    ));

    let expected = expectation(args, v1, v2, &old, &new);
    let watched = watch(&mut story, &device, &events, &api, args, &expected)?;

    story.step("Results");
    let execution = api.execution(THING, JOB);
    if let Some(e) = &execution {
        story.detail(&format!(
            "service: job {} {} {:?}",
            e.job_id,
            e.status.as_str(),
            e.status_details
        ));
    }
    let status = device.status();
    story.detail(&format!(
        "device: runs {} ({}), {} boots, {} power cuts, agent {:?}",
        show_version(&status.boot.version),
        if status.confirmed {
            "confirmed"
        } else {
            "on trial"
        },
        status.boots,
        status.power_cuts,
        status.state
    ));
    if let Some(stats) = watched.download {
        story.detail(&format!(
            "agent statistics of the download: {}",
            show_statistics(&stats)
        ));
    }
    story.detail(&format!(
        "agent statistics since the last boot: {}",
        show_statistics(&status.statistics)
    ));
    let served = api.stats();
    let counts = served
        .block_counts(THING, STREAM, 0)
        .cloned()
        .unwrap_or_default();
    if args.http {
        story.detail(&format!(
            "service: {} HTTP requests, {} bytes served",
            served.http_requests, served.http_bytes
        ));
    } else {
        story.detail(&format!(
            "service: {} stream requests, {} blocks served ({} distinct)",
            served.stream_requests,
            counts.values().sum::<u64>(),
            counts.len()
        ));
    }
    let resume = watched.resumed_at.map(|at| {
        let twice: Vec<u32> = counts
            .iter()
            .filter(|(_, &n)| n > 1)
            .map(|(&b, _)| b)
            .collect();
        story.detail(&format!(
            "power cut at block {}; resumed at block {at}: blocks 0..{at} were served once each; \
             served twice (written after the last record): {twice:?}",
            watched.cut_at.unwrap_or(0),
        ));
        (counts.clone(), at)
    });

    let flash = device.flash().lock().contents().to_vec();
    let total = (new.len() as u32).div_ceil(BLOCK_SIZE);
    let observed = Observed {
        execution: execution.as_ref(),
        status: &status,
        flash: &flash,
        layout,
        download: watched.download,
        blocks_to_fetch: (!args.http).then(|| total - watched.resumed_at.unwrap_or(0)),
        resume,
    };
    let results = checks::verify(&expected, &observed);
    story.step("Checks");
    for c in &results {
        let mark = if c.holds { "ok  " } else { "FAIL" };
        story.detail(&format!("[{mark}] {} ({})", c.claim, c.detail));
    }
    drop(device);
    drop(service);
    if let Some(broker) = broker {
        broker.shutdown();
    }
    let failed = results.iter().filter(|c| !c.holds).count();
    if failed > 0 {
        bail!("{failed} of {} checks failed", results.len());
    }
    println!("\nAll {} checks passed: {scenario}.", results.len());
    Ok(())
}

fn describe(args: &Args) -> String {
    let mut parts = vec![if args.http {
        "1.0.0 -> 1.1.0 over HTTP"
    } else {
        "1.0.0 -> 1.1.0 over MQTT"
    }];
    if args.bad_signature {
        parts.push("bad signature: the device refuses the image");
    }
    if args.fail_self_test {
        parts.push("the new firmware fails its self test: rollback");
    }
    if args.power_cut {
        parts.push("power cut mid-download: the device resumes");
    }
    parts.join("; ")
}

fn version(text: &str) -> anyhow::Result<ImageVersion> {
    Ok(image::parse_version(text)?)
}

/// The nrf52840dk layout, with larger slots when the image needs them.
fn layout_for(size: u32) -> anyhow::Result<Layout> {
    const ROOM: u32 = 64 * 1024;
    let dk = Layout::nrf52840dk();
    if size.saturating_add(ROOM) <= dk.slot0().size() {
        return Ok(dk);
    }
    let slot = size
        .checked_add(ROOM)
        .map(|s| s.next_multiple_of(4096))
        .context("--size is too large")?;
    Layout::nrf52840_with_slots(slot).map_err(|e| anyhow::anyhow!("--size {size}: {e}"))
}

/// A signed MCUboot image of a simulated firmware.
fn build(
    version: ImageVersion,
    firmware: Firmware,
    size: u32,
    boot_key: &SigningKey,
) -> anyhow::Result<Vec<u8>> {
    let seed = u64::from(version.major) << 32 | u64::from(version.minor) << 16;
    let options = ImageOptions {
        version,
        signing_key: Some(boot_key.clone()),
        ..ImageOptions::default()
    };
    Ok(image::build_image(
        &firmware.payload(size as usize, seed),
        &options,
    )?)
}

fn expectation(
    args: &Args,
    v1: ImageVersion,
    v2: ImageVersion,
    old: &[u8],
    new: &[u8],
) -> Expected {
    if args.bad_signature {
        Expected {
            status: JobStatus::Failed,
            reason: "0x000000e3: 0x00000000",
            version: v1,
            primary: old.to_vec(),
            refused: true,
        }
    } else if args.fail_self_test {
        Expected {
            status: JobStatus::Failed,
            reason: "rejected: 0x00000021",
            version: v1,
            primary: old.to_vec(),
            refused: false,
        }
    } else {
        Expected {
            status: JobStatus::Succeeded,
            reason: "accepted  v1.1.0",
            version: v2,
            primary: new.to_vec(),
            refused: false,
        }
    }
}

/// Wait until the device is connected and the service told it there is
/// no job for it yet.
fn wait_idle(
    story: &mut Story,
    device: &Device,
    events: &Receiver<DeviceEvent>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match events.recv_timeout(Duration::from_millis(50)) {
            Ok(e) => {
                story.device(&e);
                match e {
                    DeviceEvent::Agent {
                        event: Event::NoActiveJob,
                        ..
                    } => return Ok(()),
                    DeviceEvent::Halted(why) => bail!("the device halted: {why}"),
                    _ => {}
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => bail!("the device stopped"),
        }
        if Instant::now() > deadline {
            bail!("the device did not come up: {:?}", device.status());
        }
    }
}

/// The chapters of the update, each opened by the event that starts it.
#[derive(Default)]
struct Chapters {
    download: bool,
    activation: bool,
    self_test: bool,
}

impl Chapters {
    fn open(&mut self, story: &mut Story, event: &DeviceEvent, args: &Args) {
        match event {
            DeviceEvent::Agent {
                event: Event::ReceivedJob,
                ..
            } if !self.download => {
                self.download = true;
                story.step(&if args.http {
                    "The device gets the job and downloads 1.1.0 over HTTP (range requests)"
                        .to_owned()
                } else {
                    format!(
                        "The device gets the job and downloads 1.1.0 over MQTT ({} blocks per request)",
                        args.blocks_per_request
                    )
                });
            }
            DeviceEvent::PowerCut => story.step("Power cut: the device goes dark mid-download"),
            DeviceEvent::Agent {
                event: Event::Activate,
                ..
            } => {
                self.activation = true;
                story.step("Verification, then activation");
            }
            DeviceEvent::Agent {
                event: Event::Fail(_),
                ..
            } if !self.activation => story.step("The device refuses the job"),
            DeviceEvent::Rebooting { .. } if !self.self_test => {
                story.step("Reboot through the simulated MCUboot (swap-move, test swap)")
            }
            DeviceEvent::SelfTest(_) => {
                self.self_test = true;
                story.step("Self test on the new firmware, then commit or roll back");
            }
            _ => {}
        }
    }
}

/// What the demo saw while the update ran.
#[derive(Default)]
struct Watched {
    /// The agent's statistics when the download ended.
    download: Option<Statistics>,
    /// The block count when the power was cut.
    cut_at: Option<u32>,
    /// Where the download resumed after the power cut.
    resumed_at: Option<u32>,
}

/// Narrate until the job is over in the service and the device has settled
/// on the expected image (or the deadline passes; the checks then fail).
fn watch(
    story: &mut Story,
    device: &Device,
    events: &Receiver<DeviceEvent>,
    api: &ServiceApi,
    args: &Args,
    expected: &Expected,
) -> anyhow::Result<Watched> {
    let mut watched = Watched::default();
    let mut armed = false;
    let mut after_cut = false;
    let mut chapters = Chapters::default();
    let deadline = Instant::now() + DEADLINE;
    loop {
        match events.recv_timeout(Duration::from_millis(20)) {
            Ok(e) => {
                chapters.open(story, &e, args);
                story.device(&e);
                match e {
                    DeviceEvent::Progress { received, total } => {
                        if args.power_cut && !armed && received * 100 >= total * POWER_CUT_PERCENT {
                            story.detail(&format!(
                                "[demo] {received}/{total} blocks: cutting the power at the next flash write"
                            ));
                            device.arm_power_cut(0, 0x5eed);
                            watched.cut_at = Some(received);
                            armed = true;
                        } else if after_cut && watched.resumed_at.is_none() {
                            watched.resumed_at = Some(received);
                            story.detail(&format!(
                                "[demo] the download resumed from the device's record at block {received}/{total}"
                            ));
                        }
                    }
                    DeviceEvent::PowerCut => after_cut = true,
                    DeviceEvent::Agent {
                        event: Event::Activate | Event::Fail(_),
                        statistics,
                        ..
                    } => watched.download = Some(statistics),
                    DeviceEvent::Halted(why) => bail!("the device halted: {why}"),
                    _ => {}
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => bail!("the device stopped"),
        }
        let execution: Option<Execution> = api.execution(THING, JOB);
        if let Some(e) = &execution {
            story.service(e);
        }
        let s = device.status();
        let settled = s.connected
            && s.state == State::WaitingForJob
            && s.confirmed
            && s.boot.version == expected.version;
        if execution.is_some_and(|e| e.status.is_terminal()) && settled {
            return Ok(watched);
        }
        if Instant::now() > deadline {
            story.detail(&format!("[demo] gave up waiting after {DEADLINE:?}"));
            return Ok(watched);
        }
    }
}
