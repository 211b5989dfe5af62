//! The application API: the FreeRTOS OTA agent's calls, plus the sans-IO
//! inputs a port feeds in.

use super::{After, Agent, Job, Pending, Phase, EVENT_QUEUE};
use crate::config::{Config, ConfigError};
use crate::event::{Event, ImageState, ImageVerdict, Processed, State, Statistics};
use crate::platform::{BootControl, BootState, ImageSlot, Platform, PortError};
use crate::reason::FailReason;
use crate::status::Status;
use crate::time::{Deadline, Instant};
use crate::topics::{self, Incoming};
use crate::transmit::DeliveryToken;
use crate::{MAX_THING_NAME_LEN, MAX_WRITE_ALIGN};
use heapless::{Deque, String};

/// An API call that is not possible now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// The agent is not started (or was shut down).
    NotStarted,
    /// The call makes no sense in the current state.
    InvalidState,
    /// There is no active job to act on.
    NoActiveJob,
    /// The platform refused (e.g. the bootloader did not accept the upgrade
    /// request); the job was reported FAILED.
    Platform(PortError),
}

/// How an HTTP range request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpOutcome {
    /// The response ended normally (the body may still have been short).
    Complete,
    /// The request failed: `status` is the HTTP status, or 0 for a transport
    /// error. 403 means the pre-signed URL expired: the agent refreshes it by
    /// asking for the job document again.
    Failed {
        /// HTTP status code, 0 for a transport error.
        status: u16,
    },
}

fn valid_thing_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_THING_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'/' | b'+' | b'#'))
}

impl<P: Platform, const URL_CAP: usize> Agent<P, URL_CAP> {
    /// `OTA_Init`: an agent for `thing_name`, not started yet. Checks the
    /// configuration, the thing name and the slot geometry.
    pub fn new(config: Config, thing_name: &str, mut platform: P) -> Result<Self, ConfigError> {
        config.validate()?;
        if !valid_thing_name(thing_name) {
            return Err(ConfigError::ThingName);
        }
        let slot = platform.slot();
        let (align, erase) = (slot.write_align(), slot.erase_size());
        let geometry_ok = align.is_power_of_two()
            && align <= MAX_WRITE_ALIGN
            && erase.is_power_of_two()
            && erase >= align
            && slot.capacity().is_multiple_of(erase);
        if !geometry_ok {
            return Err(ConfigError::SlotGeometry);
        }
        let mut thing = String::new();
        thing
            .push_str(thing_name)
            .map_err(|_| ConfigError::ThingName)?;
        Ok(Agent {
            platform,
            config,
            thing,
            phase: Phase::Init,
            job: Job::default(),
            url: [0; URL_CAP],
            url_len: 0,
            pending: Pending::default(),
            status: None,
            awaiting: None,
            next_token: 0,
            request_deadline: Deadline::NONE,
            retries: 0,
            self_test_deadline: Deadline::NONE,
            suspended: false,
            image_state: ImageState::Unknown,
            stats: Statistics::default(),
            events: Deque::<Event, EVENT_QUEUE>::new(),
            requests_sent: 0,
            resume_note: None,
            job_finished: false,
        })
    }

    /// Start (or restart after [`shutdown`](Self::shutdown)): subscribe to the
    /// job topics and ask for the next job. Call it at boot, connected or not
    /// (and [`suspend`](Self::suspend) it until connected): if the running
    /// image is on trial, the self-test window opens now and closes
    /// `self_test_timeout_ms` later, whatever the network does. If a commit or a rollback was undone
    /// by a power loss (the bootloader reverted an image that had been
    /// accepted and reported SUCCEEDED, or did not revert one that had been
    /// rejected), the agent applies it again: it requests the swap (or
    /// rejects the image) and reboots, or confirms the image if it runs.
    pub fn start(&mut self, now: Instant) -> Result<(), ApiError> {
        if !matches!(self.phase, Phase::Init | Phase::Stopped) {
            return Err(ApiError::InvalidState);
        }
        self.suspended = false;
        self.pending = Pending::default();
        if self.finish_interrupted_boot_change() {
            return Ok(());
        }
        if self.platform.boot().state() == BootState::PendingCommit {
            log::info!("ota: running image is on trial; self-test window open");
            self.self_test_deadline = self.config.self_test_deadline(now);
        }
        self.pending
            .set(Pending::SUB_NOTIFY | Pending::SUB_ACCEPTED);
        self.go_idle(now);
        Ok(())
    }

