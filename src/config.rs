//! Per-product configuration (the C agent's `ota_config.h`, at run time).

use crate::time::{Deadline, Instant};
use crate::window::WINDOW_BLOCKS;

/// The largest data the service sends for one GetStream request.
pub const MAX_REQUEST_BYTES: u32 = 128 * 1024;

/// Which data planes the product supports, and which wins when a job offers both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocols {
    /// Accept jobs over MQTT streams.
    pub mqtt: bool,
    /// Accept jobs over HTTP (pre-signed URL). Needs an agent built with a URL buffer.
    pub http: bool,
    /// When a job lists both: `true` prefers HTTP, `false` prefers MQTT.
    pub prefer_http: bool,
}

/// Agent configuration. [`Config::default`] matches the C agent's defaults
/// where they are sound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Block size in bytes (`l` in GetStream): a power of two, 256 to 131072.
    pub block_size: u32,
    /// Blocks asked for per GetStream request (`n`); `n × block_size` ≤ 128 KiB
    /// and `n` ≤ the window (256 blocks).
    pub blocks_per_request: u32,
    /// Bytes per HTTP range request: a multiple of `block_size`.
    pub http_range_size: u32,
    /// How long to wait for an answer (job document, blocks, HTTP data, PUBACK)
    /// before asking again.
    pub request_timeout_ms: u32,
    /// Requests in a row without progress before the job is given up
    /// (`FAILED "aborted: 0x0000000e"`); also the budget for re-sending an
    /// unacknowledged QoS 1 status.
    pub max_retries: u32,
    /// How long the application has to accept a new image after the reboot
    /// before the agent rolls it back.
    pub self_test_timeout_ms: u32,
    /// Publish download progress every this many blocks (and after the first).
    pub status_every_blocks: u32,
    /// Save a resume record at most every this many blocks; 0 disables resume.
    pub resume_every_blocks: u32,
    /// Accept an image whose version is not newer than the running one.
    pub allow_downgrade: bool,
    /// The `fileType` that means "firmware for this MCU" (AWS default 0). Files
    /// of other types are downloaded and verified but never activated.
    pub firmware_file_type: u32,
    /// Data planes.
    pub protocols: Protocols,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            block_size: 4096,
            blocks_per_request: 4,
            http_range_size: 64 * 1024,
            request_timeout_ms: 10_000,
            max_retries: 32,
            self_test_timeout_ms: 60_000,
            status_every_blocks: 64,
            resume_every_blocks: 16,
            allow_downgrade: false,
            firmware_file_type: 0,
            protocols: Protocols {
                mqtt: true,
                http: true,
                prefer_http: false,
            },
        }
    }
}

/// A configuration value out of range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `block_size` is not a power of two in 256..=131072.
    BlockSize,
    /// `blocks_per_request` is 0, above the window, or asks for more than 128 KiB.
    BlocksPerRequest,
    /// `http_range_size` is 0 or not a multiple of `block_size`.
    HttpRangeSize,
    /// A timeout or the retry budget is 0.
    Timing,
    /// `status_every_blocks` is 0.
    StatusFrequency,
    /// Neither MQTT nor HTTP is enabled.
    NoProtocol,
    /// The thing name is empty, longer than 128 bytes, or has a byte that is
    /// not printable ASCII or is one of `/ + #` (AWS allows `[A-Za-z0-9:_-]`).
    ThingName,
    /// The slot's write unit is above [`MAX_WRITE_ALIGN`](crate::MAX_WRITE_ALIGN)
    /// or not a power of two, or its erase unit is not a power of two.
    SlotGeometry,
}

impl Config {
    /// When a request sent at `now` is given up on.
    // Out of line: its 64-bit saturating add repeats at every caller otherwise.
    #[inline(never)]
    pub(crate) fn request_deadline(&self, now: Instant) -> Deadline {
        Deadline::at(now.plus_millis(self.request_timeout_ms))
    }

    /// When a self test started at `now` fails for lack of a verdict.
    #[inline(never)]
    pub(crate) fn self_test_deadline(&self, now: Instant) -> Deadline {
        Deadline::at(now.plus_millis(self.self_test_timeout_ms))
    }

    /// Check every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bs = self.block_size;
        if !bs.is_power_of_two() || !(256..=MAX_REQUEST_BYTES).contains(&bs) {
            return Err(ConfigError::BlockSize);
        }
        let n = self.blocks_per_request;
        if n == 0 || n as usize > WINDOW_BLOCKS || n.saturating_mul(bs) > MAX_REQUEST_BYTES {
            return Err(ConfigError::BlocksPerRequest);
        }
        if self.http_range_size == 0 || !self.http_range_size.is_multiple_of(bs) {
            return Err(ConfigError::HttpRangeSize);
        }
        if self.request_timeout_ms == 0 || self.self_test_timeout_ms == 0 || self.max_retries == 0 {
            return Err(ConfigError::Timing);
        }
        if self.status_every_blocks == 0 {
            return Err(ConfigError::StatusFrequency);
        }
        if !self.protocols.mqtt && !self.protocols.http {
            return Err(ConfigError::NoProtocol);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn rejects_bad_values() {
        let bad = |f: fn(&mut Config)| {
            let mut c = Config::default();
            f(&mut c);
            c.validate()
        };
        assert_eq!(bad(|c| c.block_size = 1000), Err(ConfigError::BlockSize));
        assert_eq!(bad(|c| c.block_size = 128), Err(ConfigError::BlockSize));
        assert_eq!(bad(|c| c.block_size = 1 << 18), Err(ConfigError::BlockSize));
        assert_eq!(
            bad(|c| c.blocks_per_request = 0),
            Err(ConfigError::BlocksPerRequest)
        );
        assert_eq!(
            bad(|c| c.blocks_per_request = 33),
            Err(ConfigError::BlocksPerRequest)
        );
        assert_eq!(
            bad(|c| c.http_range_size = 1000),
            Err(ConfigError::HttpRangeSize)
        );
        assert_eq!(bad(|c| c.max_retries = 0), Err(ConfigError::Timing));
        assert_eq!(
            bad(|c| c.status_every_blocks = 0),
            Err(ConfigError::StatusFrequency)
        );
        assert_eq!(
            bad(|c| {
                c.protocols.mqtt = false;
                c.protocols.http = false
            }),
            Err(ConfigError::NoProtocol)
        );
    }
}
