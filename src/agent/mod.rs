//! The agent: the application API (the FreeRTOS OTA agent's, in Rust), the
//! sans-IO inputs and outputs, and the state machine behind them.
//!
//! The implementation is split by concern: [`api`] (calls from the
//! application), [`output`] (what goes out: transmits, deadlines, events),
//! [`jobs`] (job documents), [`transfer`] (file data) and [`self_test`]
//! (the boot after an update).

mod api;
mod jobs;
mod output;
mod self_test;
mod transfer;

use crate::config::Config;
use crate::download::Download;
use crate::event::{Event, ImageState, State, Statistics};
use crate::job::Signature;
use crate::platform::{ImageSlot, Platform, PortError, ProgressStore};
use crate::status::Status;
use crate::time::{Deadline, Instant};
use crate::{MAX_JOB_ID_LEN, MAX_STREAM_NAME_LEN, MAX_THING_NAME_LEN};
use heapless::{Deque, String};

pub use api::{ApiError, HttpOutcome};

/// What to do once the status in flight is acknowledged (or given up on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    /// M3 delivered: tell the application to activate.
    Activate,
    /// A non-firmware file was reported SUCCEEDED.
    UpdateComplete,
    /// A terminal status for a job: go back to waiting for the next one.
    NextJob,
    /// SUCCEEDED after the self test: confirm the image.
    Confirm,
    /// FAILED after (or instead of) the self test: roll back.
    RollBack,
}

/// Where the agent is.
// The download lives inline: this crate has no heap to box it on, and the
// agent holds exactly one phase.
#[allow(clippy::large_enum_variant)]
enum Phase {
    /// Created, not started.
    Init,
    /// Shut down, or rebooting.
    Stopped,
    /// Waiting for a job document.
    Idle,
    /// Downloading.
    Transfer(Download),
    /// Waiting for the PUBACK of the status in flight.
    Reporting(After),
    /// The image is ready; waiting for the application to activate it.
    AwaitingActivation,
    /// The new image is on trial; waiting for the application's verdict.
    SelfTest,
}

/// The transmits waiting to be rendered, as flags (the rendering order is
/// fixed in [`output`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Pending(u16);

impl Pending {
    const SUB_NOTIFY: u16 = 1 << 0;
    const SUB_ACCEPTED: u16 = 1 << 1;
    const UNSUB_DATA: u16 = 1 << 2;
    const STATUS: u16 = 1 << 3;
    const JOB_REQUEST: u16 = 1 << 4;
    const SUB_DATA: u16 = 1 << 5;
    const DATA_REQUEST: u16 = 1 << 6;
    const UNSUB_NOTIFY: u16 = 1 << 7;
    const UNSUB_ACCEPTED: u16 = 1 << 8;