    /// `OTA_Shutdown`: stop, optionally unsubscribing from every agent topic
    /// (drain [`poll_transmit`](Self::poll_transmit) to send the
    /// unsubscribes). The resume record is kept, so a download in progress
    /// continues after the next [`start`](Self::start).
    pub fn shutdown(&mut self, unsubscribe: bool) {
        let was_transfer = matches!(self.phase, Phase::Transfer(_));
        self.phase = Phase::Stopped;
        self.pending = Pending::default();
        self.status = None;
        self.awaiting = None;
        self.request_deadline = Deadline::NONE;
        self.self_test_deadline = Deadline::NONE;
        self.suspended = false;
        if unsubscribe {
            self.pending
                .set(Pending::UNSUB_NOTIFY | Pending::UNSUB_ACCEPTED);
            if was_transfer && !self.job.stream.is_empty() {
                self.pending.set(Pending::UNSUB_DATA);
            }
        }
    }

    /// `OTA_GetState`.
    pub fn state(&self) -> State {
        self.public_state()
    }

    fn started(&self) -> Result<(), ApiError> {
        match self.phase {
            Phase::Init | Phase::Stopped => Err(ApiError::NotStarted),
            _ => Ok(()),
        }
    }

    /// `OTA_CheckForUpdate`: ask for the next job now. Unlike the C agent this
    /// works while idle; during a download it checks that the job is still
    /// current (and refreshes an HTTP URL).
    pub fn check_for_update(&mut self, now: Instant) -> Result<(), ApiError> {
        self.started()?;
        match self.phase {
            Phase::Idle | Phase::Transfer(_) => {
                self.request_job(now);
                Ok(())
            }
            _ => Err(ApiError::InvalidState),
        }
    }

    /// `OTA_Suspend`: send nothing and ignore incoming messages until
    /// [`resume`](Self::resume). Progress is kept. The self-test window keeps
    /// running: an image that cannot reach the service is rolled back.
    pub fn suspend(&mut self) -> Result<(), ApiError> {
        self.started()?;
        self.suspended = true;
        Ok(())
    }

    /// `OTA_Resume`, also the call to make after an MQTT reconnect:
    /// re-subscribe, re-send what may have been lost, check that the job is
    /// still pending, and carry on where the agent was.
    pub fn resume(&mut self, now: Instant) -> Result<(), ApiError> {
        self.started()?;
        self.suspended = false;
        self.pending
            .set(Pending::SUB_NOTIFY | Pending::SUB_ACCEPTED);
        if let Phase::Reporting(_) = self.phase {
            self.pending.set(Pending::STATUS);
            self.request_deadline = self.config.request_deadline(now);
            return Ok(());
        }
        if let Phase::Transfer(_) = self.phase {
            self.resume_transfer(now);
        }
        // Idle, downloading, in the self test or before activation: ask for
        // the job again, as a cancellation may have been missed while
        // disconnected (`request_job` waits for the answer only when idle).
        self.request_job(now);
        Ok(())
    }

    /// `OTA_ActivateNewImage`: once [`Event::Activate`] was delivered, ask the
    /// bootloader for a test swap and reboot. On a device this does not
    /// return when it succeeds.
    pub fn activate_new_image(&mut self, now: Instant) -> Result<(), ApiError> {
        self.started()?;
        if !matches!(self.phase, Phase::AwaitingActivation) {
            return Err(ApiError::InvalidState);
        }
        // Forget the "verified" record first: if the new image fails to boot
        // and MCUboot reverts, the old firmware must not activate it again.
        self.clear_record();
        match self.platform.boot().request_test_upgrade() {
            Ok(()) => {
                log::info!("ota: activating the new image; rebooting");
                self.stop_for_reboot();
                self.platform.boot().reboot();
                Ok(())
            }
            Err(e) => {
                log::error!("ota: bootloader refused the upgrade request: {:?}", e);
                self.invalidate_slot();
                self.fail(now, FailReason::Activate(e));
                Err(ApiError::Platform(e))
            }
        }
    }

