//! A device under test: the agent on the RAM platform of [`crate::testing`]
//! (NOR semantics), a recording port, and a miniature stream service.

use crate::mcuboot::ImageVersion;
use crate::platform::*;
use crate::testing::{mcuboot_image, signing_key, Boot, OnViolation, RamPlatform, Slot, Store};
use crate::{Agent, Config, DeliveryToken, Event, Instant, Processed, QoS, Transmit};
use base64::prelude::{Engine as _, BASE64_STANDARD};
use minicbor::{Decoder, Encoder};
use p256::ecdsa::{signature::hazmat::PrehashSigner, Signature, SigningKey};
use sha2::{Digest, Sha256};
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

pub const THING: &str = "thing-1";

pub fn other_key() -> SigningKey {
    SigningKey::from_slice(&[0x17; 32]).unwrap()
}

/// A confirmed device running `version`; breaches of the slot's contract are
/// counted in `slot.violations` and refused.
pub fn platform(capacity: u32, version: Version) -> RamPlatform {
    RamPlatform::new(
        Slot::new(capacity, 0xa5, OnViolation::Refuse),
        Boot::new(version, BootState::Confirmed),
    )
}

/// An MCUboot image ([`mcuboot_image`]): version `version` build 7, a
/// 0x200-byte header, `len` payload bytes, SHA-256 TLV.
pub fn image(len: usize, version: (u8, u8, u16)) -> Vec<u8> {
    let version = ImageVersion {
        major: version.0,
        minor: version.1,
        revision: version.2,
        build_num: 7,
    };
    let payload: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
    mcuboot_image(0x200, version, &payload)
}

pub fn sign_with(key: &SigningKey, file: &[u8]) -> String {
    let digest = Sha256::digest(file);
    let sig: Signature = key.sign_prehash(&digest).unwrap();
    BASE64_STANDARD.encode(sig.to_der().as_bytes())
}

pub fn sign(file: &[u8]) -> String {
    sign_with(&signing_key(), file)
}

/// Options for a job document.
#[derive(Clone)]
pub struct JobSpec {
    pub id: String,
    pub size: u32,
    pub signature: String,
    pub protocols: &'static str,
    pub stream: &'static str,
    pub url: Option<String>,
    pub file_id: u32,
    pub file_type: Option<u32>,
    pub status_details: Option<String>,
}

impl JobSpec {
    pub fn for_file(id: &str, file: &[u8]) -> Self {
        JobSpec {
            id: id.to_string(),
            size: file.len() as u32,
            signature: sign(file),
            protocols: r#"["MQTT"]"#,
            stream: "AFR_OTA-stream-1",
            url: None,
            file_id: 0,
            file_type: None,
            status_details: None,
        }
    }

    pub fn self_test(mut self, updated_by: &str) -> Self {
        self.status_details = Some(format!(
            r#"{{"self_test":"ready","updatedBy":"{updated_by}"}}"#
        ));
        self
    }

    pub fn http(mut self, url: &str) -> Self {
        self.protocols = r#"["HTTP"]"#;
        self.url = Some(url.to_string());
        self
    }

