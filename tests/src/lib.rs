//! The world of one end-to-end test: a private mosquitto on a free loopback
//! port, the `otactl` OTA service on it, a code-signing key, MCUboot images
//! of simulated firmware, and simulated devices whose flash lives in a
//! temporary directory. Every test builds its own [`World`], so tests run
//! in parallel without sharing anything.
//!
//! mosquitto is required: [`World::start`] panics with installation advice
//! when it is missing (a skipped end-to-end test would prove nothing).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use ota_agent::mcuboot::ImageVersion;
use ota_agent::{Config, Event, Protocols, Statistics};
use ota_agent_host::device::firmware::{Firmware, SelfTest};
use ota_agent_host::image::{self, ImageOptions};
use ota_agent_host::mqtt::Backoff;
use ota_agent_host::{Device, DeviceConfig, DeviceEvent, DeviceStatus, Layout};
use otactl::jobdoc::{FileEntry, JobDocument, Protocol};
use otactl::keys;
use otactl::service::{Execution, JobStatus, Service, ServiceConfig, ServiceHandle};
use otactl::testing::{Mosquitto, TlsListener};
use p256::ecdsa::SigningKey;

/// How long a whole update may take in a test (generous: the suite runs in
/// parallel on two cores).
pub const UPDATE_TIMEOUT: Duration = Duration::from_secs(60);

/// Bytes of a test image's payload (small, so the suite stays fast).
pub const PAYLOAD_SIZE: usize = 24 * 1024;

/// Block size of the test devices.
pub const BLOCK_SIZE: u32 = 1024;

/// A small device: 4 KiB pages, 128 KiB slots.
pub fn test_layout() -> Layout {
    Layout::new(4096, 4, 16 * 1024, 128 * 1024, 16 * 1024).expect("a valid layout")
}

/// The agent configuration of the test devices: 1 KiB blocks, short timeouts.
pub fn test_agent_config() -> Config {
    Config {
        block_size: BLOCK_SIZE,
        blocks_per_request: 4,
        http_range_size: 8 * BLOCK_SIZE,
        request_timeout_ms: 1000,
        max_retries: 20,
        self_test_timeout_ms: 10_000,
        status_every_blocks: 8,
        resume_every_blocks: 2,
        allow_downgrade: false,
        firmware_file_type: 0,
        protocols: Protocols {
            mqtt: true,
            http: true,
            prefer_http: false,
        },
    }
}

/// One test's broker, service, keys and temporary directory.
pub struct World {
    /// The service (dropped before the broker).
    pub service: ServiceHandle,
    /// The broker.
    pub broker: Mosquitto,
    /// The code-signing key the devices trust.
    pub key: SigningKey,
    /// Where flash files go.
    pub dir: tempfile::TempDir,
}

impl World {
    /// mosquitto and the service. Panics (with advice) when mosquitto is missing.
    pub fn start() -> World {
        Self::start_with_service(|_| {})
    }

    /// Like [`World::start`], with the service configured by `configure`.
    pub fn start_with_service(configure: impl FnOnce(&mut ServiceConfig)) -> World {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let broker = Mosquitto::start().unwrap_or_else(|e| panic!("{e:#}"));
        let mut config = ServiceConfig::new("127.0.0.1", broker.port());
        configure(&mut config);
        Self::with(broker, config, dir)
    }

