//! # ota-agent
//!
//! An AWS IoT OTA agent for microcontrollers: wire-compatible with AWS IoT Jobs,
//! MQTT-based file delivery (CBOR streams) and HTTP (pre-signed URLs), with the
//! application API of the FreeRTOS OTA agent.
//!
//! The crate is `no_std`, allocates nothing and performs no I/O. It is driven
//! from outside ("sans-IO"):
//!
//! - inputs: [`Agent::handle_message`] for MQTT messages, [`Agent::handle_http_data`]
//!   and [`Agent::handle_http_done`] for HTTP responses, [`Agent::handle_delivered`]
//!   for QoS 1 acknowledgements, [`Agent::handle_timeout`], and the API calls;
//!   the current time is always passed in;
//! - outputs: [`Agent::poll_transmit`] (subscribe, unsubscribe, publish, HTTP
//!   range request), [`Agent::poll_timeout`] (the next deadline) and
//!   [`Agent::poll_event`] (application events);
//! - synchronous side effects go through the [`Platform`] traits: the image
//!   slot, the bootloader, the progress store and the signature verifier.
//!
//! After every input, a port drains `poll_transmit` and `poll_event` until they
//! return `None`, then sleeps until `poll_timeout` or the next input.
#![no_std]
#![deny(missing_docs)]
#![deny(unsafe_code)]

#[cfg(any(test, feature = "testing"))]
extern crate std;

mod agent;
mod ascii;
pub mod base64;
pub mod cbor;
mod config;
mod digest;
mod download;
mod event;
pub mod job;
pub mod json;
pub mod mcuboot;
mod platform;
mod reason;
mod resume;
mod sha256;
mod status;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod time;
mod topics;
mod transmit;
#[cfg(feature = "p256-verifier")]
mod verifier;
mod window;
mod writer;

pub use agent::{Agent, ApiError, HttpOutcome};
pub use config::{Config, ConfigError, Protocols, MAX_REQUEST_BYTES};
pub use event::{DropReason, Event, ImageState, ImageVerdict, Processed, State, Statistics};
pub use platform::{
    BootControl, BootState, CustomJob, CustomJobReply, CustomJobStatus, ImageSlot, NoProgressStore,
    Platform, PortError, ProgressStore, SignatureError, SignatureVerifier, Version,
};
pub use reason::{FailReason, ImageError, JobError, WireReason};
pub use resume::{read_resume_record, ResumePoint, Stage as ResumeStage, RESUME_RECORD_MAX};
pub use time::Instant;
pub use transmit::{DeliveryToken, QoS, Transmit, MAX_TRANSMIT_LEN};
#[cfg(feature = "p256-verifier")]
pub use verifier::P256Verifier;
pub use window::WINDOW_BLOCKS;

/// The largest write unit an [`ImageSlot`] may report.
pub const MAX_WRITE_ALIGN: u32 = 64;

/// The longest job id the agent keeps (the C agent's limit; AWS allows 64).
pub const MAX_JOB_ID_LEN: usize = 72;

/// The longest stream name the agent keeps (AWS OTA streams are 44 characters).
pub const MAX_STREAM_NAME_LEN: usize = 64;

/// The longest thing name (AWS IoT's limit, and the C agent's).
pub const MAX_THING_NAME_LEN: usize = 128;

/// The longest signature the agent keeps (DER ECDSA P-256 is at most 72 bytes).
pub const MAX_SIGNATURE_LEN: usize = 72;
