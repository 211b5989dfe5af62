//! The C representation of the public API's types (`zephyr/include/ota_agent.h`):
//! numeric codes for states, verdicts, events and failure reasons, and the
//! `#[repr(C)]` structs the application sees. The conversions are pure and
//! tested here; the exported functions live in `ota-agent-zephyr-rt`.

use core::ffi::c_void;
use ota_agent::{
    ApiError, CustomJob, CustomJobReply, CustomJobStatus, Event, FailReason, ImageState,
    ImageVerdict, State, Statistics,
};

/// `-EPERM`.
const EPERM: i32 = 1;
/// `-ENOENT`.
const ENOENT: i32 = 2;
/// `-ENODEV`.
const ENODEV: i32 = 19;

/// An opaque pointer the application gets back in its callbacks.
#[derive(Clone, Copy, Debug)]
pub struct UserData(pub *mut c_void);

// SAFETY: the pointer is never dereferenced in Rust; it is only handed back
// to the application's callbacks, which own whatever it points to (the C API
// documents that callbacks run on the agent thread).
unsafe impl Send for UserData {}

/// `ota_agent_state()` before `ota_agent_init()`.
pub const STATE_UNINITIALIZED: u32 = 0;

/// `enum ota_agent_state` value of a core [`State`].
pub fn state_code(s: State) -> u32 {
    match s {
        State::Init => 1,
        State::RequestingJob => 2,
        State::WaitingForJob => 3,
        State::CreatingFile => 4,
        State::RequestingFileBlock => 5,
        State::WaitingForFileBlock => 6,
        State::ClosingFile => 7,
        State::Suspended => 8,
        State::Stopped => 9,
    }
}

/// `enum ota_agent_image_state` value of a core [`ImageState`].
pub fn image_state_code(s: ImageState) -> u32 {
    match s {
        ImageState::Unknown => 0,
        ImageState::Testing => 1,
        ImageState::Accepted => 2,
        ImageState::Rejected => 3,
        ImageState::Aborted => 4,
    }
}

/// The verdict for an `enum ota_agent_image_verdict` value.
pub fn verdict_from_code(code: u32) -> Option<ImageVerdict> {
    match code {
        1 => Some(ImageVerdict::Accepted),
        2 => Some(ImageVerdict::Rejected),
        3 => Some(ImageVerdict::Aborted),
        _ => None,
    }
}

/// The negative errno an API error is reported as.
pub fn api_errno(e: ApiError) -> i32 {
    match e {
        ApiError::NotStarted => -ENODEV,
        ApiError::InvalidState => -EPERM,
        ApiError::NoActiveJob => -ENOENT,
        ApiError::Platform(p) if p.0 < 0 => p.0,
        ApiError::Platform(_) => -EPERM,
    }
}

/// `struct ota_agent_statistics`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatisticsC {
    /// Data messages received.
    pub received: u32,
    /// Data messages that reached a running transfer.
    pub queued: u32,
    /// Data messages written to the slot.
    pub processed: u32,
    /// Data messages dropped.
    pub dropped: u32,
}

impl From<Statistics> for StatisticsC {
    fn from(s: Statistics) -> Self {
        StatisticsC {
            received: s.received,
            queued: s.queued,
            processed: s.processed,
            dropped: s.dropped,
        }
    }
}

/// `struct ota_agent_event`: an event as the C callback receives it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventC {
    /// `enum ota_agent_event_type`.
    pub kind: u32,
    /// `enum ota_agent_fail_reason` for FAIL and SELF_TEST_FAILED, else 0.
    pub reason: u32,
    /// Sub code: the job-parser code, or the MCUboot image check code.
    pub detail: u32,
    /// The negative errno of a flash or bootloader failure, else 0.
    pub port_error: i32,
    /// English description of the reason (not NUL-terminated), or null.
    pub text: *const u8,
    /// Length of `text`.
    pub text_len: u32,
}