    /// The `$next/get/accepted` response carrying this job.
    pub fn doc(&self) -> String {
        let url = self
            .url
            .as_ref()
            .map(|u| format!(r#","update_data_url":"{u}","auth_scheme":"aws.s3.presigned""#))
            .unwrap_or_default();
        let file_type = self
            .file_type
            .map(|t| format!(r#","fileType":{t}"#))
            .unwrap_or_default();
        let details = self
            .status_details
            .as_ref()
            .map(|d| format!(r#","statusDetails":{d}"#))
            .unwrap_or_default();
        format!(
            r#"{{"clientToken":"0:{THING}","timestamp":1,"execution":{{"jobId":"{}","status":"QUEUED"{details},"jobDocument":{{"afr_ota":{{"protocols":{},"streamname":"{}","files":[{{"filepath":"/","filesize":{},"fileid":{}{file_type},"certfile":"c","sig-sha256-ecdsa":"{}"{url}}}]}}}}}}}}"#,
            self.id, self.protocols, self.stream, self.size, self.file_id, self.signature
        )
    }
}

pub fn topic(suffix: &str) -> String {
    format!("$aws/things/{THING}/{suffix}")
}

pub fn no_job() -> String {
    format!(r#"{{"clientToken":"0:{THING}","timestamp":2}}"#)
}

/// What the agent sent, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    Sub(String, QoS),
    Unsub(String),
    Pub {
        topic: String,
        payload: Vec<u8>,
        qos: QoS,
        token: Option<DeliveryToken>,
    },
    Http(String, u32, u32),
}

impl Sent {
    pub fn text(&self) -> String {
        match self {
            Sent::Pub { payload, .. } => String::from_utf8_lossy(payload).into_owned(),
            other => format!("{other:?}"),
        }
    }
    pub fn is_pub_to(&self, suffix: &str) -> bool {
        matches!(self, Sent::Pub { topic: t, .. } if *t == topic(suffix))
    }
}

/// The device under test: an agent with a `URL_CAP`-byte URL buffer (0: an
/// MQTT-only agent).
pub struct Dut<const URL_CAP: usize = 512, S: ProgressStore = Store> {
    pub agent: Agent<RamPlatform<S>, URL_CAP>,
    pub now: Instant,
    pub sent: Vec<Sent>,
    pub events: Vec<Event>,
    acked: usize,
    pub answered: usize,
}

impl Dut {
    pub fn new(config: Config, platform: RamPlatform) -> Self {
        Dut::with_url_cap(config, platform)
    }

    pub fn started(config: Config, platform: RamPlatform) -> Self {
        Dut::started_with_url_cap(config, platform)
    }
}

impl<const URL_CAP: usize, S: ProgressStore> Dut<URL_CAP, S> {
    pub fn with_url_cap(config: Config, platform: RamPlatform<S>) -> Self {
        Dut {
            agent: Agent::new(config, THING, platform).unwrap(),
            now: Instant::from_millis(1_000),
            sent: Vec::new(),
            events: Vec::new(),
            acked: 0,
            answered: 0,
        }
    }

    pub fn started_with_url_cap(config: Config, platform: RamPlatform<S>) -> Self {
        let mut d = Dut::with_url_cap(config, platform);
        d.agent.start(d.now).unwrap();
        d.pump();
        d
    }

    pub fn pf(&mut self) -> &mut RamPlatform<S> {
        self.agent.platform()
    }

    /// Drain transmits and events.
    pub fn pump(&mut self) {
        while let Some(sent) = self.agent.poll_transmit(|t| match t {
            Transmit::Subscribe { topic, qos } => Sent::Sub(topic.to_string(), qos),
            Transmit::Unsubscribe { topic } => Sent::Unsub(topic.to_string()),
            Transmit::Publish {
                topic,
                payload,
                qos,
                delivery,
            } => Sent::Pub {
                topic: topic.to_string(),
                payload: payload.to_vec(),
                qos,
                token: delivery,
            },
            Transmit::HttpGet { url, first, last } => Sent::Http(url.to_string(), first, last),
        }) {
            self.sent.push(sent);
        }
        while let Some(e) = self.agent.poll_event() {
            self.events.push(e);
        }
    }

    pub fn msg(&mut self, suffix: &str, payload: &[u8]) -> Processed {
        let p = self.agent.handle_message(self.now, topic(suffix), payload);
        self.pump();
        p
    }

    /// Deliver `doc` as the reply to the last job request (its clientToken
    /// rewritten to echo that request's, as the service does).
    pub fn job(&mut self, doc: &str) -> Processed {
        let last = self.sent.iter().rev().find_map(|s| match s {
            Sent::Pub {
                topic: t, payload, ..
            } if *t == topic("jobs/$next/get") => {
                Some(String::from_utf8_lossy(payload).into_owned())
            }
            _ => None,
        });
        let doc = match last {
            Some(req) => doc.replacen(
                &format!(r#"{{"clientToken":"0:{THING}""#),
                &req[..req.len() - 1],
                1,
            ),
            None => doc.to_string(),
        };
        self.msg("jobs/$next/get/accepted", doc.as_bytes())
    }

    pub fn advance(&mut self, ms: u64) {
        self.now = Instant::from_millis(self.now.as_millis() + ms);
        self.agent.handle_timeout(self.now);
        self.pump();
    }

    /// Acknowledge every QoS 1 publish, then check that the agent asks for
    /// activation with `file` in the slot.
    #[track_caller]
    pub fn expect_activation(&mut self, file: &[u8]) {
        self.ack_all();
        assert_eq!(self.take_events(), [Event::Activate]);
        assert_eq!(&self.pf().slot.mem[..file.len()], file);
    }

    /// Acknowledge every QoS 1 publish that asked for it, once.
    pub fn ack_all(&mut self) {
        loop {
            let tokens: Vec<DeliveryToken> = self.sent[self.acked..]
                .iter()
                .filter_map(|s| match s {
                    Sent::Pub { token: Some(t), .. } => Some(*t),
                    _ => None,
                })
                .collect();
            self.acked = self.sent.len();
            if tokens.is_empty() {
                return;
            }
            for t in tokens {
                self.agent.handle_delivered(self.now, t);
                self.pump();
            }
        }
    }

    pub fn take_sent(&mut self) -> Vec<Sent> {
        self.acked = 0;
        self.answered = 0;
        core::mem::take(&mut self.sent)
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        core::mem::take(&mut self.events)
    }

    /// Job requests (`$next/get`) sent so far.
    pub fn job_requests(&self) -> usize {
        self.sent
            .iter()
            .filter(|s| s.is_pub_to("jobs/$next/get"))
            .count()
    }

    /// Status bodies published to the job's update topic.
    pub fn statuses(&self, job: &str) -> Vec<String> {
        let t = format!("jobs/{job}/update");
        self.sent
            .iter()
            .filter(|s| s.is_pub_to(&t))
            .map(Sent::text)
            .collect()
    }

    /// GetStream requests sent, decoded as (o, b, n).
    pub fn stream_requests(&self, stream: &str) -> Vec<(u32, Vec<u8>, u32)> {
        let t = format!("streams/{stream}/get/cbor");
        self.sent
            .iter()
            .filter_map(|s| match s {
                Sent::Pub {
                    topic: tp, payload, ..
                } if *tp == topic(&t) => Some(decode_request(payload)),
                _ => None,
            })
            .collect()
    }
}

/// Decode a GetStream request into (o, b, n), checking f and l.
pub fn decode_request(payload: &[u8]) -> (u32, Vec<u8>, u32) {
    let mut d = Decoder::new(payload);
    assert_eq!(d.map().unwrap(), Some(6));
    let mut out = (0, Vec::new(), 0);
    for _ in 0..6 {
        match d.str().unwrap() {
            "c" => assert_eq!(d.str().unwrap(), "rdy"),
            "f" | "l" => {
                d.u32().unwrap();
            }
            "o" => out.0 = d.u32().unwrap(),
            "b" => out.1 = d.bytes().unwrap().to_vec(),
            "n" => out.2 = d.u32().unwrap(),
            k => panic!("unexpected key {k}"),
        }
    }
    out
}

/// A block message as the service sends it.
pub fn block(f: u32, i: u32, p: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    e.map(5).unwrap();
    e.str("c").unwrap().str("rdy").unwrap();
    e.str("f").unwrap().u32(f).unwrap();
    e.str("l").unwrap().u32(p.len() as u32).unwrap();
    e.str("i").unwrap().u32(i).unwrap();
    e.str("p").unwrap().bytes(p).unwrap();
    e.into_writer()
}

/// The blocks AWS would send for a request (o, b, n): wanted bits from o, at most n.
pub fn serve(file: &[u8], bs: usize, req: &(u32, Vec<u8>, u32)) -> Vec<u32> {
    let total = file.len().div_ceil(bs) as u32;
    let (o, b, n) = req;
    let mut out = Vec::new();
    for (k, byte) in b.iter().enumerate() {
        for bit in 0..8 {
            let i = o + (k * 8 + bit) as u32;
            if byte & (1 << bit) != 0 && i < total && (out.len() as u32) < *n {
                out.push(i);
            }
        }
    }
    out
}

pub fn block_of(file: &[u8], bs: usize, i: u32) -> &[u8] {
    let s = i as usize * bs;
    &file[s..(s + bs).min(file.len())]
}

impl<const URL_CAP: usize, S: ProgressStore> Dut<URL_CAP, S> {
    /// Answer every GetStream request not answered yet, in order, including
    /// the ones the answers trigger; returns the blocks served.
    pub fn download(&mut self, stream: &str, file: &[u8]) -> u32 {
        let bs = self.agent.config().block_size as usize;
        let mut served = 0;
        loop {
            let reqs = self.stream_requests(stream);
            let Some(req) = reqs.get(self.answered).cloned() else {
                return served;
            };
            self.answered += 1;
            for i in serve(file, bs, &req) {
                self.msg(
                    &format!("streams/{stream}/data/cbor"),
                    &block(0, i, block_of(file, bs, i)),
                );
                served += 1;
            }
        }
    }
}

pub fn config() -> Config {
    Config {
        blocks_per_request: 1,
        resume_every_blocks: 0,
        ..Config::default()
    }
}

pub const V1: Version = Version::new(1, 0, 0);
