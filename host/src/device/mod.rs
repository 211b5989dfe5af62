//! A simulated device: the core [`Agent`] on a
//! [`HostPlatform`], the [MQTT](crate::mqtt) and [HTTP](crate::http)
//! drivers, and a tiny "application", on one thread.
//!
//! The device thread owns the agent and waits on one channel for MQTT link
//! events, HTTP reports and commands, or for the agent's next deadline; after
//! every input it drains the agent's transmits and events, as the crate
//! documentation of `ota-agent` prescribes. Its clock is monotonic
//! (`std::time::Instant` since the device started).
//!
//! The application does what a product would:
//! - on [`Event::Activate`] it waits
//!   [`DeviceConfig::activation_delay`], then calls `activate_new_image`;
//! - on [`Event::StartTest`] it runs the
//!   firmware's self test, whose outcome the running image's manifest
//!   decides (see [`firmware`]), and calls `set_image_state`;
//! - whenever the agent asked for a reboot, it reboots: the agent is
//!   dropped (RAM is lost), the simulated MCUboot runs
//!   ([`HostPlatform::restart`]), a new agent is made, and the device
//!   reconnects and starts it again;
//! - when the flash loses power (an armed power cut fired), nothing the
//!   agent did after the cut leaves the device: it is off for
//!   [`DeviceConfig::power_off_time`], then powers up and boots.
//!
//! The flash lives in a file, so a device reboots in place and also
//! survives the process (start it again on the same file). Many devices can
//! run in one process; each has its own three threads (device, MQTT, HTTP).
//! What happens is reported to an observer ([`DeviceEvent`]) and kept in a
//! [`DeviceStatus`] snapshot.

pub mod firmware;
mod runner;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ota_agent::mcuboot::ImageVersion;
use ota_agent::{Agent, Config, Event, ImageState, P256Verifier, State, Statistics};

use crate::boot::{BootConfig, BootError, BootReport, BootSim, SwapType};
use crate::flash::{Flash, SharedFlash};
use crate::mqtt::{MqttConfig, MqttError};
use crate::partition::Layout;
use crate::platform::{CustomJobHandler, HostError, HostPlatform};
use firmware::{Firmware, SelfTest};
use runner::{Command, Input, Runner};

/// The longest pre-signed URL a simulated device keeps.
pub const URL_CAPACITY: usize = 2048;

/// The agent of a simulated device.
pub type DeviceAgent = Agent<HostPlatform<P256Verifier>, URL_CAPACITY>;

/// How to build and run a simulated device.
pub struct DeviceConfig {
    /// The AWS IoT thing name (a valid MQTT topic level).
    pub thing_name: String,
    /// The broker (the client id is usually the thing name).
    pub mqtt: MqttConfig,
    /// The flash file; created, fully erased, if it does not exist.
    pub flash_path: PathBuf,
    /// The partitions (the file must have their total size).
    pub layout: Layout,
    /// The simulated MCUboot's options.
    pub boot: BootConfig,
    /// The agent's configuration.
    pub agent: Config,
    /// The code-signing public key, SEC1 (65-byte uncompressed or 33-byte compressed).
    pub public_key: Vec<u8>,
    /// Programmed into the primary slot when the flash file is new (as a
    /// factory programmer would); without it, a new device cannot boot.
    pub factory_image: Option<Vec<u8>>,
    /// How long the application waits between `Activate` and the reboot.
    pub activation_delay: Duration,
    /// How long the device stays off after a power cut.
    pub power_off_time: Duration,
    /// Timeout of one HTTP range request.
    pub http_timeout: Duration,
    /// What the application answers for jobs that are not OTA jobs
    /// (`None`: it declines them).
    pub custom_jobs: Option<CustomJobHandler>,
}

impl DeviceConfig {
    /// A device named `thing_name` on the broker at `host:port` (plain TCP,
    /// client id = thing name), with its flash in `flash_path`, the
    /// nrf52840dk layout, default agent settings, and no activation delay.
    pub fn new(
        thing_name: &str,
        host: &str,
        port: u16,
        flash_path: impl Into<PathBuf>,
        public_key: &[u8],
    ) -> Self {
        DeviceConfig {
            thing_name: thing_name.to_owned(),
            mqtt: MqttConfig::new(host, port, thing_name),
            flash_path: flash_path.into(),
            layout: Layout::nrf52840dk(),
            boot: BootConfig::default(),
            agent: Config::default(),
            public_key: public_key.to_vec(),
            factory_image: None,
            activation_delay: Duration::ZERO,
            power_off_time: Duration::from_millis(100),
            http_timeout: Duration::from_secs(30),
            custom_jobs: None,
        }
    }
}

