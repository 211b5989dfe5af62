//! File data: starting, pacing, receiving, finishing and failing a download.

use super::{After, Agent, HttpOutcome, Job, Pending, Phase};
use crate::cbor;
use crate::download::{check_boot_image, Download, Outcome, Plane};
use crate::event::{DropReason, Event, ImageState, Processed};
use crate::platform::{BootControl, Platform, ProgressStore, SignatureVerifier, Version};
use crate::reason::FailReason;
use crate::resume::{self, Decision, Record, Stage};
use crate::status::Status;
use crate::time::{Deadline, Instant};

/// HTTP status of an expired pre-signed URL.
const HTTP_FORBIDDEN: u16 = 403;

impl<P: Platform, const URL_CAP: usize> Agent<P, URL_CAP> {
    /// The plane of download `d`. An agent without a URL buffer never
    /// downloads over HTTP; saying so here lets the compiler drop the HTTP
    /// paths from such a build.
    pub(super) fn plane(d: &Download) -> Plane {
        if URL_CAP == 0 {
            Plane::Mqtt
        } else {
            d.plane()
        }
    }

    /// Set up the transfer of the active job: resume from a record if it
    /// matches, otherwise start clean.
    pub(super) fn start_transfer(&mut self, now: Instant, plane: Plane) {
        let total = self.job.file_size.div_ceil(self.config.block_size);
        let job = &self.job;
        let decision = resume_decision(
            self.platform.store(),
            &job.id,
            &job.fingerprint,
            self.config.block_size,
            total,
        );
        let start = match decision {
            Decision::Resume(block) => {
                log::info!("ota: resuming job {} at block {block}/{total}", self.job.id);
                self.resume_note = Some("resumed");
                block
            }
            Decision::Verified => {
                log::info!("ota: job {} is already downloaded; verifying", self.job.id);
                total
            }
            Decision::Fresh(why) => {
                if let Some(why) = why {
                    log::info!("ota: starting job {} from block 0: {why}", self.job.id);
                }
                self.resume_note = why;
                self.clear_record();
                0
            }
        };
        let firmware = self.job.file_type == self.config.firmware_file_type;
        let (size, block_size) = (self.job.file_size, self.config.block_size);
        let slot = self.platform.slot();
        let mut download = Download::new(slot, plane, size, block_size, firmware, start);
        // From block 0 there is nothing to rebuild (and a build without a
        // progress store, where `start` is always 0, loses this branch).
        if start > 0 {
            if let Err(reason) = download.hash_resumed(slot) {
                log::warn!(
                    "ota: resume failed ({}); starting from block 0",
                    reason.text()
                );
                self.resume_note = Some("record did not match the slot");
                self.clear_record();
                download =
                    Download::new(self.platform.slot(), plane, size, block_size, firmware, 0);
            }
        }
        let complete = download.is_complete();
        self.phase = Phase::Transfer(download);
        if complete {
            return self.finish_transfer(now);
        }
        if plane == Plane::Mqtt {
            self.pending.set(Pending::SUB_DATA);
        }
        self.request_data(now);
    }

    fn fail_new_transfer(&mut self, now: Instant, reason: FailReason) {
        self.invalidate_slot();
        self.image_state = ImageState::Rejected;
        self.fail(now, reason);
    }

    /// After a reconnect: subscribe again and re-send the request.
    pub(super) fn resume_transfer(&mut self, now: Instant) {
        if let Phase::Transfer(d) = &mut self.phase {
            if Self::plane(d) == Plane::Mqtt {
                self.pending.set(Pending::SUB_DATA);
            }
            // A reconnect is not the service's fault: do not count it.
            d.momentum = d.momentum.saturating_sub(1);
        }
        self.request_data(now);
    }

    /// Ask for data (the window's needed blocks, or the next range), unless the
    /// retry budget is spent.
    pub(super) fn request_data(&mut self, now: Instant) {
        let Phase::Transfer(d) = &mut self.phase else {
            return;
        };
        if d.momentum >= self.config.max_retries {
            log::warn!("ota: {} requests without progress; giving up", d.momentum);
            return self.fail_transfer(now, FailReason::RetriesExhausted);
        }
        d.momentum += 1;
        d.outstanding = self.config.blocks_per_request;
        d.awaiting_url = false;
        self.pending.set(Pending::DATA_REQUEST);
        self.request_deadline = self.config.request_deadline(now);
    }

    fn drop_data(&mut self, reason: DropReason) -> Processed {
        self.stats.dropped += 1;
        Processed::BlockDropped(reason)
    }

