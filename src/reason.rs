//! Why a job failed, and how that reads on the wire.
//!
//! Every failure has a text (for logs and the application) and a status
//! reason in the C agent's format (for the Jobs service), so consoles and
//! scripts that parse `"reason"` keep working. Where the C agent reports the
//! same situation, the reason is byte-identical; where it stays silent, the
//! code is chosen from the same tables (`OtaErr_t`, `OtaJobParseErr_t`, PAL
//! main codes) and, for failures the C agent has no code for, from
//! [`ota_err`] values above 0x1f.

use crate::platform::PortError;

/// `OtaErr_t` values used in status reasons (C values, plus ours from 0x20).
pub mod ota_err {
    /// The job document could not be used (`OtaErrJobParserError`).
    pub const JOB_PARSER_ERROR: u32 = 0x0c;
    /// No data plane in common (`OtaErrInvalidDataProtocol`).
    pub const INVALID_DATA_PROTOCOL: u32 = 0x0d;
    /// Retry budget spent (`OtaErrMomentumAbort`).
    pub const MOMENTUM_ABORT: u32 = 0x0e;
    /// The image is older than the running one (`OtaErrDowngradeNotAllowed`).
    pub const DOWNGRADE_NOT_ALLOWED: u32 = 0x0f;
    /// The image has the running version (`OtaErrSameFirmwareVersion`).
    pub const SAME_FIRMWARE_VERSION: u32 = 0x10;
    /// Bootloader and job disagree about self test (`OtaErrImageStateMismatch`).
    pub const IMAGE_STATE_MISMATCH: u32 = 0x11;
    /// The application aborted (`OtaErrUserAbort`).
    pub const USER_ABORT: u32 = 0x13;
    /// Ours: the self-test window closed without a verdict.
    pub const SELF_TEST_TIMEOUT: u32 = 0x20;
    /// Ours: the application rejected the image in its self test.
    pub const SELF_TEST_REJECTED: u32 = 0x21;
}

/// PAL main codes (upper byte of `OtaPalStatus_t`) used in status reasons.
pub mod pal {
    /// Signature check failed.
    pub const SIGNATURE_CHECK_FAILED: u32 = 0xe3;
    /// Could not prepare the receive slot (erase failed).
    pub const RX_FILE_CREATE_FAILED: u32 = 0xe4;
    /// The file does not fit the slot.
    pub const RX_FILE_TOO_LARGE: u32 = 0xe5;
    /// Activation (bootloader request) failed.
    pub const ACTIVATE_FAILED: u32 = 0xec;
    /// Writing or reading the slot failed.
    pub const FILE_ABORT: u32 = 0xed;
    /// The file is complete but not a valid image (`FileClose`).
    pub const FILE_CLOSE: u32 = 0xee;
}

/// Why a job document cannot be used. Also what `otactl job check` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobError {
    /// The payload is not valid JSON (or nests deeper than 16 levels).
    InvalidJson,
    /// A required key is missing.
    Missing(&'static str),
    /// A key has the wrong JSON type.
    WrongType(&'static str),
    /// A number is not a decimal or `0x` hex u32 (sign, fraction, exponent, overflow).
    BadNumber(&'static str),
    /// A string is longer than the agent keeps, or has characters it refuses.
    BadString(&'static str),
    /// The signature is not valid base64, or longer than the agent keeps.
    BadSignature,
    /// `filesize` is 0.
    ZeroFileSize,
    /// `files` is empty.
    NoFiles,
}

impl JobError {
    /// The `OtaJobParseErr_t` sub code for the status reason.
    pub const fn parse_err_code(self) -> u32 {
        match self {
            JobError::ZeroFileSize => 3,
            _ => 4,
        }
    }

    /// A short English description.
    pub fn text(self) -> &'static str {
        match self {
            JobError::InvalidJson => "not valid JSON",
            JobError::Missing(k) => k,
            JobError::WrongType(k) => k,
            JobError::BadNumber(k) => k,
            JobError::BadString(k) => k,
            JobError::BadSignature => "signature is not valid base64 of at most 72 bytes",
            JobError::ZeroFileSize => "filesize is 0",
            JobError::NoFiles => "files is empty",
        }
    }

    /// The kind of problem (`text` names the key for keyed kinds).
    pub fn kind(self) -> &'static str {
        match self {
            JobError::InvalidJson => "invalid JSON",
            JobError::Missing(_) => "missing key",
            JobError::WrongType(_) => "wrong type for key",
            JobError::BadNumber(_) => "not a u32 (decimal or 0x hex)",
            JobError::BadString(_) => "string too long or bad characters",
            JobError::BadSignature => "bad signature",
            JobError::ZeroFileSize => "zero file size",
            JobError::NoFiles => "no files",
        }
    }
}

/// Problems with the MCUboot image found before activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// The header magic is not MCUboot's.
    BadMagic,
    /// Header, image and TLV sizes do not add up to the file size or the slot.
    BadSizes,
    /// No TLV area, or a malformed one.
    BadTlv,
    /// No SHA-256 TLV.
    NoHash,
    /// The SHA-256 TLV does not match the image.
    HashMismatch,
}

