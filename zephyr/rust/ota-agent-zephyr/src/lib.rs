//! # ota-agent-zephyr
//!
//! The Zephyr port of [`ota_agent`], the part that needs only the module's C
//! shim (`zephyr/include/ota_agent_shim.h`) and not the `zephyr` crate, so it
//! builds and is tested on the host and cross-builds for Cortex-M without a
//! Zephyr tree:
//!
//! - [`ZephyrPlatform`]: the core's platform traits over the shim — the
//!   upload slot ([`ShimSlot`], `flash_area_*`), MCUboot ([`ShimBoot`],
//!   `dfu/mcuboot.h`, `sys_reboot`), the resume record ([`SettingsStore`],
//!   settings) and the P-256 verifier;
//! - [`Driver`]: the agent plus the I/O it asks for (MQTT packets with
//!   message ids mapped back to delivery tokens, HTTP range requests);
//! - [`config`]: Kconfig values onto the core's `Config`;
//! - [`capi`]: the C API's types and codes (`zephyr/include/ota_agent.h`);
//! - [`Backoff`]: reconnect delays for applications.
//!
//! The agent thread, its channel and the exported C functions are in the
//! crate `ota-agent-zephyr-rt`, which needs the `zephyr` crate.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

mod backoff;
mod boot;
pub mod capi;
pub mod config;
mod driver;
pub mod ffi;
pub mod key;
mod link;
mod msgid;
mod platform;
mod slot;
mod store;
#[cfg(test)]
mod testing;
pub mod url;

pub use backoff::Backoff;
pub use boot::ShimBoot;
pub use driver::Driver;
pub use link::{HttpResult, Link, ShimLink};
pub use msgid::{is_agent_id, MessageIds, AGENT_ID_BIT};
pub use platform::{Store, ZephyrPlatform};
pub use slot::ShimSlot;
pub use store::SettingsStore;

/// The shim's uptime as the core's [`Instant`](ota_agent::Instant)
/// (milliseconds since boot).
pub fn uptime() -> ota_agent::Instant {
    // SAFETY: no arguments; `k_uptime_get` is callable from any thread.
    let ms = unsafe { ffi::ota_shim_uptime_ms() };
    ota_agent::Instant::from_millis(u64::try_from(ms).unwrap_or(0))
}
