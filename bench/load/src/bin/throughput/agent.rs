//! One update of one fresh simulated device, timed: from job creation to
//! the agent's `Activate` (downloaded and verified) and to the commit of the
//! new image after the reboot and the self test.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use ota_agent::mcuboot::ImageVersion;
use ota_agent_bench::firmware::CodeSigner;
use ota_agent_bench::tracker::{Marks, TrackedDevice};
use ota_agent_host::{DeviceConfig, Layout};
use otactl::service::{JobStatus, ServiceApi};

use super::cases::Case;

/// How often the device is looked at (times are stamped by the device).
const POLL: Duration = Duration::from_millis(10);
/// How long a device may take to connect and hear it has no job.
const STARTUP: Duration = Duration::from_secs(30);

/// What every agent run of one image size shares.
pub struct Bench<'a> {
    /// The service.
    pub service: &'a ServiceApi,
    /// The broker's port on 127.0.0.1.
    pub broker_port: u16,
    /// Where flash files go.
    pub dir: &'a Path,
    /// The code-signing key.
    pub signer: &'a CodeSigner,
    /// Slots large enough for the image.
    pub layout: Layout,
    /// What a new device runs.
    pub factory: &'a [u8],
    /// The update, in `stream` as file 0.
    pub image: &'a [u8],
    /// Its version.
    pub version: ImageVersion,
    /// The stream.
    pub stream: &'a str,
    /// How long one update may take.
    pub timeout: Duration,
}

/// The times of one update.
#[derive(Clone, Copy, Debug)]
pub struct Times {
    /// Job created → `Activate`.
    pub activate: Duration,
    /// Job created → the new image committed.
    pub confirmed: Duration,
    /// Data messages the agent received and dropped during the download.
    pub received: u32,
    /// Of which dropped.
    pub dropped: u32,
}

impl Bench<'_> {
    /// Updates a fresh device named `name` in `case` (job `name` too).
    pub fn run(&self, case: Case, name: &str) -> anyhow::Result<Times> {
        let flash = self.dir.join(format!("{name}.flash"));
        let mut config = DeviceConfig::new(
            name,
            "127.0.0.1",
            self.broker_port,
            &flash,
            &self.signer.public_key(),
        );
        config.layout = self.layout;
        config.agent = case.agent_config();
        config.factory_image = Some(self.factory.to_vec());
        let device = TrackedDevice::start(config).with_context(|| format!("starting {name}"))?;
        let result = self.update(&device, case, name);
        drop(device);
        let _ = std::fs::remove_file(&flash);
        result
    }

    fn update(&self, device: &TrackedDevice, case: Case, name: &str) -> anyhow::Result<Times> {
        wait(device, STARTUP, |m| m.idle.is_some()).context("the device did not come up")?;
        let url = self.service.file_url(self.stream, 0);
        let url = matches!(case, Case::Http { .. }).then_some(url.as_str());
        let document = self
            .signer
            .job_document(case.protocol(), self.stream, url, self.image)?;
        let started = Instant::now();
        self.service.create_job(&[name], name, document)?;
        let version = self.version;
        let marks = wait(device, self.timeout, |m| {
            m.confirmed.is_some_and(|(_, v)| v == version)
        })?;
        let execution = self
            .service
            .wait_for_terminal(name, name, Duration::from_secs(10))?;
        if execution.status != JobStatus::Succeeded {
            bail!(
                "{name}: the job ended {} {:?}",
                execution.status.as_str(),
                execution.status_details
            );
        }
        let (Some((activated, statistics)), Some((confirmed, _))) =
            (marks.activate, marks.confirmed)
        else {
            bail!("{name}: no Activate event before the commit");
        };
        Ok(Times {
            activate: activated.saturating_duration_since(started),
            confirmed: confirmed.saturating_duration_since(started),
            received: statistics.received,
            dropped: statistics.dropped,
        })
    }
}

/// Waits until the device's marks satisfy `done`; fails on a failure mark
/// or after `timeout`.
fn wait(
    device: &TrackedDevice,
    timeout: Duration,
    done: impl Fn(&Marks) -> bool,
) -> anyhow::Result<Marks> {
    let deadline = Instant::now() + timeout;
    loop {
        let marks = device.marks();
        if done(&marks) {
            return Ok(marks);
        }
        if let Some(failure) = &marks.failure {
            bail!("{}: {failure}", device.device.thing_name());
        }
        if Instant::now() > deadline {
            bail!(
                "{}: not done within {timeout:?}; status {:?}",
                device.device.thing_name(),
                device.device.status()
            );
        }
        std::thread::sleep(POLL);
    }
}
