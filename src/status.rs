//! Job status update bodies (PROTOCOL.md §4), byte for byte as the C agent
//! writes them: no spaces, string values, 8-digit lowercase hex.

use crate::platform::{CustomJobStatus, Version};
use crate::reason::WireReason;
use crate::topics::Written;
use crate::transmit::QoS;
use crate::writer::SliceWriter;

/// A status update for the active job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// M1: download progress, with a note on the resume decision the first
    /// time after a job (re)starts.
    Progress {
        /// Blocks received.
        received: u32,
        /// Blocks in the file.
        total: u32,
        /// Why the download resumed or started over (`"resume"` key).
        resume: Option<&'static str>,
    },
    /// M3: downloaded and verified; `updatedBy` is the running version.
    SelfTestReady {
        /// Packed running version.
        updated_by: u32,
    },
    /// M4: the new image is on trial; carries the new running version.
    SelfTestActive {
        /// Packed running version.
        running: u32,
    },
    /// M5: accepted after the self test (or M6, a non-firmware file).
    Succeeded {
        /// Packed running version.
        running: u32,
        /// Packed version that did the download.
        updated_by: u32,
    },
    /// M7–M10: failed.
    Failed(WireReason),
    /// M11: a custom job claimed by the application.
    Custom(CustomJobStatus),
}

impl Status {
    /// QoS 0 for progress, 1 for everything the service must not lose.
    pub(crate) fn qos(&self) -> QoS {
        match self {
            Status::Progress { .. } | Status::Custom(CustomJobStatus::InProgress) => {
                QoS::AtMostOnce
            }
            _ => QoS::AtLeastOnce,
        }
    }

    /// True for SUCCEEDED and FAILED.
    pub(crate) fn is_terminal(&self) -> bool {
        matches!(
            self,
            Status::Succeeded { .. }
                | Status::Failed(_)
                | Status::Custom(CustomJobStatus::Succeeded | CustomJobStatus::Failed { .. })
        )
    }