impl ImageError {
    /// The sub code after `FileClose` (0xee) in the status reason.
    pub const fn sub_code(self) -> u32 {
        match self {
            ImageError::BadMagic => 1,
            ImageError::BadSizes => 2,
            ImageError::BadTlv => 3,
            ImageError::NoHash => 4,
            ImageError::HashMismatch => 5,
        }
    }

    /// A short English description.
    pub fn text(self) -> &'static str {
        match self {
            ImageError::BadMagic => "not an MCUboot image (bad header magic)",
            ImageError::BadSizes => "MCUboot header sizes do not match the file or the slot",
            ImageError::BadTlv => "MCUboot TLV area is malformed",
            ImageError::NoHash => "MCUboot image has no SHA-256 TLV",
            ImageError::HashMismatch => "MCUboot SHA-256 TLV does not match the image",
        }
    }
}

/// Why a job ended without success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailReason {
    /// The job document is unusable.
    Job(JobError),
    /// A custom job that the application did not claim.
    CustomJobDeclined,
    /// The file is larger than the slot.
    FileTooLarge,
    /// The job offers no data plane this agent supports (or its URL does not fit).
    UnsupportedProtocol,
    /// Too many requests in a row went unanswered.
    RetriesExhausted,
    /// The application aborted the job.
    UserAbort,
    /// Erasing the slot failed.
    Erase(PortError),
    /// Writing or reading the slot failed.
    Flash(PortError),
    /// The signature does not verify.
    Signature,
    /// The file is not a valid MCUboot image.
    Image(ImageError),
    /// The new image is older than the running one.
    Downgrade,
    /// The new image has the running version.
    SameVersion,
    /// The bootloader refused the upgrade request.
    Activate(PortError),
    /// The application rejected the new image.
    SelfTestRejected,
    /// The self-test window closed without a verdict.
    SelfTestTimeout,
    /// The bootloader and the job disagree about self test.
    ImageStateMismatch,
    /// Confirming the image in the bootloader failed.
    Confirm(PortError),
    /// The service never acknowledged a status the next step depends on.
    StatusNotDelivered,
    /// The job was cancelled or replaced in the service.
    Cancelled,
}

/// How a reason is rendered into `statusDetails.reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireReason {
    /// `"0x<main>: 0x<sub>"` (the C agent's FailedWithVal).
    Codes(u32, u32),
    /// `"rejected: 0x<code>"`.
    Rejected(u32),
    /// `"aborted: 0x<code>"`.
    Aborted(u32),
}

/// The shape of a [`FailReason`]'s status reason (see [`WIRE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// [`WireReason::Codes`], the sub code from the payload (or 0).
    Codes,
    /// [`WireReason::Rejected`].
    Rejected,
    /// [`WireReason::Aborted`].
    Aborted,
    /// No status is published.
    Silent,
}

/// A main code that fits the [`WIRE`] table (a code above 0xff stops the build).
const fn byte(code: u32) -> u8 {
    assert!(code <= 0xff);
    code as u8
}

