//! The boot after an update: the self-test handshake, the verdict, the
//! self-test timeout, and rollback.

use super::{After, Agent, Phase};
use crate::event::{Event, ImageState};
use crate::job::OtaJob;
use crate::platform::{BootControl, BootState, Platform, ProgressStore};
use crate::resume::{Record, Stage, RESUME_RECORD_MAX};

/// How many times a commit or rollback undone by power losses is retried.
const MAX_RETRIED_BOOT_CHANGES: u32 = 3;
use crate::reason::{FailReason, JobError};
use crate::status::Status;
use crate::time::{Deadline, Instant};

impl<P: Platform, const URL_CAP: usize> Agent<P, URL_CAP> {
    /// A job document whose status details say `self_test`: the previous
    /// firmware downloaded it and rebooted into it.
    pub(super) fn self_test_document(&mut self, now: Instant, j: &OtaJob<'_>) {
        let running = self.platform.boot().running_version().packed();
        let on_trial = self.platform.boot().state() == BootState::PendingCommit;
        // Whether the new image runs: `updatedBy` is the old version after M3
        // ("ready") and the new one after M4 ("active"). Not on trial but the
        // new image running means it is already permanent (MCUboot can leave
        // it so when power is cut while it marks the swap done): it still
        // gets its self test.
        let new_image_runs = match (j.self_test_active, j.updated_by) {
            (true, Some(new)) => new == running,
            (false, Some(old)) => old != running,
            (_, None) => on_trial,
        };
        if !on_trial && !new_image_runs {
            if self.has_verified_file(j) {
                // Power was lost between the report and the activation: the
                // verified image is still in the slot. Check it again and
                // offer it for activation.
                log::info!("ota: job {} was verified but never activated", j.job_id);
                return self.begin_download(now, j);
            }
            // The new image did not stay (the bootloader reverted it) or was
            // never booted: the job failed.
            log::warn!(
                "ota: job {} is in self test but this image is not on trial",
                j.job_id
            );
            self.adopt(j.job_id).fill(j);
            let reason = FailReason::ImageStateMismatch;
            return self.fail_self_test(now, reason, After::NextJob);
        }
        self.adopt(j.job_id).fill(j);
        // After M4 the check was done (and updatedBy is the new version).
        let checked = j.file_id == 0
            && j.file_type == self.config.firmware_file_type
            && !self.config.allow_downgrade
            && !j.self_test_active;
        let refusal = match j.updated_by {
            _ if !checked => None,
            None => Some(FailReason::Job(JobError::Missing("updatedBy"))),
            Some(old) if old == running => Some(FailReason::SameVersion),
            Some(old) if old > running => Some(FailReason::Downgrade),
            Some(_) => None,
        };
        if let Some(reason) = refusal {
            log::warn!("ota: self test refused: {}", reason.text());
            return self.fail_self_test(now, reason, After::RollBack);
        }
        log::info!("ota: job {} in self test; starting the test", j.job_id);
        self.image_state = ImageState::Testing;
        if !self.self_test_deadline.is_set() {
            self.self_test_deadline = self.config.self_test_deadline(now);
        }
        self.tell(Status::SelfTestActive { running });
        self.phase = Phase::SelfTest;
        self.push_event(Event::ReceivedJob);
        self.push_event(Event::StartTest);
    }

    /// The self test failed before it started: tell the application, report
    /// FAILED, then do `after`.
    fn fail_self_test(&mut self, now: Instant, reason: FailReason, after: After) {
        self.reject_image(reason);
        self.report_failure(now, reason, after);
    }

    /// The image on trial failed (or cannot pass) its self test: mark it
    /// rejected and tell the application.
    // Out of line: LTO would copy it into every handler that calls it.
    #[inline(never)]
    pub(super) fn reject_image(&mut self, reason: FailReason) {
        self.image_state = ImageState::Rejected;
        self.push_event(Event::SelfTestFailed(reason));
    }

    /// SUCCEEDED was acknowledged: confirm the image.
    pub(super) fn confirm_image(&mut self) {
        match self.platform.boot().confirm() {
            Ok(()) => {
                log::info!("ota: image confirmed");
                self.clear_record();
                self.self_test_deadline = Deadline::NONE;
                self.image_state = ImageState::Accepted;
            }
            Err(e) => {
                log::error!("ota: confirming the image failed: {:?}", e);
                self.push_event(Event::Fail(FailReason::Confirm(e)));
            }
        }
    }

    /// At start: finish a commit or a rollback that a power loss
    /// interrupted (the bootloader reverted an image that had been accepted
    /// and reported SUCCEEDED, or failed to revert one that had been
    /// rejected). Returns true when the agent reboots to try again.
    pub(super) fn finish_interrupted_boot_change(&mut self) -> bool {
        if !P::Store::ENABLED {
            return false;
        }
        let mut buf = [0u8; RESUME_RECORD_MAX];
        let Some(n) = self.platform.store().load(&mut buf) else {
            return false;
        };
        let Some(r) = Record::decode(&buf[..n.min(buf.len())]) else {
            return false;
        };
        if !matches!(r.stage, Stage::Committing | Stage::RollingBack) {
            return false;
        }
        self.adopt(crate::ascii::ascii(r.job_id).unwrap_or_default());
        let runs = self.platform.boot().running_version().packed() == r.version;
        let committing = r.stage == Stage::Committing;
        match (committing, runs) {
            (true, true) => {
                if self.platform.boot().state() == BootState::PendingCommit {
                    log::info!("ota: confirming the image accepted before the power loss");
                    self.confirm_image();
                } else {
                    self.clear_record();
                }
                return false;
            }
            (false, false) => {
                self.clear_record();
                return false;
            }
            _ => {}
        }
        if r.next_block >= MAX_RETRIED_BOOT_CHANGES {
            log::error!("ota: the bootloader did not apply the change; giving up");
            self.clear_record();
            return false;
        }
        self.save_record(r.stage, r.next_block + 1, r.version);
        if committing {
            log::warn!("ota: the accepted image was reverted by a power loss; applying it again");
            if let Err(e) = self.platform.boot().request_test_upgrade() {
                log::error!("ota: bootloader refused the upgrade request: {:?}", e);
                self.clear_record();
                return false;
            }
            self.stop_for_reboot();
            self.platform.boot().reboot();
        } else {
            log::warn!("ota: the rejected image still runs after a power loss; rejecting it again");
            self.reject_and_reboot();
        }
        true
    }

    /// The self-test window closed without a confirmed image.
    pub(super) fn self_test_expired(&mut self, now: Instant) {
        log::warn!("ota: self test timed out");
        self.reject_image(FailReason::SelfTestTimeout);
        if matches!(self.phase, Phase::SelfTest) && !self.suspended {
            // Report it, but give the report only one timeout before the
            // rollback happens regardless.
            self.self_test_deadline = self.config.request_deadline(now);
            self.report_failure(now, FailReason::SelfTestTimeout, After::RollBack);
        } else {
            self.roll_back();
        }
    }
}
