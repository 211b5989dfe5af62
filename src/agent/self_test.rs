//! The boot after an update: the self-test handshake, the verdict, the
//! self-test timeout, and rollback.

use super::{After, Agent, Job, Phase};
use crate::event::{Event, ImageState};
use crate::job::OtaJob;
use crate::platform::{BootControl, BootState, Platform};
use crate::reason::{FailReason, JobError};
use crate::status::Status;
use crate::time::Instant;

impl<P: Platform, const URL_CAP: usize> Agent<P, URL_CAP> {
    /// A job document whose status details say `self_test`: the previous
    /// firmware downloaded it and rebooted into it.
    pub(super) fn self_test_document(&mut self, now: Instant, j: &OtaJob<'_>) {
        let running = self.platform.boot().running_version().packed();
        let on_trial = self.platform.boot().state() == BootState::PendingCommit;
        // Not on trial but not the old version either: the new image runs
        // and is already permanent (MCUboot can leave it so when power is
        // cut while it marks the swap done). It still gets its self test.
        let new_image_runs = j.updated_by.is_some_and(|old| old != running);
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
            self.job = Job::from_ota(j);
            self.image_state = ImageState::Rejected;
            self.push_event(Event::SelfTestFailed(FailReason::ImageStateMismatch));
            return self.report_failure(now, FailReason::ImageStateMismatch, After::NextJob);
        }
        self.job = Job::from_ota(j);
        let checked = j.file_id == 0
            && j.file_type == self.config.firmware_file_type
            && !self.config.allow_downgrade;
        let refusal = match j.updated_by {
            _ if !checked => None,
            None => Some(FailReason::Job(JobError::Missing("updatedBy"))),
            Some(old) if old == running => Some(FailReason::SameVersion),
            Some(old) if old > running => Some(FailReason::Downgrade),
            Some(_) => None,
        };
        if let Some(reason) = refusal {
            log::warn!("ota: self test refused: {}", reason.text());
            self.image_state = ImageState::Rejected;
            self.push_event(Event::SelfTestFailed(reason));
            return self.report_failure(now, reason, After::RollBack);
        }
        log::info!("ota: job {} in self test; starting the test", j.job_id);
        self.image_state = ImageState::Testing;
        if self.self_test_deadline.is_none() {
            self.self_test_deadline = Some(now.plus_millis(self.config.self_test_timeout_ms));
        }
        self.tell(Status::SelfTestActive { running });
        self.phase = Phase::SelfTest;
        self.push_event(Event::ReceivedJob);
        self.push_event(Event::StartTest);
    }

    /// SUCCEEDED was acknowledged (or not): confirm the image, or leave it on
    /// trial so the self-test timeout rolls it back.
    pub(super) fn confirm_image(&mut self, delivered: bool) {
        if !delivered {
            self.push_event(Event::Fail(FailReason::StatusNotDelivered));
            return;
        }
        match self.platform.boot().confirm() {
            Ok(()) => {
                log::info!("ota: image confirmed");
                self.self_test_deadline = None;
                self.image_state = ImageState::Accepted;
            }
            Err(e) => {
                log::error!("ota: confirming the image failed: {:?}", e);
                self.push_event(Event::Fail(FailReason::Confirm(e)));
            }
        }
    }

    /// The self-test window closed without a confirmed image.
    pub(super) fn self_test_expired(&mut self, now: Instant) {
        log::warn!("ota: self test timed out");
        self.image_state = ImageState::Rejected;
        self.push_event(Event::SelfTestFailed(FailReason::SelfTestTimeout));
        if matches!(self.phase, Phase::SelfTest) {
            // Report it, but give the report only one timeout before the
            // rollback happens regardless.
            self.self_test_deadline = Some(now.plus_millis(self.config.request_timeout_ms));
            self.report_failure(now, FailReason::SelfTestTimeout, After::RollBack);
        } else {
            self.roll_back();
        }
    }
}
