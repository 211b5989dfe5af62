//! Downloads over HTTP ranges.

use super::harness::*;
use crate::{DropReason, Event, HttpOutcome, Processed, State};
use std::vec::Vec;

const URL: &str = "https://bucket.s3.amazonaws.com/fw.bin?X-Amz-Signature=abc&X-Amz-Expires=3600";

fn begin(range: u32, file: &[u8]) -> Dut {
    let config = crate::Config {
        http_range_size: range,
        ..config()
    };
    let mut d = Dut::started(config, platform(1 << 22, V1));
    d.job(&JobSpec::for_file("job-h", file).http(URL).doc());
    d.take_events();
    d
}

fn ranges(d: &Dut) -> Vec<(u32, u32)> {
    d.sent
        .iter()
        .filter_map(|s| match s {
            Sent::Http(u, a, b) if u == URL => Some((*a, *b)),
            _ => None,
        })
        .collect()
}

/// Serve the last range requested, in pieces of `piece` bytes.
fn serve_last(d: &mut Dut, file: &[u8], piece: usize) {
    let (a, b) = *ranges(d).last().unwrap();
    let body = &file[a as usize..=b as usize];
    for (k, chunk) in body.chunks(piece).enumerate() {
        d.agent
            .handle_http_data(d.now, a + (k * piece) as u32, chunk);
        d.pump();
    }
    d.agent.handle_http_done(d.now, HttpOutcome::Complete);
    d.pump();
}

