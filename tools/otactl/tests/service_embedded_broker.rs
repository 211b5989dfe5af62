//! `otactl serve` on the embedded broker (the demo's default), and the
//! broker's MQTT behaviour that the service relies on.

mod service_common;

use otactl::service::{EmbeddedBroker, JobStatus};
use otactl::testing::MqttProbe;
use rumqttc::QoS;
use serde_json::json;
use service_common::{data, get_stream, Fixture, QUIET, WAIT};

#[test]
fn jobs_and_streams_for_two_devices() {
    let fx = Fixture::embedded();
    fx.service.create_stream("S", [(0, data(3000, 4))]).unwrap();
    let doc = json!({"afr_ota": {"protocols": ["MQTT"], "streamname": "S", "files": [{"filesize": 3000, "fileid": 0}]}});
    let mut a = fx.device("dev-a");
    let mut b = fx.device("dev-b");
    fx.service
        .create_job(&["dev-a", "dev-b"], "J", doc)
        .unwrap();
    for dev in [&mut a, &mut b] {
        assert_eq!(
            dev.expect("jobs/notify-next").json()["execution"]["jobId"],
            "J"
        );
    }
    // Interleaved requests; each device only hears its own answers.
    a.publish(
        "streams/S/get/cbor",
        get_stream("a", 0, 1024, 0, None, Some(&[0x07])),
    );
    b.publish(
        "streams/S/get/cbor",
        get_stream("b", 0, 1024, 1, Some(1), None),
    );
    let blocks_a = a.get_stream("S", get_stream("a2", 0, 1024, 2, None, None));
    let blocks_b = b.get_stream("S", get_stream("b2", 0, 1024, 0, Some(1), None));
    let tokens_a: Vec<_> = blocks_a
        .iter()
        .map(|x| (x.token.clone().unwrap(), x.index))
        .collect();
    let tokens_b: Vec<_> = blocks_b
        .iter()
        .map(|x| (x.token.clone().unwrap(), x.index))
        .collect();
    assert_eq!(
        tokens_a,
        [
            ("a".into(), 0),
            ("a".into(), 1),
            ("a".into(), 2),
            ("a2".into(), 2)
        ]
    );
    assert_eq!(tokens_b, [("b".into(), 1), ("b2".into(), 0)]);
    for dev in [&mut a, &mut b] {
        let (ok, _) = dev.update("J", json!({"status": "SUCCEEDED"}));
        assert!(ok);
    }
    assert_eq!(
        fx.service
            .wait_for_terminal("dev-b", "J", WAIT)
            .unwrap()
            .status,
        JobStatus::Succeeded
    );
    let stats = fx.service.stats();
    assert_eq!(
        (
            stats.blocks_by_thing["dev-a"],
            stats.blocks_by_thing["dev-b"]
        ),
        (4, 2)
    );
}

#[test]
fn dollar_topics_are_routed_but_not_to_wildcard_first_filters() {
    let (broker, port) = EmbeddedBroker::start(None).unwrap();
    let mut all = MqttProbe::connect(port, "all").unwrap();
    all.subscribe("#").unwrap();
    let mut aws = MqttProbe::connect(port, "aws").unwrap();
    aws.subscribe("$aws/things/+/jobs/#").unwrap();
    let sender = MqttProbe::connect(port, "sender").unwrap();
    sender
        .publish("$aws/things/x/jobs/notify-next", "1", QoS::AtLeastOnce)
        .unwrap();
    sender
        .publish("plain/topic", vec![0u8; 200_000], QoS::AtMostOnce)
        .unwrap();
    assert_eq!(
        aws.expect("$aws/things/x/jobs/notify-next", WAIT)
            .unwrap()
            .payload,
        b"1"
    );
    assert_eq!(
        all.expect("plain/topic", WAIT).unwrap().payload.len(),
        200_000
    );
    assert!(all.drain(QUIET).is_empty(), "# must not match $ topics");
    assert!(aws.drain(QUIET).is_empty());

    // A second connection with the same client id takes over.
    let mut again = MqttProbe::connect(port, "aws").unwrap();
    again.subscribe("$aws/things/+/jobs/#").unwrap();
    sender
        .publish("$aws/things/y/jobs/notify-next", "2", QoS::AtLeastOnce)
        .unwrap();
    assert_eq!(
        again
            .expect("$aws/things/y/jobs/notify-next", WAIT)
            .unwrap()
            .payload,
        b"2"
    );
    drop((all, aws, again, sender));
    broker.shutdown();
}