impl fmt::Debug for DeviceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceConfig")
            .field("thing_name", &self.thing_name)
            .field("mqtt", &self.mqtt)
            .field("flash_path", &self.flash_path)
            .field("layout", &self.layout)
            .field("agent", &self.agent)
            .field("factory_image", &self.factory_image.as_ref().map(Vec::len))
            .field("activation_delay", &self.activation_delay)
            .finish_non_exhaustive()
    }
}

/// Why a device could not start.
#[derive(Debug)]
pub enum DeviceError {
    /// The flash file could not be opened or created.
    Flash(PathBuf, io::Error),
    /// The public key is not a P-256 point.
    PublicKey,
    /// The factory image could not be programmed.
    FactoryImage(BootError),
    /// The layout does not work, or nothing bootable is in the flash.
    Platform(HostError),
    /// The agent refused its configuration or the thing name.
    Agent(ota_agent::ConfigError),
    /// The MQTT settings cannot be used (TLS files).
    Mqtt(MqttError),
    /// A thread could not be started.
    Thread(io::Error),
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::Flash(path, e) => write!(f, "flash file {}: {e}", path.display()),
            DeviceError::PublicKey => f.write_str("the public key is not a P-256 point"),
            DeviceError::FactoryImage(e) => write!(f, "programming the factory image: {e}"),
            DeviceError::Platform(e) => write!(f, "powering on: {e}"),
            DeviceError::Agent(e) => write!(f, "agent configuration: {e:?}"),
            DeviceError::Mqtt(e) => write!(f, "MQTT: {e}"),
            DeviceError::Thread(e) => write!(f, "starting the device thread: {e}"),
        }
    }
}

impl std::error::Error for DeviceError {}

/// What the device booted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootInfo {
    /// The running image's version.
    pub version: ImageVersion,
    /// Whether it is permanent (`false`: on trial, reverted at the next reset
    /// unless confirmed).
    pub confirmed: bool,
    /// The swap this boot performed.
    pub swap: SwapType,
    /// Whether this boot finished a swap a reset had interrupted.
    pub resumed_swap: bool,
    /// Whether an image requested for a swap was invalid and erased.
    pub rejected_secondary: bool,
    /// The running firmware's manifest.
    pub firmware: Firmware,
}

impl BootInfo {
    fn new(report: &BootReport, firmware: Firmware) -> Self {
        BootInfo {
            version: report.header.version,
            confirmed: report.state == ota_agent::BootState::Confirmed,
            swap: report.swap,
            resumed_swap: report.resumed,
            rejected_secondary: report.rejected_secondary,
            firmware,
        }
    }
}

/// Why the device rebooted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RebootReason {
    /// The application activated a new image.
    Activation,
    /// The agent rolled a rejected or timed-out image back.
    RollBack,
}

/// What a device reports, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceEvent {
    /// The factory image was programmed into a new flash file.
    FactoryProgrammed {
        /// Its size.
        bytes: usize,
    },
    /// The simulated MCUboot booted an image.
    Booted(BootInfo),
    /// Connected to the broker (the agent started or resumed).
    Connected,
    /// The connection was lost (the agent is suspended).
    Disconnected(String),
    /// A connection attempt failed; the device retries with backoff.
    Unreachable(String),
    /// The agent's state changed.
    State(State),
    /// Download progress changed: blocks received of total.
    Progress {
        /// Blocks received.
        received: u32,
        /// Blocks in the file.
        total: u32,
    },
    /// An application event from the agent.
    Agent {
        /// The event.
        event: Event,
        /// The job it concerns, if the agent has one.
        job_id: Option<String>,
        /// The agent's statistics at that moment.
        statistics: Statistics,
    },
    /// The application will activate the new image after this delay.
    Activating(Duration),
    /// The firmware ran its self test (on `Hang`, it never answers).
    SelfTest(SelfTest),
    /// The running image was committed: MCUboot keeps it from now on.
    Confirmed(ImageVersion),
    /// The device reboots.
    Rebooting {
        /// Why.
        reason: RebootReason,
        /// The agent's statistics just before.
        statistics: Statistics,
    },
    /// The flash lost power: the device is off.
    PowerCut,
    /// The device stopped working (nothing bootable, or the flash failed).
    Halted(String),
    /// The device was stopped.
    Stopped,
}

/// A snapshot of a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceStatus {
    /// What runs.
    pub boot: BootInfo,
    /// Whether the running image is permanent now (it may have been
    /// confirmed since the boot).
    pub confirmed: bool,
    /// Boots so far (the first one included).
    pub boots: u32,
    /// Power cuts so far.
    pub power_cuts: u32,
    /// Whether the broker connection is up.
    pub connected: bool,
    /// The agent's state.
    pub state: State,
    /// The agent's view of the image.
    pub image_state: ImageState,
    /// The active job.
    pub job_id: Option<String>,
    /// Download progress (blocks received, total), during a transfer.
    pub progress: Option<(u32, u32)>,
    /// The agent's statistics (reset by every transfer and every boot).
    pub statistics: Statistics,
    /// Why the device halted, if it did.
    pub halted: Option<String>,
}

