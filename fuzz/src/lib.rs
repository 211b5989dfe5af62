//! The RAM platform of `ota_agent::testing` set up for fuzzing the agent (NOR
//! rules enforced by panics, so the fuzzer reports any violation as a crash),
//! plus the fixed artifacts (signed images, job documents) the fuzzed input
//! sequences pick from.

use base64::prelude::{Engine as _, BASE64_STANDARD};
use ota_agent::mcuboot::ImageVersion;
use ota_agent::testing::{mcuboot_image, signing_key, Boot, OnViolation, RamPlatform, Slot};
use ota_agent::{BootState, Version};
use p256::ecdsa::{signature::hazmat::PrehashSigner, Signature};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// A 64 KiB slot of zeros that panics on any NOR rule violation, on a
/// bootloader running 1.0.0, confirmed or on trial.
pub fn platform(on_trial: bool) -> RamPlatform {
    let state = if on_trial {
        BootState::PendingCommit
    } else {
        BootState::Confirmed
    };
    RamPlatform::new(
        Slot::new(64 * 1024, 0, OnViolation::Panic),
        Boot::new(Version::new(1, 0, 0), state),
    )
}

/// Signed files and the documents that offer them.
pub struct Artifacts {
    /// Two MCUboot images.
    pub files: [Vec<u8>; 2],
    /// Job documents: MQTT job for file 0, for file 1, HTTP job for file 0,
    /// self-test document, no job, custom job.
    pub docs: Vec<String>,
}

/// MCUboot image 1.`minor`.0 (build 0): a 0x200-byte header, `len` payload
/// bytes, SHA-256 TLV.
fn image(len: usize, minor: u8) -> Vec<u8> {
    let version = ImageVersion {
        major: 1,
        minor,
        revision: 0,
        build_num: 0,
    };
    let payload: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
    mcuboot_image(0x200, version, &payload)
}

fn doc(id: &str, file: &[u8], extra: &str, details: &str, protocols: &str) -> String {
    let sig: Signature = signing_key().sign_prehash(&Sha256::digest(file)).unwrap();
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
