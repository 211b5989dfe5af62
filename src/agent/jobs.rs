//! Job documents: what to do with each kind, in each phase.

use super::{After, Agent, Job, Pending, Phase};
use crate::download::Plane;
use crate::event::{Event, Processed};
use crate::job::{self, Document, OtaJob};
use crate::platform::{BootControl, BootState, CustomJob, CustomJobReply, ImageSlot, Platform};
use crate::reason::{FailReason, JobError};
use crate::resume;
use crate::status::Status;
use crate::time::{Deadline, Instant};

impl<P: Platform, const URL_CAP: usize> Agent<P, URL_CAP> {
    /// Whether a `$next/get/accepted` payload answers the last request (its
    /// clientToken echoes ours); replies without a token are taken as fresh.
    pub(super) fn is_latest_reply(&self, payload: &[u8]) -> bool {
        let Some(token) = job::client_token(payload) else {
            return true;
        };
        let mut buf = [0u8; 80];
        let mut w = crate::writer::SliceWriter::new(&mut buf);
        let last = self.requests_sent.wrapping_sub(1);
        if self.write_token(&mut w, last).is_err() {
            return true;
        }
        let (expected, _) = w.split();
        token == &expected[..]
    }

    pub(super) fn on_job_document(&mut self, now: Instant, payload: &[u8]) -> Processed {
        let doc = job::parse_document(payload);
        // Whether the document names the active job: compared once, here, for
        // the handlers below too (measured smaller on thumbv7em).
        let same_job = document_job_id(&doc) == Some(self.job.id.as_str());
        if self.job_finished && same_job {
            log::debug!(
                "ota: dropped a stale document for finished job {}",
                self.job.id
            );
            return Processed::JobDocumentIgnored;
        }
        match self.phase {
            Phase::Idle => {
                self.pending.clear(Pending::JOB_REQUEST);
                self.request_deadline = Deadline::NONE;
                self.start_job(now, &doc);
                Processed::JobDocument
            }
            Phase::Transfer(_) => {
                self.update_during_transfer(now, &doc, same_job);
                Processed::JobDocument
            }
            Phase::SelfTest | Phase::AwaitingActivation => {
                self.check_job_still_pending(now, &doc, same_job);
                Processed::JobDocument
            }
            _ => Processed::JobDocumentIgnored,
        }
    }

    /// During the self test or before activation, the job must still be the
    /// next one; if it was cancelled (or replaced), the new image must not
    /// stay: roll it back, or leave it unactivated. `same_job`: `doc` names
    /// the active job.
    fn check_job_still_pending(&mut self, now: Instant, doc: &Document<'_>, same_job: bool) {
        if same_job && matches!(doc, Document::Ota(_)) {
            return;
        }
        log::warn!("ota: job {} is no longer pending (cancelled)", self.job.id);
        if matches!(self.phase, Phase::SelfTest) {
            self.reject_image(FailReason::Cancelled);
            self.roll_back();
        } else {
            self.invalidate_slot();
            self.image_state = crate::ImageState::Aborted;
            self.push_event(Event::Fail(FailReason::Cancelled));
            self.go_idle(now);
        }
    }

    /// A document while idle.
    fn start_job(&mut self, now: Instant, doc: &Document<'_>) {
        match *doc {
            Document::NoJob => {
                log::info!("ota: no job pending");
                self.push_event(Event::NoActiveJob);
            }
            Document::Invalid {
                job_id: None,
                error,
            } => {
                log::warn!(
                    "ota: unusable job document ({}: {})",
                    error.kind(),
                    error.text()
                );
                self.push_event(Event::NoActiveJob);
            }
            Document::Invalid {
                job_id: Some(id),
                error,
            } => {
                log::warn!("ota: job {id} refused: {}: {}", error.kind(), error.text());
                self.fail_before_download(now, id, FailReason::Job(error));
            }
            Document::Custom { job_id, document } => self.custom_job(now, job_id, document),
            Document::Ota(ref j) if j.self_test => self.self_test_document(now, j),
            Document::Ota(ref j) => {
                if self.platform.boot().state() == BootState::PendingCommit {
                    // The image on trial is not from this job (it may have been
                    // cancelled): it must not stay.
                    log::warn!("ota: platform is in self test while the job is not");
                    self.push_event(Event::SelfTestFailed(FailReason::ImageStateMismatch));
                    self.roll_back();
                } else {
                    self.begin_download(now, j);
                }
            }
        }
    }

    /// Report a job FAILED before any flash is touched.
    pub(super) fn fail_before_download(&mut self, now: Instant, id: &str, reason: FailReason) {
        self.adopt(id);
        self.fail(now, reason);
    }

    fn custom_job(&mut self, now: Instant, job_id: &str, document: &[u8]) {
        match self.platform.custom_job(&CustomJob { job_id, document }) {
            CustomJobReply::Decline => {
                log::info!("ota: custom job {job_id} not claimed by the application");
                self.fail_before_download(now, job_id, FailReason::CustomJobDeclined);
            }
            CustomJobReply::Claim(status) => {
                self.adopt(job_id);
                self.push_event(Event::ReceivedJob);
                let status = Status::Custom(status);
                if status.is_terminal() {
                    self.report(now, status, After::NextJob);
                } else {
                    self.tell(status);
                }
            }
        }
    }