    fn set(&mut self, f: u16) {
        self.0 |= f;
    }
    fn clear(&mut self, f: u16) {
        self.0 &= !f;
    }
    fn has(self, f: u16) -> bool {
        self.0 & f != 0
    }
    fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// What the agent keeps of the active job (fresh for every job).
#[derive(Clone, Debug, Default)]
struct Job {
    id: String<MAX_JOB_ID_LEN>,
    stream: String<MAX_STREAM_NAME_LEN>,
    file_id: u8,
    file_size: u32,
    file_type: u32,
    signature: Signature,
    updated_by: Option<u32>,
    /// The version the device ran before this update, when known (from a
    /// self-test document written by that version).
    previous_version: Option<u32>,
    fingerprint: [u8; 8],
}

/// Events kept for the application between polls.
const EVENT_QUEUE: usize = 4;

/// The OTA agent. `URL_CAP` is the longest pre-signed URL it can keep for HTTP
/// downloads (0 disables HTTP; AWS URLs are usually 1–1.5 KB).
// Fields in this order (`repr(C)`): the small ones the handlers touch most
// first, the large buffers last. On Thumb a load or store is 2 bytes instead
// of 4 only near the start of a struct (bytes below 32, halfwords below 64,
// words below 128); this order measured 42 bytes smaller (MQTT only) and 198
// smaller (MQTT + HTTP) than the compiler's order, with the same size (the
// two 8-aligned deadlines sit at an 8-aligned offset, so nothing is padded).
#[repr(C)]
pub struct Agent<P: Platform, const URL_CAP: usize> {
    pending: Pending,
    next_token: u16,
    suspended: bool,
    /// The service acknowledged a terminal status for `job`: documents that
    /// still show it are stale copies.
    job_finished: bool,
    image_state: ImageState,
    url_len: usize,
    retries: u32,
    requests_sent: u32,
    awaiting: Option<crate::DeliveryToken>,
    resume_note: Option<&'static str>,
    status: Option<Status>,
    stats: Statistics,
    config: Config,
    events: Deque<Event, EVENT_QUEUE>,
    request_deadline: Deadline,
    self_test_deadline: Deadline,
    phase: Phase,
    job: Job,
    thing: String<MAX_THING_NAME_LEN>,
    platform: P,
    /// The pre-signed URL (HTTP jobs), decoded; `url_len` bytes of it.
    url: [u8; URL_CAP],
}

impl<P: Platform, const URL_CAP: usize> Agent<P, URL_CAP> {
    fn push_event(&mut self, e: Event) {
        if self.events.is_full() {
            log::warn!("ota: event queue full, dropping the oldest event");
            self.events.pop_front();
        }
        let _ = self.events.push_back(e);
    }

    /// Make the job named `id` the active job, fresh: nothing of the last
    /// job stays. Filled in place (a `Job` is a few hundred bytes).
    fn adopt(&mut self, id: &str) -> &mut Job {
        self.job = Job::default();
        // Ids were validated against MAX_JOB_ID_LEN by the parser.
        let _ = self.job.id.push_str(id);
        self.job_finished = false;
        &mut self.job
    }

    /// Queue a `$next/get` and wait for its reply.
    // Out of line: LTO would copy it into every handler that calls it.
    #[inline(never)]
    fn request_job(&mut self, now: Instant) {
        self.pending.set(Pending::JOB_REQUEST);
        if matches!(self.phase, Phase::Idle) {
            self.request_deadline = self.config.request_deadline(now);
        }
    }

    /// Back to waiting for jobs, asking for the next one.
    // Out of line: LTO would copy it into every handler that calls it.
    #[inline(never)]
    fn go_idle(&mut self, now: Instant) {
        self.phase = Phase::Idle;
        self.request_job(now);
    }

    /// Publish `status` for the active job and wait for its acknowledgement
    /// before doing `after`.
    // Out of line: LTO would copy it into every handler that calls it.
    #[inline(never)]
    fn report(&mut self, now: Instant, status: Status, after: After) {
        // A status in flight is superseded: its acknowledgement no longer
        // counts.
        self.awaiting = None;
        self.status = Some(status);
        self.pending.set(Pending::STATUS);
        self.phase = Phase::Reporting(after);
        self.retries = 0;
        self.request_deadline = self.config.request_deadline(now);
    }

    /// Publish `status` without waiting for it.
    fn tell(&mut self, status: Status) {
        self.status = Some(status);
        self.pending.set(Pending::STATUS);
    }

    /// The active job failed: tell the application, report FAILED, then wait
    /// for the next job.
    // Out of line: LTO would copy it into every handler that calls it.
    #[inline(never)]
    fn fail(&mut self, now: Instant, reason: crate::FailReason) {
        self.push_event(Event::Fail(reason));
        self.report_failure(now, reason, After::NextJob);
    }

    /// Report a failure (when it can be reported) and then do `after`.
    fn report_failure(&mut self, now: Instant, reason: crate::FailReason, after: After) {
        match reason.wire() {
            Some(wire) => self.report(now, Status::Failed(wire), after),
            None => {
                self.phase = Phase::Reporting(after);
                self.finish_report(now, false);
            }
        }
    }