/// A running simulated device; dropping it stops it.
pub struct Device {
    thing_name: String,
    input: Sender<Input>,
    status: Arc<Mutex<DeviceStatus>>,
    flash: SharedFlash,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("thing_name", &self.thing_name)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// Power the device on and start it: open (or create) the flash file,
    /// program the factory image into a new one, boot, build the agent, and
    /// start connecting. `observer` gets every [`DeviceEvent`], on the
    /// device's thread (keep it quick).
    pub fn start(
        mut config: DeviceConfig,
        mut observer: impl FnMut(&DeviceEvent) + Send + 'static,
    ) -> Result<Device, DeviceError> {
        let flash = open_flash(&config, &mut observer)?;
        let verifier = P256Verifier::from_sec1(&config.public_key).ok_or(DeviceError::PublicKey)?;
        let mut platform =
            HostPlatform::power_on(flash.clone(), config.layout, config.boot, verifier)
                .map_err(DeviceError::Platform)?;
        if let Some(handler) = config.custom_jobs.take() {
            platform.set_custom_job_handler(handler);
        }
        let firmware = Firmware::running(&mut platform);
        let boot = BootInfo::new(platform.boot_report(), firmware);
        let agent =
            Agent::new(config.agent, &config.thing_name, platform).map_err(DeviceError::Agent)?;
        let status = Arc::new(Mutex::new(DeviceStatus {
            boot,
            confirmed: boot.confirmed,
            boots: 1,
            power_cuts: 0,
            connected: false,
            state: agent.state(),
            image_state: agent.image_state(),
            job_id: None,
            progress: None,
            statistics: agent.statistics(),
            halted: None,
        }));
        let (input, rx) = mpsc::channel();
        let runner = Runner::new(
            &config,
            agent,
            input.clone(),
            rx,
            Arc::clone(&status),
            observer,
        )?;
        let thread = thread::Builder::new()
            .name(format!("device-{}", config.thing_name))
            .spawn(move || runner.run())
            .map_err(DeviceError::Thread)?;
        Ok(Device {
            thing_name: config.thing_name,
            input,
            status,
            flash,
            thread: Some(thread),
        })
    }

    /// The thing name.
    pub fn thing_name(&self) -> &str {
        &self.thing_name
    }

    /// The device's state now.
    pub fn status(&self) -> DeviceStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Ask the agent to look for a job now (`OTA_CheckForUpdate`).
    pub fn check_for_update(&self) {
        let _ = self.input.send(Input::Command(Command::CheckForUpdate));
    }

    /// Cut the power at the `after`-th flash write or page erase from now
    /// (0: the next), tearing it as drawn from `seed` (see
    /// [`Flash::arm_power_cut`]). The device then stays off for
    /// [`DeviceConfig::power_off_time`] and boots again.
    pub fn arm_power_cut(&self, after: u64, seed: u64) {
        self.flash.lock().arm_power_cut(after, seed);
    }

    /// The flash device (wear counters, contents).
    pub fn flash(&self) -> &SharedFlash {
        &self.flash
    }

    /// Stop the device (its agent shuts down, the connection closes) and
    /// return its last status.
    pub fn stop(mut self) -> DeviceStatus {
        self.stop_and_join();
        self.status()
    }

    fn stop_and_join(&mut self) {
        let _ = self.input.send(Input::Command(Command::Stop));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Open the flash file; program the factory image if the file is new.
fn open_flash(
    config: &DeviceConfig,
    observer: &mut impl FnMut(&DeviceEvent),
) -> Result<SharedFlash, DeviceError> {
    let path: &Path = &config.flash_path;
    let fresh = std::fs::metadata(path).map_or(true, |m| m.len() == 0);
    let flash = Flash::open_file(path, config.layout.geometry())
        .map_err(|e| DeviceError::Flash(path.to_owned(), e))?;
    let flash = SharedFlash::new(flash);
    if let (true, Some(image)) = (fresh, &config.factory_image) {
        let sim = BootSim::new(flash.clone(), &config.layout, config.boot)
            .map_err(|e| DeviceError::Platform(HostError::Config(e)))?;
        if let Err(e) = sim.install_primary(image) {
            // Leave no half-programmed device behind: the next start retries.
            drop(sim);
            drop(flash);
            let _ = std::fs::remove_file(path);
            return Err(DeviceError::FactoryImage(e));
        }
        observer(&DeviceEvent::FactoryProgrammed { bytes: image.len() });
    }
    Ok(flash)
}