#[test]
fn ranges_larger_than_a_block_and_bodies_of_any_length() {
    let file = image(150_000, (1, 1, 0));
    let mut d = begin(64 * 1024, &file);
    assert_eq!(ranges(&d), [(0, 65535)]);
    // Odd piece sizes exercise the write-alignment carry.
    let pieces = [1, 3, 1000, 4097];
    let mut k = 0;
    while d.agent.state() != State::ClosingFile {
        serve_last(&mut d, &file, pieces[k % pieces.len()]);
        k += 1;
        assert!(k < 10);
    }
    let r = ranges(&d);
    assert_eq!(
        r,
        [(0, 65535), (65536, 131071), (131072, file.len() as u32 - 1)]
    );
    d.expect_activation(&file);
    assert_eq!(d.pf().slot.violations, 0);
    let st = d.statuses("job-h");
    assert!(st[0].contains(r#""receive":"#), "{st:?}");
}

#[test]
fn a_short_body_is_asked_for_again_from_where_it_stopped() {
    let file = image(100_000, (1, 1, 0));
    let mut d = begin(64 * 1024, &file);
    d.agent.handle_http_data(d.now, 0, &file[..5000]);
    d.agent.handle_http_done(d.now, HttpOutcome::Complete);
    d.pump();
    assert_eq!(ranges(&d)[1], (5000, 5000 + 65535));
}

#[test]
fn quirk_repeated_or_overlapping_responses_are_not_written_as_new_data() {
    // [C quirk] 6: HTTP block indices were implicit, so a repeated response
    // was written as the next block.
    let file = image(20_000, (1, 1, 0));
    let mut d = begin(8192, &file);
    assert_eq!(
        d.agent.handle_http_data(d.now, 0, &file[..8192]),
        Processed::BlockAccepted
    );
    d.pump();
    assert_eq!(
        d.agent.handle_http_data(d.now, 0, &file[..8192]),
        Processed::BlockDropped(DropReason::Duplicate)
    );
    // Overlap: only the new part counts.
    assert_eq!(
        d.agent.handle_http_data(d.now, 4096, &file[4096..12288]),
        Processed::BlockAccepted
    );
    // A gap is refused.
    assert_eq!(
        d.agent.handle_http_data(d.now, 16384, &file[16384..17000]),
        Processed::BlockDropped(DropReason::NotContiguous)
    );
    d.agent.handle_http_data(d.now, 12288, &file[12288..]);
    d.pump();
    d.expect_activation(&file);
}

#[test]
fn quirk_an_expired_url_is_refreshed_from_the_job_document() {
    // [C quirk] 6: a refresh with malloc'd buffers lost the URL.
    let file = image(20_000, (1, 1, 0));
    let mut d = begin(8192, &file);
    serve_last(&mut d, &file, 8192);
    d.agent
        .handle_http_done(d.now, HttpOutcome::Failed { status: 403 });
    d.pump();
    assert!(d.sent.last().unwrap().is_pub_to("jobs/$next/get"));
    let n = ranges(&d).len();
    let fresh = "https://bucket.s3.amazonaws.com/fw.bin?X-Amz-Signature=new";
    d.job(&JobSpec::for_file("job-h", &file).http(fresh).doc());
    let Some(Sent::Http(u, a, _)) = d.sent.last() else {
        panic!("{:?}", d.sent.last())
    };
    assert_eq!((u.as_str(), *a), (fresh, 8192));
    assert_eq!(ranges(&d).len(), n, "the old URL is not used again");
}

#[test]
fn an_escaped_url_is_decoded() {
    let file = image(1000, (1, 1, 0));
    let config = crate::Config { ..config() };
    let mut d = Dut::started(config, platform(1 << 20, V1));
    d.job(
        &JobSpec::for_file("j", &file)
            .http(r"https:\/\/h\/a?b=1\u0026c=2")
            .doc(),
    );
    assert!(matches!(d.sent.last(), Some(Sent::Http(u, _, _)) if u == "https://h/a?b=1&c=2"));
}

#[test]
fn transport_errors_are_retried_after_the_timeout() {
    let file = image(20_000, (1, 1, 0));
    let mut d = begin(8192, &file);
    d.agent
        .handle_http_done(d.now, HttpOutcome::Failed { status: 0 });
    d.pump();
    assert_eq!(ranges(&d).len(), 1);
    d.advance(10_000);
    assert_eq!(ranges(&d), [(0, 8191), (0, 8191)]);
}

#[test]
fn a_refreshed_url_that_cannot_be_used_fails_the_job() {
    let file = image(20_000, (1, 1, 0));
    let mut d = begin(8192, &file);
    d.agent
        .handle_http_done(d.now, HttpOutcome::Failed { status: 403 });
    d.pump();
    d.job(
        &JobSpec::for_file("job-h", &file)
            .http("https://h/with space")
            .doc(),
    );
    assert_eq!(
        d.take_events(),
        [Event::Fail(crate::FailReason::UnsupportedProtocol)]
    );
    assert_eq!(
        d.statuses("job-h").last().unwrap(),
        r#"{"status":"FAILED","statusDetails":{"reason":"aborted: 0x0000000d"}}"#
    );
}

/// An agent without a URL buffer (`Agent<_, 0>`, the MQTT-only build the
/// footprint measures): HTTP is never taken, even when the configuration
/// prefers it and the job offers both planes. Such an agent tells the
/// compiler so (`Agent::plane`), and this checks the MQTT path still works.
#[test]
fn an_agent_without_a_url_buffer_downloads_over_mqtt() {
    let file = image(20_000, (1, 1, 0));
    let mut config = config();
    config.protocols.http = true;
    config.protocols.prefer_http = true;
    let mut d = Dut::<0>::started_with_url_cap(config, platform(1 << 20, V1));
    let mut spec = JobSpec::for_file("job-m", &file).http(URL);
    spec.protocols = r#"["MQTT","HTTP"]"#;
    d.job(&spec.doc());
    assert_eq!(d.take_events(), [Event::ReceivedJob]);
    let served = d.download("AFR_OTA-stream-1", &file);
    assert_eq!(served, (file.len() as u32).div_ceil(4096));
    assert!(!d.sent.iter().any(|s| matches!(s, Sent::Http(..))));
    d.expect_activation(&file);
}

/// The same agent refuses a job that offers only HTTP, before any flash is
/// touched, as an agent built with a URL buffer but configured without HTTP
/// does.
#[test]
fn an_agent_without_a_url_buffer_refuses_an_http_only_job() {
    let file = image(20_000, (1, 1, 0));
    let mut config = config();
    config.protocols.http = true;
    let mut d = Dut::<0>::started_with_url_cap(config, platform(1 << 20, V1));
    d.job(&JobSpec::for_file("job-h", &file).http(URL).doc());
    assert_eq!(
        d.take_events(),
        [Event::Fail(crate::FailReason::UnsupportedProtocol)]
    );
    assert_eq!(
        d.statuses("job-h").last().unwrap(),
        r#"{"status":"FAILED","statusDetails":{"reason":"aborted: 0x0000000d"}}"#
    );
    assert_eq!(d.pf().slot.erases, 0, "no flash touched");
}
