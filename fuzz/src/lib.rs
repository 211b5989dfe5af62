//! A RAM platform for fuzzing the agent: NOR rules enforced by panics (so the
//! fuzzer reports any violation as a crash), plus the fixed artifacts (signed
//! images, job documents) the fuzzed input sequences pick from.

use base64::prelude::{Engine as _, BASE64_STANDARD};
use ota_agent::mcuboot::{ImageHeader, ImageVersion, HEADER_LEN, TLV_INFO_MAGIC, TLV_SHA256};
use ota_agent::{
    BootControl, BootState, ImageSlot, P256Verifier, Platform, PortError, ProgressStore, Version,
};
use p256::ecdsa::{signature::hazmat::PrehashSigner, Signature, SigningKey};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Erase unit and write unit of the fuzzed slot.
pub const ERASE: u32 = 4096;
/// Write unit.
pub const ALIGN: u32 = 4;

/// A slot in RAM that panics on any NOR rule violation.
pub struct Slot(pub Vec<u8>);

impl ImageSlot for Slot {
    fn capacity(&self) -> u32 {
        self.0.len() as u32
    }
    fn erase_size(&self) -> u32 {
        ERASE
    }
    fn write_align(&self) -> u32 {
        ALIGN
    }
    fn erase(&mut self, offset: u32, len: u32) -> Result<(), PortError> {
        assert!(offset.is_multiple_of(ERASE) && len.is_multiple_of(ERASE), "unaligned erase");
        let end = (offset + len) as usize;
        assert!(end <= self.0.len(), "erase outside the slot");
        self.0[offset as usize..end].fill(0xff);
        Ok(())
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), PortError> {
        assert!(
            offset.is_multiple_of(ALIGN) && (data.len() as u32).is_multiple_of(ALIGN),
            "unaligned write"
        );
        let end = offset as usize + data.len();
        assert!(end <= self.0.len(), "write outside the slot");
        let target = &mut self.0[offset as usize..end];
        assert!(
            target.iter().all(|&b| b == 0xff),
            "write over unerased flash"
        );
        target.copy_from_slice(data);
        Ok(())
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), PortError> {
        let end = offset as usize + buf.len();
        assert!(end <= self.0.len(), "read outside the slot");
        buf.copy_from_slice(&self.0[offset as usize..end]);
        Ok(())
    }
}

/// A bootloader that records requests.
pub struct Boot {
    /// What `state` reports.
    pub state: BootState,
    /// Reboots requested.
    pub reboots: u32,
}

impl BootControl for Boot {
    fn running_version(&self) -> Version {
        Version::new(1, 0, 0)
    }
    fn state(&mut self) -> BootState {
        self.state
    }
    fn request_test_upgrade(&mut self) -> Result<(), PortError> {
        Ok(())
    }
    fn confirm(&mut self) -> Result<(), PortError> {
        self.state = BootState::Confirmed;
        Ok(())
    }
    fn reject(&mut self) -> Result<(), PortError> {
        Ok(())
    }
    fn reboot(&mut self) {
        self.reboots += 1;
    }
}

/// A store holding one record.
#[derive(Default)]
pub struct Store(pub Option<Vec<u8>>);

impl ProgressStore for Store {
    fn load(&mut self, buf: &mut [u8]) -> Option<usize> {
        let r = self.0.as_ref()?;
        buf.get_mut(..r.len())?.copy_from_slice(r);
        Some(r.len())
    }
    fn save(&mut self, record: &[u8]) -> Result<(), PortError> {
        assert!(record.len() <= ota_agent::RESUME_RECORD_MAX);
        self.0 = Some(record.to_vec());
        Ok(())
    }
    fn clear(&mut self) -> Result<(), PortError> {
        self.0 = None;
        Ok(())
    }
}

/// The whole platform.
pub struct RamPlatform {
    /// Slot.
    pub slot: Slot,
    /// Bootloader.
    pub boot: Boot,
    /// Store.
    pub store: Store,
    /// Verifier for [`key`].
    pub verifier: P256Verifier,
}

