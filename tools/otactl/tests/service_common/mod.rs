//! Shared set-up for the `service_*` tests: a broker (mosquitto or the
//! embedded one), the service, devices, CBOR and HTTP helpers.

#![allow(dead_code)] // each test crate uses a different part

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use ciborium::value::Value;
use otactl::service::{EmbeddedBroker, Service, ServiceConfig, ServiceHandle};
use otactl::testing::{Message, Mosquitto, MqttProbe};

/// How long to wait for a message that must come.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long to wait for a message that must not come.
pub const QUIET: Duration = Duration::from_millis(400);

pub enum Broker {
    Mosquitto(Mosquitto),
    Embedded(EmbeddedBroker),
}

/// A broker and a service on it. The service is dropped first.
pub struct Fixture {
    pub service: ServiceHandle,
    pub port: u16,
    pub broker: Broker,
}

impl Fixture {
    /// mosquitto; the test fails with installation advice if it is missing.
    pub fn mosquitto() -> Fixture {
        Self::mosquitto_with(|_| {})
    }

    pub fn mosquitto_with(configure: impl FnOnce(&mut ServiceConfig)) -> Fixture {
        let broker = Mosquitto::start().unwrap_or_else(|e| panic!("{e:#}"));
        let port = broker.port();
        Self::start(Broker::Mosquitto(broker), port, configure)
    }

    pub fn embedded() -> Fixture {
        let (broker, port) = EmbeddedBroker::start(None).expect("embedded broker");
        Self::start(Broker::Embedded(broker), port, |_| {})
    }

    fn start(broker: Broker, port: u16, configure: impl FnOnce(&mut ServiceConfig)) -> Fixture {
        let mut config = ServiceConfig::new("127.0.0.1", port);
        configure(&mut config);
        let service = Service::start(config).expect("service starts");
        Fixture {
            service,
            port,
            broker,
        }
    }

    /// A device for `thing`, subscribed to every reply topic of that thing.
    pub fn device(&self, thing: &str) -> Device {
        let mut probe =
            MqttProbe::connect(self.port, &format!("device-{thing}")).expect("device connects");
        for suffix in [
            "jobs/notify-next",
            "jobs/+/get/+",
            "jobs/+/update/+",
            "streams/+/data/cbor",
            "streams/+/rejected/cbor",
        ] {
            probe
                .subscribe(&format!("$aws/things/{thing}/{suffix}"))
                .expect("subscribe");
        }
        Device {
            probe,
            thing: thing.to_owned(),
        }
    }
}

/// A thing's MQTT client.
pub struct Device {
    pub probe: MqttProbe,
    pub thing: String,
}

impl Device {
    pub fn topic(&self, suffix: &str) -> String {
        format!("$aws/things/{}/{suffix}", self.thing)
    }

    pub fn publish(&self, suffix: &str, payload: impl Into<Vec<u8>>) {
        self.probe
            .publish(&self.topic(suffix), payload, rumqttc::QoS::AtLeastOnce)
            .expect("publish");
    }