/// `(reason, detail, port_error)` of a failure.
fn reason_codes(r: FailReason) -> (u32, u32, i32) {
    use FailReason::*;
    match r {
        Job(e) => (1, e.parse_err_code(), 0),
        CustomJobDeclined => (2, 0, 0),
        FileTooLarge => (3, 0, 0),
        UnsupportedProtocol => (4, 0, 0),
        RetriesExhausted => (5, 0, 0),
        UserAbort => (6, 0, 0),
        Erase(e) => (7, 0, e.0),
        Flash(e) => (8, 0, e.0),
        Signature => (9, 0, 0),
        Image(e) => (10, e.sub_code(), 0),
        Downgrade => (11, 0, 0),
        SameVersion => (12, 0, 0),
        Activate(e) => (13, 0, e.0),
        SelfTestRejected => (14, 0, 0),
        SelfTestTimeout => (15, 0, 0),
        ImageStateMismatch => (16, 0, 0),
        Confirm(e) => (17, 0, e.0),
        StatusNotDelivered => (18, 0, 0),
        Cancelled => (19, 0, 0),
    }
}

impl From<Event> for EventC {
    fn from(e: Event) -> Self {
        let plain = |kind| EventC {
            kind,
            reason: 0,
            detail: 0,
            port_error: 0,
            text: core::ptr::null(),
            text_len: 0,
        };
        let failed = |kind, r: FailReason| {
            let (reason, detail, port_error) = reason_codes(r);
            let text = r.text();
            EventC {
                kind,
                reason,
                detail,
                port_error,
                text: text.as_ptr(),
                text_len: text.len() as u32,
            }
        };
        match e {
            Event::ReceivedJob => plain(1),
            Event::Activate => plain(2),
            Event::UpdateComplete => plain(3),
            Event::StartTest => plain(4),
            Event::Fail(r) => failed(5, r),
            Event::SelfTestFailed(r) => failed(6, r),
            Event::NoActiveJob => plain(7),
        }
    }
}

/// `struct ota_agent_custom_job_reply`, filled by the application.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CustomJobReplyC {
    /// 1 IN_PROGRESS, 2 SUCCEEDED, 3 FAILED.
    pub status: u32,
    /// FAILED: application main code.
    pub code: u32,
    /// FAILED: application sub code.
    pub sub: u32,
}

impl CustomJobReplyC {
    /// The core's reply; an unknown status declines the job.
    pub fn reply(self) -> CustomJobReply {
        match self.status {
            1 => CustomJobReply::Claim(CustomJobStatus::InProgress),
            2 => CustomJobReply::Claim(CustomJobStatus::Succeeded),
            3 => CustomJobReply::Claim(CustomJobStatus::Failed {
                code: self.code,
                sub: self.sub,
            }),
            _ => CustomJobReply::Decline,
        }
    }
}

/// `ota_agent_custom_job_cb_t`: returns 0 to claim the job (with `reply`
/// filled), anything else to decline it.
pub type CustomJobCb = unsafe extern "C" fn(
    job_id: *const u8,
    job_id_len: u32,
    document: *const u8,
    document_len: u32,
    user_data: *mut c_void,
    reply: *mut CustomJobReplyC,
) -> i32;

/// The application's custom-job callback and its user data.
#[derive(Clone, Copy, Debug)]
pub struct CustomJobHook {
    /// The callback.
    pub cb: CustomJobCb,
    /// Its user data.
    pub user_data: UserData,
}

impl CustomJobHook {
    /// Ask the application; `None` when it declines.
    pub fn ask(&self, job: &CustomJob<'_>) -> Option<CustomJobReplyC> {
        let mut reply = CustomJobReplyC::default();
        // SAFETY: the pointers are valid for the lengths given for the whole
        // call, `reply` is writable, and the application registered `cb` with
        // this user data for exactly this call.
        let rc = unsafe {
            (self.cb)(
                job.job_id.as_ptr(),
                job.job_id.len() as u32,
                job.document.as_ptr(),
                job.document.len() as u32,
                self.user_data.0,
                &mut reply,
            )
        };
        (rc == 0).then_some(reply)
    }
}