    /// Which data plane to use, or why none.
    fn choose_plane(&self, j: &OtaJob<'_>) -> Result<Plane, FailReason> {
        let protocols = self.config.protocols;
        let url_fits = j
            .url
            .and_then(|u| u.raw_str())
            .is_some_and(|raw| raw.len() <= URL_CAP);
        let mqtt = j.mqtt && protocols.mqtt && j.stream.is_some();
        let http = j.http && protocols.http && URL_CAP > 0 && url_fits;
        match (mqtt, http) {
            (true, true) if protocols.prefer_http => Ok(Plane::Http),
            (true, _) => Ok(Plane::Mqtt),
            (false, true) => Ok(Plane::Http),
            (false, false) if j.mqtt && protocols.mqtt => {
                Err(FailReason::Job(JobError::Missing("streamname")))
            }
            (false, false) if j.http && protocols.http && URL_CAP > 0 && j.url.is_none() => {
                Err(FailReason::Job(JobError::Missing("update_data_url")))
            }
            _ => Err(FailReason::UnsupportedProtocol),
        }
    }

    /// Store the job's pre-signed URL, decoded straight into the agent's
    /// buffer (no copy on the stack); false if it does not fit or has a byte
    /// a URL cannot (anything but printable ASCII: RFC 3986 URLs are
    /// percent-encoded); the buffer then holds no URL.
    fn store_url(&mut self, j: &OtaJob<'_>) -> bool {
        if URL_CAP == 0 {
            // No URL buffer: lets the compiler drop the decoder.
            return false;
        }
        let len = j
            .url
            .and_then(|u| u.decode_str(&mut self.url))
            .filter(|url| url.iter().all(u8::is_ascii_graphic))
            .map_or(0, <[u8]>::len);
        self.url_len = len;
        len > 0
    }

    /// A new OTA job: validate it, then start (or resume) its download.
    pub(super) fn begin_download(&mut self, now: Instant, j: &OtaJob<'_>) {
        let plane = match self.choose_plane(j) {
            Ok(p) => p,
            Err(reason) => return self.fail_before_download(now, j.job_id, reason),
        };
        if j.file_size > self.platform.slot().capacity() {
            return self.fail_before_download(now, j.job_id, FailReason::FileTooLarge);
        }
        if plane == Plane::Http && !self.store_url(j) {
            return self.fail_before_download(now, j.job_id, FailReason::UnsupportedProtocol);
        }
        if j.file_count > 1 {
            log::warn!(
                "ota: job {} has {} files; only the first is used",
                j.job_id,
                j.file_count
            );
        }
        self.adopt(j.job_id).fill(j);
        self.image_state = crate::ImageState::Unknown;
        self.stats = Default::default();
        self.push_event(Event::ReceivedJob);
        self.start_transfer(now, plane);
    }

    /// A document arrived during a download: the same job (a reply to a
    /// re-request: maybe a fresh URL) changes nothing; anything else means the
    /// job was cancelled or replaced. `same_job`: `doc` names the active job.
    fn update_during_transfer(&mut self, now: Instant, doc: &Document<'_>, same_job: bool) {
        match doc {
            Document::Ota(j) if same_job && fingerprint(j) == self.job.fingerprint => {
                let Phase::Transfer(d) = &self.phase else {
                    return;
                };
                if Self::plane(d) == Plane::Http && j.url.is_some() {
                    let waiting = d.awaiting_url;
                    if !self.store_url(j) {
                        // The old URL was overwritten by an unusable one.
                        return self.fail_transfer(now, FailReason::UnsupportedProtocol);
                    }
                    if waiting {
                        log::info!("ota: download URL refreshed");
                        self.request_data(now);
                    }
                }
            }
            Document::NoJob => {
                log::warn!("ota: job {} is no longer pending (cancelled)", self.job.id);
                self.cancel_transfer();
                self.phase = Phase::Idle;
            }
            _ => {
                log::warn!(
                    "ota: job {} was replaced; asking for the next job",
                    self.job.id
                );
                self.cancel_transfer();
                self.go_idle(now);
            }
        }
    }

    /// Whether the slot holds this job's file, complete and verified (the
    /// device lost power between verification and activation).
    pub(super) fn has_verified_file(&mut self, j: &OtaJob<'_>) -> bool {
        let block_size = self.config.block_size;
        let total = j.file_size.div_ceil(block_size);
        let (id, print) = (j.job_id, fingerprint(j));
        super::transfer::resume_decision(self.platform.store(), id, &print, block_size, total)
            == resume::Decision::Verified
    }
}

/// The job id a document names.
fn document_job_id<'a>(doc: &Document<'a>) -> Option<&'a str> {
    match doc {
        Document::Ota(j) => Some(j.job_id),
        Document::Custom { job_id, .. } => Some(job_id),
        Document::Invalid { job_id, .. } => *job_id,
        Document::NoJob => None,
    }
}

/// What identifies a job's file in a resume record.
fn fingerprint(j: &OtaJob<'_>) -> [u8; 8] {
    resume::fingerprint(&j.signature, j.file_size, j.file_id, j.file_type)
}

impl Job {
    /// Keep the parts of OTA job `j` (whose id this job already has).
    pub(super) fn fill(&mut self, j: &OtaJob<'_>) {
        if let Some(s) = j.stream {
            // Validated against MAX_STREAM_NAME_LEN by the parser.
            let _ = self.stream.push_str(s);
        }
        self.file_id = j.file_id;
        self.file_size = j.file_size;
        self.file_type = j.file_type;
        self.signature.clone_from(&j.signature);
        self.updated_by = j.updated_by;
        self.previous_version = j.updated_by.filter(|_| j.self_test && !j.self_test_active);
        self.fingerprint = fingerprint(j);
    }
}