/// The form and main code of each [`FailReason`], one row per variant in the
/// order of [`FailReason::row`]. A table rather than a match that builds each
/// reason: measured 64 bytes smaller on thumbv7em. The test
/// `every_reason_has_its_row` checks every row against the mapping
/// spelled out as a match.
const WIRE: [(Form, u8); 19] = [
    (Form::Codes, byte(ota_err::JOB_PARSER_ERROR)), // Job
    (Form::Codes, byte(ota_err::JOB_PARSER_ERROR)), // CustomJobDeclined
    (Form::Codes, byte(pal::RX_FILE_TOO_LARGE)),    // FileTooLarge
    (Form::Aborted, byte(ota_err::INVALID_DATA_PROTOCOL)), // UnsupportedProtocol
    (Form::Aborted, byte(ota_err::MOMENTUM_ABORT)), // RetriesExhausted
    (Form::Aborted, byte(ota_err::USER_ABORT)),     // UserAbort
    (Form::Codes, byte(pal::RX_FILE_CREATE_FAILED)), // Erase
    (Form::Codes, byte(pal::FILE_ABORT)),           // Flash
    (Form::Codes, byte(pal::SIGNATURE_CHECK_FAILED)), // Signature
    (Form::Codes, byte(pal::FILE_CLOSE)),           // Image
    (Form::Rejected, byte(ota_err::DOWNGRADE_NOT_ALLOWED)), // Downgrade
    (Form::Rejected, byte(ota_err::SAME_FIRMWARE_VERSION)), // SameVersion
    (Form::Codes, byte(pal::ACTIVATE_FAILED)),      // Activate
    (Form::Rejected, byte(ota_err::SELF_TEST_REJECTED)), // SelfTestRejected
    (Form::Rejected, byte(ota_err::SELF_TEST_TIMEOUT)), // SelfTestTimeout
    (Form::Rejected, byte(ota_err::IMAGE_STATE_MISMATCH)), // ImageStateMismatch
    (Form::Codes, byte(pal::ACTIVATE_FAILED)),      // Confirm
    (Form::Silent, 0),                              // StatusNotDelivered
    (Form::Silent, 0),                              // Cancelled
];

impl FailReason {
    /// This variant's row in [`WIRE`].
    fn row(self) -> usize {
        use FailReason::*;
        match self {
            Job(_) => 0,
            CustomJobDeclined => 1,
            FileTooLarge => 2,
            UnsupportedProtocol => 3,
            RetriesExhausted => 4,
            UserAbort => 5,
            Erase(_) => 6,
            Flash(_) => 7,
            Signature => 8,
            Image(_) => 9,
            Downgrade => 10,
            SameVersion => 11,
            Activate(_) => 12,
            SelfTestRejected => 13,
            SelfTestTimeout => 14,
            ImageStateMismatch => 15,
            Confirm(_) => 16,
            StatusNotDelivered => 17,
            Cancelled => 18,
        }
    }

    /// The status reason, or `None` when no status is published (cancelled
    /// jobs are gone from the service; an undelivered status cannot be
    /// delivered).
    pub fn wire(self) -> Option<WireReason> {
        use FailReason::*;
        let sub = match self {
            Job(e) => e.parse_err_code(),
            CustomJobDeclined => 4,
            Erase(e) | Flash(e) | Activate(e) | Confirm(e) => e.0 as u32,
            Image(e) => e.sub_code(),
            _ => 0,
        };
        let (form, code) = WIRE[self.row()];
        let code = u32::from(code);
        Some(match form {
            Form::Codes => WireReason::Codes(code, sub),
            Form::Rejected => WireReason::Rejected(code),
            Form::Aborted => WireReason::Aborted(code),
            Form::Silent => return None,
        })
    }