    /// Like [`World::start`], and the broker also has a TLS listener that
    /// wants client certificates (made with `openssl`, signed by `pki.ca`).
    pub fn start_with_tls() -> (World, Pki) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let pki = Pki::create(dir.path());
        let listener = TlsListener {
            ca_file: pki.ca.clone(),
            cert_file: pki.server_cert.clone(),
            key_file: pki.server_key.clone(),
        };
        let broker = Mosquitto::start_with_tls(&listener).unwrap_or_else(|e| panic!("{e:#}"));
        let config = ServiceConfig::new("127.0.0.1", broker.port());
        (Self::with(broker, config, dir), pki)
    }

    fn with(broker: Mosquitto, config: ServiceConfig, dir: tempfile::TempDir) -> World {
        let service = Service::start(config)
            .unwrap_or_else(|e| panic!("the OTA service did not start: {e:#}"));
        World {
            service,
            broker,
            key: keys::generate(),
            dir,
        }
    }

    /// The devices' trusted key, SEC1.
    pub fn public_key(&self) -> Vec<u8> {
        keys::public_key_sec1(self.key.verifying_key()).to_vec()
    }

    /// A device configuration for `thing` on this world's broker, with the
    /// test layout and timeouts, booting `factory` on first start.
    pub fn device_config(&self, thing: &str, factory: Vec<u8>) -> DeviceConfig {
        let mut config = DeviceConfig::new(
            thing,
            "127.0.0.1",
            self.broker.port(),
            self.dir.path().join(format!("{thing}.flash")),
            &self.public_key(),
        );
        config.layout = test_layout();
        config.agent = test_agent_config();
        config.factory_image = Some(factory);
        config.power_off_time = Duration::from_millis(50);
        config.http_timeout = Duration::from_secs(5);
        config.mqtt.keep_alive = Duration::from_secs(5);
        config.mqtt.reconnect = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(800),
        };
        config
    }

    /// Start a device from `config`, recording its events.
    pub fn start_device(&self, config: DeviceConfig) -> TestDevice {
        let (tx, events) = mpsc::channel();
        let device = Device::start(config, move |e| {
            let _ = tx.send(e.clone());
        })
        .unwrap_or_else(|e| panic!("the device did not start: {e}"));
        TestDevice {
            device,
            events,
            seen: Vec::new(),
        }
    }

    /// A device for `thing` running a factory image of `version`, connected
    /// and told by the service that it has no job yet.
    pub fn device(&self, thing: &str, version: &str) -> TestDevice {
        let factory = build_image(version, Firmware::default(), PAYLOAD_SIZE, None);
        let mut device = self.start_device(self.device_config(thing, factory));
        device.wait_for("the service's first \"no job\" answer", |e| {
            matches!(
                e,
                DeviceEvent::Agent {
                    event: ota_agent::Event::NoActiveJob,
                    ..
                }
            )
        });
        device
    }

    /// Put `file` in stream `stream` as file 0.
    pub fn stream(&self, stream: &str, file: &[u8]) {
        self.service
            .create_stream(stream, [(0u8, file.to_vec())])
            .expect("the stream is created");
    }

    /// An OTA job for `thing` delivering `file` (stream `{job}-stream`) over
    /// `protocol`, signed by `key`.
    pub fn ota_job(
        &self,
        thing: &str,
        job: &str,
        file: &[u8],
        protocol: Protocol,
        key: &SigningKey,
    ) {
        let stream = format!("{job}-stream");
        self.stream(&stream, file);
        let mut entry = FileEntry::signed("/fw", 0, file, key).expect("a file entry");
        if protocol == Protocol::Http {
            entry = entry.with_url(&self.service.file_url(&stream, 0));
        }
        let document =
            JobDocument::new(&[protocol], Some(&stream), vec![entry]).expect("a job document");
        self.create_job(thing, job, serde_json::to_value(&document).expect("JSON"));
    }

    /// A job with any document.
    pub fn create_job(&self, thing: &str, job: &str, document: serde_json::Value) {
        self.service
            .create_job(&[thing], job, document)
            .expect("the job is created");
    }

    /// Wait for the job's terminal status.
    pub fn terminal(&self, thing: &str, job: &str) -> Execution {
        self.service
            .wait_for_terminal(thing, job, UPDATE_TIMEOUT)
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// Wait for the job's terminal status and check it and its reason.
    pub fn expect_terminal(
        &self,
        thing: &str,
        job: &str,
        status: JobStatus,
        reason: Option<&str>,
    ) -> Execution {
        let execution = self.terminal(thing, job);
        assert_eq!(
            execution.status, status,
            "job {job}: {:?}",
            execution.status_details
        );
        assert_eq!(
            execution.status_details.get("reason").map(String::as_str),
            reason,
            "job {job}: {:?}",
            execution.status_details
        );
        execution
    }
}

/// An MCUboot image of a simulated firmware: `version` (e.g. `1.1.0`), a
/// payload of `size` bytes starting with `firmware`'s manifest. Signed with
/// `mcuboot_key` when given (the bootloader's key, not the code-signing one).
pub fn build_image(
    version: &str,
    firmware: Firmware,
    size: usize,
    mcuboot_key: Option<SigningKey>,
) -> Vec<u8> {
    let version = image::parse_version(version).expect("a version");
    let seed = u64::from(version.major) << 32
        | u64::from(version.minor) << 16
        | u64::from(version.revision);
    let options = ImageOptions {
        version,
        signing_key: mcuboot_key,
        ..ImageOptions::default()
    };
    image::build_image(&firmware.payload(size, seed), &options).expect("an image")
}

/// An image whose self test does `self_test`.
pub fn firmware_image(version: &str, self_test: SelfTest) -> Vec<u8> {
    build_image(version, Firmware::new(self_test), PAYLOAD_SIZE, None)
}

/// Blocks in a file of `len` bytes.
pub fn blocks(len: usize) -> u32 {
    (len as u32).div_ceil(BLOCK_SIZE)
}

/// The version `major.minor.revision`.
pub fn version(major: u8, minor: u8, revision: u16) -> ImageVersion {
    ImageVersion {
        major,
        minor,
        revision,
        build_num: 0,
    }
}

/// A device and the events it reported.
pub struct TestDevice {
    /// The device.
    pub device: Device,
    events: Receiver<DeviceEvent>,
    /// Every event taken from the channel so far.
    pub seen: Vec<DeviceEvent>,
}

impl TestDevice {
    /// Wait for an event matching `matches` (among those not yet waited
    /// past); panics with the history after [`UPDATE_TIMEOUT`].
    pub fn wait_for(&mut self, what: &str, matches: impl Fn(&DeviceEvent) -> bool) -> DeviceEvent {
        let deadline = Instant::now() + UPDATE_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(e) => {
                    self.seen.push(e.clone());
                    if matches(&e) {
                        return e;
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => panic!(
                    "{}: no {what} within {UPDATE_TIMEOUT:?}; events: {:#?}; status: {:#?}",
                    self.device.thing_name(),
                    self.seen,
                    self.device.status()
                ),
            }
        }
    }

