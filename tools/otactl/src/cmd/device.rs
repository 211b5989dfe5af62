//! `otactl device`: a simulated device with its flash in a file, talking
//! to an OTA service (`otactl serve`, or AWS IoT over TLS) through a broker.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use ota_agent::mcuboot::ImageVersion;
use ota_agent::Event;
use ota_agent_host::device::{DeviceConfig, DeviceEvent, RebootReason};
use ota_agent_host::image::format_version;
use ota_agent_host::mqtt::{Backoff, TlsConfig};
use ota_agent_host::{Device, Layout, SwapType};
use otactl::keys;

use super::parse_int;

/// Arguments of `otactl device`.
#[derive(clap::Args)]
pub struct Args {
    /// The flash file (created on first use; keeps the device's state).
    #[arg(long)]
    flash: PathBuf,
    /// The thing name (also the MQTT client id unless --client-id).
    #[arg(long)]
    thing: String,
    /// The MQTT broker.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:1883")]
    broker: String,
    /// The code-signing public key the device trusts (PEM; a private key
    /// PEM works too).
    #[arg(long)]
    key: PathBuf,
    /// The MCUboot image programmed into the primary slot when the flash
    /// file is new.
    #[arg(long)]
    factory_image: Option<PathBuf>,
    /// MQTT client id (default: the thing name).
    #[arg(long)]
    client_id: Option<String>,
    /// CA certificate(s) of the broker (PEM): connect with TLS (AWS IoT:
    /// AmazonRootCA1.pem, port 8883).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// The device certificate (PEM), for TLS client authentication.
    #[arg(long, requires_all = ["private_key", "ca_file"])]
    cert: Option<PathBuf>,
    /// The device certificate's private key (PEM).
    #[arg(long, requires = "cert")]
    private_key: Option<PathBuf>,
    /// ALPN protocol to offer over TLS (e.g. x-amzn-mqtt-ca for AWS IoT on port 443).
    #[arg(long, requires = "ca_file")]
    alpn: Vec<String>,
    /// Size of each image slot (default: the nrf52840dk's 472 KiB).
    #[arg(long, value_parser = parse_int::<u32>)]
    slot_size: Option<u32>,
    /// Block size of MQTT downloads.
    #[arg(long, default_value_t = 4096, value_parser = parse_int::<u32>)]
    block_size: u32,
    /// Blocks asked for per MQTT request.
    #[arg(long, default_value_t = 4, value_parser = parse_int::<u32>)]
    blocks_per_request: u32,
    /// Seconds to wait for an answer before asking again.
    #[arg(long, default_value_t = 10)]
    request_timeout: u32,
    /// Seconds the new image has to pass its self test.
    #[arg(long, default_value_t = 60)]
    self_test_timeout: u32,
    /// Seconds between "ready to activate" and the reboot.
    #[arg(long, default_value_t = 1)]
    activation_delay: u64,
}

/// Run the device until the process is interrupted.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let (host, port) = split_host_port(&args.broker)?;
    let public = keys::load_public(&args.key)?;
    let mut config = DeviceConfig::new(
        &args.thing,
        &host,
        port,
        &args.flash,
        &keys::public_key_sec1(&public),
    );
    if let Some(id) = &args.client_id {
        config.mqtt.client_id = id.clone();
    }
    if let Some(ca_file) = &args.ca_file {
        config.mqtt.tls = Some(TlsConfig {
            ca_file: ca_file.clone(),
            client_auth: args.cert.clone().zip(args.private_key.clone()),
            alpn: args.alpn.clone(),
        });
    }
    config.mqtt.reconnect = Backoff {
        initial: Duration::from_millis(500),
        max: Duration::from_secs(30),
    };
    if let Some(size) = args.slot_size {
        config.layout = Layout::nrf52840_with_slots(size).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    config.agent.block_size = args.block_size;
    config.agent.blocks_per_request = args.blocks_per_request;
    config.agent.request_timeout_ms = args.request_timeout.saturating_mul(1000);
    config.agent.self_test_timeout_ms = args.self_test_timeout.saturating_mul(1000);
    config
        .agent
        .validate()
        .map_err(|e| anyhow::anyhow!("agent settings: {e:?}"))?;
    config.activation_delay = Duration::from_secs(args.activation_delay);
    if let Some(path) = &args.factory_image {
        config.factory_image = Some(super::read(path)?);
    }

    let (tx, events) = mpsc::channel();
    let device = Device::start(config, move |e| {
        let _ = tx.send(e.clone());
    })
    .with_context(|| format!("starting the device on {}", args.flash.display()))?;
    println!(
        "otactl device: {} on {} (flash {})",
        args.thing,
        args.broker,
        args.flash.display()
    );
    let mut narrator = Narrator::default();
    for event in events {
        if let Some(line) = narrator.describe(&event) {
            println!("{line}");
        }
        if let DeviceEvent::Halted(why) = &event {
            drop(device);
            bail!("the device halted: {why}");
        }
    }
    Ok(())
}