    /// Write the JSON body.
    pub(crate) fn render(&self, w: &mut SliceWriter) -> Written {
        let mut nums = [0u32; 6];
        // The opening and the `statusDetails` key, which the bodies share,
        // are the first two `%`s of each template (the first only, in the
        // two without `statusDetails`).
        let mut strs = [r#"{"status":""#, r#"","statusDetails":{""#, "", ""];
        let template = match *self {
            Status::Progress {
                received,
                total,
                resume,
            } => {
                nums[..2].copy_from_slice(&[received, total]);
                if let Some(note) = resume {
                    strs[2..].copy_from_slice(&[r#"","resume":""#, note]);
                }
                r##"%IN_PROGRESS%receive":"#/#%%"}}"##
            }
            Status::SelfTestReady { updated_by: v } | Status::SelfTestActive { running: v } => {
                nums[0] = v;
                strs[2] = match self {
                    Status::SelfTestReady { .. } => "ready",
                    _ => "active",
                };
                r##"%IN_PROGRESS%self_test":"%","updatedBy":"0x^"}}"##
            }
            Status::Succeeded {
                running,
                updated_by,
            } => {
                let (r, u) = (
                    Version::from_packed(running),
                    Version::from_packed(updated_by),
                );
                nums = [
                    r.major.into(),
                    r.minor.into(),
                    r.build.into(),
                    u.major.into(),
                    u.minor.into(),
                    u.build.into(),
                ];
                r##"%SUCCEEDED%reason":"accepted  v#.#.#","updatedBy":"  v#.#.#"}}"##
            }
            Status::Failed(WireReason::Codes(main, sub))
            | Status::Custom(CustomJobStatus::Failed { code: main, sub }) => {
                nums[..2].copy_from_slice(&[main, sub]);
                r##"%FAILED%reason":"0x^: 0x^"}}"##
            }
            Status::Failed(WireReason::Rejected(code) | WireReason::Aborted(code)) => {
                nums[0] = code;
                strs[2] = match self {
                    Status::Failed(WireReason::Rejected(_)) => "rejected",
                    _ => "aborted",
                };
                r##"%FAILED%reason":"%: 0x^"}}"##
            }
            Status::Custom(CustomJobStatus::InProgress) => r#"%IN_PROGRESS"}"#,
            Status::Custom(CustomJobStatus::Succeeded) => r#"%SUCCEEDED"}"#,
        };
        w.fill(template, &nums, &strs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason::{FailReason, JobError};

    fn body(s: Status) -> std::string::String {
        let mut buf = [0u8; 200];
        let mut w = SliceWriter::new(&mut buf);
        s.render(&mut w).unwrap();
        let (done, _) = w.split();
        std::string::String::from_utf8(done.to_vec()).unwrap()
    }

    fn failed(r: FailReason) -> Status {
        Status::Failed(r.wire().unwrap())
    }

    #[test]
    fn byte_exact_bodies_of_protocol_section_4() {
        assert_eq!(
            body(Status::Progress {
                received: 1,
                total: 3,
                resume: None
            }),
            r#"{"status":"IN_PROGRESS","statusDetails":{"receive":"1/3"}}"#
        );
        assert_eq!(
            body(Status::SelfTestReady {
                updated_by: 0x0100_0001
            }),
            r#"{"status":"IN_PROGRESS","statusDetails":{"self_test":"ready","updatedBy":"0x01000001"}}"#
        );
        assert_eq!(
            body(Status::SelfTestActive {
                running: 0x0100_0001
            }),
            r#"{"status":"IN_PROGRESS","statusDetails":{"self_test":"active","updatedBy":"0x01000001"}}"#
        );
        assert_eq!(
            body(Status::Succeeded {
                running: Version::new(1, 0, 1).packed(),
                updated_by: Version::new(1, 0, 0).packed()
            }),
            r#"{"status":"SUCCEEDED","statusDetails":{"reason":"accepted  v1.0.1","updatedBy":"  v1.0.0"}}"#
        );
        assert_eq!(
            body(failed(FailReason::Downgrade)),
            r#"{"status":"FAILED","statusDetails":{"reason":"rejected: 0x0000000f"}}"#
        );
        assert_eq!(
            body(failed(FailReason::SameVersion)),
            r#"{"status":"FAILED","statusDetails":{"reason":"rejected: 0x00000010"}}"#
        );
        assert_eq!(
            body(failed(FailReason::ImageStateMismatch)),
            r#"{"status":"FAILED","statusDetails":{"reason":"rejected: 0x00000011"}}"#
        );
        assert_eq!(
            body(failed(FailReason::UserAbort)),
            r#"{"status":"FAILED","statusDetails":{"reason":"aborted: 0x00000013"}}"#
        );
        assert_eq!(
            body(failed(FailReason::UnsupportedProtocol)),
            r#"{"status":"FAILED","statusDetails":{"reason":"aborted: 0x0000000d"}}"#
        );
        assert_eq!(
            body(failed(FailReason::CustomJobDeclined)),
            r#"{"status":"FAILED","statusDetails":{"reason":"0x0000000c: 0x00000004"}}"#
        );
        assert_eq!(
            body(failed(FailReason::Job(JobError::ZeroFileSize))),
            r#"{"status":"FAILED","statusDetails":{"reason":"0x0000000c: 0x00000003"}}"#
        );
        assert_eq!(
            body(failed(FailReason::Signature)),
            r#"{"status":"FAILED","statusDetails":{"reason":"0x000000e3: 0x00000000"}}"#
        );
    }

    #[test]
    fn resume_note_and_custom_statuses() {
        assert_eq!(
            body(Status::Progress {
                received: 5,
                total: 9,
                resume: Some("resumed")
            }),
            r#"{"status":"IN_PROGRESS","statusDetails":{"receive":"5/9","resume":"resumed"}}"#
        );
        assert_eq!(
            body(Status::Custom(CustomJobStatus::InProgress)),
            r#"{"status":"IN_PROGRESS"}"#
        );
        assert_eq!(
            body(Status::Custom(CustomJobStatus::Succeeded)),
            r#"{"status":"SUCCEEDED"}"#
        );
        assert_eq!(
            body(Status::Custom(CustomJobStatus::Failed {
                code: 7,
                sub: 0xabc
            })),
            r#"{"status":"FAILED","statusDetails":{"reason":"0x00000007: 0x00000abc"}}"#
        );
    }

    #[test]
    fn qos_and_terminality() {
        let p = Status::Progress {
            received: 1,
            total: 2,
            resume: None,
        };
        assert_eq!(p.qos(), QoS::AtMostOnce);
        assert!(!p.is_terminal());
        let r = Status::SelfTestReady { updated_by: 1 };
        assert_eq!(r.qos(), QoS::AtLeastOnce);
        assert!(!r.is_terminal());
        assert!(failed(FailReason::Signature).is_terminal());
        assert_eq!(
            Status::Custom(CustomJobStatus::InProgress).qos(),
            QoS::AtMostOnce
        );
    }

    #[test]
    fn the_longest_bodies_fit_max_transmit_len() {
        let long = Status::Progress {
            received: u32::MAX,
            total: u32::MAX,
            resume: Some("record is for another file"),
        };
        let max = Version::new(255, 255, 65535);
        let longest = [
            long,
            Status::Succeeded {
                running: max.packed(),
                updated_by: max.packed(),
            },
        ];
        for s in longest {
            // topic budget: 225 bytes
            assert!(body(s).len() + 225 <= crate::MAX_TRANSMIT_LEN);
        }
    }
}
