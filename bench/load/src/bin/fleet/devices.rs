//! The fleet: N simulated devices in this process, on one broker, each with
//! its flash file in a temporary directory.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use ota_agent::mcuboot::ImageVersion;
use ota_agent::Config;
use ota_agent_bench::tracker::{Marks, TrackedDevice};
use ota_agent_host::{DeviceConfig, Layout};

/// How often the fleet is looked at while waiting (the times themselves
/// are stamped by the devices).
const POLL: Duration = Duration::from_millis(50);
/// How often progress is printed while waiting.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// What every device of the fleet has in common.
pub struct FleetConfig<'a> {
    /// The broker's port on 127.0.0.1.
    pub broker_port: u16,
    /// Where the flash files go.
    pub dir: &'a Path,
    /// The code-signing public key, SEC1.
    pub public_key: &'a [u8],
    /// The partitions.
    pub layout: Layout,
    /// The agent's configuration.
    pub agent: Config,
    /// The image every device runs at first.
    pub factory_image: &'a [u8],
}

/// The devices.
pub struct Fleet {
    devices: Vec<TrackedDevice>,
}

impl Fleet {
    /// Starts `count` devices named `bench-device-0001`... .
    pub fn start(count: usize, config: &FleetConfig<'_>) -> anyhow::Result<Fleet> {
        let mut devices = Vec::with_capacity(count);
        for i in 1..=count {
            let thing = format!("bench-device-{i:04}");
            let mut device = DeviceConfig::new(
                &thing,
                "127.0.0.1",
                config.broker_port,
                config.dir.join(format!("{thing}.flash")),
                config.public_key,
            );
            device.layout = config.layout;
            device.agent = config.agent;
            device.factory_image = Some(config.factory_image.to_vec());
            let device =
                TrackedDevice::start(device).with_context(|| format!("starting {thing}"))?;
            devices.push(device);
        }
        Ok(Fleet { devices })
    }

    /// The thing names.
    pub fn things(&self) -> Vec<String> {
        self.devices
            .iter()
            .map(|d| d.device.thing_name().to_owned())
            .collect()
    }

    /// Every device's marks, in order.
    pub fn marks(&self) -> Vec<Marks> {
        self.devices.iter().map(TrackedDevice::marks).collect()
    }

    /// The devices.
    pub fn devices(&self) -> &[TrackedDevice] {
        &self.devices
    }

    /// Waits until every device is connected and was told it has no job.
    pub fn wait_idle(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let marks = self.marks();
            let idle = marks.iter().filter(|m| m.idle.is_some()).count();
            if idle == marks.len() {
                return Ok(());
            }
            if let Some((i, m)) = marks.iter().enumerate().find(|(_, m)| m.failure.is_some()) {
                bail!("{} failed while starting: {:?}", self.name(i), m.failure);
            }
            if Instant::now() > deadline {
                bail!(
                    "only {idle} of {} devices came up within {timeout:?}",
                    marks.len()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until every device has committed `version` or failed, or
    /// until `deadline`; prints progress to stderr. Returns the marks then.
    pub fn wait_updated(
        &self,
        version: ImageVersion,
        started: Instant,
        deadline: Instant,
    ) -> Vec<Marks> {
        let mut next_progress = Instant::now() + PROGRESS_EVERY;
        loop {
            let marks = self.marks();
            let done = marks
                .iter()
                .filter(|m| m.failure.is_some() || m.confirmed.is_some_and(|(_, v)| v == version))
                .count();
            if done == marks.len() || Instant::now() > deadline {
                return marks;
            }
            if Instant::now() >= next_progress {
                next_progress += PROGRESS_EVERY;
                let downloaded = marks.iter().filter(|m| m.activate.is_some()).count();
                eprintln!(
                    "fleet: {:>5.1} s: {downloaded}/{n} downloaded, {done}/{n} done",
                    started.elapsed().as_secs_f64(),
                    n = marks.len()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// The name of device `i`.
    pub fn name(&self, i: usize) -> &str {
        self.devices[i].device.thing_name()
    }

    /// Stops every device, several at a time.
    pub fn stop(self) {
        let mut devices = self.devices;
        let per_thread = devices.len().div_ceil(8).max(1);
        std::thread::scope(|scope| {
            while !devices.is_empty() {
                let chunk: Vec<TrackedDevice> =
                    devices.drain(..per_thread.min(devices.len())).collect();
                scope.spawn(move || drop(chunk));
            }
        });
    }
}
