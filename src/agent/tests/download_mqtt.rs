//! Downloads over MQTT streams.

use super::harness::*;
use crate::{DropReason, Event, FailReason, ImageState, Processed, QoS, State};
use std::format;
use std::vec::Vec;

fn hex(b: &[u8]) -> std::string::String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// PROTOCOL.md §7.5, happy path, MQTT, n = 1, a 3-block file: the same
/// topics, QoS and bodies as the C agent, except that the window moves its
/// offset where the C agent keeps `o = 0` and clears bits.
#[test]
fn happy_path_sequence() {
    let file = image(10240 - 0x200 - 40, (1, 1, 0));
    assert_eq!(file.len(), 10240);
    let spec = JobSpec::for_file("AFR_OTA-job1", &file);
    let mut d = Dut::new(config(), platform(1 << 20, V1));
    assert_eq!(d.agent.state(), State::Init);
    d.agent.start(d.now).unwrap();
    assert_eq!(d.agent.state(), State::RequestingJob);
    d.pump();
    assert_eq!(d.agent.state(), State::WaitingForJob);
    let sent = d.take_sent();
    assert_eq!(
        sent[0],
        Sent::Sub(topic("jobs/notify-next"), QoS::AtLeastOnce)
    );
    assert_eq!(
        sent[1],
        Sent::Sub(topic("jobs/$next/get/accepted"), QoS::AtLeastOnce)
    );
    assert_eq!(
        sent[2],
        Sent::Pub {
            topic: topic("jobs/$next/get"),
            payload: br#"{"clientToken":"0:thing-1"}"#.to_vec(),
            qos: QoS::AtLeastOnce,
            token: None
        }
    );
    assert_eq!(sent.len(), 3);

    assert_eq!(d.job(&spec.doc()), Processed::JobDocument);
    assert_eq!(d.take_events(), [Event::ReceivedJob]);
    let sent = d.take_sent();
    assert_eq!(
        sent[0],
        Sent::Sub(topic("streams/AFR_OTA-stream-1/data/cbor"), QoS::AtMostOnce)
    );
    let Sent::Pub {
        topic: t,
        payload,
        qos,
        ..
    } = &sent[1]
    else {
        panic!()
    };
    assert_eq!(*t, topic("streams/AFR_OTA-stream-1/get/cbor"));
    assert_eq!(*qos, QoS::AtMostOnce);
    // PROTOCOL.md §5.1, "first request for a 10240-byte file (3 blocks)".
    assert_eq!(
        hex(payload),
        "a6616363726479616600616c191000616f0061624107616e01"
    );
    assert_eq!(d.agent.state(), State::WaitingForFileBlock);

    let data = "streams/AFR_OTA-stream-1/data/cbor";
    assert_eq!(
        d.msg(data, &block(0, 0, &file[..4096])),
        Processed::BlockAccepted
    );
    let sent = d.take_sent();
    assert_eq!(
        sent[0].text(),
        r#"{"status":"IN_PROGRESS","statusDetails":{"receive":"1/3"}}"#
    );
    assert!(matches!(
        &sent[0],
        Sent::Pub {
            qos: QoS::AtMostOnce,
            token: None,
            ..
        }
    ));
    let Sent::Pub { payload, .. } = &sent[1] else {
        panic!()
    };
    assert_eq!(decode_request(payload), (1, std::vec![0x03], 1));

    d.msg(data, &block(0, 1, &file[4096..8192]));
    let sent = d.take_sent();
    assert_eq!(sent.len(), 1, "no status for block 2: {sent:?}");
    let Sent::Pub { payload, .. } = &sent[0] else {
        panic!()
    };
    assert_eq!(decode_request(payload), (2, std::vec![0x01], 1));

    d.msg(data, &block(0, 2, &file[8192..]));
    let sent = d.take_sent();
    assert_eq!(
        sent[0],
        Sent::Unsub(topic("streams/AFR_OTA-stream-1/data/cbor"))
    );
    assert_eq!(
        sent[1].text(),
        r#"{"status":"IN_PROGRESS","statusDetails":{"self_test":"ready","updatedBy":"0x01000000"}}"#
    );
    let Sent::Pub { qos, token, .. } = &sent[1] else {
        panic!()
    };
    assert_eq!((*qos, token.is_some()), (QoS::AtLeastOnce, true));
    assert_eq!(d.agent.state(), State::ClosingFile);
    assert!(d.take_events().is_empty(), "no Activate before the PUBACK");

    d.agent.handle_delivered(d.now, token.unwrap());
    d.pump();
    assert_eq!(
        read_back(&mut d, &file),
        [],
        "in-order data is hashed as it arrives"
    );
    assert_eq!(d.take_events(), [Event::Activate]);
    assert_eq!(&d.pf().slot.mem[..file.len()], &file[..]);
    assert_eq!(d.pf().slot.violations, 0);
    assert_eq!(d.agent.statistics().processed, 3);

    d.agent.activate_new_image(d.now).unwrap();
    assert!(d.pf().boot.upgrade_requested);
    assert_eq!(d.pf().boot.reboots, 1);
    assert_eq!(d.agent.state(), State::Stopped);
}