    /// `OTA_SetImageState`.
    ///
    /// - `Accepted` during the self test: report SUCCEEDED, and confirm the
    ///   image once the report is acknowledged.
    /// - `Rejected` during the self test: report FAILED, then roll back. On a
    ///   trial image outside a self test: roll back at once.
    /// - `Aborted` during a download or before activation: report FAILED
    ///   `aborted`, leave the slot unbootable. During the self test: report
    ///   FAILED `aborted`, then roll back, as the C agent's PAL does.
    pub fn set_image_state(&mut self, now: Instant, verdict: ImageVerdict) -> Result<(), ApiError> {
        self.started()?;
        match (verdict, &self.phase) {
            (ImageVerdict::Accepted, Phase::SelfTest) => {
                self.image_state = ImageState::Accepted;
                let running = self.platform.boot().running_version().packed();
                self.save_record(crate::resume::Stage::Committing, 0, running);
                let updated_by = self.job.updated_by.unwrap_or(0);
                self.report(
                    now,
                    Status::Succeeded {
                        running,
                        updated_by,
                    },
                    After::Confirm,
                );
                Ok(())
            }
            // On trial: report FAILED, then roll back. An abort, as the C
            // agent's PAL treats it, is a rejection with the abort's reason.
            (ImageVerdict::Rejected | ImageVerdict::Aborted, Phase::SelfTest) => {
                let (state, reason) = match verdict {
                    ImageVerdict::Aborted => {
                        self.push_event(Event::Fail(FailReason::UserAbort));
                        (ImageState::Aborted, FailReason::UserAbort)
                    }
                    _ => (ImageState::Rejected, FailReason::SelfTestRejected),
                };
                self.image_state = state;
                self.report_failure(now, reason, After::RollBack);
                Ok(())
            }
            (ImageVerdict::Rejected, _)
                if self.platform.boot().state() == BootState::PendingCommit =>
            {
                self.image_state = ImageState::Rejected;
                self.roll_back();
                Ok(())
            }
            (ImageVerdict::Aborted, Phase::Transfer(_)) => {
                self.fail_transfer(now, FailReason::UserAbort);
                Ok(())
            }
            // Before activation: also while the `self_test: ready` status is
            // in flight (the abort supersedes it; its PUBACK no longer
            // counts).
            (
                ImageVerdict::Aborted,
                Phase::AwaitingActivation | Phase::Reporting(After::Activate),
            ) => {
                self.image_state = ImageState::Aborted;
                self.invalidate_slot();
                self.fail(now, FailReason::UserAbort);
                Ok(())
            }
            (ImageVerdict::Aborted, _) => Err(ApiError::NoActiveJob),
            _ => Err(ApiError::InvalidState),
        }
    }

    /// `OTA_GetImageState`: the agent's view.
    pub fn image_state(&self) -> ImageState {
        self.image_state
    }

    /// `OTA_GetStatistics`: counters of the current (or last) transfer.
    pub fn statistics(&self) -> Statistics {
        self.stats
    }

    /// The active job's id.
    pub fn job_id(&self) -> Option<&str> {
        (!self.job.id.is_empty()).then_some(self.job.id.as_str())
    }

    /// Download progress in blocks: (received, total), during a transfer.
    pub fn progress(&self) -> Option<(u32, u32)> {
        match &self.phase {
            Phase::Transfer(d) => Some((d.received_blocks(Self::plane(d)), d.total_blocks())),
            _ => None,
        }
    }

    /// The port dropped a data message before handing it over (its queue was
    /// full). Counted as received and dropped.
    pub fn record_dropped(&mut self) {
        self.stats.received += 1;
        self.stats.dropped += 1;
    }

