//! The demo's verdict: every claim the story made, checked against the
//! service, the device and its flash.

use ota_agent::mcuboot::{ImageVersion, IMAGE_MAGIC};
use ota_agent::Statistics;
use ota_agent_host::{DeviceStatus, Layout};
use otactl::service::{BlockCounts, Execution, JobStatus};

use crate::cmd::device::show_version;

/// One claim and whether it holds.
pub struct Check {
    pub claim: String,
    pub holds: bool,
    pub detail: String,
}

/// What the scenario should end with.
pub struct Expected {
    pub status: JobStatus,
    pub reason: &'static str,
    pub version: ImageVersion,
    /// The bytes that must be in the primary slot.
    pub primary: Vec<u8>,
    /// Whether a download was refused after verification (the slot must
    /// have been invalidated).
    pub refused: bool,
}

/// What the demo observed.
pub struct Observed<'a> {
    pub execution: Option<&'a Execution>,
    pub status: &'a DeviceStatus,
    pub flash: &'a [u8],
    pub layout: Layout,
    /// The agent's statistics when the download ended (Activate or Fail).
    pub download: Option<Statistics>,
    /// Blocks the agent had to fetch (all, or those after the resume point).
    pub blocks_to_fetch: Option<u32>,
    /// Per-block serving counts (MQTT) and the resume point, after a power cut.
    pub resume: Option<(BlockCounts, u32)>,
}

fn check(claim: impl Into<String>, holds: bool, detail: impl Into<String>) -> Check {
    Check {
        claim: claim.into(),
        holds,
        detail: detail.into(),
    }
}

/// Check everything.
pub fn verify(expected: &Expected, seen: &Observed<'_>) -> Vec<Check> {
    let mut checks = Vec::new();
    let (status, reason) = seen.execution.map_or(("none".to_owned(), None), |e| {
        (
            e.status.as_str().to_owned(),
            e.status_details.get("reason").cloned(),
        )
    });
    let reason_ok = expected.reason.is_empty() || reason.as_deref() == Some(expected.reason);
    checks.push(check(
        format!("the service has the job {}", expected.status.as_str()),
        seen.execution.is_some_and(|e| e.status == expected.status) && reason_ok,
        format!("{status}, reason {reason:?}"),
    ));
    let s = seen.status;
    checks.push(check(
        format!(
            "the device runs {}, confirmed",
            show_version(&expected.version)
        ),
        s.boot.version == expected.version && s.confirmed && s.halted.is_none(),
        format!(
            "{} ({}), {} boots",
            show_version(&s.boot.version),
            if s.confirmed {
                "confirmed"
            } else {
                "NOT confirmed"
            },
            s.boots
        ),
    ));
    let primary = slot(
        seen.flash,
        seen.layout.slot0().offset(),
        expected.primary.len(),
    );
    checks.push(check(
        format!(
            "the primary slot holds exactly the {}-byte image of {}",
            expected.primary.len(),
            show_version(&expected.version)
        ),
        primary == Some(&expected.primary[..]),
        match primary {
            Some(p) if p == &expected.primary[..] => "byte for byte".to_owned(),
            Some(p) => format!(
                "{} bytes differ",
                p.iter()
                    .zip(&expected.primary)
                    .filter(|(a, b)| a != b)
                    .count()
            ),
            None => "the slot is outside the flash".to_owned(),
        },
    ));
    if expected.refused {
        let magic = slot(seen.flash, seen.layout.slot1().offset(), 4);
        checks.push(check(
            "the refused download was made unbootable in the secondary slot",
            magic.is_some_and(|m| m != IMAGE_MAGIC.to_le_bytes()),
            "no MCUboot header left",
        ));
    }
    if let (Some(stats), Some(blocks)) = (seen.download, seen.blocks_to_fetch) {
        checks.push(check(
            "the agent wrote every block it fetched once, and dropped nothing",
            stats.processed == blocks && stats.dropped == 0,
            format!("{blocks} to fetch; {}", show_statistics(&stats)),
        ));
    }
    if let Some((counts, resumed_at)) = &seen.resume {
        let again: Vec<u32> = counts
            .iter()
            .filter(|(&b, &n)| b < *resumed_at && n != 1)
            .map(|(&b, _)| b)
            .collect();
        checks.push(check(
            "after the power cut the device resumed from its record, and no block before \
             the resume point was served twice",
            *resumed_at > 0 && again.is_empty(),
            format!("resumed at block {resumed_at}; served again before it: {again:?}"),
        ));
    }
    checks
}

fn slot(flash: &[u8], offset: u32, len: usize) -> Option<&[u8]> {
    let start = offset as usize;
    flash.get(start..start.checked_add(len)?)
}

/// `received 64, queued 64, processed 64, dropped 0`.
pub fn show_statistics(s: &Statistics) -> String {
    format!(
        "received {}, queued {}, processed {}, dropped {}",
        s.received, s.queued, s.processed, s.dropped
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ota_agent::{ImageState, State};
    use ota_agent_host::device::BootInfo;
    use ota_agent_host::SwapType;

    fn status(version: ImageVersion, confirmed: bool) -> DeviceStatus {
        DeviceStatus {
            boot: BootInfo {
                version,
                confirmed,
                swap: SwapType::None,
                resumed_swap: false,
                rejected_secondary: false,
                firmware: Default::default(),
            },
            confirmed,
            boots: 2,
            power_cuts: 0,
            connected: true,
            state: State::WaitingForJob,
            image_state: ImageState::Accepted,
            job_id: None,
            progress: None,
            statistics: Statistics::default(),
            halted: None,
        }
    }

    #[test]
    fn every_claim_is_checked_against_what_was_seen() {
        let v2 = ImageVersion {
            major: 1,
            minor: 1,
            ..ImageVersion::default()
        };
        let layout = Layout::nrf52840dk();
        let image = vec![7u8; 100];
        let mut flash = vec![0xffu8; layout.geometry().size() as usize];
        let at = layout.slot0().offset() as usize;
        flash[at..at + 100].copy_from_slice(&image);
        let expected = Expected {
            status: JobStatus::Succeeded,
            reason: "accepted  v1.1.0",
            version: v2,
            primary: image,
            refused: false,
        };
        let good = status(v2, true);
        let download = Statistics {
            received: 4,
            queued: 4,
            processed: 4,
            dropped: 0,
        };
        let seen = |status, flash| Observed {
            execution: None,
            status,
            flash,
            layout,
            download: Some(download),
            blocks_to_fetch: Some(4),
            resume: Some((BlockCounts::from([(0, 1), (1, 2)]), 2)),
        };
        let results = verify(&expected, &seen(&good, &flash));
        let holds: Vec<bool> = results.iter().map(|c| c.holds).collect();
        // No execution in the service; the resume point saw block 1 twice.
        assert_eq!(holds, [false, true, true, true, false]);

        let on_trial = status(v2, false);
        let mut damaged = flash.clone();
        damaged[at] = 0;
        let results = verify(&expected, &seen(&on_trial, &damaged));
        assert!(!results[1].holds && !results[2].holds);
        assert_eq!(results[2].detail, "1 bytes differ");
    }
}