impl Platform for RamPlatform {
    type Slot = Slot;
    type Boot = Boot;
    type Store = Store;
    type Verifier = P256Verifier;
    fn slot(&mut self) -> &mut Slot {
        &mut self.slot
    }
    fn boot(&mut self) -> &mut Boot {
        &mut self.boot
    }
    fn store(&mut self) -> &mut Store {
        &mut self.store
    }
    fn verifier(&mut self) -> &mut P256Verifier {
        &mut self.verifier
    }
}

fn key() -> SigningKey {
    SigningKey::from_slice(&[0x42; 32]).unwrap()
}

impl RamPlatform {
    /// A 64 KiB slot, confirmed or on trial.
    pub fn new(on_trial: bool) -> Self {
        let public = key().verifying_key().to_sec1_point(false);
        RamPlatform {
            slot: Slot(vec![0; 64 * 1024]),
            boot: Boot {
                state: if on_trial {
                    BootState::PendingCommit
                } else {
                    BootState::Confirmed
                },
                reboots: 0,
            },
            store: Store::default(),
            verifier: P256Verifier::from_sec1(public.as_bytes()).unwrap(),
        }
    }
}

/// Signed files and the documents that offer them.
pub struct Artifacts {
    /// Two MCUboot images.
    pub files: [Vec<u8>; 2],
    /// Job documents: MQTT job for file 0, for file 1, HTTP job for file 0,
    /// self-test document, no job, custom job.
    pub docs: Vec<String>,
}

fn image(len: usize, minor: u8) -> Vec<u8> {
    let header = ImageHeader {
        load_addr: 0,
        hdr_size: 0x200,
        protect_tlv_size: 0,
        img_size: len as u32,
        flags: 0,
        version: ImageVersion {
            major: 1,
            minor,
            revision: 0,
            build_num: 0,
        },
    };
    let mut img = vec![0u8; 0x200];
    img[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    img.extend((0..len).map(|i| (i * 13) as u8));
    let digest = Sha256::digest(&img);
    img.extend(TLV_INFO_MAGIC.to_le_bytes());
    img.extend(40u16.to_le_bytes());
    img.extend(TLV_SHA256.to_le_bytes());
    img.extend(32u16.to_le_bytes());
    img.extend(digest);
    img
}


fn doc(id: &str, file: &[u8], extra: &str, details: &str, protocols: &str) -> String {
    let sig: Signature = key().sign_prehash(&Sha256::digest(file)).unwrap();
    format!(
        r#"{{"clientToken":"0:t","timestamp":1,"execution":{{"jobId":"{id}"{details},"jobDocument":{{"afr_ota":{{"protocols":{protocols},"streamname":"S","files":[{{"filesize":{},"fileid":0,"sig-sha256-ecdsa":"{}"{extra}}}]}}}}}}}}"#,
        file.len(),
        BASE64_STANDARD.encode(sig.to_der().as_bytes())
    )
}

/// The artifacts, built once.
pub fn artifacts() -> &'static Artifacts {
    static A: OnceLock<Artifacts> = OnceLock::new();
    A.get_or_init(|| {
        let files = [image(9000, 1), image(12000, 2)];
        let docs = vec![
            doc("job-a", &files[0], "", "", r#"["MQTT"]"#),
            doc("job-b", &files[1], "", "", r#"["MQTT"]"#),
            doc(
                "job-a",
                &files[0],
                r#","update_data_url":"https://h/a""#,
                "",
                r#"["HTTP"]"#,
            ),
            doc(
                "job-a",
                &files[0],
                "",
                r#","statusDetails":{"self_test":"ready","updatedBy":"0x01000000"}"#,
                r#"["MQTT"]"#,
            ),
            r#"{"clientToken":"0:t","timestamp":2}"#.to_string(),
            r#"{"execution":{"jobId":"c","jobDocument":{"x":1}}}"#.to_string(),
        ];
        Artifacts { files, docs }
    })
}

/// A block message as the service sends it.
pub fn block(i: u32, p: &[u8]) -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    e.map(4).unwrap();
    e.str("f").unwrap().u32(0).unwrap();
    e.str("l").unwrap().u32(p.len() as u32).unwrap();
    e.str("i").unwrap().u32(i).unwrap();
    e.str("p").unwrap().bytes(p).unwrap();
    e.into_writer()
}
