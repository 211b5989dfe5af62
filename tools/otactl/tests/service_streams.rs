//! MQTT-based file delivery (CBOR GetStream) of `otactl serve` against a
//! real mosquitto broker, and fault injection on the data messages.

mod service_common;

use std::time::{Duration, Instant};

use ciborium::value::Value;
use otactl::service::{FaultAction, FaultConfig, FaultRule, FaultTarget, MAX_DATA_PER_REQUEST};
use service_common::{cbor, data, get_stream, with_field, Fixture};

/// 10 blocks of 1024 bytes, the last one 100 bytes.
const FILE_LEN: usize = 9 * 1024 + 100;

fn fixture() -> (Fixture, service_common::Device, Vec<u8>) {
    let fx = Fixture::mosquitto();
    let file = data(FILE_LEN, 3);
    fx.service
        .create_stream("S", [(0, file.clone()), (7, data(300, 9))])
        .unwrap();
    let dev = fx.device("t");
    (fx, dev, file)
}

#[test]
fn blocks_follow_bitmap_offset_and_count() {
    let (fx, mut dev, file) = fixture();

    // The C agent's first request: whole-file bitmap from 0, n = 1.
    let blocks = dev.get_stream(
        "S",
        get_stream("rdy", 0, 1024, 0, Some(1), Some(&[0xff, 0x03])),
    );
    assert_eq!(blocks.len(), 1);
    let b = &blocks[0];
    assert_eq!(
        (b.token.as_deref(), b.file, b.index, b.len),
        (Some("rdy"), 0, 0, 1024)
    );
    assert_eq!(b.keys, ["c", "f", "l", "i", "p"]);
    assert_eq!(b.payload, file[..1024]);

    // Bitmap bits k = block o + k, LSB first, capped by n.
    let blocks = dev.get_stream(
        "S",
        get_stream("a", 0, 1024, 2, Some(3), Some(&[0b1010_1001])),
    );
    assert_eq!(
        blocks.iter().map(|b| b.index).collect::<Vec<_>>(),
        [2, 5, 7]
    );
    for b in &blocks {
        let start = b.index as usize * 1024;
        assert_eq!(b.payload, file[start..start + 1024]);
        assert_eq!(b.token.as_deref(), Some("a"));
    }
    // Without n, every wanted block (bits past the end of file ignored).
    let blocks = dev.get_stream("S", get_stream("b", 0, 1024, 8, None, Some(&[0xff])));
    assert_eq!(
        blocks.iter().map(|b| (b.index, b.len)).collect::<Vec<_>>(),
        [(8, 1024), (9, 100)]
    );
    assert_eq!(blocks[1].payload, file[9 * 1024..]);
    // Without a bitmap, n blocks from o.
    let blocks = dev.get_stream("S", get_stream("c", 0, 1024, 4, Some(3), None));
    assert_eq!(
        blocks.iter().map(|b| b.index).collect::<Vec<_>>(),
        [4, 5, 6]
    );
    // Another file of the stream; no token means no `c`.
    let request = cbor(Value::Map(vec![
        (Value::Text("f".into()), Value::Integer(7.into())),
        (Value::Text("l".into()), Value::Integer(256.into())),
    ]));
    let blocks = dev.get_stream("S", request);
    assert_eq!(
        blocks.iter().map(|b| (b.index, b.len)).collect::<Vec<_>>(),
        [(0, 256), (1, 44)]
    );
    assert_eq!(blocks[0].keys, ["f", "l", "i", "p"]);
    assert_eq!(blocks[1].file, 7);

    let stats = fx.service.stats();
    assert_eq!(stats.times_served("t", "S", 0, 5), 2);
    assert_eq!(stats.times_served("t", "S", 0, 3), 0);
    assert_eq!(stats.blocks_by_stream["S"], 1 + 3 + 2 + 3 + 2);
    assert_eq!(stats.stream_requests, 5);
}

