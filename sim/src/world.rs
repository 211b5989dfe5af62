//! One run: the device (core agent + host platform on an in-memory flash),
//! the service model and a broker model, on simulated time, with the faults
//! of a [`Scenario`]. Every random choice comes from the seed.

use crate::rng::Rng;
use crate::scenario::{Scenario, SelfTest};
use crate::service::{Publish, Service, Status};
use base64::prelude::{Engine as _, BASE64_STANDARD};
use ota_agent::mcuboot::ImageVersion;
use ota_agent::{
    Agent, Config, DeliveryToken, Event, HttpOutcome, ImageVerdict, Instant, P256Verifier, QoS,
    Transmit, Version,
};
use ota_agent::{Platform, ProgressStore};
use ota_agent_host::boot::{BootConfig, BootError, BootSim};
use ota_agent_host::flash::{Flash, SharedFlash};
use ota_agent_host::image::{build_image, ImageOptions};
use ota_agent_host::partition::Layout;
use ota_agent_host::platform::HostPlatform;
use p256::ecdsa::{signature::hazmat::PrehashSigner, Signature, SigningKey};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The device's thing name.
pub const THING: &str = "sim-device";
/// The version the device starts on.
pub const OLD: Version = Version::new(1, 0, 0);
/// How long a run may last (simulated).
const TIME_LIMIT: u64 = 4 * 3600 * 1000;
/// How long after the job ended the world keeps running, to let rollbacks
/// and commits settle.
const SETTLE: u64 = 120_000;

type SimAgent = Agent<HostPlatform<P256Verifier>, 256>;

enum Ev {
    /// Service → broker → device.
    ToDevice {
        epoch: u64,
        topic: String,
        payload: Vec<u8>,
    },
    /// Device → broker.
    ToBroker {
        epoch: u64,
        topic: String,
        payload: Vec<u8>,
        token: Option<DeliveryToken>,
    },
    /// Device subscribes (arrives at the broker).
    Subscribe { epoch: u64, topic: String },
    /// Device unsubscribes.
    Unsubscribe { epoch: u64, topic: String },
    /// Broker → device PUBACK.
    PubAck { epoch: u64, token: DeliveryToken },
    /// An HTTP response arrives at the device.
    Http {
        boot: u64,
        offset: u32,
        body: Vec<u8>,
        outcome: HttpOutcome,
    },
    /// The device's connection drops.
    Disconnect,
    /// The broker restarts.
    BrokerRestart,
    /// The device connects (again).
    Connect { boot: u64 },
    /// Power comes back after a cut, or the device finishes a reboot.
    PowerOn,
    /// The job is force-cancelled.
    Cancel,
    /// The application does something.
    App { boot: u64, action: AppAction },
}

#[derive(Clone, Copy, Debug)]
enum AppAction {
    Activate,
    Verdict(ImageVerdict),
}

/// Counters of what happened in a run.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// Messages lost by the network.
    pub lost: u64,
    /// Messages duplicated.
    pub duplicated: u64,
    /// Messages held back (reordered).
    pub reordered: u64,
    /// Connection drops (disconnects and broker restarts).
    pub disconnects: u64,
    /// Power cuts that happened.
    pub power_cuts: u64,
    /// Reboots the firmware asked for.
    pub reboots: u64,
    /// HTTP responses cut short.
    pub truncated: u64,
    /// Resumes from a record.
    pub resumes: u64,
    /// Blocks fetched below a resume point after a resume (must stay 0).
    pub refetched_below_resume: u64,
}

/// What a run ended with.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// The job's final status in the service.
    pub status: Status,
    /// Its last status details.
    pub reason: String,
    /// The version the device boots at the end.
    pub version: Option<Version>,
    /// Whether that image is confirmed.
    pub confirmed: bool,
    /// Simulated time at the end (ms).
    pub end: u64,
    /// Counters.
    pub counters: Counters,
    /// Blocks in the file, and blocks the service sent.
    pub blocks: (u32, u64),
    /// Flash writes and erases during the run.
    pub flash_ops: u64,
    /// Every invariant the run broke.
    pub violations: Vec<String>,
}