const STREAM: &str = "AFR_OTA-stream-1";
const DATA: &str = "streams/AFR_OTA-stream-1/data/cbor";

fn cfg(n: u32) -> crate::Config {
    crate::Config {
        blocks_per_request: n,
        ..config()
    }
}

/// Start a device and give it the job for `file`.
fn begin(config: crate::Config, file: &[u8]) -> Dut {
    let mut d = Dut::started(config, platform(1 << 24, V1));
    d.job(&JobSpec::for_file("job-1", file).doc());
    d.take_events();
    d
}

/// The slot ranges the agent read back, as merged (start, end) pairs,
/// leaving out the file's last 40 bytes: the MCUboot TLV area, read once the
/// file is complete to check the image's hash. The rest is read only to hash
/// data that arrived out of order.
fn read_back(d: &mut Dut, file: &[u8]) -> Vec<(u32, u32)> {
    let tlv = (file.len() - 40) as u32;
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &(offset, len) in &d.pf().slot.reads {
        let (start, end) = (offset, offset + len as u32);
        match out.last_mut() {
            _ if start >= tlv => {}
            Some(last) if last.1 == start => last.1 = end,
            _ => out.push((start, end)),
        }
    }
    out
}

fn finish_ok(d: &mut Dut, file: &[u8]) {
    d.ack_all();
    assert_eq!(
        d.take_events(),
        [Event::Activate],
        "sent: {:?}",
        d.sent.last()
    );
    assert_eq!(&d.pf().slot.mem[..file.len()], file);
    assert_eq!(d.pf().slot.violations, 0);
}

#[test]
fn multi_block_requests_out_of_order() {
    let file = image(40_000, (1, 2, 0));
    let mut d = begin(cfg(4), &file);
    let reqs = d.stream_requests(STREAM);
    assert_eq!(reqs, [(0, std::vec![0xff, 0x03], 4)]);
    // The service answers in reverse order: blocks 3, 2, 1, 0.
    for i in (0..4).rev() {
        assert_eq!(
            d.msg(DATA, &block(0, i, block_of(&file, 4096, i))),
            Processed::BlockAccepted
        );
    }
    // Block 0 came last: 1..3 were read back for the hash, and nothing else;
    // one new request.
    assert_eq!(read_back(&mut d, &file), [(4096, 4 * 4096)]);
    let reqs = d.stream_requests(STREAM);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1], (4, std::vec![0x3f], 4));
    d.answered = 1;
    d.download(STREAM, &file);
    finish_ok(&mut d, &file);
    // The rest came in order: nothing more was read back.
    assert_eq!(read_back(&mut d, &file), [(4096, 4 * 4096)]);
    assert_eq!(d.agent.statistics().processed, 10);
    assert_eq!(d.agent.statistics().dropped, 0);
}

#[test]
fn a_file_larger_than_the_c_agents_bitmap() {
    // 8 MiB in 4 KiB blocks = 2048 blocks: the C agent refuses more than 1024.
    let file = image(8 << 20, (2, 0, 0));
    let mut d = begin(cfg(16), &file);
    d.download(STREAM, &file);
    finish_ok(&mut d, &file);
    let reqs = d.stream_requests(STREAM);
    assert!(
        reqs.iter().all(|(_, b, _)| b.len() <= 32),
        "the bitmap stays within the window"
    );
}