/// `HOST:PORT`.
pub fn split_host_port(address: &str) -> anyhow::Result<(String, u16)> {
    let (host, port) = address
        .rsplit_once(':')
        .with_context(|| format!("{address:?} is not HOST:PORT"))?;
    let port = port
        .parse()
        .with_context(|| format!("bad port in {address:?}"))?;
    Ok((host.to_owned(), port))
}

/// A version for people: `1.1.0` (with `+build` only when there is one).
pub fn show_version(v: &ImageVersion) -> String {
    if v.build_num == 0 {
        format!("{}.{}.{}", v.major, v.minor, v.revision)
    } else {
        format_version(v)
    }
}

/// Turns device events into one-line descriptions, with download progress
/// every 10 %.
#[derive(Default)]
pub struct Narrator {
    last_decile: Option<u32>,
}

impl Narrator {
    /// The line for `event`, if it deserves one.
    pub fn describe(&mut self, event: &DeviceEvent) -> Option<String> {
        Some(match event {
            DeviceEvent::FactoryProgrammed { bytes } => {
                format!("factory: programmed a {bytes}-byte image into the primary slot")
            }
            DeviceEvent::Booted(info) => {
                self.last_decile = None;
                let how = match info.swap {
                    SwapType::None => "no swap".to_owned(),
                    SwapType::Test => "swapped the new image in for a test".to_owned(),
                    SwapType::Perm => "swapped the new image in for good".to_owned(),
                    SwapType::Revert => "reverted to the previous image".to_owned(),
                    SwapType::Fail => "the requested image was invalid and erased".to_owned(),
                };
                format!(
                    "boot: MCUboot {how}{}; running {} ({}), self test {}",
                    if info.resumed_swap {
                        " (finishing an interrupted swap)"
                    } else {
                        ""
                    },
                    show_version(&info.version),
                    if info.confirmed {
                        "confirmed"
                    } else {
                        "on trial"
                    },
                    info.firmware.self_test
                )
            }
            DeviceEvent::Connected => "mqtt: connected".to_owned(),
            DeviceEvent::Disconnected(why) => format!("mqtt: connection lost ({why})"),
            DeviceEvent::Unreachable(why) => format!("mqtt: cannot connect ({why}); retrying"),
            DeviceEvent::State(_) => return None,
            DeviceEvent::Progress { received, total } => {
                let decile = received * 10 / (*total).max(1);
                if self.last_decile == Some(decile) {
                    return None;
                }
                self.last_decile = Some(decile);
                format!("download: {received}/{total} blocks")
            }
            DeviceEvent::Agent {
                event,
                job_id,
                statistics,
            } => {
                let job = job_id.as_deref().unwrap_or("-");
                match event {
                    Event::ReceivedJob => format!("agent: job {job} accepted"),
                    Event::Activate => format!(
                        "agent: job {job}: download complete ({} blocks written); code signature \
                         verified with the trusted key; MCUboot image checked (header, SHA-256 \
                         TLV, newer version); self_test=ready reported and acknowledged",
                        statistics.processed
                    ),
                    Event::UpdateComplete => format!("agent: job {job}: file received"),
                    Event::StartTest => format!("agent: job {job}: self test requested"),
                    Event::Fail(reason) => format!("agent: job {job} failed: {}", reason.text()),
                    Event::SelfTestFailed(reason) => {
                        format!("agent: job {job}: self test failed: {}", reason.text())
                    }
                    Event::NoActiveJob => "agent: no job pending".to_owned(),
                }
            }
            DeviceEvent::Activating(delay) => {
                format!("app: activating the new image in {delay:?}")
            }
            DeviceEvent::SelfTest(outcome) => format!("app: firmware self test: {outcome}"),
            DeviceEvent::Confirmed(version) => format!(
                "app: {} committed: MCUboot keeps it from now on",
                show_version(version)
            ),
            DeviceEvent::Rebooting { reason, .. } => match reason {
                RebootReason::Activation => "app: rebooting into the new image".to_owned(),
                RebootReason::RollBack => "app: rebooting to roll back".to_owned(),
            },
            DeviceEvent::PowerCut => "power: cut! the device is off".to_owned(),
            DeviceEvent::Halted(why) => format!("device halted: {why}"),
            DeviceEvent::Stopped => "device stopped".to_owned(),
        })
    }
}