enum Power {
    On(Box<SimAgent>),
    Off(Box<HostPlatform<P256Verifier>>),
}

struct Conn {
    up: bool,
    epoch: u64,
    subs: Vec<String>,
    /// When the last packet from the device reaches the broker: one TCP
    /// connection delivers in order.
    last_arrival: u64,
}

/// The world of one run.
pub struct World {
    sc: Scenario,
    rng: Rng,
    now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Ev>,
    power: Option<Power>,
    config: Config,
    boot: u64,
    conn: Conn,
    service: Service,
    new_version: Version,
    cuts: Vec<u64>,
    /// Flash operations done before the run starts (installing the factory
    /// image): power-cut indices count from here.
    op_base: u64,
    /// The resume point a boot found, until the first data request shows it.
    expect_resume: Option<u32>,
    /// Blocks below which nothing may be fetched again in this boot.
    floor: u32,
    counters: Counters,
    violations: Vec<String>,
    trace: Option<Vec<String>>,
}

fn key() -> SigningKey {
    SigningKey::from_slice(&[0x24; 32]).expect("a valid scalar")
}

fn image(payload_len: usize, v: (u8, u8, u16), marker: u8) -> Vec<u8> {
    let payload: Vec<u8> = (0..payload_len)
        .map(|i| (i as u8).wrapping_mul(31) ^ marker)
        .collect();
    let opts = ImageOptions {
        version: ImageVersion {
            major: v.0,
            minor: v.1,
            revision: v.2,
            build_num: 0,
        },
        ..ImageOptions::default()
    };
    build_image(&payload, &opts).expect("a valid image")
}

