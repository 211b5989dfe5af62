//! Kconfig to [`Config`]: every `CONFIG_OTA_AGENT_*` value the C shim reports
//! in a [`ShimConfig`], mapped onto the core's configuration.
//!
//! | Kconfig | `Config` field |
//! |---|---|
//! | `OTA_AGENT_BLOCK_SIZE` | `block_size` |
//! | `OTA_AGENT_BLOCKS_PER_REQUEST` | `blocks_per_request` |
//! | `OTA_AGENT_HTTP_RANGE_SIZE` | `http_range_size` |
//! | `OTA_AGENT_REQUEST_TIMEOUT_MS` | `request_timeout_ms` |
//! | `OTA_AGENT_MAX_RETRIES` | `max_retries` |
//! | `OTA_AGENT_SELF_TEST_TIMEOUT_S` | `self_test_timeout_ms` (× 1000) |
//! | `OTA_AGENT_STATUS_EVERY_BLOCKS` | `status_every_blocks` |
//! | `OTA_AGENT_RESUME` + `OTA_AGENT_RESUME_EVERY_BLOCKS` | `resume_every_blocks` (0 when resume is off) |
//! | `OTA_AGENT_ALLOW_DOWNGRADE` | `allow_downgrade` |
//! | `OTA_AGENT_FIRMWARE_FILE_TYPE` | `firmware_file_type` |
//! | `OTA_AGENT_DATA_MQTT` / `_DATA_HTTP` / `_PREFER_HTTP` | `protocols.{mqtt,http,prefer_http}` |
//!
//! The thing name (`OTA_AGENT_THING_NAME`), the signing key
//! (`OTA_AGENT_SIGNING_KEY`), the thread priority
//! (`OTA_AGENT_THREAD_PRIORITY`), the API timeout
//! (`OTA_AGENT_API_TIMEOUT_MS`) and the queue depth (`OTA_AGENT_QUEUE_DEPTH`)
//! are not `Config` fields; they are read here
//! too. The shim computes the values, so that a boolean or a zero reaches
//! Rust whatever the zephyr-lang-rust revision (its `kconfig` module omits
//! booleans, and zero values before its PR #130).

use crate::ffi::{self, ShimConfig};
use ota_agent::{Config, Protocols};

/// Everything Kconfig decides for the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The core's configuration (not validated yet: `Agent::new` does that).
    pub config: Config,
    /// `CONFIG_OTA_AGENT_THING_NAME`; empty when the name is given at run time.
    pub thing_name: &'static str,
    /// `CONFIG_OTA_AGENT_SIGNING_KEY`, hex; empty when the key is given at run time.
    pub signing_key_hex: &'static str,
    /// `CONFIG_OTA_AGENT_THREAD_PRIORITY`.
    pub thread_priority: i32,
    /// `CONFIG_OTA_AGENT_API_TIMEOUT_MS`.
    pub api_timeout_ms: u32,
    /// `CONFIG_OTA_AGENT_QUEUE_DEPTH`.
    pub queue_depth: u32,
}

/// The core configuration for these Kconfig values.
pub fn config_from(c: &ShimConfig) -> Config {
    Config {
        block_size: c.block_size,
        blocks_per_request: c.blocks_per_request,
        http_range_size: c.http_range_size,
        request_timeout_ms: c.request_timeout_ms,
        max_retries: c.max_retries,
        self_test_timeout_ms: c.self_test_timeout_ms,
        status_every_blocks: c.status_every_blocks,
        resume_every_blocks: c.resume_every_blocks,
        allow_downgrade: c.allow_downgrade != 0,
        firmware_file_type: c.firmware_file_type,
        protocols: Protocols {
            mqtt: c.protocol_mqtt != 0,
            http: c.protocol_http != 0,
            prefer_http: c.prefer_http != 0,
        },
    }
}

/// A string the shim points at, or `""` when it is absent or not UTF-8.
///
/// # Safety
///
/// `ptr` must be null or point at `len` bytes that stay valid and unchanged
/// for the rest of the program.
unsafe fn static_str(ptr: *const u8, len: u32) -> &'static str {
    if ptr.is_null() || len == 0 {
        return "";
    }
    // SAFETY: the caller guarantees `ptr` points at `len` readable bytes that
    // live for the rest of the program.
    let bytes = unsafe { core::slice::from_raw_parts(ptr, len as usize) };
    core::str::from_utf8(bytes).unwrap_or("")
}

/// Read the Kconfig values from the shim.
pub fn read() -> Settings {
    let mut raw = ShimConfig {
        block_size: 0,
        blocks_per_request: 0,
        http_range_size: 0,
        request_timeout_ms: 0,
        max_retries: 0,
        self_test_timeout_ms: 0,
        status_every_blocks: 0,
        resume_every_blocks: 0,
        firmware_file_type: 0,
        allow_downgrade: 0,
        protocol_mqtt: 0,
        protocol_http: 0,
        prefer_http: 0,
        thread_priority: 0,
        api_timeout_ms: 0,
        queue_depth: 0,
        thing_name: core::ptr::null(),
        thing_name_len: 0,
        signing_key_hex: core::ptr::null(),
        signing_key_hex_len: 0,
    };
    // SAFETY: `raw` is a valid, writable `ShimConfig`; the shim only writes it.
    unsafe { ffi::ota_shim_config_get(&mut raw) };
    Settings {
        config: config_from(&raw),
        // SAFETY: the shim points the strings at Kconfig string literals,
        // which are static and read-only.
        thing_name: unsafe { static_str(raw.thing_name, raw.thing_name_len) },
        // SAFETY: as above.
        signing_key_hex: unsafe { static_str(raw.signing_key_hex, raw.signing_key_hex_len) },
        thread_priority: raw.thread_priority,
        api_timeout_ms: raw.api_timeout_ms,
        queue_depth: raw.queue_depth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::nrf52840_defaults;

    #[test]
    fn defaults_map_to_a_valid_config() {
        let c = config_from(&nrf52840_defaults());
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.block_size, 4096);
        assert_eq!(c.self_test_timeout_ms, 300_000);
        assert!(c.protocols.mqtt && !c.protocols.http);
    }

    #[test]
    fn resume_off_maps_to_zero() {
        let mut raw = nrf52840_defaults();
        raw.resume_every_blocks = 0;
        assert_eq!(config_from(&raw).resume_every_blocks, 0);
    }

    #[test]
    fn booleans_are_any_nonzero_byte() {
        let mut raw = nrf52840_defaults();
        raw.allow_downgrade = 1;
        raw.protocol_http = 1;
        raw.prefer_http = 1;
        let c = config_from(&raw);
        assert!(c.allow_downgrade && c.protocols.http && c.protocols.prefer_http);
    }

    #[test]
    fn read_goes_through_the_shim() {
        let s = read();
        assert_eq!(s.thing_name, "sim-thing");
        assert_eq!(s.thread_priority, 7);
        assert_eq!(s.config, config_from(&nrf52840_defaults()));
    }
}
