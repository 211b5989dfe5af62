//! Resume across reboots: the record, what it saves, and every way it can
//! fail to match.

use super::harness::*;
use crate::platform::{BootState, PortError, ProgressStore, Version};
use crate::testing::Boot;
use crate::{Config, Event, ImageVerdict};
use std::format;

const STREAM: &str = "AFR_OTA-stream-1";
const DATA: &str = "streams/AFR_OTA-stream-1/data/cbor";

fn cfg(block_size: u32) -> Config {
    Config {
        block_size,
        blocks_per_request: 1,
        resume_every_blocks: 4,
        ..Config::default()
    }
}

/// Deliver blocks `range` of `file` in order.
fn feed(d: &mut Dut, file: &[u8], range: core::ops::Range<u32>) {
    let bs = d.agent.config().block_size as usize;
    for i in range {
        d.msg(DATA, &block(0, i, block_of(file, bs, i)));
    }
}

/// Power off and on: a new agent on the same platform.
fn reboot(d: Dut) -> Dut {
    let (config, now) = (*d.agent.config(), d.now);
    let mut d = Dut::new(config, d.agent.into_platform());
    d.now = now;
    d.agent.start(now).unwrap();
    d.pump();
    d
}

#[test]
fn a_reboot_mid_download_continues_without_fetching_finished_blocks() {
    let file = image(60_000, (1, 1, 0)); // 15 blocks
    let spec = JobSpec::for_file("job-r", &file);
    let mut d = Dut::started(cfg(4096), platform(1 << 20, V1));
    d.job(&spec.doc());
    feed(&mut d, &file, 0..10);
    assert_eq!(d.pf().store.saves, 2, "records at blocks 4 and 8");
    let mut d = reboot(d);
    d.job(&spec.doc());
    assert_eq!(d.take_events(), [Event::ReceivedJob]);
    let reqs = d.stream_requests(STREAM);
    assert_eq!(reqs[0].0, 8, "continues at the last record");
    let served = d.download(STREAM, &file);
    assert_eq!(served, 7, "blocks 8..15 only");
    d.expect_activation(&file);
    assert_eq!(
        d.pf().slot.violations,
        0,
        "the unrecorded blocks 8 and 9 were erased again"
    );
    let first = &d.statuses("job-r")[0];
    assert_eq!(
        first,
        r#"{"status":"IN_PROGRESS","statusDetails":{"receive":"9/15","resume":"resumed"}}"#
    );
}

#[test]
fn records_fall_on_erase_unit_boundaries() {
    // 1 KiB blocks on 4 KiB erase units: a record every 4 blocks at most, and
    // only where a unit starts.
    let file = image(40_000, (1, 1, 0));
    let mut config = cfg(1024);
    config.resume_every_blocks = 3;
    let mut d = Dut::started(config, platform(1 << 20, V1));
    d.job(&JobSpec::for_file("job-r", &file).doc());
    feed(&mut d, &file, 0..13);
    assert_eq!(d.pf().store.saves, 3, "at blocks 4, 8 and 12");
    let spec = JobSpec::for_file("job-r", &file);
    let mut d = reboot(d);
    d.job(&spec.doc());
    assert_eq!(d.stream_requests(STREAM)[0].0, 12);
    d.download(STREAM, &file);
    d.ack_all();
    assert_eq!(d.take_events(), [Event::ReceivedJob, Event::Activate]);
    assert_eq!(d.pf().slot.violations, 0);
}

fn interrupted(file: &[u8], id: &str) -> Dut {
    let mut d = Dut::started(cfg(4096), platform(1 << 20, V1));
    d.job(&JobSpec::for_file(id, file).doc());
    feed(&mut d, file, 0..9);
    reboot(d)
}

#[test]
fn a_record_for_another_job_or_file_starts_clean_and_says_why() {
    let file = image(60_000, (1, 1, 0));
    let cases = [
        (
            JobSpec::for_file("job-other", &file),
            "record for another job",
        ),
        (
            JobSpec::for_file("job-r", &image(60_001, (1, 1, 0))),
            "record for another file",
        ),
    ];
    for (spec, why) in cases {
        let mut d = interrupted(&file, "job-r");
        d.job(&spec.doc());
        assert_eq!(d.stream_requests(STREAM)[0].0, 0);
        assert_eq!(d.pf().store.record, None);
        feed(&mut d, &file, 0..1);
        assert_eq!(
            d.statuses(&spec.id)[0],
            format!(
                r#"{{"status":"IN_PROGRESS","statusDetails":{{"receive":"1/{}","resume":"{why}"}}}}"#,
                spec.size.div_ceil(4096)
            )
        );
    }
}