#[test]
fn a_request_is_capped_at_128_kib() {
    let fx = Fixture::mosquitto();
    fx.service
        .create_stream("big", [(0, data(1 << 20, 1))])
        .unwrap();
    let mut dev = fx.device("t");
    let blocks = dev.get_stream("big", get_stream("x", 0, 4096, 0, Some(100), None));
    assert_eq!(blocks.len(), MAX_DATA_PER_REQUEST / 4096);
    assert_eq!(blocks.last().unwrap().index, 31);
    // A bitmap asking for everything from block 40 on, no n.
    let blocks = dev.get_stream("big", get_stream("y", 0, 4096, 40, None, Some(&[0xff; 16])));
    assert_eq!(
        blocks.iter().map(|b| b.index).collect::<Vec<_>>(),
        (40..72).collect::<Vec<_>>()
    );
    // The largest block size gives one block per request.
    let blocks = dev.get_stream("big", get_stream("z", 0, 131_072, 0, Some(4), None));
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].payload.len(), 131_072);
}

#[test]
fn every_error_is_rejected_on_rejected_cbor() {
    let (fx, mut dev, _) = fixture();
    let ok = get_stream("tok", 0, 1024, 0, Some(1), None);
    let cases: Vec<(&str, Vec<u8>, &str, Option<&str>)> = vec![
        ("S", b"\xff\x00garbage".to_vec(), "InvalidCbor", None),
        ("S", cbor(Value::Array(vec![])), "InvalidRequest", None),
        (
            "S",
            cbor(Value::Map(vec![(
                Value::Text("c".into()),
                Value::Text("k".into()),
            )])),
            "InvalidRequest",
            Some("k"),
        ),
        (
            "S",
            get_stream(&"x".repeat(65), 0, 1024, 0, None, None),
            "InvalidRequest",
            None,
        ),
        (
            "S",
            get_stream("tok", 0, 255, 0, None, None),
            "BlockSizeOutOfBounds",
            Some("tok"),
        ),
        (
            "S",
            get_stream("tok", 0, 131_073, 0, None, None),
            "BlockSizeOutOfBounds",
            Some("tok"),
        ),
        (
            "S",
            get_stream("tok", 0, 1024, 10, None, None),
            "OffsetOutOfBounds",
            Some("tok"),
        ),
        (
            "S",
            get_stream("tok", 0, 1024, 98_305, None, None),
            "OffsetOutOfBounds",
            Some("tok"),
        ),
        (
            "S",
            get_stream("tok", 0, 1024, 0, Some(98_305), None),
            "BlockCountLimitExceeded",
            Some("tok"),
        ),
        (
            "S",
            get_stream("tok", 0, 1024, 0, None, Some(&[0xff; 12_288])),
            "BlockBitmapLimitExceeded",
            Some("tok"),
        ),
        (
            "S",
            with_field(&ok, "b", Value::Text("0x07".into())),
            "InvalidRequest",
            Some("tok"),
        ),
        ("nope", ok.clone(), "ResourceNotFound", Some("tok")),
        (
            "S",
            get_stream("tok", 3, 1024, 0, None, None),
            "ResourceNotFound",
            Some("tok"),
        ),
        (
            "S",
            with_field(&ok, "s", Value::Integer(2.into())),
            "VersionMismatch",
            Some("tok"),
        ),
    ];
    for (stream, request, code, token) in &cases {
        let (got, got_token) = dev.get_stream_rejected(stream, request.clone());
        assert_eq!(
            (got.as_str(), got_token.as_deref()),
            (*code, *token),
            "case {code}"
        );
    }
    dev.expect_nothing("streams/S/data/cbor");
    // The matching version is accepted; a replaced stream bumps it.
    assert_eq!(
        dev.get_stream("S", with_field(&ok, "s", Value::Integer(1.into())))
            .len(),
        1
    );
    assert_eq!(
        fx.service
            .create_stream("S", [(0, data(10, 0))])
            .unwrap()
            .version,
        2
    );
    let stats = fx.service.stats();
    assert_eq!(
        stats.stream_rejections.values().sum::<u64>(),
        cases.len() as u64
    );
    assert_eq!(stats.stream_rejections["ResourceNotFound"], 2);
}