    /// A message on a stream data topic (`ours`: the current job's stream,
    /// agent active).
    // Out of line: inlined, it made the message handler larger than the two
    // functions are apart (measured, bench/footprint).
    #[inline(never)]
    pub(super) fn on_block(&mut self, now: Instant, ours: bool, payload: &[u8]) -> Processed {
        let Phase::Transfer(d) = &mut self.phase else {
            return self.drop_data(DropReason::NoTransfer);
        };
        if !ours || Self::plane(d) != Plane::Mqtt {
            return self.drop_data(DropReason::NoTransfer);
        }
        self.stats.queued += 1;
        // Every message from the service shows it is alive: wait a full
        // timeout again before re-requesting.
        self.request_deadline = self.config.request_deadline(now);
        let block = match cbor::decode_block(payload) {
            Ok(b) if b.file_id != self.job.file_id as u32 => {
                return self.bad_data(now, DropReason::WrongFile)
            }
            Ok(b) => b,
            Err(_) => return self.bad_data(now, DropReason::Malformed),
        };
        let result = d.accept_block(self.platform.slot(), &block);
        self.after_data(now, result)
    }

    /// A block the service should not have sent: drop it, and count it
    /// against the request it answered so the next request (which asks for
    /// the block again) is not held back.
    fn bad_data(&mut self, now: Instant, reason: DropReason) -> Processed {
        log::debug!("ota: dropped a block: {reason:?}");
        if let Phase::Transfer(d) = &mut self.phase {
            d.outstanding = d.outstanding.saturating_sub(1);
            if d.outstanding == 0 {
                self.request_data(now);
            }
        }
        self.drop_data(reason)
    }

    pub(super) fn on_http_data(
        &mut self,
        now: Instant,
        active: bool,
        offset: u32,
        data: &[u8],
    ) -> Processed {
        let Phase::Transfer(d) = &mut self.phase else {
            return self.drop_data(DropReason::NoTransfer);
        };
        if !active || Self::plane(d) != Plane::Http {
            return self.drop_data(DropReason::NoTransfer);
        }
        self.stats.queued += 1;
        self.request_deadline = self.config.request_deadline(now);
        let result = d.accept_http(self.platform.slot(), offset, data);
        self.after_data(now, result)
    }

    pub(super) fn on_http_done(&mut self, now: Instant, outcome: HttpOutcome) {
        let Phase::Transfer(d) = &mut self.phase else {
            return;
        };
        if Self::plane(d) != Plane::Http {
            return;
        }
        match outcome {
            HttpOutcome::Complete if !d.is_complete() => {
                if !d.range_done() {
                    log::info!("ota: short HTTP response; asking for the rest");
                }
                self.request_data(now);
            }
            HttpOutcome::Complete => {}
            HttpOutcome::Failed {
                status: HTTP_FORBIDDEN,
            } => {
                log::info!("ota: download URL expired; asking for the job document again");
                d.awaiting_url = true;
                self.pending.set(Pending::JOB_REQUEST);
            }
            HttpOutcome::Failed { status } => {
                log::warn!("ota: HTTP request failed ({status}); retrying after the timeout");
            }
        }
    }

    /// Book-keeping after data was offered to the download.
    fn after_data(&mut self, now: Instant, result: Result<Outcome, FailReason>) -> Processed {
        match result {
            Err(reason) => {
                self.fail_transfer(now, reason);
                Processed::TransferFailed
            }
            Ok(Outcome::Dropped(DropReason::Duplicate)) => self.drop_data(DropReason::Duplicate),
            Ok(Outcome::Dropped(reason)) => self.bad_data(now, reason),
            Ok(Outcome::Accepted) => {
                self.stats.processed += 1;
                self.after_accepted(now);
                Processed::BlockAccepted
            }
        }
    }

    fn after_accepted(&mut self, now: Instant) {
        let Phase::Transfer(d) = &mut self.phase else {
            return;
        };
        d.momentum = 0;
        if d.is_complete() {
            return self.finish_transfer(now);
        }
        self.save_checkpoint();
        self.report_progress();
        let Phase::Transfer(d) = &mut self.phase else {
            return;
        };
        // HTTP asks for the next range when the port reports the request done:
        // one request at a time.
        if Self::plane(d) == Plane::Mqtt {
            d.outstanding = d.outstanding.saturating_sub(1);
            if d.outstanding == 0 {
                self.request_data(now);
            }
        }
    }

    /// Save a resume record when enough blocks became durable since the last.
    fn save_checkpoint(&mut self) {
        let every = self.config.resume_every_blocks;
        let Phase::Transfer(d) = &mut self.phase else {
            return;
        };
        let durable = d.durable_blocks(Self::plane(d));
        if !P::Store::ENABLED
            || every == 0
            || durable < d.checkpoint.saturating_add(every)
            || !d.is_checkpoint(durable)
        {
            return;
        }
        d.checkpoint = durable;
        self.save_record(Stage::Downloading, durable, 0);
    }

    /// Save a record at `stage`, unless the store keeps nothing.
    pub(super) fn save_record(&mut self, stage: Stage, next_block: u32, version: u32) {
        if !P::Store::ENABLED {
            return;
        }
        let record = Record {
            stage,
            job_id: self.job.id.as_bytes(),
            fingerprint: self.job.fingerprint,
            block_size: self.config.block_size,
            next_block,
            version,
        };
        let mut buf = [0u8; resume::RESUME_RECORD_MAX];
        let n = record.encode(&mut buf);
        if let Err(e) = self.platform.store().save(&buf[..n]) {
            log::warn!("ota: could not save the resume record: {:?}", e);
        }
    }