#[test]
fn a_torn_record_starts_clean() {
    let file = image(60_000, (1, 1, 0));
    let mut d = interrupted(&file, "job-r");
    let rec = d.pf().store.record.as_mut().unwrap();
    let n = rec.len();
    rec.truncate(n - 3);
    d.job(&JobSpec::for_file("job-r", &file).doc());
    assert_eq!(d.stream_requests(STREAM)[0].0, 0);
    feed(&mut d, &file, 0..1);
    assert!(d.statuses("job-r")[0].contains(r#""resume":"record unreadable""#));
}

#[test]
fn a_slot_that_does_not_match_its_record_starts_clean() {
    let file = image(60_000, (1, 1, 0));
    let mut d = interrupted(&file, "job-r");
    d.pf().slot.mem[..4096].fill(0xff); // the header is gone
    d.job(&JobSpec::for_file("job-r", &file).doc());
    assert_eq!(d.stream_requests(STREAM)[0].0, 0);
    d.download(STREAM, &file);
    d.ack_all();
    assert!(d.take_events().contains(&Event::Activate));
    assert_eq!(d.pf().slot.violations, 0);
}

#[test]
fn power_lost_between_verification_and_activation() {
    let file = image(20_000, (1, 1, 0));
    let spec = JobSpec::for_file("job-v", &file);
    for m3_delivered in [false, true] {
        let mut d = Dut::started(cfg(4096), platform(1 << 20, V1));
        d.job(&spec.doc());
        d.download(STREAM, &file);
        if m3_delivered {
            d.ack_all();
        }
        let mut d = reboot(d);
        // The service shows self_test only if M3 reached it.
        let doc = if m3_delivered {
            spec.clone().self_test("0x01000000").doc()
        } else {
            spec.doc()
        };
        d.job(&doc);
        assert!(
            d.stream_requests(STREAM).is_empty(),
            "nothing is downloaded again"
        );
        assert!(d.statuses("job-v")[0].contains(r#""self_test":"ready""#));
        d.ack_all();
        assert_eq!(
            d.take_events().last(),
            Some(&Event::Activate),
            "m3 delivered: {m3_delivered}"
        );
        d.agent.activate_new_image(d.now).unwrap();
        assert_eq!(d.pf().store.record, None, "cleared before the reboot");
    }
}

#[test]
fn a_reverted_update_is_not_activated_again() {
    // Activation clears the record, so after MCUboot reverts, the old
    // firmware reports the job FAILED instead of activating it again.
    let file = image(20_000, (1, 1, 0));
    let spec = JobSpec::for_file("job-v", &file);
    let mut d = Dut::started(cfg(4096), platform(1 << 20, V1));
    d.job(&spec.doc());
    d.download(STREAM, &file);
    d.ack_all();
    d.agent.activate_new_image(d.now).unwrap();
    let mut d = reboot(d);
    d.job(&spec.clone().self_test("0x01000000").doc());
    assert_eq!(
        d.statuses("job-v"),
        [r#"{"status":"FAILED","statusDetails":{"reason":"rejected: 0x00000011"}}"#]
    );
}

#[test]
fn resume_disabled_saves_only_the_verified_marker() {
    let file = image(60_000, (1, 1, 0));
    let mut config = cfg(4096);
    config.resume_every_blocks = 0;
    let mut d = Dut::started(config, platform(1 << 20, V1));
    d.job(&JobSpec::for_file("j", &file).doc());
    d.download(STREAM, &file);
    assert_eq!(d.pf().store.saves, 1, "only the verified marker");
}

/// A store that declares it keeps nothing, and counts the calls the agent
/// should not make.
#[derive(Default)]
struct KeepsNothing {
    calls: u32,
}

impl ProgressStore for KeepsNothing {
    const ENABLED: bool = false;
    fn load(&mut self, _buf: &mut [u8]) -> Option<usize> {
        self.calls += 1;
        None
    }
    fn save(&mut self, _record: &[u8]) -> Result<(), PortError> {
        self.calls += 1;
        Ok(())
    }
    fn clear(&mut self) -> Result<(), PortError> {
        self.calls += 1;
        Ok(())
    }
}

#[test]
fn a_store_that_keeps_nothing_is_never_called() {
    let file = image(60_000, (1, 1, 0));
    let spec = JobSpec::for_file("job-n", &file);
    let pf = platform(1 << 20, V1).with_store(KeepsNothing::default());
    let mut d: Dut<512, KeepsNothing> = Dut::started_with_url_cap(cfg(4096), pf);
    d.job(&spec.doc());
    assert_eq!(d.download(STREAM, &file), 15);
    d.ack_all();
    assert_eq!(d.take_events().last(), Some(&Event::Activate));
    d.agent.activate_new_image(d.now).unwrap();

    // The new image on trial: accepted, committed.
    let (config, now) = (*d.agent.config(), d.now);
    let mut pf = d.agent.into_platform();
    assert!(pf.boot.upgrade_requested);
    pf.boot = Boot::new(Version::new(1, 1, 0), BootState::PendingCommit);
    let mut d: Dut<512, KeepsNothing> = Dut::started_with_url_cap(config, pf);
    d.now = now;
    d.job(&spec.clone().self_test("0x01000000").doc());
    d.agent
        .set_image_state(d.now, ImageVerdict::Accepted)
        .unwrap();
    d.pump();
    d.ack_all();
    assert!(d.pf().boot.confirmed);
    assert_eq!(d.pf().store.calls, 0);
}
