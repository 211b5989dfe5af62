//! The agent: API, inputs and outputs. (Skeleton: being implemented.)

use crate::config::{Config, ConfigError};
use crate::event::{Event, ImageState, ImageVerdict, Processed, State, Statistics};
use crate::platform::Platform;
use crate::time::Instant;
use crate::transmit::{DeliveryToken, Transmit, TransmitBuffer};

/// An API call that is not possible now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// The agent is not started (or was shut down).
    NotStarted,
    /// The call makes no sense in the current state.
    InvalidState,
    /// There is no active job to act on.
    NoActiveJob,
}

/// How an HTTP range request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpOutcome {
    /// The response ended normally (the body may still have been short).
    Complete,
    /// The request failed: `status` is the HTTP status, or 0 for a transport
    /// error. 403 means the pre-signed URL expired: the agent refreshes it.
    Failed {
        /// HTTP status code, 0 for a transport error.
        status: u16,
    },
}

/// The OTA agent. `URL_CAP` is the longest pre-signed URL it can keep for HTTP
/// downloads (0 disables HTTP; AWS URLs are usually 1–1.5 KB).
pub struct Agent<P: Platform, const URL_CAP: usize> {
    platform: P,
    config: Config,
}

impl<P: Platform, const URL_CAP: usize> Agent<P, URL_CAP> {
    /// `OTA_Init`: an agent for `thing_name`, not started yet.
    pub fn new(config: Config, thing_name: &str, platform: P) -> Result<Self, ConfigError> {
        let _ = thing_name;
        config.validate()?;
        Ok(Agent { platform, config })
    }
    /// Start: subscribe to the job topics and ask for the next job.
    pub fn start(&mut self, now: Instant) -> Result<(), ApiError> { let _ = now; unimplemented!() }
    /// `OTA_Shutdown`: stop; optionally unsubscribe from every agent topic.
    pub fn shutdown(&mut self, unsubscribe: bool) { let _ = unsubscribe; unimplemented!() }
    /// `OTA_GetState`.
    pub fn state(&self) -> State { unimplemented!() }
    /// `OTA_CheckForUpdate`: ask for the next job now (works while idle).
    pub fn check_for_update(&mut self, now: Instant) -> Result<(), ApiError> { let _ = now; unimplemented!() }
    /// `OTA_Suspend`.
    pub fn suspend(&mut self) -> Result<(), ApiError> { unimplemented!() }
    /// `OTA_Resume`.
    pub fn resume(&mut self, now: Instant) -> Result<(), ApiError> { let _ = now; unimplemented!() }
    /// `OTA_ActivateNewImage`: request the test swap and reboot.
    pub fn activate_new_image(&mut self, now: Instant) -> Result<(), ApiError> { let _ = now; unimplemented!() }
    /// `OTA_SetImageState`.
    pub fn set_image_state(&mut self, now: Instant, verdict: ImageVerdict) -> Result<(), ApiError> { let _ = (now, verdict); unimplemented!() }
    /// `OTA_GetImageState`.
    pub fn image_state(&self) -> ImageState { unimplemented!() }
    /// `OTA_GetStatistics`.
    pub fn statistics(&self) -> Statistics { unimplemented!() }
    /// The active job's id.
    pub fn job_id(&self) -> Option<&str> { unimplemented!() }
    /// Download progress in blocks: (received, total).
    pub fn progress(&self) -> Option<(u32, u32)> { unimplemented!() }
    /// An MQTT message (any topic; others are ignored).
    pub fn handle_message(&mut self, now: Instant, topic: &str, payload: &[u8]) -> Processed { let _ = (now, topic, payload); unimplemented!() }
    /// Part of an HTTP response body, starting at byte `offset` of the file.
    pub fn handle_http_data(&mut self, now: Instant, offset: u32, data: &[u8]) -> Processed { let _ = (now, offset, data); unimplemented!() }
    /// The end of an HTTP request.
    pub fn handle_http_done(&mut self, now: Instant, outcome: HttpOutcome) { let _ = (now, outcome); unimplemented!() }
    /// The broker acknowledged a QoS 1 publish.
    pub fn handle_delivered(&mut self, now: Instant, token: DeliveryToken) { let _ = (now, token); unimplemented!() }
    /// Time passed: act on any deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) { let _ = now; unimplemented!() }
    /// The port dropped a data message before handing it over (queue full).
    pub fn record_dropped(&mut self) { unimplemented!() }
    /// The next thing to send, rendered into `buf`.
    pub fn poll_transmit<'a>(&'a mut self, buf: &'a mut TransmitBuffer) -> Option<Transmit<'a>> { let _ = buf; unimplemented!() }
    /// The next deadline for `handle_timeout`.
    pub fn poll_timeout(&self) -> Option<Instant> { unimplemented!() }
    /// The next application event.
    pub fn poll_event(&mut self) -> Option<Event> { unimplemented!() }
    /// The platform.
    pub fn platform(&mut self) -> &mut P { &mut self.platform }
    /// Give back the platform (e.g. to simulate a reboot).
    pub fn into_platform(self) -> P { self.platform }
}