#[test]
fn quirk_late_and_duplicate_blocks_are_ignored() {
    // [C quirk] 11.1.2: a duplicate still queued when the last block completes
    // failed the finished image. Here duplicates and late copies are dropped.
    let file = image(5000, (1, 1, 0));
    let mut d = begin(cfg(1), &file);
    d.msg(DATA, &block(0, 0, block_of(&file, 4096, 0)));
    assert_eq!(
        d.msg(DATA, &block(0, 0, block_of(&file, 4096, 0))),
        Processed::BlockDropped(DropReason::Duplicate)
    );
    d.msg(DATA, &block(0, 1, block_of(&file, 4096, 1)));
    for i in [0, 1, 1] {
        assert_eq!(
            d.msg(DATA, &block(0, i, block_of(&file, 4096, i))),
            Processed::BlockDropped(DropReason::NoTransfer)
        );
    }
    finish_ok(&mut d, &file);
    let s = d.agent.statistics();
    assert_eq!((s.received, s.processed, s.dropped), (6, 2, 4));
    assert!(d.statuses("job-1").iter().all(|s| !s.contains("FAILED")));
}

#[test]
fn quirk_malformed_blocks_are_dropped_and_requested_again() {
    // [C quirk] 11.1.3: one malformed block failed the whole job.
    let file = image(9000, (1, 1, 0));
    let mut d = begin(cfg(1), &file);
    let good = block(0, 0, block_of(&file, 4096, 0));
    let cases: [(std::vec::Vec<u8>, DropReason); 5] = [
        (good[..good.len() - 3].to_vec(), DropReason::Malformed),
        (std::vec![0xff, 0x00], DropReason::Malformed),
        // [C quirk] f was never compared with the job's file id.
        (block(1, 0, block_of(&file, 4096, 0)), DropReason::WrongFile),
        // [C quirk] the length claimed (l) was trusted over len(p).
        (
            block(0, 0, &block_of(&file, 4096, 0)[..10]),
            DropReason::BadLength,
        ),
        (block(0, 5, &[0; 16]), DropReason::OutOfRange),
    ];
    for (msg, why) in cases {
        let before = d.stream_requests(STREAM).len();
        assert_eq!(d.msg(DATA, &msg), Processed::BlockDropped(why));
        // With n = 1 the bad answer used up the request: ask again at once.
        assert_eq!(d.stream_requests(STREAM).len(), before + 1, "{why:?}");
        assert_eq!(d.stream_requests(STREAM).last().unwrap().0, 0);
    }
    let mut lying = block(0, 0, block_of(&file, 4096, 0));
    // l says 4096, p is shorter: the l key's value is 19 10 00 → claim 4097.
    let pos = lying
        .windows(3)
        .position(|w| w == [0x19, 0x10, 0x00])
        .unwrap();
    lying[pos + 2] = 0x01;
    assert_eq!(
        d.msg(DATA, &lying),
        Processed::BlockDropped(DropReason::BadLength)
    );
    assert!(d.events.is_empty());
    d.download(STREAM, &file);
    finish_ok(&mut d, &file);
}

#[test]
fn quirk_retry_budget_spent_fails_the_job_and_returns_to_idle() {
    // [C quirk] 11.1.4: momentum exhaustion shut the agent down.
    let file = image(9000, (1, 1, 0));
    let config = crate::Config {
        max_retries: 3,
        ..cfg(1)
    };
    let mut d = begin(config, &file);
    for _ in 0..3 {
        d.advance(10_000);
    }
    assert_eq!(d.stream_requests(STREAM).len(), 3);
    assert_eq!(d.take_events(), [Event::Fail(FailReason::RetriesExhausted)]);
    assert_eq!(
        d.statuses("job-1").last().unwrap(),
        r#"{"status":"FAILED","statusDetails":{"reason":"aborted: 0x0000000e"}}"#
    );
    assert_eq!(d.agent.image_state(), ImageState::Aborted);
    d.ack_all();
    assert_eq!(d.agent.state(), State::WaitingForJob);
    assert!(d.sent.last().unwrap().is_pub_to("jobs/$next/get"));
}