impl World {
    /// Set up the run of `sc`; `trace` keeps a log of every step.
    pub fn new(sc: Scenario, trace: bool) -> Self {
        let rng = Rng::new(sc.seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let slot = 64 * 1024;
        let layout =
            Layout::new(4096, sc.write_align, 16 * 1024, slot, 8 * 1024).expect("a valid layout");
        let flash = SharedFlash::new(Flash::in_memory(layout.geometry()));
        let old = image(20_000, (1, 0, 0), 0);
        BootSim::new(flash.clone(), &layout, BootConfig::default())
            .expect("a valid boot configuration")
            .install_primary(&old)
            .expect("the factory image installs");
        let public = key().verifying_key().to_sec1_point(false);
        let verifier = P256Verifier::from_sec1(public.as_bytes()).expect("a valid key");
        let platform = HostPlatform::power_on(flash, layout, BootConfig::default(), verifier)
            .expect("the factory image boots");
        let new = image(sc.payload_len, sc.new_version, 0x5a);
        let digest = Sha256::digest(if sc.signature_ok { &new[..] } else { &old[..] });
        let sig: Signature = key().sign_prehash(&digest).expect("signing works");
        let service = Service::new(
            THING,
            new,
            BASE64_STANDARD.encode(sig.to_der().as_bytes()),
            sc.http,
            sc.block_size,
            sc.url_lifetime,
        );
        let config = Config {
            block_size: sc.block_size,
            blocks_per_request: sc.blocks_per_request,
            http_range_size: sc.block_size * sc.range_blocks,
            request_timeout_ms: 2_000,
            max_retries: 12,
            self_test_timeout_ms: 30_000,
            status_every_blocks: 8,
            resume_every_blocks: sc.resume_every,
            ..Config::default()
        };
        let new_version = Version::new(sc.new_version.0, sc.new_version.1, sc.new_version.2);
        let mut w = World {
            cuts: sc.power_cuts.iter().rev().copied().collect(),
            op_base: 0,
            rng,
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            power: Some(Power::Off(Box::new(platform))),
            config,
            boot: 0,
            conn: Conn {
                up: false,
                epoch: 0,
                subs: Vec::new(),
                last_arrival: 0,
            },
            service,
            new_version,
            expect_resume: None,
            floor: 0,
            counters: Counters::default(),
            violations: Vec::new(),
            trace: trace.then(Vec::new),
            sc,
        };
        w.op_base = w.flash().lock().stats().operations();
        w.arm_next_cut();
        for &t in &w.sc.disconnects.clone() {
            w.at(t, Ev::Disconnect);
        }
        for &t in &w.sc.broker_restarts.clone() {
            w.at(t, Ev::BrokerRestart);
        }
        if let Some(t) = w.sc.cancel_at {
            w.at(t, Ev::Cancel);
        }
        w.start_firmware();
        w
    }

    fn log(&mut self, what: impl FnOnce() -> String) {
        if let Some(t) = &mut self.trace {
            t.push(format!("{:>9} ms  {}", self.now, what()));
        }
    }

    fn at(&mut self, time: u64, ev: Ev) {
        self.seq += 1;
        self.queue.insert((time, self.seq), ev);
    }

    fn latency(&mut self) -> u64 {
        let base = self.rng.range(2, 40);
        if self.rng.chance(self.sc.reorder) {
            self.counters.reordered += 1;
            base + self.rng.range(50, 1_500)
        } else {
            base
        }
    }

    fn flash(&self) -> SharedFlash {
        match self.power.as_ref() {
            Some(Power::On(a)) => a.platform_ref().flash().clone(),
            Some(Power::Off(p)) => p.flash().clone(),
            None => unreachable!("the device is always on or off"),
        }
    }

    fn arm_next_cut(&mut self) {
        let flash = self.flash();
        let mut f = flash.lock();
        let done = f.stats().operations() - self.op_base;
        while let Some(&at) = self.cuts.last() {
            if at >= done {
                f.arm_power_cut(at - done, self.sc.seed ^ at);
                return;
            }
            self.cuts.pop();
        }
    }

    /// Boot the firmware on the (powered) platform and start the agent.
    fn start_firmware(&mut self) {
        let Some(Power::Off(mut platform)) = self.power.take() else {
            return;
        };
        self.boot += 1;
        let booted = platform.restart().map(|r| (r.version(), r.state));
        match booted {
            Err(BootError::Flash(e)) if e.is_power_loss() => {
                self.log(|| "power cut during boot".into());
                self.counters.power_cuts += 1;
                self.power = Some(Power::Off(platform));
                let t = self.now + self.rng.range(100, 3_000);
                return self.at(t, Ev::PowerOn);
            }
            Err(e) => {
                self.violations
                    .push(format!("the device does not boot: {e}"));
                self.power = Some(Power::Off(platform));
                return;
            }
            Ok((version, state)) => self.log(|| format!("booted {version:?} ({state:?})")),
        }
        // Where a download would resume.
        let mut buf = [0u8; ota_agent::RESUME_RECORD_MAX];
        self.expect_resume = platform
            .store()
            .load(&mut buf)
            .and_then(|n| ota_agent::read_resume_record(&buf[..n]))
            .filter(|r| r.stage == ota_agent::ResumeStage::Downloading && r.next_block > 0)
            .map(|r| r.next_block);
        self.floor = self.expect_resume.unwrap_or(0);
        let mut agent = Agent::new(self.config, THING, *platform).expect("a valid configuration");
        let _ = agent.start(Instant::from_millis(self.now));
        self.power = Some(Power::On(Box::new(agent)));
        let boot = self.boot;
        let t = self.now + self.rng.range(50, 500);
        self.at(t, Ev::Connect { boot });
        self.pump();
    }

    /// Drain the agent's outputs and look at the device's state after an input.
    fn pump(&mut self) {
        let Some(Power::On(agent)) = self.power.as_mut() else {
            return;
        };
        if !agent.platform_ref().flash().lock().is_powered() {
            // Power cut in the middle of the step: nothing it produced left
            // the device, and RAM is gone.
            let Some(Power::On(agent)) = self.power.take() else {
                unreachable!()
            };
            let platform = agent.into_platform();
            self.power = Some(Power::Off(Box::new(platform)));
            self.counters.power_cuts += 1;
            self.log(|| "power cut".into());
            self.drop_connection();
            let t = self.now + self.rng.range(100, 5_000);
            return self.at(t, Ev::PowerOn);
        }
        let mut out = Vec::new();
        while let Some(o) = agent.poll_transmit(|t| match t {
            Transmit::Subscribe { topic, .. } => Out::Sub(topic.to_string()),
            Transmit::Unsubscribe { topic } => Out::Unsub(topic.to_string()),
            Transmit::Publish {
                topic,
                payload,
                qos,
                delivery,
            } => Out::Pub(topic.to_string(), payload.to_vec(), qos, delivery),
            Transmit::HttpGet { url, first, last } => Out::Http(url.to_string(), first, last),
        }) {
            out.push(o);
        }
        let mut events = Vec::new();
        while let Some(e) = agent.poll_event() {
            events.push(e);
        }
        let reboot = agent.platform_ref().reboot_requested();
        for o in out {
            self.send(o);
        }
        for e in events {
            self.on_event(e);
        }
        if reboot {
            let Some(Power::On(agent)) = self.power.take() else {
                unreachable!()
            };
            self.power = Some(Power::Off(Box::new(agent.into_platform())));
            self.counters.reboots += 1;
            self.log(|| "reboot".into());
            self.drop_connection();
            let t = self.now + 200;
            self.at(t, Ev::PowerOn);
        }
    }

    fn drop_connection(&mut self) {
        self.conn.up = false;
        self.conn.epoch += 1;
        self.conn.subs.clear();
    }

    fn on_event(&mut self, e: Event) {
        self.log(|| format!("event {e:?}"));
        let boot = self.boot;
        let (delay, action) = match e {
            Event::Activate => (self.rng.range(0, 2_000), AppAction::Activate),
            Event::StartTest => {
                let running = self.running_version();
                let verdict = if running == Some(self.new_version) {
                    match self.sc.self_test {
                        SelfTest::Pass => ImageVerdict::Accepted,
                        SelfTest::Fail => ImageVerdict::Rejected,
                        SelfTest::Hang => return,
                    }
                } else {
                    ImageVerdict::Accepted
                };
                (self.rng.range(100, 5_000), AppAction::Verdict(verdict))
            }
            _ => return,
        };
        let t = self.now + delay;
        self.at(t, Ev::App { boot, action });
    }

    fn running_version(&self) -> Option<Version> {
        match self.power.as_ref() {
            Some(Power::On(a)) => Some(a.platform_ref().boot_report().version()),
            _ => None,
        }
    }

    /// When a packet sent now reaches the broker (in order with the others).
    fn upstream(&mut self) -> u64 {
        let t = (self.now + self.latency()).max(self.conn.last_arrival);
        self.conn.last_arrival = t;
        t
    }

    fn send(&mut self, out: Out) {
        let epoch = self.conn.epoch;
        match out {
            Out::Http(url, first, last) => self.http(url, first, last),
            _ if !self.conn.up => self.log(|| format!("not connected: dropped {out:?}")),
            Out::Sub(topic) => {
                let t = self.upstream();
                self.at(t, Ev::Subscribe { epoch, topic });
            }
            Out::Unsub(topic) => {
                let t = self.upstream();
                self.at(t, Ev::Unsubscribe { epoch, topic });
            }
            Out::Pub(topic, payload, qos, token) => {
                if qos == QoS::AtMostOnce && self.rng.chance(self.sc.loss) {
                    self.counters.lost += 1;
                    return self.log(|| format!("lost {topic}"));
                }
                let t = self.upstream();
                self.at(
                    t,
                    Ev::ToBroker {
                        epoch,
                        topic,
                        payload,
                        token,
                    },
                );
            }
        }
    }

    fn http(&mut self, url: String, first: u32, last: u32) {
        let boot = self.boot;
        let (status, mut body) = self.service.http_get(self.now, &url, first, last);
        let mut t = self.now + self.latency();
        if status != 206 {
            return self.at(
                t,
                Ev::Http {
                    boot,
                    offset: first,
                    body: vec![],
                    outcome: HttpOutcome::Failed { status },
                },
            );
        }
        if self.rng.chance(self.sc.http_truncation) && body.len() > 1 {
            self.counters.truncated += 1;
            let keep = self.rng.range(0, body.len() as u64) as usize;
            body.truncate(keep);
        }
        self.check_floor(first / self.sc.block_size);
        // The body arrives in pieces of arbitrary size.
        let mut offset = first;
        let mut rest = &body[..];
        while !rest.is_empty() {
            let n = (self.rng.range(1, 3_000) as usize).min(rest.len());
            self.at(
                t,
                Ev::Http {
                    boot,
                    offset,
                    body: rest[..n].to_vec(),
                    outcome: HttpOutcome::Complete,
                },
            );
            offset += n as u32;
            rest = &rest[n..];
            t += 1;
        }
        self.at(
            t,
            Ev::Http {
                boot,
                offset,
                body: vec![],
                outcome: HttpOutcome::Complete,
            },
        );
    }

    /// A data request after a boot must start where the record said, and no
    /// block below that point may be fetched again.
    fn check_floor(&mut self, first_block: u32) {
        if let Some(expected) = self.expect_resume.take() {
            if first_block == expected {
                self.counters.resumes += 1;
            } else if first_block < expected {
                self.violations.push(format!(
                    "boot {}: resumed at block {first_block}, the record said {expected}",
                    self.boot
                ));
            }
        }
        if first_block < self.floor {
            self.counters.refetched_below_resume += (self.floor - first_block) as u64;
        }
    }

    fn deliver_to_device(&mut self, publishes: Vec<Publish>) {
        for p in publishes {
            if !self.conn.up || !self.conn.subs.contains(&p.topic) {
                self.log(|| format!("no subscriber for {}", p.topic));
                continue;
            }
            // Stream data goes at QoS 0 and may be lost; job messages go at
            // QoS 1 and are lost only with the connection.
            let qos0 = p.topic.ends_with("/data/cbor");
            if qos0 && self.rng.chance(self.sc.loss) {
                self.counters.lost += 1;
                self.log(|| format!("lost {}", p.topic));
                continue;
            }
            let copies = if self.rng.chance(self.sc.duplication) {
                self.counters.duplicated += 1;
                2
            } else {
                1
            };
            for _ in 0..copies {
                let t = self.now + self.latency();
                let epoch = self.conn.epoch;
                self.at(
                    t,
                    Ev::ToDevice {
                        epoch,
                        topic: p.topic.clone(),
                        payload: p.payload.clone(),
                    },
                );
            }
        }
    }

    fn agent(&mut self) -> Option<&mut SimAgent> {
        match self.power.as_mut() {
            Some(Power::On(a)) => Some(a),
            _ => None,
        }
    }

    fn handle(&mut self, ev: Ev) {
        let now = Instant::from_millis(self.now);
        match ev {
            Ev::ToDevice {
                epoch,
                topic,
                payload,
            } => {
                if epoch != self.conn.epoch {
                    return;
                }
                if let Some(a) = self.agent() {
                    let p = a.handle_message(now, &topic, &payload);
                    self.log(|| format!("device got {topic}: {p:?}"));
                }
            }
            Ev::ToBroker {
                epoch,
                topic,
                payload,
                token,
            } => {
                if epoch != self.conn.epoch || !self.conn.up {
                    return;
                }
                if let Some(token) = token {
                    let t = self.now + self.latency();
                    self.at(t, Ev::PubAck { epoch, token });
                }
                if topic.ends_with("/get/cbor") {
                    if let Some(o) = first_block_of_request(&payload) {
                        self.check_floor(o);
                    }
                } else {
                    self.log(|| {
                        format!("service got {topic}: {}", String::from_utf8_lossy(&payload))
                    });
                }
                let replies = self.service.handle(self.now, &topic, &payload);
                self.deliver_to_device(replies);
            }
            Ev::Subscribe { epoch, topic } => {
                if epoch == self.conn.epoch && self.conn.up && !self.conn.subs.contains(&topic) {
                    self.conn.subs.push(topic);
                }
            }
            Ev::Unsubscribe { epoch, topic } => {
                if epoch == self.conn.epoch {
                    self.conn.subs.retain(|s| *s != topic);
                }
            }
            Ev::PubAck { epoch, token } => {
                if epoch == self.conn.epoch {
                    if let Some(a) = self.agent() {
                        a.handle_delivered(now, token);
                    }
                }
            }
            Ev::Http {
                boot,
                offset,
                body,
                outcome,
            } => {
                if boot != self.boot {
                    return;
                }
                if let Some(a) = self.agent() {
                    if !body.is_empty() {
                        a.handle_http_data(now, offset, &body);
                    } else {
                        a.handle_http_done(now, outcome);
                    }
                }
            }
            Ev::Disconnect | Ev::BrokerRestart => {
                if !self.conn.up {
                    return;
                }
                self.counters.disconnects += 1;
                self.log(|| "connection lost".into());
                self.drop_connection();
                if let Some(a) = self.agent() {
                    let _ = a.suspend();
                }
                let boot = self.boot;
                let t = self.now + self.rng.range(500, 8_000);
                self.at(t, Ev::Connect { boot });
            }
            Ev::Connect { boot } => {
                if boot != self.boot || self.conn.up || self.agent().is_none() {
                    return;
                }
                self.conn.up = true;
                self.log(|| "connected".into());
                if let Some(a) = self.agent() {
                    let _ = a.resume(now);
                }
            }
            Ev::PowerOn => {
                if matches!(self.power, Some(Power::On(_))) {
                    return;
                }
                self.flash().lock().power_cycle();
                self.arm_next_cut();
                self.start_firmware();
                return;
            }
            Ev::Cancel => {
                self.log(|| "job force-cancelled".into());
                let out = self.service.cancel(self.now);
                self.deliver_to_device(out);
            }
            Ev::App { boot, action } => {
                if boot != self.boot {
                    return;
                }
                if let Some(a) = self.agent() {
                    let r = match action {
                        AppAction::Activate => a.activate_new_image(now),
                        AppAction::Verdict(v) => a.set_image_state(now, v),
                    };
                    self.log(|| format!("application {action:?}: {r:?}"));
                }
            }
        }
        self.pump();
    }

    fn settled(&self) -> bool {
        let Some(end) = self.service.job.terminal_at else {
            return false;
        };
        self.now > end + SETTLE && matches!(self.power, Some(Power::On(_)))
    }

    /// Run to the end and check the invariants.
    pub fn run(mut self) -> Outcome {
        self.simulate();
        self.finish()
    }

    /// Run to the end; the outcome and the trace of every step.
    pub fn run_traced(mut self) -> (Outcome, Vec<String>) {
        self.simulate();
        let trace = self.trace.take().unwrap_or_default();
        (self.finish(), trace)
    }

    fn simulate(&mut self) {
        while self.now < TIME_LIMIT && !self.settled() {
            let next_event = self.queue.keys().next().map(|k| k.0);
            let deadline = self
                .agent()
                .and_then(|a| a.poll_timeout())
                .map(Instant::as_millis);
            let next = match (next_event, deadline) {
                (Some(e), Some(d)) => e.min(d),
                (e, d) => match e.or(d) {
                    Some(t) => t,
                    None => break,
                },
            };
            self.now = next.max(self.now);
            if deadline == Some(next) {
                let now = Instant::from_millis(self.now);
                if let Some(a) = self.agent() {
                    a.handle_timeout(now);
                }
                self.pump();
            } else if let Some((_, ev)) = self.queue.pop_first() {
                self.handle(ev);
            }
        }
    }

    fn finish(mut self) -> Outcome {
        let job = self.service.job.clone();
        let reason = job
            .details
            .get("reason")
            .and_then(|r| r.as_str())
            .unwrap_or_default()
            .to_string();
        // Power off and on once more: the device must boot a good image.
        let platform = match self.power.take() {
            Some(Power::On(a)) => a.into_platform(),
            Some(Power::Off(p)) => *p,
            None => unreachable!(),
        };
        let mut platform = platform;
        let flash_ops = platform.flash().lock().stats().operations() - self.op_base;
        platform.flash().lock().power_cycle();
        let booted = platform.restart().map(|r| (r.version(), r.state));
        let (version, confirmed) = match booted {
            Ok((v, s)) => (Some(v), s == ota_agent::BootState::Confirmed),
            Err(e) => {
                self.violations
                    .push(format!("the device does not boot at the end: {e}"));
                (None, false)
            }
        };
        let mut v = std::mem::take(&mut self.violations);
        match job.status {
            Status::Succeeded if version != Some(self.new_version) || !confirmed => v.push(
                format!("SUCCEEDED but the device runs {version:?} (confirmed: {confirmed})"),
            ),
            // A cancellation that crosses the device's SUCCEEDED in flight is
            // seen too late: the device commits as the broker acknowledged it.
            Status::Canceled if job.rejected.iter().any(|s| s == "SUCCEEDED") => {}
            Status::Failed | Status::Canceled if version != Some(OLD) => {
                v.push(format!("{:?} but the device runs {version:?}", job.status))
            }
            Status::Failed if reason.is_empty() => v.push("FAILED without a reason".into()),
            Status::Queued | Status::InProgress if self.now >= TIME_LIMIT => v.push(format!(
                "the job is stuck {:?} at the time limit",
                job.status
            )),
            _ => {}
        }
        if job.status == Status::Succeeded && !self.sc.can_succeed() {
            v.push("SUCCEEDED although the scenario cannot succeed".into());
        }
        if job.status == Status::Failed && self.sc.can_succeed() && self.unexpected_reason(&reason)
        {
            v.push(format!("FAILED with an unexpected reason: {reason}"));
        }
        if self.counters.refetched_below_resume > 0 {
            v.push(format!(
                "{} blocks fetched again below a resume point",
                self.counters.refetched_below_resume
            ));
        }
        Outcome {
            seed: self.sc.seed,
            status: job.status,
            reason,
            version,
            confirmed,
            end: self.now,
            blocks: (
                self.service.served.len() as u32,
                self.service.served.iter().map(|&n| n as u64).sum(),
            ),
            counters: self.counters,
            flash_ops,
            violations: v,
        }
    }

    /// Failures a scenario that can succeed may still end with: the network
    /// (retries spent, statuses never acknowledged), and a self test that
    /// timed out while the device was offline.
    fn unexpected_reason(&self, reason: &str) -> bool {
        ![
            "aborted: 0x0000000e",
            "rejected: 0x00000020",
            "rejected: 0x00000011",
        ]
        .contains(&reason)
    }
}

#[derive(Debug)]
enum Out {
    Sub(String),
    Unsub(String),
    Pub(String, Vec<u8>, QoS, Option<DeliveryToken>),
    Http(String, u32, u32),
}

fn first_block_of_request(payload: &[u8]) -> Option<u32> {
    let mut d = minicbor::Decoder::new(payload);
    let n = d.map().ok()??;
    let mut o = None;
    let mut bitmap: Option<Vec<u8>> = None;
    for _ in 0..n {
        match d.str().ok()? {
            "o" => o = Some(d.u32().ok()?),
            "b" => bitmap = Some(d.bytes().ok()?.to_vec()),
            _ => d.skip().ok()?,
        }
    }
    let o = o?;
    let first = bitmap?
        .iter()
        .enumerate()
        .find_map(|(k, b)| (*b != 0).then(|| k as u32 * 8 + b.trailing_zeros()));
    first.map(|f| o + f)
}
