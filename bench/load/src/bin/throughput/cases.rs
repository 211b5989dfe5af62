//! The cases of the table: a data plane and how much one request asks for.

use std::fmt;

use ota_agent::{Config, Protocols};
use otactl::jobdoc::Protocol;

/// The block size of every case.
pub const BLOCK_SIZE: u32 = 4096;

/// How the image travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// MQTT streams, this many 4 KiB blocks per GetStream request.
    Mqtt {
        /// Blocks per request.
        blocks_per_request: u32,
    },
    /// HTTP range requests of this many bytes.
    Http {
        /// Bytes per range.
        range: u32,
    },
}

impl Case {
    /// Every case, in table order.
    pub const ALL: [Case; 5] = [
        Case::Mqtt {
            blocks_per_request: 1,
        },
        Case::Mqtt {
            blocks_per_request: 4,
        },
        Case::Mqtt {
            blocks_per_request: 16,
        },
        Case::Http { range: 4096 },
        Case::Http { range: 64 * 1024 },
    ];

    /// The job document's protocol.
    pub fn protocol(self) -> Protocol {
        match self {
            Case::Mqtt { .. } => Protocol::Mqtt,
            Case::Http { .. } => Protocol::Http,
        }
    }

    /// The agent's configuration: the defaults with 4 KiB blocks and this
    /// case's request size.
    pub fn agent_config(self) -> Config {
        let defaults = Config::default();
        let (blocks_per_request, http_range_size) = match self {
            Case::Mqtt { blocks_per_request } => (blocks_per_request, defaults.http_range_size),
            Case::Http { range } => (defaults.blocks_per_request, range),
        };
        Config {
            block_size: BLOCK_SIZE,
            blocks_per_request,
            http_range_size,
            protocols: Protocols {
                mqtt: true,
                http: true,
                prefer_http: false,
            },
            ..defaults
        }
    }

    /// A short name for thing and job ids (`mqtt1`, `http64k`).
    pub fn tag(self) -> String {
        match self {
            Case::Mqtt { blocks_per_request } => format!("mqtt{blocks_per_request}"),
            Case::Http { range } => format!("http{}k", range / 1024),
        }
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Case::Mqtt { blocks_per_request } => {
                write!(f, "MQTT, {blocks_per_request} x 4 KiB per request")
            }
            Case::Http { range } => write!(f, "HTTP, {} KiB ranges", range / 1024),
        }
    }
}