#[test]
fn progress_every_n_blocks() {
    let file = image(20 * 4096 - 0x200 - 40, (1, 1, 0));
    let config = crate::Config {
        status_every_blocks: 8,
        ..cfg(4)
    };
    let mut d = begin(config, &file);
    d.download(STREAM, &file);
    let st = d.statuses("job-1");
    let progress: std::vec::Vec<_> = st.iter().filter(|s| s.contains("receive")).collect();
    assert_eq!(progress.len(), 3, "{progress:?}");
    assert!(progress[0].contains(r#""receive":"1/20""#));
    assert!(progress[1].contains(r#""receive":"8/20""#));
    assert!(progress[2].contains(r#""receive":"16/20""#));
}

#[test]
fn a_flash_failure_fails_the_job_with_a_reason() {
    let file = image(9000, (1, 1, 0));
    let mut d = begin(cfg(1), &file);
    d.pf().slot.fail_writes = true;
    assert_eq!(
        d.msg(DATA, &block(0, 0, block_of(&file, 4096, 0))),
        Processed::TransferFailed
    );
    assert_eq!(
        d.take_events(),
        [Event::Fail(FailReason::Flash(crate::PortError(-5)))]
    );
    assert_eq!(
        d.statuses("job-1").last().unwrap(),
        r#"{"status":"FAILED","statusDetails":{"reason":"0x000000ed: 0xfffffffb"}}"#
    );
    assert!(d.sent.contains(&Sent::Unsub(topic(DATA))));
}

#[test]
fn blocks_for_another_stream_or_while_idle_are_dropped() {
    let file = image(9000, (1, 1, 0));
    let mut d = Dut::started(cfg(1), platform(1 << 20, V1));
    assert_eq!(
        d.msg(DATA, &block(0, 0, &file[..4096])),
        Processed::BlockDropped(DropReason::NoTransfer)
    );
    d.job(&JobSpec::for_file("job-1", &file).doc());
    assert_eq!(
        d.msg("streams/other/data/cbor", &block(0, 0, &file[..4096])),
        Processed::BlockDropped(DropReason::NoTransfer)
    );
    assert_eq!(d.msg("something/else", b"x"), Processed::NotForAgent);
    assert_eq!(d.pf().slot.writes, 0);
}

#[test]
fn quirk_blocks_of_32_kib_and_more() {
    // [C quirk] 11.1.12 (PROTOCOL.md §8.1): the PAL's writeBlock returned
    // int16, so a block of 32 KiB or more could not be reported written.
    // Here `ImageSlot::write` returns no length: every block size the
    // service allows works, up to 128 KiB.
    for bs in [32 << 10, 64 << 10, 128 << 10] {
        let file = image(5 * bs / 2, (1, 1, 0));
        let config = crate::Config {
            block_size: bs as u32,
            http_range_size: bs as u32,
            ..config()
        };
        let mut d = Dut::started(config, platform(1 << 24, V1));
        d.job(&JobSpec::for_file("job-1", &file).doc());
        d.take_events();
        assert_eq!(d.download(STREAM, &file), 3, "block size {bs}");
        finish_ok(&mut d, &file);
        assert_eq!(d.agent.statistics().processed, 3);
    }
}

/// `OTA_GetStatistics`: each data message counts once as received; those
/// that reach the running transfer count as queued; those written as
/// processed; the rest as dropped, whether the agent or the port (through
/// `record_dropped`) dropped them. A new transfer starts from zero.
#[test]
fn statistics_count_each_data_message() {
    let file = image(9000, (1, 1, 0));
    let stats = |d: &Dut| {
        let s = d.agent.statistics();
        (s.received, s.queued, s.processed, s.dropped)
    };
    let mut d = begin(cfg(1), &file);
    assert_eq!(stats(&d), (0, 0, 0, 0));
    d.msg(DATA, &block(0, 0, block_of(&file, 4096, 0)));
    assert_eq!(stats(&d), (1, 1, 1, 0));
    // A duplicate and a malformed block reach the transfer and are dropped.
    d.msg(DATA, &block(0, 0, block_of(&file, 4096, 0)));
    d.msg(DATA, &[0xff, 0x00]);
    assert_eq!(stats(&d), (3, 3, 1, 2));
    // A block of another stream never reaches it.
    d.msg(
        "streams/other/data/cbor",
        &block(0, 1, block_of(&file, 4096, 1)),
    );
    assert_eq!(stats(&d), (4, 3, 1, 3));
    // The port dropped one before handing it over.
    d.agent.record_dropped();
    assert_eq!(stats(&d), (5, 3, 1, 4));
    d.answered = d.stream_requests(STREAM).len() - 1;
    d.download(STREAM, &file);
    assert_eq!(stats(&d), (7, 5, 3, 4));
    finish_ok(&mut d, &file);
    // Another job replaces this one (the image is dropped, and the agent
    // asks for the next job): its transfer starts from zero.
    let next = JobSpec::for_file("job-2", &file).doc();
    d.job(&next);
    assert_eq!(d.take_events(), [Event::Fail(FailReason::Cancelled)]);
    assert_eq!(stats(&d), (7, 5, 3, 4), "kept until a transfer starts");
    d.job(&next);
    assert_eq!(d.agent.state(), State::WaitingForFileBlock);
    assert_eq!(stats(&d), (0, 0, 0, 0));
}