    /// The next message on `$aws/things/{thing}/{suffix}`.
    pub fn expect(&mut self, suffix: &str) -> Message {
        let topic = self.topic(suffix);
        self.probe
            .expect(&topic, WAIT)
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// Asserts that nothing arrives on `suffix` for a while.
    pub fn expect_nothing(&mut self, suffix: &str) {
        let topic = self.topic(suffix);
        if let Ok(m) = self.probe.expect(&topic, QUIET) {
            panic!(
                "unexpected message on {topic}: {}",
                String::from_utf8_lossy(&m.payload)
            );
        }
    }

    /// `$next/get` with a client token; returns the accepted reply as JSON.
    pub fn next_job(&mut self, token: &str) -> serde_json::Value {
        self.publish("jobs/$next/get", format!(r#"{{"clientToken":"{token}"}}"#));
        let reply = self.expect("jobs/$next/get/accepted").json();
        assert_eq!(reply["clientToken"], token);
        reply
    }

    /// An UpdateJobExecution; returns (accepted?, reply JSON).
    pub fn update(&mut self, job_id: &str, body: serde_json::Value) -> (bool, serde_json::Value) {
        self.publish(&format!("jobs/{job_id}/update"), body.to_string());
        let accepted = self.topic(&format!("jobs/{job_id}/update/accepted"));
        let rejected = self.topic(&format!("jobs/{job_id}/update/rejected"));
        let m = self
            .probe
            .expect_where(WAIT, |m| m.topic == accepted || m.topic == rejected)
            .unwrap_or_else(|e| panic!("{e:#}"));
        (m.topic == accepted, m.json())
    }

    /// Publishes a GetStream request and collects the data blocks that
    /// arrive until the line goes quiet.
    pub fn get_stream(&mut self, stream: &str, request: Vec<u8>) -> Vec<Block> {
        self.publish(&format!("streams/{stream}/get/cbor"), request);
        let topic = self.topic(&format!("streams/{stream}/data/cbor"));
        let mut blocks = Vec::new();
        while let Ok(m) = self
            .probe
            .expect(&topic, if blocks.is_empty() { WAIT } else { QUIET })
        {
            blocks.push(Block::decode(&m.payload));
        }
        blocks
    }

    /// Publishes a GetStream request that must be rejected; returns (code, token).
    pub fn get_stream_rejected(
        &mut self,
        stream: &str,
        request: Vec<u8>,
    ) -> (String, Option<String>) {
        self.publish(&format!("streams/{stream}/get/cbor"), request);
        let m = self.expect(&format!("streams/{stream}/rejected/cbor"));
        let map = cbor_map(&m.payload);
        let code = map
            .iter()
            .find(|(k, _)| k == "o")
            .and_then(|(_, v)| v.as_text().map(str::to_owned));
        let message = map
            .iter()
            .find(|(k, _)| k == "m")
            .and_then(|(_, v)| v.as_text().map(str::to_owned));
        assert!(
            message.is_some_and(|m| !m.is_empty()),
            "error message missing"
        );
        let token = map
            .iter()
            .find(|(k, _)| k == "c")
            .and_then(|(_, v)| v.as_text().map(str::to_owned));
        (code.expect("error code"), token)
    }
}

/// A decoded data message.
#[derive(Debug, PartialEq, Eq)]
pub struct Block {
    pub token: Option<String>,
    pub file: u64,
    pub len: u64,
    pub index: u64,
    pub payload: Vec<u8>,
    /// Keys in wire order.
    pub keys: Vec<String>,
}

impl Block {
    pub fn decode(bytes: &[u8]) -> Block {
        let map = cbor_map(bytes);
        let int = |k: &str| {
            map.iter()
                .find(|(key, _)| key == k)
                .and_then(|(_, v)| v.as_integer())
                .map(|i| u64::try_from(i).expect("non-negative"))
                .unwrap_or_else(|| panic!("{k} missing"))
        };
        let payload = map
            .iter()
            .find(|(k, _)| k == "p")
            .and_then(|(_, v)| v.as_bytes().cloned())
            .expect("p bytes");
        Block {
            token: map
                .iter()
                .find(|(k, _)| k == "c")
                .and_then(|(_, v)| v.as_text().map(str::to_owned)),
            file: int("f"),
            len: int("l"),
            index: int("i"),
            payload,
            keys: map.iter().map(|(k, _)| k.clone()).collect(),
        }
    }
}

fn cbor_map(bytes: &[u8]) -> Vec<(String, Value)> {
    let value: Value = ciborium::de::from_reader(bytes).expect("CBOR");
    let Value::Map(entries) = value else {
        panic!("not a map: {value:?}")
    };
    entries
        .into_iter()
        .map(|(k, v)| (k.into_text().expect("text key"), v))
        .collect()
}

/// A GetStream request: `{c, f, l, o, [b], [n], [s]}`.
pub fn get_stream(
    token: &str,
    file: i64,
    block_size: i64,
    offset: i64,
    count: Option<i64>,
    bitmap: Option<&[u8]>,
) -> Vec<u8> {
    let mut entries = vec![
        (Value::Text("c".into()), Value::Text(token.into())),
        (Value::Text("f".into()), Value::Integer(file.into())),
        (Value::Text("l".into()), Value::Integer(block_size.into())),
        (Value::Text("o".into()), Value::Integer(offset.into())),
    ];
    if let Some(b) = bitmap {
        entries.push((Value::Text("b".into()), Value::Bytes(b.to_vec())));
    }
    if let Some(n) = count {
        entries.push((Value::Text("n".into()), Value::Integer(n.into())));
    }
    cbor(Value::Map(entries))
}

/// Adds `key: value` to a request made by [`get_stream`].
pub fn with_field(request: &[u8], key: &str, value: Value) -> Vec<u8> {
    let Value::Map(mut entries) = ciborium::de::from_reader(request).expect("CBOR") else {
        unreachable!()
    };
    entries.push((Value::Text(key.into()), value));
    cbor(Value::Map(entries))
}

pub fn cbor(value: Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(&value, &mut out).expect("encode");
    out
}

/// Deterministic test data.
pub fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// A minimal HTTP/1.1 GET: (status, headers lower-cased, body).
pub fn http_get(url: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    http_request("GET", url, headers, b"")
}

pub fn http_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read response");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, response[split + 4..].to_vec())
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