#[test]
fn resumed_downloads_are_counted_per_block() {
    let (fx, mut dev, _) = fixture();
    let first = dev.get_stream(
        "S",
        get_stream("r", 0, 1024, 0, Some(4), Some(&[0xff, 0x03])),
    );
    assert_eq!(first.len(), 4);
    // "Reboot": ask only for what is still missing.
    let rest = dev.get_stream("S", get_stream("r", 0, 1024, 0, None, Some(&[0xf0, 0x03])));
    assert_eq!(
        rest.iter().map(|b| b.index).collect::<Vec<_>>(),
        [4, 5, 6, 7, 8, 9]
    );
    let stats = fx.service.stats();
    let counts = stats.block_counts("t", "S", 0).unwrap();
    assert_eq!(counts.len(), 10);
    assert!(
        counts.values().all(|n| *n == 1),
        "every block exactly once: {counts:?}"
    );
    assert_eq!(stats.blocks_by_thing["t"], 10);
    assert_eq!(stats.block_bytes, FILE_LEN as u64);
}

#[test]
fn faults_drop_duplicate_delay_and_reorder_blocks() {
    let (fx, mut dev, _) = fixture();
    let indices =
        |blocks: &[service_common::Block]| blocks.iter().map(|b| b.index).collect::<Vec<_>>();
    let request = || get_stream("f", 0, 1024, 0, Some(4), None);

    fx.service.set_faults(FaultConfig {
        seed: 0,
        rules: vec![FaultRule::new(FaultAction::Drop, FaultTarget::Data)
            .for_block(1)
            .times(1)],
    });
    assert_eq!(indices(&dev.get_stream("S", request())), [0, 2, 3]);
    assert_eq!(
        indices(&dev.get_stream("S", request())),
        [0, 1, 2, 3],
        "the rule fired once"
    );

    fx.service.set_faults(FaultConfig {
        seed: 0,
        rules: vec![FaultRule::new(FaultAction::Duplicate, FaultTarget::Data).for_block(2)],
    });
    assert_eq!(indices(&dev.get_stream("S", request())), [0, 1, 2, 2, 3]);

    fx.service.set_faults(FaultConfig {
        seed: 0,
        rules: vec![FaultRule::new(FaultAction::Reorder, FaultTarget::Data).for_block(0)],
    });
    assert_eq!(indices(&dev.get_stream("S", request())), [1, 0, 2, 3]);

    fx.service.set_faults(FaultConfig {
        seed: 0,
        rules: vec![FaultRule::new(
            FaultAction::Delay(Duration::from_millis(250)),
            FaultTarget::Data,
        )
        .for_block(0)],
    });
    let start = Instant::now();
    dev.publish("streams/S/get/cbor", request());
    let topic = dev.topic("streams/S/data/cbor");
    let mut arrivals = Vec::new();
    for _ in 0..4 {
        let m = dev.probe.expect(&topic, service_common::WAIT).unwrap();
        arrivals.push((
            service_common::Block::decode(&m.payload).index,
            start.elapsed(),
        ));
    }
    assert_eq!(
        arrivals.iter().map(|a| a.0).collect::<Vec<_>>(),
        [1, 2, 3, 0]
    );
    assert!(arrivals[3].1 >= Duration::from_millis(250), "{arrivals:?}");

    // Probabilistic drops over job replies are seeded; data is untouched.
    fx.service.set_faults(FaultConfig {
        seed: 1,
        rules: vec!["drop:jobs@1".parse().unwrap()],
    });
    dev.publish("jobs/$next/get", "{}");
    dev.expect_nothing("jobs/$next/get/accepted");
    assert_eq!(dev.get_stream("S", request()).len(), 4);
    fx.service.set_faults(FaultConfig::default());

    let stats = fx.service.stats();
    assert_eq!(
        (
            stats.faults_dropped,
            stats.faults_duplicated,
            stats.faults_reordered,
            stats.faults_delayed
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(
        stats.times_served("t", "S", 0, 1),
        6,
        "served counts what the service sent, before faults"
    );
}
