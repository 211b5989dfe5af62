//! A simulated device whose milestones are time-stamped by its observer,
//! on the device's thread, as they happen: how long an update took does
//! not depend on how often the benchmark looks.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use ota_agent::mcuboot::ImageVersion;
use ota_agent::{Event, Statistics};
use ota_agent_host::device::DeviceError;
use ota_agent_host::{Device, DeviceConfig, DeviceEvent};

/// What a device went through, with the times.
#[derive(Clone, Debug, Default)]
pub struct Marks {
    /// When the service first told it that it has no job (it is connected
    /// and idle).
    pub idle: Option<Instant>,
    /// When the agent reported the download complete and verified
    /// (`Event::Activate`), and its statistics then.
    pub activate: Option<(Instant, Statistics)>,
    /// When the running image was committed, and its version (a factory
    /// image is permanent from the start and is not reported).
    pub confirmed: Option<(Instant, ImageVersion)>,
    /// Why the update or the device failed, if it did.
    pub failure: Option<String>,
    /// Reboots.
    pub reboots: u32,
    /// Lost connections.
    pub disconnects: u32,
    /// Failed connection attempts.
    pub unreachable: u32,
}

impl Marks {
    fn note(&mut self, event: &DeviceEvent) {
        let now = Instant::now();
        match event {
            DeviceEvent::Agent {
                event, statistics, ..
            } => match event {
                Event::NoActiveJob => {
                    self.idle.get_or_insert(now);
                }
                Event::Activate => self.activate = Some((now, *statistics)),
                Event::Fail(reason) | Event::SelfTestFailed(reason) => {
                    self.failure = Some(format!("agent: {event:?} ({reason:?})"));
                }
                _ => {}
            },
            DeviceEvent::Confirmed(version) => self.confirmed = Some((now, *version)),
            DeviceEvent::Rebooting { .. } => self.reboots += 1,
            DeviceEvent::Disconnected(_) => self.disconnects += 1,
            DeviceEvent::Unreachable(_) => self.unreachable += 1,
            DeviceEvent::Halted(why) => self.failure = Some(format!("halted: {why}")),
            _ => {}
        }
    }
}

/// A running device and its marks.
pub struct TrackedDevice {
    /// The device.
    pub device: Device,
    marks: Arc<Mutex<Marks>>,
}

impl TrackedDevice {
    /// Starts a device from `config`.
    pub fn start(config: DeviceConfig) -> Result<Self, DeviceError> {
        let marks = Arc::new(Mutex::new(Marks::default()));
        let device = {
            let marks = Arc::clone(&marks);
            Device::start(config, move |event| {
                marks
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .note(event);
            })?
        };
        Ok(TrackedDevice { device, marks })
    }

    /// A copy of the marks so far.
    pub fn marks(&self) -> Marks {
        self.marks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