    /// An MQTT message, on any topic: the agent takes job documents on
    /// `notify-next` and `$next/get/accepted` and blocks on the current
    /// stream's data topic, and ignores the rest. The payload is not kept.
    /// The topic may be given as text or as the bytes the MQTT client
    /// received (no UTF-8 check is needed).
    pub fn handle_message(
        &mut self,
        now: Instant,
        topic: impl AsRef<[u8]>,
        payload: &[u8],
    ) -> Processed {
        self.on_message(now, topic.as_ref(), payload)
    }

    fn on_message(&mut self, now: Instant, topic: &[u8], payload: &[u8]) -> Processed {
        let active = !self.suspended && !matches!(self.phase, Phase::Init | Phase::Stopped);
        match topics::classify(&self.thing, topic) {
            Incoming::Other => Processed::NotForAgent,
            Incoming::NextAccepted if active && !self.is_latest_reply(payload) => {
                log::debug!("ota: dropped a reply to an earlier job request");
                Processed::JobDocumentIgnored
            }
            Incoming::NotifyNext | Incoming::NextAccepted if active => {
                self.on_job_document(now, payload)
            }
            Incoming::NotifyNext | Incoming::NextAccepted => Processed::JobDocumentIgnored,
            Incoming::StreamData(stream) => {
                self.stats.received += 1;
                let ours = active && stream == self.job.stream.as_bytes();
                self.on_block(now, ours, payload)
            }
        }
    }

    /// Part of an HTTP response body: `data` starts at byte `offset` of the
    /// file. Pieces may have any length; overlapping data is skipped.
    pub fn handle_http_data(&mut self, now: Instant, offset: u32, data: &[u8]) -> Processed {
        self.stats.received += 1;
        let active = !self.suspended;
        self.on_http_data(now, active, offset, data)
    }

    /// The end of an HTTP range request.
    pub fn handle_http_done(&mut self, now: Instant, outcome: HttpOutcome) {
        if !self.suspended {
            self.on_http_done(now, outcome);
        }
    }

    /// The broker acknowledged a QoS 1 publish.
    pub fn handle_delivered(&mut self, now: Instant, token: DeliveryToken) {
        if self.awaiting == Some(token) {
            self.finish_report(now, true);
        }
    }

    /// Time passed: act on every deadline at or before `now`. While
    /// suspended only the self-test window runs.
    pub fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Init | Phase::Stopped) {
            return;
        }
        if self.self_test_deadline.passed(now) {
            self.self_test_deadline = Deadline::NONE;
            self.self_test_expired(now);
        }
        if !self.suspended && self.request_deadline.passed(now) {
            self.request_deadline = Deadline::NONE;
            self.request_expired(now);
        }
    }

    fn request_expired(&mut self, now: Instant) {
        match &self.phase {
            Phase::Idle => {
                log::info!("ota: no answer to the job request; asking again");
                self.request_job(now);
            }
            Phase::Transfer(_) => self.request_data(now),
            Phase::Reporting(_) => {
                self.retries += 1;
                if self.retries > self.config.max_retries {
                    self.finish_report(now, false);
                } else {
                    self.pending.set(Pending::STATUS);
                    self.request_deadline = self.config.request_deadline(now);
                }
            }
            _ => {}
        }
    }

    /// The platform.
    pub fn platform(&mut self) -> &mut P {
        &mut self.platform
    }

    /// The platform, read-only.
    pub fn platform_ref(&self) -> &P {
        &self.platform
    }

    /// Give back the platform (e.g. to simulate a reboot on a host).
    pub fn into_platform(self) -> P {
        self.platform
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::valid_thing_name;

    #[test]
    fn thing_names() {
        assert!(valid_thing_name("dev-1_a:b"));
        assert!(!valid_thing_name(""));
        assert!(!valid_thing_name("a/b"));
        assert!(!valid_thing_name("a+b"));
        assert!(!valid_thing_name("a#"));
        assert!(!valid_thing_name("a b"));
        assert!(!valid_thing_name("a\0"));
        assert!(!valid_thing_name("thé"));
        assert!(valid_thing_name(&"x".repeat(128)));
        assert!(!valid_thing_name(&"x".repeat(129)));
    }
}
