//! Signature, MCUboot header and TLV, version checks: everything checked
//! before a reboot.

use super::harness::*;
use crate::{Event, FailReason, ImageError, ImageState, Processed};

const DATA: &str = "streams/AFR_OTA-stream-1/data/cbor";

fn run(spec: &JobSpec, file: &[u8], allow_downgrade: bool) -> Dut {
    let config = crate::Config {
        allow_downgrade,
        blocks_per_request: 8,
        ..config()
    };
    let mut d = Dut::started(config, platform(1 << 20, crate::Version::new(1, 1, 0)));
    d.job(&spec.doc());
    d.download("AFR_OTA-stream-1", file);
    d
}

fn failed_with(d: &mut Dut, reason: FailReason, body: &str) {
    let ev = d.take_events();
    assert_eq!(ev.last(), Some(&Event::Fail(reason)), "{ev:?}");
    assert!(!ev.contains(&Event::Activate));
    assert_eq!(d.statuses("j").last().unwrap(), body);
    // Unbootable: the header unit is erased, no upgrade requested.
    assert_eq!(&d.pf().slot.mem[..4096], &[0xff; 4096][..]);
    assert!(!d.pf().boot.upgrade_requested);
    assert_eq!(d.pf().slot.violations, 0);
}

#[test]
fn bad_signature() {
    let file = image(30_000, (1, 2, 0));
    let mut other = file.clone();
    other[1000] ^= 1;
    let spec = JobSpec {
        signature: sign(&other),
        ..JobSpec::for_file("j", &file)
    };
    let mut d = run(&spec, &file, false);
    failed_with(
        &mut d,
        FailReason::Signature,
        r#"{"status":"FAILED","statusDetails":{"reason":"0x000000e3: 0x00000000"}}"#,
    );
    assert_eq!(d.agent.image_state(), ImageState::Rejected);
}

#[test]
fn wrong_key() {
    let file = image(30_000, (1, 2, 0));
    let spec = JobSpec {
        signature: sign_with(&other_key(), &file),
        ..JobSpec::for_file("j", &file)
    };
    let mut d = run(&spec, &file, false);
    failed_with(
        &mut d,
        FailReason::Signature,
        r#"{"status":"FAILED","statusDetails":{"reason":"0x000000e3: 0x00000000"}}"#,
    );
}

#[test]
fn not_an_mcuboot_image_fails_at_the_first_block() {
    let file = std::vec![0x11u8; 30_000];
    let spec = JobSpec::for_file("j", &file);
    let mut d = Dut::started(config(), platform(1 << 20, V1));
    d.job(&spec.doc());
    assert_eq!(
        d.msg(DATA, &block(0, 0, &file[..4096])),
        Processed::TransferFailed
    );
    failed_with(
        &mut d,
        FailReason::Image(ImageError::BadMagic),
        r#"{"status":"FAILED","statusDetails":{"reason":"0x000000ee: 0x00000001"}}"#,
    );
}

#[test]
fn a_tlv_hash_that_does_not_match_the_image() {
    let mut file = image(30_000, (1, 2, 0));
    let n = file.len();
    file[n - 1] ^= 0xff; // the SHA-256 TLV value; signed as is
    let spec = JobSpec::for_file("j", &file);
    let mut d = run(&spec, &file, false);
    failed_with(
        &mut d,
        FailReason::Image(ImageError::HashMismatch),
        r#"{"status":"FAILED","statusDetails":{"reason":"0x000000ee: 0x00000005"}}"#,
    );
}

#[test]
fn sizes_that_do_not_add_up() {
    let mut file = image(30_000, (1, 2, 0));
    file.extend([0u8; 16]); // trailing bytes after the TLV area
    let spec = JobSpec::for_file("j", &file);
    let mut d = run(&spec, &file, false);
    failed_with(
        &mut d,
        FailReason::Image(ImageError::BadSizes),
        r#"{"status":"FAILED","statusDetails":{"reason":"0x000000ee: 0x00000002"}}"#,
    );
}

#[test]
fn downgrade_and_same_version_are_refused_before_the_reboot() {
    for (v, reason, body) in [
        (
            (1, 0, 9),
            FailReason::Downgrade,
            r#"{"status":"FAILED","statusDetails":{"reason":"rejected: 0x0000000f"}}"#,
        ),
        (
            (1, 1, 0),
            FailReason::SameVersion,
            r#"{"status":"FAILED","statusDetails":{"reason":"rejected: 0x00000010"}}"#,
        ),
    ] {
        let file = image(30_000, v);
        let mut d = run(&JobSpec::for_file("j", &file), &file, false);
        failed_with(&mut d, reason, body);
    }
}

#[test]
fn allow_downgrade_is_the_escape_hatch() {
    let file = image(30_000, (1, 0, 9));
    let mut d = run(&JobSpec::for_file("j", &file), &file, true);
    d.ack_all();
    assert_eq!(d.take_events().last(), Some(&Event::Activate));
}

#[test]
fn a_non_firmware_file_is_verified_and_reported_succeeded() {
    // [C quirk] M6 printed the fileType as a version; here the versions are
    // the running firmware's.
    let file = std::vec![0x33u8; 10_000];
    let spec = JobSpec {
        file_type: Some(2),
        ..JobSpec::for_file("j", &file)
    };
    let mut d = run(&spec, &file, false);
    assert_eq!(
        d.statuses("j").last().unwrap(),
        r#"{"status":"SUCCEEDED","statusDetails":{"reason":"accepted  v1.1.0","updatedBy":"  v1.1.0"}}"#
    );
    d.ack_all();
    let ev = d.take_events();
    assert_eq!(ev.last(), Some(&Event::UpdateComplete));
    assert!(!ev.contains(&Event::Activate));
    assert_eq!(d.pf().store.record, None);
}

#[test]
fn the_last_write_unit_is_padded_with_erased_bytes() {
    let file = image(30_001, (1, 2, 0));
    assert_eq!(file.len() % crate::testing::ALIGN as usize, 1);
    let mut d = run(&JobSpec::for_file("j", &file), &file, false);
    d.ack_all();
    assert_eq!(d.take_events().last(), Some(&Event::Activate));
    let mem = &d.pf().slot.mem;
    assert_eq!(&mem[..file.len()], &file[..]);
    assert_eq!(&mem[file.len()..file.len() + 3], &[0xff; 3]);
    assert_eq!(d.pf().slot.violations, 0);
}
