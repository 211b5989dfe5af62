//! What the agent tells the application: states, events, statistics.

use crate::reason::FailReason;

/// The agent's state, named as in the C agent (`OtaState_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Created, not started.
    Init,
    /// A job request is about to go out.
    RequestingJob,
    /// Idle: waiting for a job document (or for the application's verdict in self test).
    WaitingForJob,
    /// A job was accepted and its transfer is being set up.
    CreatingFile,
    /// A block (or range) request is about to go out.
    RequestingFileBlock,
    /// Waiting for file data.
    WaitingForFileBlock,
    /// The file is complete: verifying it, reporting it, or waiting for activation.
    ClosingFile,
    /// Suspended by the application; nothing goes out until it resumes.
    Suspended,
    /// Shut down (or rebooting).
    Stopped,
}

/// The agent's view of the image, as `OTA_GetImageState` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageState {
    /// Nothing known.
    Unknown,
    /// A new image is running its self test.
    Testing,
    /// The new image was accepted and committed.
    Accepted,
    /// The new image was rejected (rolled back).
    Rejected,
    /// The job was aborted.
    Aborted,
}

/// What the application can set with [`Agent::set_image_state`](crate::Agent::set_image_state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageVerdict {
    /// The self test passed: report SUCCEEDED, then confirm the image.
    Accepted,
    /// The self test failed: report FAILED, then roll back.
    Rejected,
    /// Abort the current job: report FAILED `aborted`, leave the slot unbootable.
    Aborted,
}

/// An application event (`OtaJobEvent_t`), from [`Agent::poll_event`](crate::Agent::poll_event).
///
/// `Processed` is not an event here: the message buffer is free as soon as
/// `handle_message` returns, and its return value says what happened. The C
/// `ParseCustomJob` event is the synchronous [`Platform::custom_job`](crate::Platform::custom_job)
/// hook, because the application needs the document to decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A job was accepted: an OTA download starts (or resumes), a self test
    /// begins, or a custom job was claimed. The id is [`Agent::job_id`](crate::Agent::job_id).
    ReceivedJob,
    /// The new firmware is downloaded, verified and reported: call
    /// [`Agent::activate_new_image`](crate::Agent::activate_new_image) when ready to reboot.
    Activate,
    /// A non-firmware file is downloaded, verified and reported SUCCEEDED.
    UpdateComplete,
    /// The new image booted and its self-test window is open: test it, then
    /// call [`Agent::set_image_state`](crate::Agent::set_image_state).
    StartTest,
    /// The job failed; it was reported FAILED (when it could be) and the slot
    /// was left unbootable.
    Fail(FailReason),
    /// The self test could not start (version check, state mismatch) or timed
    /// out; the agent rolls back.
    SelfTestFailed(FailReason),
    /// The service has no job for this device.
    NoActiveJob,
}

/// What `handle_message` (or `handle_http_data`) did with its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Processed {
    /// Not on one of the agent's topics.
    NotForAgent,
    /// A job document was read (whatever it said: see events and state).
    JobDocument,
    /// A job document arrived when none was expected, and was dropped.
    JobDocumentIgnored,
    /// File data was written.
    BlockAccepted,
    /// File data was dropped; nothing was written.
    BlockDropped(DropReason),
    /// File data could not be used and the job failed (a flash error, or the
    /// file is not an MCUboot image).
    TransferFailed,
}

/// Why file data was dropped. None of these fails the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// No transfer is running (e.g. a late copy after completion).
    NoTransfer,
    /// The block was already written.
    Duplicate,
    /// Not valid CBOR, or a key missing or of the wrong type.
    Malformed,
    /// `f` is not the job's file id.
    WrongFile,
    /// `i` is past the end of the file, or outside the window.
    OutOfRange,
    /// `l` does not equal the payload length, or not the block's size.
    BadLength,
    /// HTTP data that does not continue at the current offset.
    NotContiguous,
}

/// Block statistics (`OTA_GetStatistics`), reset when a transfer starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    /// Data messages handed to the agent (MQTT blocks and HTTP chunks), plus
    /// those the port dropped before handing them over.
    pub received: u32,
    /// Data messages that reached a running transfer.
    pub queued: u32,
    /// Data messages written to the slot.
    pub processed: u32,
    /// Data messages dropped (by the agent or, reported through
    /// [`Agent::record_dropped`](crate::Agent::record_dropped), by the port).
    pub dropped: u32,
}