    /// Wait until the device's status satisfies `done`.
    pub fn wait_status(
        &mut self,
        what: &str,
        done: impl Fn(&DeviceStatus) -> bool,
    ) -> DeviceStatus {
        let deadline = Instant::now() + UPDATE_TIMEOUT;
        loop {
            let status = self.device.status();
            if done(&status) {
                return status;
            }
            if Instant::now() > deadline {
                let events = self.take_events();
                panic!(
                    "{}: not {what} within {UPDATE_TIMEOUT:?}; status: {status:#?}; events: {events:#?}",
                    self.device.thing_name(),
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Every event reported so far (the ones already seen included).
    pub fn take_events(&mut self) -> Vec<DeviceEvent> {
        self.seen.extend(self.events.try_iter());
        self.seen.clone()
    }

    /// Wait until the device is idle (waiting for a job) on `version` with a
    /// confirmed image, and return its status.
    pub fn wait_settled_on(&mut self, version: ImageVersion) -> DeviceStatus {
        self.wait_status("settled", |s| {
            s.boot.version == version
                && s.confirmed
                && s.connected
                && s.state == ota_agent::State::WaitingForJob
        })
    }

    /// Wait for the agent's Activate event for `job` and return the
    /// statistics it carried: the transfer's, as the agent counted them.
    pub fn activation_statistics(&mut self, job: &str) -> Statistics {
        match self.wait_for("Activate", |e| {
            matches!(
                e,
                DeviceEvent::Agent {
                    event: Event::Activate,
                    ..
                }
            )
        }) {
            DeviceEvent::Agent {
                statistics, job_id, ..
            } => {
                assert_eq!(job_id.as_deref(), Some(job));
                statistics
            }
            _ => unreachable!(),
        }
    }
}

/// Which image slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The image that runs.
    Primary,
    /// Where updates are downloaded.
    Secondary,
}

impl TestDevice {
    /// The first `len` bytes of a slot, read from the device's flash.
    pub fn slot_bytes(&self, slot: Slot, len: usize) -> Vec<u8> {
        let layout = test_layout();
        let partition = match slot {
            Slot::Primary => layout.slot0(),
            Slot::Secondary => layout.slot1(),
        };
        let start = partition.offset() as usize;
        self.device.flash().lock().contents()[start..start + len].to_vec()
    }

    /// Whether a slot starts with an MCUboot image header.
    pub fn slot_has_image(&self, slot: Slot) -> bool {
        self.slot_bytes(slot, 4) == ota_agent::mcuboot::IMAGE_MAGIC.to_le_bytes()
    }
}

/// A test PKI made with the `openssl` command: a CA, a server certificate
/// for 127.0.0.1 and a client certificate, all P-256.
pub struct Pki {
    /// The CA certificate.
    pub ca: PathBuf,
    /// The broker's certificate and key.
    pub server_cert: PathBuf,
    /// The broker's key.
    pub server_key: PathBuf,
    /// A device certificate signed by the CA.
    pub client_cert: PathBuf,
    /// Its key.
    pub client_key: PathBuf,
}

impl Pki {
    /// Create the files in `dir`. Panics if `openssl` is missing or fails.
    pub fn create(dir: &Path) -> Pki {
        let path = |name: &str| dir.join(name);
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=ota-e2e-ca",
            "-keyout",
            &path("ca.key").display().to_string(),
            "-out",
            &path("ca.pem").display().to_string(),
        ]);
        for (name, extensions) in [
            (
                "server",
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
            ),
            ("client", "extendedKeyUsage=clientAuth\n"),
        ] {
            let ext = path(&format!("{name}.ext"));
            std::fs::write(&ext, extensions).expect("writing an extensions file");
            let key = path(&format!("{name}.key")).display().to_string();
            let csr = path(&format!("{name}.csr")).display().to_string();
            openssl(&[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                &format!("/CN=ota-e2e-{name}"),
                "-keyout",
                &key,
                "-out",
                &csr,
            ]);
            openssl(&[
                "x509",
                "-req",
                "-in",
                &csr,
                "-days",
                "2",
                "-CA",
                &path("ca.pem").display().to_string(),
                "-CAkey",
                &path("ca.key").display().to_string(),
                "-CAcreateserial",
                "-extfile",
                &ext.display().to_string(),
                "-out",
                &path(&format!("{name}.pem")).display().to_string(),
            ]);
        }
        Pki {
            ca: path("ca.pem"),
            server_cert: path("server.pem"),
            server_key: path("server.key"),
            client_cert: path("client.pem"),
            client_key: path("client.key"),
        }
    }
}

fn openssl(args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("the `openssl` command is needed by this test ({e}); install it: apt-get install -y openssl")
        });
    assert!(
        output.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}
