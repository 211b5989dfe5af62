//! # ota-agent-host
//!
//! The host (std) platform for [`ota_agent`]: what a simulated device needs
//! to run complete updates on a laptop, honestly enough that power cuts,
//! resets and bad images behave as on an MCUboot board.
//!
//! - [`flash`]: a NOR flash model (file-backed or in memory) with a seeded
//!   power-cut injector and wear counters;
//! - [`partition`]: Zephyr-style fixed partitions over it;
//! - [`boot`]: a boot simulator with MCUboot's trailer layout and swap-move
//!   semantics (test, permanent, confirm, revert, power-cut-safe swaps);
//! - [`store`]: a low-wear, power-cut-tolerant progress store;
//! - [`image`]: an MCUboot image builder (what `imgtool sign` makes);
//! - [`platform`]: [`HostPlatform`], the [`ota_agent::Platform`] over all of
//!   the above;
//! - [`mqtt`]: the MQTT connection (rumqttc, TLS for AWS IoT) and the driver
//!   that feeds it to the agent;
//! - [`http`]: HTTP range requests (ureq) on a worker thread;
//! - [`device`]: a simulated device: agent, platform, drivers and a small
//!   application on one thread, with its flash in a file.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod boot;
mod crc;
pub mod device;
pub mod flash;
pub mod http;
pub mod image;
pub mod mqtt;
pub mod partition;
pub mod platform;
pub mod rng;
pub mod store;
#[cfg(test)]
mod testutil;

use std::fmt;

pub use boot::{BootConfig, BootError, BootReport, BootSim, SwapType};
pub use device::{Device, DeviceConfig, DeviceEvent, DeviceStatus};
pub use flash::{Flash, FlashError, FlashStats, Geometry, SharedFlash, Stamp};
pub use partition::{Area, Layout, Partition};
pub use platform::{CustomJobHandler, HostBoot, HostError, HostPlatform, HostSlot};
pub use store::FlashStore;

/// A geometry, layout or configuration that cannot work, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError(pub &'static str);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ConfigError {}