/// `ota_agent_event_cb_t`.
pub type EventCb = unsafe extern "C" fn(event: *const EventC, user_data: *mut c_void);

/// `struct ota_agent_params`: what `ota_agent_init()` takes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ParamsC {
    /// The application's `struct mqtt_client` (must outlive the agent).
    pub client: *mut c_void,
    /// Thing name (not NUL-terminated); null or empty for `CONFIG_OTA_AGENT_THING_NAME`.
    pub thing_name: *const u8,
    /// Its length.
    pub thing_name_len: u32,
    /// SEC1 P-256 code-signing key; null for `CONFIG_OTA_AGENT_SIGNING_KEY`.
    pub signing_key: *const u8,
    /// Its length (65 or 33).
    pub signing_key_len: u32,
    /// Event callback (may be null).
    pub event_cb: Option<EventCb>,
    /// Custom job callback (may be null: every non-OTA job is declined).
    pub custom_job_cb: Option<CustomJobCb>,
    /// Passed back to both callbacks.
    pub user_data: *mut c_void,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ota_agent::{ImageError, PortError};

    #[test]
    fn events_carry_reason_details() {
        let e = EventC::from(Event::Fail(FailReason::Flash(PortError(-5))));
        assert_eq!((e.kind, e.reason, e.port_error), (5, 8, -5));
        // SAFETY: the text points at a static str of `text_len` bytes.
        let text = unsafe { core::slice::from_raw_parts(e.text, e.text_len as usize) };
        assert_eq!(text, FailReason::Flash(PortError(-5)).text().as_bytes());
        let e = EventC::from(Event::SelfTestFailed(FailReason::Image(
            ImageError::HashMismatch,
        )));
        assert_eq!((e.kind, e.reason, e.detail), (6, 10, 5));
        let e = EventC::from(Event::StartTest);
        assert_eq!((e.kind, e.reason, e.text.is_null()), (4, 0, true));
    }

    #[test]
    fn codes_round_trip() {
        assert_eq!(state_code(State::Stopped), 9);
        assert_eq!(image_state_code(ImageState::Aborted), 4);
        assert_eq!(verdict_from_code(1), Some(ImageVerdict::Accepted));
        assert_eq!(verdict_from_code(9), None);
        assert_eq!(api_errno(ApiError::Platform(PortError(-14))), -14);
        assert_eq!(api_errno(ApiError::NotStarted), -ENODEV);
    }

    #[test]
    fn custom_job_replies() {
        let failed = CustomJobReplyC {
            status: 3,
            code: 7,
            sub: 9,
        };
        assert_eq!(
            failed.reply(),
            CustomJobReply::Claim(CustomJobStatus::Failed { code: 7, sub: 9 })
        );
        assert_eq!(CustomJobReplyC::default().reply(), CustomJobReply::Decline);
    }

    unsafe extern "C" fn claim(
        id: *const u8,
        len: u32,
        _doc: *const u8,
        _doc_len: u32,
        user: *mut c_void,
        reply: *mut CustomJobReplyC,
    ) -> i32 {
        // SAFETY: the hook passes a valid id and a writable reply; `user`
        // points at the test's counter.
        unsafe {
            assert_eq!(core::slice::from_raw_parts(id, len as usize), b"job-1");
            *(user as *mut u32) += 1;
            (*reply).status = 2;
        }
        0
    }

    #[test]
    fn custom_job_hook_calls_back() {
        let mut calls = 0u32;
        let hook = CustomJobHook {
            cb: claim,
            user_data: UserData(&mut calls as *mut u32 as *mut c_void),
        };
        let job = CustomJob {
            job_id: "job-1",
            document: b"{}",
        };
        assert_eq!(
            hook.ask(&job).map(CustomJobReplyC::reply),
            Some(CustomJobReply::Claim(CustomJobStatus::Succeeded))
        );
        assert_eq!(calls, 1);
    }
}