    /// M1: after the first block and every `status_every_blocks`.
    fn report_progress(&mut self) {
        let every = self.config.status_every_blocks;
        let Phase::Transfer(d) = &mut self.phase else {
            return;
        };
        let received = d.received_blocks(Self::plane(d));
        let first = (d.reported == 0 && received > 0) || self.resume_note.is_some();
        if !first && received / every <= d.reported / every {
            return;
        }
        d.reported = received;
        let total = d.total_blocks();
        let resume = self.resume_note.take();
        self.tell(Status::Progress {
            received,
            total,
            resume,
        });
    }

    /// The file is complete: verify it and report it.
    fn finish_transfer(&mut self, now: Instant) {
        let Phase::Transfer(d) = &self.phase else {
            return;
        };
        let (plane, total) = (Self::plane(d), d.total_blocks());
        let packed = self.platform.boot().running_version().packed();
        // Verified before the download is dropped: its hashes are read in place.
        let allow = self.config.allow_downgrade;
        let verdict = verify_file(&mut self.platform, &self.job, allow, d, packed);
        self.phase = Phase::Idle;
        self.pending
            .clear(Pending::DATA_REQUEST | Pending::SUB_DATA);
        if plane == Plane::Mqtt {
            self.pending.set(Pending::UNSUB_DATA);
        }
        match verdict {
            Err(reason) => {
                log::warn!(
                    "ota: job {} failed verification: {}",
                    self.job.id,
                    reason.text()
                );
                self.fail_new_transfer(now, reason);
            }
            Ok(Some(version)) => {
                let v = Version::from_packed(version);
                log::info!(
                    "ota: image {}.{}.{} verified; reporting it",
                    v.major,
                    v.minor,
                    v.build
                );
                self.save_record(Stage::Verified, total, version);
                self.report(
                    now,
                    Status::SelfTestReady { updated_by: packed },
                    After::Activate,
                );
            }
            Ok(None) => {
                log::info!("ota: file of type {} verified", self.job.file_type);
                self.clear_record();
                self.report(
                    now,
                    Status::Succeeded {
                        running: packed,
                        updated_by: packed,
                    },
                    After::UpdateComplete,
                );
            }
        }
    }

    /// End the transfer: unsubscribe, stop requesting, leave the slot
    /// unbootable, forget the resume record.
    fn end_transfer(&mut self) {
        let Phase::Transfer(d) = core::mem::replace(&mut self.phase, Phase::Idle) else {
            return;
        };
        self.pending
            .clear(Pending::DATA_REQUEST | Pending::SUB_DATA);
        self.request_deadline = Deadline::NONE;
        if Self::plane(&d) == Plane::Mqtt {
            self.pending.set(Pending::UNSUB_DATA);
        }
        // The record goes first: see `invalidate_slot`.
        self.clear_record();
        if d.touched_flash() {
            if let Err(e) = d.invalidate(self.platform.slot()) {
                log::error!("ota: could not invalidate the image slot: {:?}", e);
            }
        }
    }

    /// The download failed: report FAILED with the reason.
    pub(super) fn fail_transfer(&mut self, now: Instant, reason: FailReason) {
        log::warn!("ota: job {} failed: {}", self.job.id, reason.text());
        self.end_transfer();
        self.image_state = match reason {
            FailReason::UserAbort | FailReason::RetriesExhausted => ImageState::Aborted,
            _ => ImageState::Rejected,
        };
        self.fail(now, reason);
    }

    /// The job disappeared from the service: stop without a status.
    pub(super) fn cancel_transfer(&mut self) {
        self.end_transfer();
        self.image_state = ImageState::Aborted;
        self.push_event(Event::Fail(FailReason::Cancelled));
    }
}

/// Verify the complete file of download `d`: its hashes (or why they are
/// wrong), the signature, then (for firmware) the MCUboot checks. Versions
/// are packed ([`Version::packed`]): for firmware, the image's.
fn verify_file<P: Platform>(
    platform: &mut P,
    job: &Job,
    allow_downgrade: bool,
    d: &Download,
    running: u32,
) -> Result<Option<u32>, FailReason> {
    let boot = d.boot_image()?;
    platform
        .verifier()
        .verify(&d.sha256(), &job.signature)
        .map_err(|_| FailReason::Signature)?;
    let Some(boot) = boot else {
        return Ok(None);
    };
    let slot = platform.slot();
    check_boot_image(slot, boot, job.file_size, running, allow_downgrade).map(Some)
}

/// What the stored resume record means for the job `id` whose file has
/// `fingerprint` and `total` blocks.
pub(super) fn resume_decision<S: ProgressStore>(
    store: &mut S,
    id: &str,
    fingerprint: &[u8; 8],
    block_size: u32,
    total: u32,
) -> Decision {
    let mut buf = [0u8; resume::RESUME_RECORD_MAX];
    let stored = if S::ENABLED {
        store.load(&mut buf)
    } else {
        None
    };
    resume::decide(
        stored.map(|n| &buf[..n.min(buf.len())]),
        id,
        fingerprint,
        block_size,
        total,
    )
}