    /// The status in flight was acknowledged (`delivered`) or given up on.
    fn finish_report(&mut self, now: Instant, delivered: bool) {
        let Phase::Reporting(after) = self.phase else {
            return;
        };
        self.awaiting = None;
        self.request_deadline = Deadline::NONE;
        if !delivered {
            log::warn!("ota: status for job {} was not acknowledged", self.job.id);
        }
        match after {
            After::Activate if delivered => {
                self.phase = Phase::AwaitingActivation;
                return self.push_event(Event::Activate);
            }
            After::RollBack => return self.roll_back(),
            _ => {}
        }
        // The rest go back to waiting for jobs. A status delivered here is
        // terminal: documents that still show the job are stale. (After an
        // undelivered M3 the flag stays false, as it was since the job began.)
        self.job_finished = delivered;
        if delivered {
            match after {
                After::Confirm => self.confirm_image(),
                After::UpdateComplete => self.push_event(Event::UpdateComplete),
                _ => {}
            }
        } else if after != After::NextJob {
            match after {
                After::Activate => self.invalidate_slot(),
                // Left on trial: the self-test timeout rolls it back.
                After::Confirm => self.clear_record(),
                _ => {}
            }
            // The next step depended on this status.
            self.push_event(Event::Fail(crate::FailReason::StatusNotDelivered));
        }
        self.go_idle(now);
    }

    /// Forget any resume record, then make the slot unbootable (in that
    /// order: a power cut in between must not leave a record that vouches
    /// for an erased header).
    // Out of line: LTO would copy it into every handler that calls it.
    #[inline(never)]
    fn invalidate_slot(&mut self) {
        self.clear_record();
        let erase = self.platform.slot().erase_size();
        if let Err(e) = self.platform.slot().erase(0, erase) {
            log::error!("ota: could not invalidate the image slot: {:?}", e);
        }
    }

    fn clear_record(&mut self) {
        if !P::Store::ENABLED {
            return;
        }
        if let Err(e) = self.platform.store().clear() {
            log::warn!("ota: could not clear the resume record: {:?}", e);
        }
    }

    /// Roll back: reject the running image and reboot. A record of it lets
    /// the next boot check that the rollback happened.
    fn roll_back(&mut self) {
        use crate::platform::BootControl;
        log::warn!("ota: rolling back");
        let running = self.platform.boot().running_version().packed();
        // Only when the version tells the two images apart can the next boot
        // see whether the rollback happened.
        if self.job.previous_version.is_some_and(|v| v != running) {
            self.save_record(crate::resume::Stage::RollingBack, 0, running);
        }
        self.reject_and_reboot();
    }

    fn reject_and_reboot(&mut self) {
        use crate::platform::BootControl;
        if let Err(PortError(e)) = self.platform.boot().reject() {
            log::error!("ota: bootloader reject failed ({e}); rebooting anyway");
        }
        self.stop_for_reboot();
        self.platform.boot().reboot();
    }

    /// Nothing more happens after a reboot was requested.
    fn stop_for_reboot(&mut self) {
        self.phase = Phase::Stopped;
        self.pending = Pending::default();
        self.request_deadline = Deadline::NONE;
        self.self_test_deadline = Deadline::NONE;
    }

    /// The public state.
    fn public_state(&self) -> State {
        if self.suspended {
            return State::Suspended;
        }
        match &self.phase {
            Phase::Init => State::Init,
            Phase::Stopped => State::Stopped,
            Phase::Idle if self.pending.has(Pending::JOB_REQUEST) => State::RequestingJob,
            Phase::Idle | Phase::SelfTest => State::WaitingForJob,
            Phase::Transfer(_) if self.pending.has(Pending::SUB_DATA) => State::CreatingFile,
            Phase::Transfer(_) if self.pending.has(Pending::DATA_REQUEST) => {
                State::RequestingFileBlock
            }
            Phase::Transfer(_) => State::WaitingForFileBlock,
            Phase::Reporting(After::Activate | After::UpdateComplete)
            | Phase::AwaitingActivation => State::ClosingFile,
            Phase::Reporting(_) => State::WaitingForJob,
        }
    }
}

#[cfg(test)]
mod tests;