    /// A short English description.
    pub fn text(self) -> &'static str {
        use FailReason::*;
        match self {
            Job(e) => e.kind(),
            CustomJobDeclined => "custom job not claimed by the application",
            FileTooLarge => "file is larger than the image slot",
            UnsupportedProtocol => "no supported data protocol in the job",
            RetriesExhausted => "no progress after the retry budget",
            UserAbort => "aborted by the application",
            Erase(_) => "erasing the image slot failed",
            Flash(_) => "writing or reading the image slot failed",
            Signature => "signature verification failed",
            Image(e) => e.text(),
            Downgrade => "image version is older than the running one",
            SameVersion => "image version equals the running one",
            Activate(_) => "bootloader refused the upgrade request",
            SelfTestRejected => "self test rejected by the application",
            SelfTestTimeout => "self test timed out",
            ImageStateMismatch => "bootloader and job disagree about self test",
            Confirm(_) => "confirming the image failed",
            StatusNotDelivered => "status update was never acknowledged",
            Cancelled => "job cancelled or replaced",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The status reason of each variant, spelled out (exhaustive: a new
    /// variant must be given one here).
    fn expected(r: FailReason) -> Option<WireReason> {
        use FailReason::*;
        use WireReason::*;
        let port = |e: PortError| e.0 as u32;
        Some(match r {
            Job(e) => Codes(ota_err::JOB_PARSER_ERROR, e.parse_err_code()),
            CustomJobDeclined => Codes(ota_err::JOB_PARSER_ERROR, 4),
            FileTooLarge => Codes(pal::RX_FILE_TOO_LARGE, 0),
            UnsupportedProtocol => Aborted(ota_err::INVALID_DATA_PROTOCOL),
            RetriesExhausted => Aborted(ota_err::MOMENTUM_ABORT),
            UserAbort => Aborted(ota_err::USER_ABORT),
            Erase(e) => Codes(pal::RX_FILE_CREATE_FAILED, port(e)),
            Flash(e) => Codes(pal::FILE_ABORT, port(e)),
            Signature => Codes(pal::SIGNATURE_CHECK_FAILED, 0),
            Image(e) => Codes(pal::FILE_CLOSE, e.sub_code()),
            Downgrade => Rejected(ota_err::DOWNGRADE_NOT_ALLOWED),
            SameVersion => Rejected(ota_err::SAME_FIRMWARE_VERSION),
            Activate(e) => Codes(pal::ACTIVATE_FAILED, port(e)),
            SelfTestRejected => Rejected(ota_err::SELF_TEST_REJECTED),
            SelfTestTimeout => Rejected(ota_err::SELF_TEST_TIMEOUT),
            ImageStateMismatch => Rejected(ota_err::IMAGE_STATE_MISMATCH),
            Confirm(e) => Codes(pal::ACTIVATE_FAILED, port(e)),
            StatusNotDelivered | Cancelled => return None,
        })
    }

    #[test]
    fn every_reason_has_its_row() {
        use FailReason::*;
        let port = PortError(-7);
        let all = [
            Job(JobError::Missing("files")),
            CustomJobDeclined,
            FileTooLarge,
            UnsupportedProtocol,
            RetriesExhausted,
            UserAbort,
            Erase(port),
            Flash(port),
            Signature,
            Image(ImageError::NoHash),
            Downgrade,
            SameVersion,
            Activate(port),
            SelfTestRejected,
            SelfTestTimeout,
            ImageStateMismatch,
            Confirm(port),
            StatusNotDelivered,
            Cancelled,
        ];
        // One variant per row, every row used.
        assert_eq!(all.len(), WIRE.len());
        for (i, r) in all.iter().enumerate() {
            assert_eq!(r.row(), i, "{r:?}");
            assert_eq!(r.wire(), expected(*r), "{r:?}");
        }
        // The payloads' sub codes.
        assert_eq!(
            Job(JobError::ZeroFileSize).wire(),
            expected(Job(JobError::ZeroFileSize))
        );
        for e in [
            ImageError::BadMagic,
            ImageError::BadSizes,
            ImageError::BadTlv,
            ImageError::HashMismatch,
        ] {
            assert_eq!(Image(e).wire(), expected(Image(e)));
        }
        assert_eq!(
            Confirm(PortError(i32::MIN)).wire(),
            expected(Confirm(PortError(i32::MIN)))
        );
    }
}
